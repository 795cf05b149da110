//! Subject identifiers (OIDC Core 8): public, or pairwise per sector identifier.

use url::Url;

use crate::b64;
use crate::client::SubjectType;

/// OIDC Core 8.1: `sub = base64url(SHA-256(sector_identifier || local_account_id || salt))`.
///
/// `local_account_id` should be fixed-length (Kakehashi passes the user's UUID) so the
/// concatenation is unambiguous; `salt` is a per-tenant secret kept by the store, never
/// rotated (rotating it changes every pairwise `sub`).
pub fn pairwise_subject(sector_identifier: &str, local_account_id: &str, salt: &[u8]) -> String {
    let mut input =
        Vec::with_capacity(sector_identifier.len() + local_account_id.len() + salt.len());
    input.extend_from_slice(sector_identifier.as_bytes());
    input.extend_from_slice(local_account_id.as_bytes());
    input.extend_from_slice(salt);
    b64::encode(crate::digest::sha256(&input))
}

/// `sub` for a client: pairwise, or the public identifier (the `userMasterIdentifier`).
pub fn subject_for(
    subject_type: &SubjectType,
    local_account_id: &str,
    public_id: &str,
    salt: &[u8],
) -> String {
    match subject_type {
        SubjectType::Pairwise { sector_identifier } => {
            pairwise_subject(sector_identifier, local_account_id, salt)
        }
        SubjectType::Public => public_id.to_string(),
    }
}

/// OIDC Core 8.1: without a `sector_identifier_uri`, the sector identifier is the host of the
/// registered redirect URI; with several hosts a `sector_identifier_uri` is needed (`None`).
pub fn sector_identifier_from_redirect_uris(redirect_uris: &[String]) -> Option<String> {
    let mut host: Option<String> = None;
    for uri in redirect_uris {
        let h = Url::parse(uri).ok()?.host_str()?.to_string();
        match &host {
            Some(existing) if *existing != h => return None,
            _ => host = Some(h),
        }
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_core_8_1_pairwise_sub_differs_per_sector_and_is_stable() {
        let user = "6f1c1b1e-0d4f-4c1a-9d2e-3a4b5c6d7e8f";
        let a1 = pairwise_subject("rp-a.example", user, b"salt");
        let a2 = pairwise_subject("rp-a.example", user, b"salt");
        let b = pairwise_subject("rp-b.example", user, b"salt");
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_eq!(a1.len(), 43);
        // Same computation spelled out: SHA-256 over the concatenation, base64url.
        let d = openssl::hash::hash(
            openssl::hash::MessageDigest::sha256(),
            format!("rp-a.example{user}salt").as_bytes(),
        )
        .unwrap();
        assert_eq!(a1, b64::encode(d));
    }

    #[test]
    fn oidc_core_8_1_sector_identifier_is_the_redirect_host() {
        let one = vec![
            "https://rp.example/a".to_string(),
            "https://rp.example/b".to_string(),
        ];
        assert_eq!(
            sector_identifier_from_redirect_uris(&one).as_deref(),
            Some("rp.example")
        );
        let two = vec![
            "https://a.example/cb".to_string(),
            "https://b.example/cb".to_string(),
        ];
        assert_eq!(sector_identifier_from_redirect_uris(&two), None);
    }

    #[test]
    fn public_subject_is_the_user_master_identifier() {
        let sub = subject_for(&SubjectType::Public, "local", "umi-uuid", b"s");
        assert_eq!(sub, "umi-uuid");
    }
}

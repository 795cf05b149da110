//! One-time backup codes: for the day the security key is at home. Ten codes of ten
//! characters from an alphabet without look-alikes (about 50 bits each), shown once when
//! generated, stored only as SHA-256 (each code is random, so a plain hash is enough: there is
//! nothing to guess from it), redeemed by one conditional UPDATE so a code works once even
//! across nodes.

use kakehashi_store::{audit, mfa as stored, Store, StoreError, TenantId};
use sha2::{Digest, Sha256};

use super::factors::{self, Method};
use super::MfaError;
use crate::portal::session::PortalSession;
use crate::Clock;

/// How many codes a user gets at once.
pub const COUNT: usize = 10;
/// No 0/O, 1/l/I: codes are read off paper.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A code as the user types it: lower case, without spaces or hyphens.
pub fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The stored form of a code: SHA-256 over the tenant, the user and the code.
pub fn hash(tenant: &TenantId, user_sourced_id: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(tenant.as_str().as_bytes());
    h.update([0]);
    h.update(user_sourced_id.as_bytes());
    h.update([0]);
    h.update(normalise(code).as_bytes());
    hex::encode(h.finalize())
}

fn one_code() -> Result<String, MfaError> {
    // 16 random bits per character: the modulo bias over 31 symbols is below 0.05 %.
    let mut wide = [0u8; 20];
    getrandom::getrandom(&mut wide).map_err(|e| MfaError::Random(e.to_string()))?;
    let s: String = wide
        .chunks(2)
        .map(|c| {
            let v = u16::from_be_bytes([c[0], c[1]]) as usize;
            ALPHABET[v % ALPHABET.len()] as char
        })
        .collect();
    Ok(format!("{}-{}", &s[..5], &s[5..]))
}

/// Generates a fresh set for the session's user, replacing any old one; returns the codes
/// (shown once, never stored in clear). Audited.
pub async fn generate(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
) -> Result<Vec<String>, MfaError> {
    let codes = (0..COUNT)
        .map(|_| one_code())
        .collect::<Result<Vec<_>, _>>()?;
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| hash(&session.tenant, &session.user.sourced_id, c))
        .collect();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::replace_backup_codes(
        &mut tx,
        &session.tenant,
        &session.user.sourced_id,
        &hashes,
        &at,
    )
    .await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        &at,
        &audit::Event {
            actor: factors::actor_of(session),
            action: "mfa.backup_codes.generate".into(),
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({ "count": COUNT }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(codes)
}

/// Redeems a code as the session's second factor. `Ok(true)`: the code was unused and is now
/// used, and the session records `otp`. A wrong or used code is audited and changes nothing.
pub async fn redeem(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
    code: &str,
) -> Result<bool, MfaError> {
    factors::code_attempt_allowed(store, session, clock.now()).await?;
    let code = normalise(code);
    let at = clock.now_text();
    let h = hash(&session.tenant, &session.user.sourced_id, &code);
    let mut tx = store.begin().await?;
    let ok = code.len() <= 64
        && stored::redeem_backup_code(&mut tx, &session.tenant, &session.user.sourced_id, &h, &at)
            .await?;
    if ok {
        factors::record(&mut tx, store, session, &[Method::Otp], &at).await?;
    }
    factors::count_code(&mut tx, session, ok, clock.now()).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        &at,
        &audit::Event {
            actor: factors::actor_of(session),
            action: if ok {
                "mfa.backup_code.used".into()
            } else {
                "mfa.backup_code.failed".into()
            },
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_characters_from_the_alphabet() {
        let c = one_code().unwrap();
        assert_eq!(c.len(), 11);
        assert!(normalise(&c).bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(one_code().unwrap(), c);
    }

    #[test]
    fn typing_variants_hash_alike_and_users_differ() {
        let t = TenantId::parse("t").unwrap();
        assert_eq!(
            hash(&t, "u1", "abcde-fghjk"),
            hash(&t, "u1", " ABCDE FGHJK ")
        );
        assert_ne!(hash(&t, "u1", "abcde-fghjk"), hash(&t, "u2", "abcde-fghjk"));
    }
}

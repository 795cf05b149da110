//! Session and CSRF tokens.
//!
//! A session token is 256 random bits (OWASP Session Management Cheat Sheet asks for at least
//! 64 bits of entropy), sent to the browser base64url-encoded and stored only as its SHA-256,
//! so neither a database copy nor a log line can be replayed as a cookie.
//!
//! CSRF (OWASP CSRF Prevention Cheat Sheet):
//! - after login, the synchronizer token pattern: each session has its own random secret,
//!   rendered into its forms and compared in constant time;
//! - before login, the signed double-submit cookie: the pre-login cookie holds a random
//!   nonce and the form carries HMAC-SHA256(server key, tenant ‖ nonce). An attacker who can
//!   plant a cookie still cannot compute the matching field without the server key, which is
//!   kept in the database so that every node checks every other node's tokens.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::PortalError;

/// A session token as the cookie carries it. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

impl SessionToken {
    /// A fresh token from the system's random source.
    pub fn generate() -> Result<SessionToken, PortalError> {
        Ok(SessionToken(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
    }

    /// A token as received; `None` unless it has the exact shape of one we issue.
    pub fn parse(s: &str) -> Option<SessionToken> {
        let ok = s.len() == 43
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SessionToken(s.to_owned()))
    }

    /// The value to put in the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores: the SHA-256 of the token, hex.
    pub fn id_hash(&self) -> String {
        hex::encode(kakehashi_oidc::digest::sha256(self.0.as_bytes()))
    }
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], PortalError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| PortalError::Random(e.to_string()))?;
    Ok(b)
}

/// 256 random bits as 64 hex digits (CSRF secrets, pre-login nonces, server keys).
pub fn random_hex() -> Result<String, PortalError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// `true` for 64 lowercase hex digits (the shape of [`random_hex`]).
pub fn is_hex_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The pre-login CSRF field for `nonce` (the pre-login cookie) in `tenant`.
pub fn login_csrf(server_key: &str, tenant: &str, nonce: &str) -> String {
    let mut message = Vec::with_capacity(64 + tenant.len() + nonce.len());
    message.extend_from_slice(b"kakehashi-login-csrf\0");
    message.extend_from_slice(tenant.as_bytes());
    message.push(0);
    message.extend_from_slice(nonce.as_bytes());
    // HMAC takes keys of any length; an OpenSSL failure yields "" which never matches.
    PKey::hmac(server_key.as_bytes())
        .and_then(|key| Signer::new(MessageDigest::sha256(), &key)?.sign_oneshot_to_vec(&message))
        .map(hex::encode)
        .unwrap_or_default()
}

/// Checks a pre-login CSRF field against its cookie nonce.
pub fn check_login_csrf(server_key: &str, tenant: &str, nonce: &str, field: &str) -> bool {
    is_hex_token(nonce) && same(&login_csrf(server_key, tenant, nonce), field)
}

/// Constant-time equality of two strings (lengths are not secret).
pub fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_256_bits_and_stored_hashed() {
        let t = SessionToken::generate().unwrap();
        assert_eq!(t.expose().len(), 43);
        assert_eq!(SessionToken::parse(t.expose()), Some(t.clone()));
        assert_eq!(t.id_hash().len(), 64);
        assert_ne!(t.id_hash(), t.expose());
        assert_eq!(format!("{t:?}"), "SessionToken(***)");
        assert_eq!(SessionToken::parse("short"), None);
        assert_eq!(SessionToken::parse(&"=".repeat(43)), None);
    }

    #[test]
    fn login_csrf_is_bound_to_key_tenant_and_nonce() {
        let nonce = random_hex().unwrap();
        let field = login_csrf("k", "demo", &nonce);
        assert!(check_login_csrf("k", "demo", &nonce, &field));
        assert!(!check_login_csrf("other", "demo", &nonce, &field));
        assert!(!check_login_csrf("k", "demo2", &nonce, &field));
        assert!(!check_login_csrf(
            "k",
            "demo",
            &random_hex().unwrap(),
            &field
        ));
        assert!(!check_login_csrf("k", "demo", &nonce, ""));
        assert!(!check_login_csrf(
            "k",
            "demo",
            "not-hex",
            &login_csrf("k", "demo", "not-hex")
        ));
    }
}

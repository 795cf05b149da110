//! Back-Channel Logout 1.0: the Logout Token (section 2.4) and the `sid` claim (section 2.1,
//! also put in ID tokens) that ties it to the ID tokens of one OP session.

use serde::{Deserialize, Serialize};

use super::Audience;
use crate::b64;

/// Back-Channel Logout 1.0 section 2.4: the JOSE header `typ` of a Logout Token (explicit
/// typing, RFC 8725 3.11), so it cannot be taken for an ID token.
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";

/// Back-Channel Logout 1.0 section 2.4: the member of `events` that makes a JWT a Logout
/// Token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a Logout Token is valid: Back-Channel Logout 1.0 section 2.4 recommends "no more
/// than two minutes in the future" for `exp`.
pub const LOGOUT_TOKEN_LIFETIME: i64 = 120;

/// Logout Token claims (Back-Channel Logout 1.0 section 2.4). Sign with
/// `SigningKey::sign_json(Some(LOGOUT_TOKEN_TYP), &claims)` using the key that signs the
/// client's ID tokens. There is no `nonce` member: section 2.4 forbids it, so that a Logout
/// Token can never pass for an ID token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    pub iss: String,
    /// The user's `sub` as this client knows it (pairwise or public).
    pub sub: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    /// Unique per token, so the RP can refuse a replay.
    pub jti: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Map<String, serde_json::Value>,
    /// The `sid` of the ID tokens of the session that ended.
    pub sid: String,
}

impl LogoutTokenClaims {
    /// A Logout Token for `client_id` ending the session `sid` of the user `sub`.
    pub fn new(iss: &str, sub: &str, sid: &str, client_id: &str, jti: &str, now: i64) -> Self {
        let mut events = serde_json::Map::new();
        events.insert(
            BACKCHANNEL_LOGOUT_EVENT.to_owned(),
            serde_json::Value::Object(serde_json::Map::new()),
        );
        LogoutTokenClaims {
            iss: iss.into(),
            sub: sub.into(),
            aud: Audience::one(client_id),
            iat: now,
            exp: now.saturating_add(LOGOUT_TOKEN_LIFETIME),
            jti: jti.into(),
            events,
            sid: sid.into(),
        }
    }
}

/// The `sid` a client sees for an OP session (Back-Channel Logout 1.0 section 2.1: "String
/// identifier for a Session"). Derived, not stored: SHA-256 over a label, the client id, the
/// session's own identifier (never the cookie value) and the tenant's secret salt, so it is
/// stable for the session and the client, differs per client (two RPs cannot link their users'
/// sessions by it, as with pairwise `sub`) and reveals nothing of the session cookie.
pub fn session_id(client_id: &str, session_key: &str, salt: &[u8]) -> String {
    let mut input = Vec::with_capacity(16 + client_id.len() + session_key.len() + salt.len());
    input.extend_from_slice(b"kakehashi-sid\0");
    input.extend_from_slice(client_id.as_bytes());
    input.push(0);
    input.extend_from_slice(session_key.as_bytes());
    input.push(0);
    input.extend_from_slice(salt);
    b64::encode(crate::digest::sha256(&input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{self, Algorithm};
    use crate::keys::SigningKey;

    #[test]
    fn backchannel_logout_2_4_logout_token_claims_and_typ() {
        let key = SigningKey::generate(Algorithm::RS256).unwrap();
        let claims = LogoutTokenClaims::new("https://op/t/a", "sub-1", "sid-1", "rp", "j-1", 1000);
        let jwt = key.sign_json(Some(LOGOUT_TOKEN_TYP), &claims).unwrap();
        let verified = jose::verify(
            &jwt,
            &[key.verification_key().unwrap()],
            &[Algorithm::RS256],
        )
        .unwrap();
        // Section 2.4: typ "logout+jwt" is RECOMMENDED (explicit typing).
        assert_eq!(verified.header.typ.as_deref(), Some("logout+jwt"));
        let v: serde_json::Value = serde_json::from_slice(&verified.payload).unwrap();
        // Section 2.4: iss, aud, iat, exp, jti and events REQUIRED; sub and/or sid.
        assert_eq!(v["iss"], "https://op/t/a");
        assert_eq!(v["aud"], "rp");
        assert_eq!(v["iat"], 1000);
        // Section 2.4: exp no more than two minutes in the future.
        assert_eq!(v["exp"], 1000 + 120);
        assert_eq!(v["jti"], "j-1");
        assert_eq!(v["sub"], "sub-1");
        assert_eq!(v["sid"], "sid-1");
        // Section 2.4: events holds exactly the back-channel logout member, an empty object.
        assert_eq!(
            v["events"],
            serde_json::json!({"http://schemas.openid.net/event/backchannel-logout": {}})
        );
        // Section 2.4: "A nonce Claim MUST NOT be present."
        assert!(v.get("nonce").is_none());
        assert_eq!(v.as_object().unwrap().len(), 8);
    }

    #[test]
    fn backchannel_logout_2_1_sid_is_per_client_and_per_session() {
        let a = session_id("rp-a", "session-1", b"salt");
        assert_eq!(a, session_id("rp-a", "session-1", b"salt"), "stable");
        assert_ne!(a, session_id("rp-b", "session-1", b"salt"), "per client");
        assert_ne!(a, session_id("rp-a", "session-2", b"salt"), "per session");
        assert_ne!(
            a,
            session_id("rp-a", "session-1", b"other"),
            "per tenant salt"
        );
        assert!(!a.contains("session-1"));
        assert_eq!(a.len(), 43);
    }
}

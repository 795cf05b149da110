//! The ID token claim set (OIDC Core 2) and `at_hash`/`c_hash` (OIDC Core 3.1.3.6, 3.3.2.11).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::b64;
use crate::jose::Algorithm;

/// `aud`: a single string for one audience (some relying parties reject an array), an array
/// otherwise (OIDC Core 2: "MAY be a single case sensitive string").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(pub Vec<String>);

impl Audience {
    pub fn one(client_id: &str) -> Self {
        Audience(vec![client_id.to_string()])
    }
    pub fn contains(&self, aud: &str) -> bool {
        self.0.iter().any(|a| a == aud)
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(a) => Audience(vec![a]),
            OneOrMany::Many(v) => Audience(v),
        })
    }
}

/// ID token claims. Serialize and sign with `SigningKey::sign_json(Some("JWT"), &claims)`.
/// User claims released into the ID token (e.g. via the `claims` parameter) go in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    pub iat: i64,
    /// OIDC Core 2: REQUIRED when `max_age` was requested or `auth_time` is essential; we
    /// always send it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// OIDC Core 3.1.3.6: the `nonce` of the authentication request, unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// OIDC Core 2: the party the token was issued to; we send it (= client_id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// OIDC Front-/Back-Channel Logout: the session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl IdTokenClaims {
    /// The required claims for `client_id`, valid for `lifetime` seconds from `now`.
    pub fn new(iss: &str, sub: &str, client_id: &str, now: i64, lifetime: i64) -> Self {
        IdTokenClaims {
            iss: iss.into(),
            sub: sub.into(),
            aud: Audience::one(client_id),
            exp: now.saturating_add(lifetime),
            iat: now,
            auth_time: None,
            nonce: None,
            acr: None,
            amr: None,
            azp: Some(client_id.into()),
            at_hash: None,
            sid: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sets `at_hash` for `access_token` with the hash of the ID token's signing `alg`.
    pub fn with_at_hash(mut self, alg: Algorithm, access_token: &str) -> Self {
        self.at_hash = Some(hash_claim(alg, access_token));
        self
    }
}

/// OIDC Core 3.1.3.6: base64url of the left-most half of the hash (the one of the JWS `alg`)
/// of the ASCII octets of the value. Used for `at_hash` and `c_hash`.
pub fn hash_claim(alg: Algorithm, value: &str) -> String {
    let digest = openssl::hash::hash(alg.digest(), value.as_bytes())
        .map(|d| d.to_vec())
        .unwrap_or_default();
    b64::encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_core_3_1_3_6_at_hash_example() {
        // Worked RS256 example (PingFederate developer guide): SHA-256 of the token is
        // c1f82f98 4f55c630 2e76c97d 95ce93a8 | …; base64url of the left half.
        assert_eq!(
            hash_claim(Algorithm::RS256, "dNZX1hEZ9wBCzNL40Upu646bdzQA"),
            "wfgvmE9VxjAudsl9lc6TqA"
        );
    }

    #[test]
    fn oidc_core_3_1_3_6_at_hash_uses_the_signing_algs_hash() {
        // ES384 uses SHA-384: 24 bytes -> 32 base64url characters.
        assert_eq!(hash_claim(Algorithm::ES384, "token").len(), 32);
        assert_eq!(hash_claim(Algorithm::ES256, "token").len(), 22);
    }

    #[test]
    fn oidc_core_2_single_audience_is_a_string() {
        let c = IdTokenClaims::new("https://i", "s", "rp", 100, 300);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["aud"], "rp");
        assert_eq!(v["exp"], 400);
        assert!(v.get("nonce").is_none());
        let back: IdTokenClaims = serde_json::from_value(v).unwrap();
        assert_eq!(back.aud, Audience::one("rp"));
    }
}

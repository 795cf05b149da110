//! JWT access tokens (RFC 9068).

use serde::{Deserialize, Serialize};

use super::Audience;

/// RFC 9068 2.1: the JOSE header `typ` of a JWT access token.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// RFC 9068 2.2 claims. Sign with `SigningKey::sign_json(Some(ACCESS_TOKEN_TYP), &claims)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The resource server(s); Kakehashi uses the issuer's userinfo resource or the resource
    /// the client named.
    pub aud: Audience,
    pub exp: i64,
    pub iat: i64,
    /// The user's `sub` (as the client sees it) or, for client_credentials, the client_id
    /// (RFC 9068 2.2).
    pub sub: String,
    pub client_id: String,
    /// RFC 9068 2.2: unique per token, so a resource server can detect replays.
    pub jti: String,
    /// RFC 9068 2.2.3: space-separated granted scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{self, Algorithm};
    use crate::keys::SigningKey;

    #[test]
    fn rfc9068_2_1_access_token_has_typ_at_jwt_and_required_claims() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let claims = AccessTokenClaims {
            iss: "https://i".into(),
            aud: Audience::one("https://i/userinfo"),
            exp: 200,
            iat: 100,
            sub: "rp".into(),
            client_id: "rp".into(),
            jti: "j".into(),
            scope: Some("roster".into()),
            auth_time: None,
            acr: None,
            amr: None,
        };
        let jwt = key.sign_json(Some(ACCESS_TOKEN_TYP), &claims).unwrap();
        let v = jose::verify(
            &jwt,
            &[key.verification_key().unwrap()],
            &[Algorithm::ES256],
        )
        .unwrap();
        assert_eq!(v.header.typ.as_deref(), Some("at+jwt"));
        let back: AccessTokenClaims = v.claims().unwrap();
        assert_eq!(back, claims);
    }
}

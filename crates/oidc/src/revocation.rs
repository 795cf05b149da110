//! Token revocation requests (RFC 7009).
//!
//! The server answers 200 with an empty body whether or not the token was known (RFC 7009
//! 2.2: "invalid tokens do not cause an error response"), after authenticating the client
//! and revoking only tokens issued to that client.

use crate::error::{ErrorCode, OAuthError};
use crate::params::Params;

/// RFC 7009 2.1 `token_type_hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

/// A parsed revocation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRequest {
    pub token: String,
    /// A hint only: the server must also search other token types (RFC 7009 2.1). An
    /// unknown hint value is ignored (`None`).
    pub hint: Option<TokenTypeHint>,
}

/// Parses the form body. `access_tokens_revocable` is false when access tokens are
/// self-contained JWTs that cannot be revoked: a request hinting `access_token` then gets
/// `unsupported_token_type` (RFC 7009 2.2.1).
pub fn parse_revocation_request(
    form: &Params,
    access_tokens_revocable: bool,
) -> Result<RevocationRequest, OAuthError> {
    if let Some(name) = form.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} was sent more than once"
        )));
    }
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?
        .to_string();
    let hint = match form.get("token_type_hint") {
        Some("access_token") => Some(TokenTypeHint::AccessToken),
        Some("refresh_token") => Some(TokenTypeHint::RefreshToken),
        _ => None,
    };
    if hint == Some(TokenTypeHint::AccessToken) && !access_tokens_revocable {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedTokenType,
            "JWT access tokens cannot be revoked; they expire",
        ));
    }
    Ok(RevocationRequest { token, hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7009_2_1_token_is_required_and_unknown_hint_is_ignored() {
        let p = Params::from_urlencoded("token_type_hint=refresh_token");
        assert_eq!(
            parse_revocation_request(&p, true).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let p = Params::from_urlencoded("token=abc&token_type_hint=id_token");
        assert_eq!(
            parse_revocation_request(&p, true).unwrap(),
            RevocationRequest {
                token: "abc".into(),
                hint: None
            }
        );
    }

    #[test]
    fn rfc7009_2_2_1_unsupported_token_type_for_jwt_access_tokens() {
        let p = Params::from_urlencoded("token=abc&token_type_hint=access_token");
        assert_eq!(
            parse_revocation_request(&p, false).unwrap_err().code,
            ErrorCode::UnsupportedTokenType
        );
        assert!(parse_revocation_request(&p, true).is_ok());
    }
}

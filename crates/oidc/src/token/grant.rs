//! Token request grants (RFC 6749 4.1.3, 4.4.2, 6).

use crate::error::{ErrorCode, OAuthError};
use crate::params::Params;
use crate::pkce::check_verifier_syntax;

/// A parsed token request (without client authentication, see `client_auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// RFC 6749 4.1.3. The caller must: redeem the code once (a second use is `invalid_grant`
    /// and should revoke tokens issued from it, RFC 6749 4.1.2), check it was issued to this
    /// client, compare `redirect_uri` with the authorization request's, and verify PKCE
    /// (`CodeChallenge::verify`; a code with a challenge needs a verifier, and a verifier
    /// without a stored challenge is refused, RFC 9700 2.1.1).
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    /// RFC 6749 6. `scope`, if present, must be a subset of the original grant.
    RefreshToken {
        refresh_token: String,
        scope: Option<Vec<String>>,
    },
    /// RFC 6749 4.4.2. Confidential clients only.
    ClientCredentials { scope: Option<Vec<String>> },
}

impl TokenRequest {
    pub fn grant_type(&self) -> &'static str {
        match self {
            TokenRequest::AuthorizationCode { .. } => "authorization_code",
            TokenRequest::RefreshToken { .. } => "refresh_token",
            TokenRequest::ClientCredentials { .. } => "client_credentials",
        }
    }
}

fn scopes(p: &Params) -> Option<Vec<String>> {
    p.get("scope").map(|s| {
        s.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// Parses the grant from the form body.
pub fn parse_token_request(p: &Params) -> Result<TokenRequest, OAuthError> {
    // RFC 6749 3.2: parameters MUST NOT be included more than once.
    if let Some(name) = p.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} was sent more than once"
        )));
    }
    let required = |name: &str| {
        p.get(name)
            .map(str::to_string)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    };
    match p.get("grant_type") {
        None => Err(OAuthError::invalid_request("grant_type is required")),
        Some("authorization_code") => {
            let code_verifier = p.get("code_verifier").map(str::to_string);
            if let Some(v) = &code_verifier {
                // RFC 7636 4.1: syntax errors are invalid_request... but RFC 7636 4.6 makes a
                // failed check invalid_grant; a malformed verifier cannot match, so invalid_grant.
                if check_verifier_syntax(v).is_err() {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidGrant,
                        "code_verifier is malformed",
                    ));
                }
            }
            Ok(TokenRequest::AuthorizationCode {
                code: required("code")?,
                redirect_uri: p.get("redirect_uri").map(str::to_string),
                code_verifier,
            })
        }
        Some("refresh_token") => Ok(TokenRequest::RefreshToken {
            refresh_token: required("refresh_token")?,
            scope: scopes(p),
        }),
        Some("client_credentials") => Ok(TokenRequest::ClientCredentials { scope: scopes(p) }),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {other:?} is not supported"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_4_1_3_authorization_code_needs_code() {
        let p = Params::from_urlencoded(
            "grant_type=authorization_code&redirect_uri=https%3A%2F%2Frp%2Fcb",
        );
        assert_eq!(
            parse_token_request(&p).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let p = Params::from_urlencoded("grant_type=authorization_code&code=abc&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert!(matches!(
            parse_token_request(&p).unwrap(),
            TokenRequest::AuthorizationCode { .. }
        ));
    }

    #[test]
    fn rfc6749_5_2_unknown_grant_is_unsupported_grant_type() {
        let p = Params::from_urlencoded("grant_type=password&username=a&password=b");
        assert_eq!(
            parse_token_request(&p).unwrap_err().code,
            ErrorCode::UnsupportedGrantType
        );
    }

    #[test]
    fn rfc6749_6_refresh_token_with_narrower_scope() {
        let p = Params::from_urlencoded("grant_type=refresh_token&refresh_token=r1&scope=openid");
        assert_eq!(
            parse_token_request(&p).unwrap(),
            TokenRequest::RefreshToken {
                refresh_token: "r1".into(),
                scope: Some(vec!["openid".into()])
            }
        );
    }

    #[test]
    fn rfc6749_3_2_repeated_parameter_is_invalid_request() {
        let p = Params::from_urlencoded("grant_type=client_credentials&scope=a&scope=b");
        assert_eq!(
            parse_token_request(&p).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn rfc7636_4_1_malformed_verifier_is_refused() {
        let p = Params::from_urlencoded("grant_type=authorization_code&code=c&code_verifier=short");
        assert_eq!(
            parse_token_request(&p).unwrap_err().code,
            ErrorCode::InvalidGrant
        );
    }
}

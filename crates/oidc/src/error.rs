//! OAuth 2.0 / OpenID Connect error codes and their wire forms: the JSON body of RFC 6749
//! 5.2 (token, revocation, introspection endpoints) and the `error`/`error_description`
//! parameters of an authorization error redirect (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6).

use serde::Serialize;

/// Registered error codes used by this provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // RFC 6749 4.1.2.1 and 5.2
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    TemporarilyUnavailable,
    // OIDC Core 3.1.2.6
    InteractionRequired,
    LoginRequired,
    AccountSelectionRequired,
    ConsentRequired,
    InvalidRequestUri,
    InvalidRequestObject,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    // OpenID Connect Core Unmet Authentication Requirements 1.0, §2: the OP cannot meet the
    // requested authentication requirements (an essential acr).
    UnmetAuthenticationRequirements,
    // RFC 7009 2.2.1
    UnsupportedTokenType,
    // RFC 6750 3.1
    InvalidToken,
    InsufficientScope,
}

impl ErrorCode {
    /// The code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::AccountSelectionRequired => "account_selection_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error: code, human-readable description and, for `invalid_client` after an
/// HTTP Basic attempt, the `WWW-Authenticate` challenge to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {}", description.as_deref().unwrap_or(""))]
pub struct OAuthError {
    pub code: ErrorCode,
    /// `error_description`; ASCII printable except `"` and `\` (RFC 6749 5.2), enforced by
    /// [`OAuthError::new`].
    pub description: Option<String>,
    /// Set when the client tried HTTP Basic authentication and failed (RFC 6749 5.2).
    pub www_authenticate: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl OAuthError {
    /// An error with a description. Characters outside RFC 6749 5.2's set
    /// (`%x20-21 / %x23-5B / %x5D-7E`) are replaced with `?` so no client chokes on it.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let description: String = description
            .into()
            .chars()
            .map(|c| match c {
                '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E' => c,
                _ => '?',
            })
            .collect();
        OAuthError {
            code,
            description: Some(description),
            www_authenticate: None,
        }
    }

    /// An error without description.
    pub fn bare(code: ErrorCode) -> Self {
        OAuthError {
            code,
            description: None,
            www_authenticate: None,
        }
    }

    /// Shorthand for `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// HTTP status for a JSON error response.
    ///
    /// RFC 6749 5.2: 400 by default; `invalid_client` is 401 (always 401 here, as
    /// certified providers do, and with `WWW-Authenticate` when Basic was used). RFC 6750
    /// 3.1: `invalid_token` 401, `insufficient_scope` 403. RFC 7009 2.2.1: 503 for
    /// `temporarily_unavailable`.
    pub fn http_status(&self) -> u16 {
        match self.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }

    /// RFC 6749 5.2 JSON body: `{"error":"…","error_description":"…"}`.
    pub fn to_json(&self) -> String {
        let body = ErrorBody {
            error: self.code.as_str(),
            error_description: self.description.as_deref(),
        };
        serde_json::to_string(&body)
            .unwrap_or_else(|_| String::from("{\"error\":\"server_error\"}"))
    }

    /// Headers for the JSON response: content type, `Cache-Control: no-store` (RFC 6749 5.1)
    /// and `WWW-Authenticate` when set.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("Content-Type", "application/json".to_string()),
            ("Cache-Control", "no-store".to_string()),
            ("Pragma", "no-cache".to_string()),
        ];
        if let Some(challenge) = &self.www_authenticate {
            headers.push(("WWW-Authenticate", challenge.clone()));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_5_2_error_json_has_error_and_description() {
        let e = OAuthError::new(ErrorCode::InvalidGrant, "code already used");
        assert_eq!(
            e.to_json(),
            r#"{"error":"invalid_grant","error_description":"code already used"}"#
        );
        assert_eq!(e.http_status(), 400);
    }

    #[test]
    fn rfc6749_5_2_description_is_restricted_ascii() {
        let e = OAuthError::new(ErrorCode::InvalidRequest, "bad \"x\" \\ 日本");
        assert_eq!(e.description.as_deref(), Some("bad ?x? ? ??"));
    }

    #[test]
    fn rfc6749_5_2_invalid_client_is_401() {
        assert_eq!(
            OAuthError::bare(ErrorCode::InvalidClient).http_status(),
            401
        );
    }
}

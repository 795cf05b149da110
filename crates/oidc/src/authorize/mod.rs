//! The authorization endpoint: validating an authentication request (OIDC Core 3.1.2.1,
//! 3.1.2.2) against the client's registration, and building the success or error response
//! (OIDC Core 3.1.2.5, 3.1.2.6; RFC 9207 `iss`; OAuth 2.0 Form Post Response Mode).
//!
//! Errors come in two kinds, and the type says which: a request whose client or
//! `redirect_uri` cannot be trusted gets an error page ([`AuthorizeError::ShowToUser`],
//! OIDC Core 3.1.2.6 / RFC 6749 4.1.2.1: "MUST NOT automatically redirect"); every other
//! error is sent back to the client ([`AuthorizeError::Redirect`]).

mod claims_request;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use claims_request::{ClaimRequest, ClaimsRequest};
pub use request::{validate, AuthorizationRequest, Prompt, ResponseMode};
pub use response::AuthorizationResponse;

use crate::error::OAuthError;

/// An error that must be shown to the user, never redirected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserFacingError {
    #[error("the request has no client_id")]
    MissingClientId,
    #[error("unknown client {0:?}")]
    UnknownClient(String),
    #[error("parameter {0} was sent more than once")]
    RepeatedParameter(String),
    #[error("the request has no redirect_uri")]
    MissingRedirectUri,
    #[error("redirect_uri {0:?} is not registered for this client")]
    RedirectUriMismatch(String),
}

/// Why an authorization request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// Show an error page; do not redirect (OIDC Core 3.1.2.6).
    #[error("{0}")]
    ShowToUser(UserFacingError),
    /// Send `response` back to the client (`error`, `error_description`, `state`, `iss`).
    #[error("{error}")]
    Redirect {
        error: OAuthError,
        response: AuthorizationResponse,
    },
}

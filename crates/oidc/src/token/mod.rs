//! The token endpoint: grant parsing (RFC 6749 4.1.3, 4.4.2, 6), client authentication
//! (RFC 6749 2.3, RFC 7523, OIDC Core 9) and the successful response body (RFC 6749 5.1).

mod client_auth;
mod grant;
mod response;

pub use client_auth::{
    authenticate_client, extract_client_auth, AssertionJti, AuthenticatedClient,
    ClientAssertionContext, ClientAuthError, MemoryReplayGuard, PresentedClientAuth, ReplayGuard,
    CLIENT_ASSERTION_TYPE,
};
pub use grant::{parse_token_request, TokenRequest};
pub use response::TokenResponse;

//! The learning record store (xAPI 1.0.3 and 2.0 / IEEE 9274.1.1): credentials, statements,
//! documents, and the Activities and Agents resources.
//!
//! The rules of the specifications are in `kakehashi-xapi`; this module adds what needs the
//! store: existence and conflict checks (Data 2.3.1), voiding (Data 2.3.2), `stored` and
//! `authority` (Data 2.4.8, 2.4.9), stable paging, document concurrency (Communication 3.1).
//! It knows no HTTP: the server turns requests into these calls and [`LrsError`] into status
//! codes.

pub mod access;
pub mod credentials;
pub mod documents;
pub mod learners;
pub mod query;
mod signing;
pub mod statements;

use kakehashi_store::StoreError;
use kakehashi_xapi::XapiError;
use time::OffsetDateTime;

pub use access::{Access, Authenticated, StatementReach};
pub use credentials::NewCredential;
pub use kakehashi_xapi::Version;

/// Why an LRS request failed.
#[derive(Debug, thiserror::Error)]
pub enum LrsError {
    /// A rule of xAPI was broken (400, 409 or 412: [`XapiError::status`]).
    #[error(transparent)]
    Xapi(#[from] XapiError),
    /// The statement or document does not exist (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// Missing or wrong credentials (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (403), e.g. a read-only credential writing.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A bearer token that is unknown here, revoked or expired (401, RFC 6750 3.1
    /// `invalid_token`).
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// A bearer token without the xAPI scope this request needs (403, RFC 6750 3.1
    /// `insufficient_scope`; Communication 4.2.s2).
    #[error("insufficient_scope: this request needs the OAuth scope {needed} (or all)")]
    InsufficientScope { needed: &'static str },
    #[error("the tenant name or credential name must not be empty")]
    EmptyName,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LrsError {
    /// The HTTP status the xAPI specification asks for.
    pub fn status(&self) -> u16 {
        match self {
            LrsError::Xapi(e) => e.status(),
            LrsError::NotFound(_) => 404,
            LrsError::Unauthorized(_) => 401,
            LrsError::Forbidden(_) | LrsError::InsufficientScope { .. } => 403,
            LrsError::InvalidToken(_) => 401,
            LrsError::EmptyName => 400,
            LrsError::Store(_) => 500,
        }
    }
}

/// An instant as the LRS stores it: UTC, millisecond precision, always three fraction
/// digits, so that the text sorts in time order (`since`/`until` compare text).
pub fn stored_text(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    kakehashi_xapi::formats::format_timestamp(t)
}

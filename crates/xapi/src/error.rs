//! The crate's one error type.
//!
//! Every rejection names *where* (a JSON-ish path such as `statement.actor.mbox`,
//! `query.since`, `multipart.part[2]`) and *which rule* was broken, so the server can
//! answer `400 Bad Request` with a message a client developer can act on
//! (xAPI 1.0.3 Data 2.2.s4, Communication 3.2; IEEE 9274.1.1 4.1.5).

use std::fmt;

/// A rule of the xAPI specification was broken by the input.
///
/// All variants map to `400 Bad Request` except where [`XapiError::status`] says
/// otherwise; the server layer owns the final mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XapiError {
    /// A value in a statement, document or parameter breaks a rule.
    #[error("{path}: {rule}")]
    Invalid {
        /// Where the offending value is, e.g. `statement.context.registration`.
        path: String,
        /// The rule, in words, e.g. `must be a UUID`.
        rule: String,
    },
    /// The `X-Experience-API-Version` header is missing or names a version this LRS
    /// does not implement (Communication 3.3; IEEE 9274.1.1 4.1.2).
    #[error("X-Experience-API-Version: {0}")]
    Version(String),
    /// An `If-Match` / `If-None-Match` precondition failed (Communication 3.1).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// A PUT on an existing document came without `If-Match`/`If-None-Match`
    /// (Communication 3.1: 409 Conflict).
    #[error("conflict: {0}")]
    Conflict(String),
}

impl XapiError {
    /// Shorthand for [`XapiError::Invalid`].
    pub fn invalid(path: impl Into<String>, rule: impl fmt::Display) -> Self {
        XapiError::Invalid {
            path: path.into(),
            rule: rule.to_string(),
        }
    }

    /// The HTTP status the xAPI specification asks for.
    pub fn status(&self) -> u16 {
        match self {
            XapiError::Invalid { .. } | XapiError::Version(_) => 400,
            XapiError::PreconditionFailed(_) => 412,
            XapiError::Conflict(_) => 409,
        }
    }

    /// Prefixes the path, e.g. `statement` -> `statements[3]` when validating a batch.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            XapiError::Invalid { path, rule } => {
                let path = match path.strip_prefix("statement") {
                    Some(rest) => format!("{prefix}{rest}"),
                    None => format!("{prefix}.{path}"),
                };
                XapiError::Invalid { path, rule }
            }
            other => other,
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = XapiError> = std::result::Result<T, E>;

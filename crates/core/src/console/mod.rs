//! The web console's and the admin REST API's services: one set of functions both call, each
//! taking the caller's [`authz::Principal`] and deciding with it before touching anything.
//! Knows no HTTP (`kakehashi-server` maps [`ConsoleError`] to pages and JSON errors).
//!
//! - [`authz`]: roles (platform operator → tenant admin → school admin → teacher → pupil) and
//!   every decision about who may see or do what.
//! - [`grants`]: explicit admin grants (`kakehashi admin grant`), audited.
//! - [`api_auth`]: an admin API bearer token (client_credentials, scope `admin`) → principal.
//! - [`people`]: the people search, a person's record (audited as a staff read of personal
//!   data), temporary passwords and unlocking.
//! - [`audit_log`]: search, CSV export and chain verification of the tenant's audit log.
//! - [`roster`]: roster import from an upload (validate, preview, apply) and its history.
//! - [`security`]: session timeouts and lockout.
//! - [`mfa`]: the tenant's MFA policy (networks, freshness, TOTP, attestation, risk, shared
//!   devices) and a person's second factors (list, reset with a reason).
//! - [`me`]: a person's own devices (known to the risk engine; forget one) and factors
//!   (remove one security key with a fresh second factor).
//! - [`cards`]: QR sign-in cards for pupils (issue for a class, reissue, revoke, sign in).
//! - [`lti_tools`]: LTI 1.3 tools (list, register as `kakehashi lti tool add`, remove).
//! - [`operator`]: the platform operator's read-only cross-tenant overview (counts, last
//!   import, audit chain per tenant), for people with the `platform-operator` grant.
//! - [`classes`]: a teacher's classes with their pupils' last sign-in.

pub mod api_auth;
pub mod apps;
pub mod audit_log;
pub mod authz;
pub mod cards;
pub mod classes;
pub mod grants;
pub mod lti_tools;
pub mod me;
pub mod mfa;
pub mod operator;
pub mod people;
pub mod roster;
pub mod security;

use kakehashi_store::StoreError;

/// Default and largest page of every list.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

/// A page size as asked (`None`: the default), kept within 1..=[`MAX_PAGE`].
pub fn page_size(asked: Option<i64>) -> i64 {
    asked.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

/// A page of a list and where the next one starts (`None`: this was the last).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated but not allowed (403).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// Absent, or outside the caller's reach (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] crate::passwords::PasswordError),
    #[error(transparent)]
    Portal(#[from] crate::portal::PortalError),
}

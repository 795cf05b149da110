//! Multi-factor authentication without private devices: WebAuthn security keys and platform
//! authenticators (fingerprint readers of issued PCs), one-time backup codes, the step-up rule
//! for school-affairs apps, the tenant's security policy, and factor resets. Knows no HTTP.
//!
//! - [`policy`]: the per-tenant security policy (school networks, freshness window,
//!   attestation and AAGUID allow-list, user verification per security class, TOTP, risk,
//!   shared devices), validated and audited.
//! - [`network`]: CIDR blocks of the school networks.
//! - [`webauthn`]: registration and authentication ceremonies (webauthn-rs), their state kept
//!   in the database between the start and finish requests so any node can finish them.
//! - [`attestation_object`]: reads the AAGUID from an attestation object.
//! - [`backup_codes`]: one-time codes, stored hashed, shown once.
//! - [`factors`]: what a session proved (RFC 8176 `amr`, `acr`, when), freshness, listing and
//!   resetting a user's factors.
//!
//! Every change is audited in the same transaction as the change.

pub mod attestation_object;
pub mod backup_codes;
pub mod factors;
pub mod network;
pub mod policy;
pub mod risk;
pub mod shared_device;
pub mod totp;
pub mod webauthn;

use kakehashi_store::StoreError;

/// What can go wrong in a factor operation. The variants the user can cause carry a message
/// for the page; the rest are server faults.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid security policy: {0}")]
    InvalidPolicy(String),
    #[error("no tenant {0}")]
    UnknownTenant(String),
    #[error("no active user {username:?} in tenant {tenant}")]
    UnknownUser { tenant: String, username: String },
    #[error("the WebAuthn relying party cannot be set up for {url}: {reason}")]
    RelyingParty { url: String, reason: String },
    /// The browser's answer did not verify (wrong challenge, origin, signature, counter…).
    #[error("the authenticator's response was not accepted: {0}")]
    Rejected(String),
    /// No ceremony was started on this session, or it expired, or it was already used.
    #[error("no WebAuthn ceremony is pending for this session (start again)")]
    NoCeremony,
    /// The tenant allows only certain authenticator models.
    #[error("this authenticator model ({aaguid}) is not allowed in this tenant")]
    AaguidNotAllowed { aaguid: String },
    /// The tenant asks for attestation and the authenticator gave none.
    #[error("this tenant requires an attested authenticator; this one gave no attestation")]
    AttestationRequired,
    /// The user has no registered credential to authenticate with.
    #[error("no security key or fingerprint reader is registered for this user")]
    NoCredentials,
    /// Adding a factor needs a fresh second factor once the user has one (or the school
    /// network for the first one, when the tenant lists school networks).
    #[error("{0}")]
    EnrolmentNotAllowed(&'static str),
    #[error("the system random source failed: {0}")]
    Random(String),
    /// Too many wrong second-factor codes lately: try again after this many seconds.
    #[error("too many wrong codes; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
}

impl From<crate::portal::PortalError> for MfaError {
    fn from(e: crate::portal::PortalError) -> Self {
        match e {
            crate::portal::PortalError::Store(s) => MfaError::Store(s),
            crate::portal::PortalError::UnknownUser { tenant, username } => {
                MfaError::UnknownUser { tenant, username }
            }
            other => MfaError::Random(other.to_string()),
        }
    }
}

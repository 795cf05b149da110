//! The portal: password login, sessions in the database, login throttling and lockout, and
//! which apps the launcher shows. Knows no HTTP: `kakehashi-server` turns requests into these
//! calls and the results into pages.
//!
//! - [`policy`]: per-tenant session timeouts and the pupil lockout threshold, with defaults.
//! - [`token`]: session tokens (only their SHA-256 is stored) and CSRF tokens.
//! - [`throttle`]: the pure throttling rules (per account, per account and address, per
//!   address) and why they are shaped so.
//! - [`login`]: one login attempt, and a teacher lifting a pupil's lockout.
//! - [`passkey`]: signing in with a discoverable WebAuthn credential (staff), no password.
//! - [`session`]: resuming a session from its cookie token (idle and absolute timeouts), logout.
//! - [`expiry`]: sessions that time out end their app sessions as a logout does (the sweep).
//! - [`launcher`]: which of the tenant's apps a role sees.
//! - [`access`]: whether a session may go into an app now (audience, second factor).
//!
//! Every state change (login, failure, lockout, unlock, logout) is audited in the same
//! transaction as the change.

pub mod access;
pub mod expiry;
pub mod launcher;
pub mod login;
pub mod passkey;
pub mod policy;
pub mod session;
pub mod throttle;
pub mod token;

use kakehashi_store::StoreError;

/// What can go wrong below the portal's own outcomes (a wrong password is an outcome, not an
/// error).
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error("password verification could not run: {0}")]
    Hashing(String),
    #[error("no active user {username:?} in tenant {tenant}")]
    UnknownUser { tenant: String, username: String },
    #[error("ending the SAML sessions: {0}")]
    Saml(String),
    #[error("the second-factor or risk check failed: {0}")]
    Mfa(String),
}

/// The HMAC key of pre-login CSRF tokens, shared by every node (created on first use).
pub async fn login_csrf_key(
    store: &kakehashi_store::Store,
    clock: &dyn crate::Clock,
) -> Result<String, PortalError> {
    let fresh = token::random_hex()?;
    Ok(kakehashi_store::sessions::secret(store, "login-csrf", &fresh, &clock.now_text()).await?)
}

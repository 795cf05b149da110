//! Kakehashi's domain: what a tenant is, how a roster import is decided and applied, what is
//! audited, where keys live, and the demo data. It calls `kakehashi-store` and knows no HTTP.
//!
//! - [`data_dir`]: the data directory and the master key file.
//! - [`clock`]: time passed in, so tests are deterministic.
//! - [`tenants`]: creating and listing tenants (audited).
//! - [`roster_import`]: bulk/delta semantics of a OneRoster import, applied in one transaction.
//! - [`roster_export`]: the tenant's roster back as a OneRoster package.
//! - [`passwords`]: argon2id hashing and the password policy.
//! - [`apps`]: the application catalog (OIDC clients, SAML SPs), security classes, audiences.
//! - [`keyring`]: the tenants' token signing keys, sealed with the master key; rotation.
//! - [`oauth`]: the OpenID Provider's service (codes, tokens, userinfo, logout).
//! - [`saml_idp`]: the SAML 2.0 IdP service (keys, per-SP settings, SSO).
//! - [`console`]: the web console's and admin API's services and the role model (`authz`).
//! - [`mfa`]: second factors (WebAuthn, backup codes), step-up, the tenant security policy.
//! - [`demo`]: the `demo` tenant a newcomer can try.

pub mod apps;
pub mod cache;
pub mod clock;
pub mod console;
pub mod data_dir;
pub mod demo;
pub mod keyring;
pub mod lrs;
pub mod lti;
pub mod mfa;
pub mod oauth;
pub mod passwords;
pub mod portal;
pub mod roster_export;
pub mod roster_import;
pub mod saml_idp;
pub mod tenants;

pub use clock::{Clock, SystemClock};
pub use kakehashi_store::{Store, StoreError, TenantId};

/// Who did something, as the audit log records it (e.g. `cli:root`, `user:demo/t-0001`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The operator at the command line of this machine.
    pub fn command_line() -> Actor {
        let who = std::env::var("USER").unwrap_or_else(|_| "operator".to_owned());
        Actor(format!("cli:{who}"))
    }
}

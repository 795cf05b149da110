//! The LTI 1.3 platform's service (LTI Core 1.3, Deep Linking 2.0, NRPS 2.0, AGS 2.0) on top
//! of the rules in `kakehashi-lti` and the state in `kakehashi_store::lti`. Knows no HTTP:
//! `kakehashi-server::lti` turns requests into these calls and the results into responses.
//!
//! - [`tools`]: registering tools (each an app of protocol `lti` in the catalog) and their
//!   deployments (per tenant, or per school).
//! - [`launch`]: third-party initiated login, the tool's authentication request and the
//!   signed `id_token` (resource link and deep linking launches).
//! - [`deep_link`]: the tool's Deep Linking response → resource links in a class.
//! - [`token`]: client_credentials with `private_key_jwt` (RFC 7523), scoped to the tool.
//! - [`services`]: NRPS memberships and AGS line items, scores (also xAPI statements in the
//!   tenant's LRS) and results.
//!
//! The platform's issuer is the tenant's OpenID issuer, and it signs with the tenant's keys
//! (`crate::keyring`), so key rotation is the same code path: the next key is in the JWKS
//! before it signs.

pub mod classes;
pub mod deep_link;
pub mod keys;
pub mod launch;
pub mod registration;
pub mod services;
pub mod token;
pub mod tools;

use kakehashi_store::roster::UserRow;
use kakehashi_store::StoreError;

use crate::keyring::KeyringError;

/// How long a login initiation may wait for the tool's authentication request.
pub const LAUNCH_HINT_LIFETIME: i64 = 300;
/// Lifetime of a launch `id_token`.
pub const ID_TOKEN_LIFETIME: i64 = 300;
/// Lifetime of a service access token (seconds).
pub const ACCESS_TOKEN_LIFETIME: i64 = 3600;
/// How long a deep linking session may take before its response is refused.
pub const DEEP_LINK_SESSION: i64 = 3600;

/// Failures below the protocol.
#[derive(Debug, thiserror::Error)]
pub enum LtiServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthServiceError),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("the tool {app_id:?} has unusable settings: {detail}")]
    BadTool { app_id: String, detail: String },
    /// The LRS refused the statement of a score (so the score was not stored either).
    #[error("the LRS refused the score's statement: {0}")]
    Statement(String),
}

/// The `sub` a tool sees for a user: the `userMasterIdentifier` when the tool is registered
/// with `--subject user-master-identifier` (the national kits' choice) and the user has one,
/// else a pairwise value per tool (OIDC Core 8.1), never the internal sourcedId.
pub fn subject(subject_type: &str, app_id: &str, user: &UserRow, salt: &str) -> String {
    if subject_type == "user-master-identifier" {
        if let Some(umi) = user
            .user_master_identifier
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            return umi.to_owned();
        }
    }
    kakehashi_oidc::claims::pairwise_subject(
        &format!("lti:{app_id}"),
        &user.sourced_id,
        salt.as_bytes(),
    )
}

/// `https://…/t/{tenant}/lti/…` endpoints of a tenant's platform.
pub struct Endpoints {
    pub issuer: String,
}

impl Endpoints {
    pub fn new(issuer: &str) -> Endpoints {
        Endpoints {
            issuer: issuer.trim_end_matches('/').to_owned(),
        }
    }
    pub fn authorization(&self) -> String {
        format!("{}/lti/auth", self.issuer)
    }
    pub fn token(&self) -> String {
        format!("{}/lti/token", self.issuer)
    }
    pub fn jwks(&self) -> String {
        format!("{}/jwks", self.issuer)
    }
    pub fn openid_configuration(&self) -> String {
        format!("{}/lti/openid-configuration", self.issuer)
    }
    pub fn registration(&self) -> String {
        format!("{}/lti/register", self.issuer)
    }
    pub fn deep_link_return(&self) -> String {
        format!("{}/lti/deep-link-return", self.issuer)
    }
    pub fn memberships(&self, class: &str) -> String {
        format!("{}/lti/contexts/{}/memberships", self.issuer, enc(class))
    }
    pub fn line_items(&self, class: &str) -> String {
        format!("{}/lti/contexts/{}/lineitems", self.issuer, enc(class))
    }
    pub fn line_item(&self, class: &str, id: &str) -> String {
        format!("{}/{}", self.line_items(class), enc(id))
    }
}

/// Percent-encodes a path segment.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// SHA-256 hex of a hint or token.
pub(crate) fn hash(value: &str) -> String {
    crate::oauth::token_hash(value)
}

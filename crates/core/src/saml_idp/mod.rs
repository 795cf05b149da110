//! Kakehashi as a SAML 2.0 Identity Provider for school-affairs systems and other SPs: the
//! service between the HTTP layer (`kakehashi-server`'s `saml` module) and the store. The
//! protocol rules themselves are in `kakehashi-saml`; this module decides, per tenant and per
//! SP, what to do with a request and remembers what must be remembered (docs/SAML.md).
//!
//! - [`keys`]: the tenant's IdP signing key and certificate (created on first use, sealed
//!   with the master key, the same on every node) and the IdP metadata.
//! - [`settings`]: per-SP settings (what to sign, the NameID, released attributes, whether
//!   AuthnRequests must be signed).
//! - [`attributes`]: the attributes an SP may be released, and their SAML names.
//! - [`sso`]: receiving an AuthnRequest (checks, replay cache), waiting for a login,
//!   answering with a signed Response or a SAML error status, and IdP-initiated SSO.
//! - `issue`: building, signing, recording and auditing a successful Response.
//! - [`slo`]: SP-initiated Single Logout (ends the portal session the SP's session came from).
//!
//! Every SSO, refusal and Response is audited.

pub mod attributes;
mod issue;
pub mod keys;
pub mod propagate;
pub mod settings;
pub mod slo;
pub mod sso;

use kakehashi_saml::metadata::sp::SpMetadata;
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::{saml as stored, Store, StoreError, TenantId};

use crate::keyring::KeyringError;
pub use settings::SpSettings;

/// What can go wrong below the SSO outcomes (a refused request is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
pub enum SamlIdpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mfa(#[from] crate::mfa::MfaError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("SAML: {0}")]
    Saml(#[from] kakehashi_saml::SamlError),
    #[error("the SAML settings of app {app} cannot be used: {detail}")]
    Settings { app: String, detail: String },
    #[error("no SAML app {id:?} in tenant {tenant}")]
    UnknownApp { tenant: TenantId, id: String },
    #[error("{0}")]
    Invalid(String),
}

/// The IdP's URLs for a tenant, from the public URL users reach the server at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpUrls {
    /// Our entity id: the metadata URL (Metadata 2.3.2 recommends a resolvable URL).
    pub entity_id: String,
    pub sso_url: String,
    pub slo_url: String,
    pub metadata_url: String,
}

impl IdpUrls {
    pub fn of(public_url: &str, tenant: &TenantId) -> IdpUrls {
        let base = format!("{}/t/{tenant}/saml", public_url.trim_end_matches('/'));
        IdpUrls {
            entity_id: format!("{base}/metadata"),
            sso_url: format!("{base}/sso"),
            slo_url: format!("{base}/slo"),
            metadata_url: format!("{base}/metadata"),
        }
    }
}

/// A registered SP: the catalog row, its metadata (parsed, or built from the ACS URL it was
/// registered with) and its settings.
#[derive(Clone, Debug)]
pub struct ServiceProvider {
    pub app: AppRow,
    pub metadata: SpMetadata,
    pub settings: SpSettings,
}

impl ServiceProvider {
    pub fn entity_id(&self) -> &str {
        &self.metadata.entity_id
    }
}

/// The SAML app `app_id` of the tenant, if any.
pub async fn service_provider(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
) -> Result<Option<ServiceProvider>, SamlIdpError> {
    let Some(app) = identity::get_app(store, tenant, app_id).await? else {
        return Ok(None);
    };
    if app.protocol != "saml" {
        return Ok(None);
    }
    let Some(row) = stored::sp_settings(store, tenant, app_id).await? else {
        return Ok(None);
    };
    let settings_err = |detail: String| SamlIdpError::Settings {
        app: app.id.clone(),
        detail,
    };
    let metadata = match (&app.saml_metadata, &app.saml_entity_id, &app.saml_acs_url) {
        (Some(xml), _, _) => SpMetadata::parse(xml).map_err(|e| settings_err(e.to_string()))?,
        (None, Some(entity), Some(acs)) => SpMetadata::from_acs_url(entity, acs),
        _ => return Err(settings_err("no metadata and no ACS URL".into())),
    };
    let settings = SpSettings::from_row(&row).map_err(settings_err)?;
    Ok(Some(ServiceProvider {
        app,
        metadata,
        settings,
    }))
}

/// The SAML app registered with `entity_id` (an AuthnRequest's `Issuer`), if any.
pub async fn service_provider_by_entity_id(
    store: &Store,
    tenant: &TenantId,
    entity_id: &str,
) -> Result<Option<ServiceProvider>, SamlIdpError> {
    match stored::app_id_by_entity_id(store, tenant, entity_id).await? {
        Some(id) => service_provider(store, tenant, &id).await,
        None => Ok(None),
    }
}

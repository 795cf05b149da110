//! Per-SP settings, stored as columns of `apps` (migration 0007) and set with
//! `kakehashi app add --protocol saml --saml-sign … --saml-name-id … --saml-attributes …
//! [--saml-require-signed-requests]`.
//!
//! | setting | values | default |
//! |---|---|---|
//! | sign | `assertion`, `response`, `both` | `both` (the Assertion is signed whenever the SP's metadata says `WantAssertionsSigned`) |
//! | name-id | `persistent` (pairwise per SP, SAML Core 8.3.7), `username` (`unspecified` format, Core 8.3.1) | `persistent` |
//! | attributes | names from [`super::attributes`] | none |
//! | require signed requests | yes/no: refuse unsigned AuthnRequests even if the metadata does not say `AuthnRequestsSigned` | no |

use kakehashi_saml::response::SignaturePlacement;
use kakehashi_store::saml::{self as stored, SpSettingsRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};

use super::attributes::ReleasedAttribute;
use super::SamlIdpError;
use crate::{Actor, Clock};

/// The NameID an SP receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameIdChoice {
    /// `persistent`: an opaque value per (SP, user), stored so it never changes (or the
    /// `userMasterIdentifier` when the app was registered with `--subject user-master-identifier`).
    Persistent,
    /// `unspecified`: the username.
    Username,
}

impl NameIdChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            NameIdChoice::Persistent => "persistent",
            NameIdChoice::Username => "username",
        }
    }

    pub fn parse(s: &str) -> Result<NameIdChoice, String> {
        match s {
            "persistent" => Ok(NameIdChoice::Persistent),
            "username" => Ok(NameIdChoice::Username),
            _ => Err(format!("unknown NameID {s:?}: use persistent or username")),
        }
    }
}

pub fn placement_str(p: SignaturePlacement) -> &'static str {
    match p {
        SignaturePlacement::Assertion => "assertion",
        SignaturePlacement::Response => "response",
        SignaturePlacement::Both => "both",
    }
}

pub fn parse_placement(s: &str) -> Result<SignaturePlacement, String> {
    match s {
        "assertion" => Ok(SignaturePlacement::Assertion),
        "response" => Ok(SignaturePlacement::Response),
        "both" => Ok(SignaturePlacement::Both),
        _ => Err(format!(
            "unknown signature placement {s:?}: use assertion, response or both"
        )),
    }
}

/// The settings of one SP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpSettings {
    pub sign: SignaturePlacement,
    pub name_id: NameIdChoice,
    pub attributes: Vec<ReleasedAttribute>,
    pub require_signed_requests: bool,
}

impl Default for SpSettings {
    fn default() -> Self {
        SpSettings {
            sign: SignaturePlacement::Both,
            name_id: NameIdChoice::Persistent,
            attributes: Vec::new(),
            require_signed_requests: false,
        }
    }
}

impl SpSettings {
    pub fn from_row(row: &SpSettingsRow) -> Result<SpSettings, String> {
        Ok(SpSettings {
            sign: parse_placement(&row.sign)?,
            name_id: NameIdChoice::parse(&row.name_id)?,
            attributes: row
                .attributes
                .iter()
                .map(|a| ReleasedAttribute::parse(a))
                .collect::<Result<_, _>>()?,
            require_signed_requests: row.require_signed_requests,
        })
    }

    pub fn to_row(&self) -> SpSettingsRow {
        SpSettingsRow {
            sign: placement_str(self.sign).to_owned(),
            name_id: self.name_id.as_str().to_owned(),
            attributes: self.attributes.iter().map(|a| a.key().to_owned()).collect(),
            require_signed_requests: self.require_signed_requests,
        }
    }

    /// Parses a comma-separated attribute list (`uid,displayName,kanaFamilyName`).
    pub fn parse_attribute_list(list: &str) -> Result<Vec<ReleasedAttribute>, String> {
        let mut out: Vec<ReleasedAttribute> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let a = ReleasedAttribute::parse(name)?;
            if !out.contains(&a) {
                out.push(a);
            }
        }
        Ok(out)
    }
}

/// The stored settings of an app, as operators see them (`app list --format json`).
pub async fn stored(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
) -> Result<Option<SpSettingsRow>, StoreError> {
    stored::sp_settings(store, tenant, app_id).await
}

/// Stores the SAML settings of a SAML app (audited).
pub async fn configure(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    app_id: &str,
    settings: &SpSettings,
) -> Result<(), SamlIdpError> {
    if super::service_provider(store, tenant, app_id)
        .await?
        .is_none()
    {
        return Err(SamlIdpError::UnknownApp {
            tenant: tenant.clone(),
            id: app_id.to_owned(),
        });
    }
    let row = settings.to_row();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::set_sp_settings(&mut tx, tenant, app_id, &row).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "app.saml.configure".into(),
            target: format!("app:{app_id}"),
            details: serde_json::to_value(&row).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

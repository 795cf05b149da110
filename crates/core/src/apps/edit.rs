//! Changing a registered app: its audience, security class, redirect URIs (OIDC), released
//! claims (OIDC) and back-channel logout URI (OIDC). What is not given keeps its value; the same rules as at registration apply
//! to the result (a school-affairs app is for staff only; redirect URIs are absolute https);
//! the change and its audit row (`app.update`, with before and after) commit together.

use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::oauth::{self, OidcSettingsRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};

use super::{check_endpoint_url, invalid, AppError, Audience, SecurityClass};
use crate::tenants;
use crate::{Actor, Clock};

/// What to change; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct AppChange {
    pub audience: Option<Audience>,
    pub security_class: Option<SecurityClass>,
    /// OIDC apps only; at least one.
    pub redirect_uris: Option<Vec<String>>,
    /// OIDC apps only: `name`, `kana`, `username`, `email`, `roster` (empty: none).
    pub release: Option<Vec<String>>,
    /// OIDC apps only: where the app takes Back-Channel Logout Tokens (Back-Channel Logout 1.0
    /// section 2.2); `Some(None)` removes it.
    pub backchannel_logout_uri: Option<Option<String>>,
}

/// The app after a change.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AppUpdated {
    #[serde(flatten)]
    pub app: AppRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSettingsRow>,
}

/// Applies `change` to the app `id` of the tenant.
pub async fn update(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    id: &str,
    change: &AppChange,
) -> Result<AppUpdated, AppError> {
    use crate::oauth::clients::Release;
    tenants::require(store, tenant).await?;
    let unknown = || AppError::Unknown {
        tenant: tenant.clone(),
        id: id.to_owned(),
    };
    let before = identity::get_app(store, tenant, id)
        .await?
        .ok_or_else(unknown)?;
    let oidc = before.protocol == "oidc";
    let mut after = before.clone();
    if let Some(c) = change.security_class {
        if before.protocol == "lti" && c != SecurityClass::Learning {
            return Err(invalid(
                "security_class: LTI tools are learning tools (LTI launches carry no second factor)",
            ));
        }
        after.security_class = c.as_str().to_owned();
    }
    if let Some(a) = change.audience {
        after.audience = a.as_str().to_owned();
    }
    if after.security_class == SecurityClass::SchoolAffairs.as_str()
        && matches!(after.audience.as_str(), "all" | "students")
    {
        return Err(invalid(
            "audience: school-affairs apps hold grades and enrolment records and are for staff only: use staff or teachers",
        ));
    }
    if let Some(uris) = &change.redirect_uris {
        if !oidc {
            return Err(invalid(format!(
                "redirect_uris: only OIDC apps have redirect URIs (this one is {})",
                before.protocol
            )));
        }
        let uris: Vec<String> = uris
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        if uris.is_empty() {
            return Err(invalid(
                "redirect_uris: an OIDC app needs at least one redirect URI",
            ));
        }
        for u in &uris {
            check_endpoint_url("redirect_uris: redirect URI", u)?;
        }
        after.redirect_uris = uris;
    }
    let settings_before = if oidc {
        oauth::oidc_settings(store, tenant, id).await?
    } else {
        None
    };
    let mut settings_after = settings_before.clone();
    if let Some(release) = &change.release {
        let Some(s) = settings_after.as_mut() else {
            return Err(invalid(format!(
                "release: only OIDC apps release claims this way (this one is {}; SAML apps: app saml-settings)",
                before.protocol
            )));
        };
        let mut claims: Vec<String> = Vec::new();
        for r in release {
            let r: Release = r
                .trim()
                .parse()
                .map_err(|e: String| invalid(format!("release: {e}")))?;
            if !claims.iter().any(|x| x == r.as_str()) {
                claims.push(r.as_str().to_owned());
            }
        }
        s.release_claims = claims;
    }
    if let Some(uri) = &change.backchannel_logout_uri {
        let Some(s) = settings_after.as_mut() else {
            return Err(invalid(format!(
                "backchannel_logout_uri: only OIDC apps take Logout Tokens (this one is {}; SAML SPs are told by Single Logout)",
                before.protocol
            )));
        };
        if let Some(u) = uri {
            check_endpoint_url("backchannel_logout_uri: back-channel logout URI", u)?;
        }
        s.backchannel_logout_uri = uri.clone();
    }
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !identity::update_app_access(
        &mut tx,
        tenant,
        id,
        &after.audience,
        &after.security_class,
        &after.redirect_uris,
    )
    .await?
    {
        return Err(unknown());
    }
    if let Some(s) = &settings_after {
        if change.release.is_some() || change.backchannel_logout_uri.is_some() {
            oauth::set_oidc_settings(&mut tx, tenant, id, s).await?;
        }
    }
    let view = |a: &AppRow, s: &Option<OidcSettingsRow>| {
        serde_json::json!({
            "audience": a.audience, "securityClass": a.security_class,
            "redirectUris": a.redirect_uris,
            "release": s.as_ref().map(|s| s.release_claims.clone()),
            "backchannelLogoutUri": s.as_ref().and_then(|s| s.backchannel_logout_uri.clone()),
        })
    };
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "app.update".into(),
            target: format!("app:{id}"),
            details: serde_json::json!({
                "name": before.name,
                "before": view(&before, &settings_before),
                "after": view(&after, &settings_after),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(AppUpdated {
        app: after,
        oidc: settings_after,
    })
}

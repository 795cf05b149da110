//! Changing a registered app: what `kakehashi app add` set and may change without a new
//! registration — its name, icon, audience and security class; for OIDC apps the redirect
//! URIs, released claims, back-channel logout URI, token endpoint authentication (and the
//! client's JWKS for `private_key_jwt`), access token format, ID token algorithm,
//! post-logout redirect URIs, launch URL and xAPI scopes; for SAML SPs the metadata (or the
//! ACS URL and entity id), what is signed, the NameID, the released attributes and whether
//! AuthnRequests must be signed. The protocol, the client type (public or confidential) and
//! the subject type stay: changing those changes what the app has been given.
//!
//! What is not given keeps its value; the same rules as at registration apply to the result
//! (a school-affairs app is for staff only; URLs are absolute https); a message names the
//! field (`audience: …`). The change and its audit row (`app.update`, with before and after)
//! commit together.

use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::oauth::{self, OidcSettingsRow};
use kakehashi_store::saml::{self as saml_store, SpSettingsRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};

use super::{
    check_endpoint_url, icon_type, invalid, plan_oidc, saml_endpoint, AppError, Audience, Icon,
    NewApp, OidcOptions, Protocol, SamlSource, SecurityClass, SubjectType,
};
use crate::saml_idp::settings::{parse_placement, NameIdChoice, SpSettings};
use crate::tenants;
use crate::{Actor, Clock};

/// What to change; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct AppChange {
    pub name: Option<String>,
    /// A new launcher icon (PNG, JPEG or WebP); `Some(None)` removes it.
    pub icon: Option<Option<Icon>>,
    pub audience: Option<Audience>,
    pub security_class: Option<SecurityClass>,
    /// OIDC apps only; at least one.
    pub redirect_uris: Option<Vec<String>>,
    /// OIDC apps only: `name`, `kana`, `username`, `email`, `roster` (empty: none).
    pub release: Option<Vec<String>>,
    /// OIDC apps only: where the app takes Back-Channel Logout Tokens (Back-Channel Logout 1.0
    /// section 2.2); `Some(None)` removes it.
    pub backchannel_logout_uri: Option<Option<String>>,
    /// OIDC, confidential clients: `client_secret_basic`, `client_secret_post` or
    /// `private_key_jwt` (which drops the client secret).
    pub token_auth_method: Option<String>,
    /// OIDC, `private_key_jwt`: the client's new JWK Set (JSON).
    pub jwks: Option<String>,
    /// OIDC: `opaque` or `jwt` (RFC 9068).
    pub access_token_format: Option<String>,
    /// OIDC: `RS256` or `ES256`.
    pub id_token_alg: Option<String>,
    /// OIDC: the whole new list (RP-Initiated Logout).
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// OIDC: where the launcher sends users; `Some(None)` removes it.
    pub launch_url: Option<Option<String>>,
    /// OIDC: the whole new list of xAPI scopes (client_credentials).
    pub xapi_scopes: Option<Vec<String>>,
    /// SAML: new metadata, or a new ACS URL and entity id.
    pub saml: Option<SamlSource>,
    /// SAML: `assertion`, `response` or `both`.
    pub saml_sign: Option<String>,
    /// SAML: `persistent` or `username`.
    pub saml_name_id: Option<String>,
    /// SAML: the whole new list of released attributes (docs/SAML.md).
    pub saml_attributes: Option<Vec<String>>,
    pub saml_require_signed_requests: Option<bool>,
}

impl AppChange {
    /// The first OIDC setting given, by its form and JSON name.
    fn oidc_field(&self) -> Option<&'static str> {
        [
            ("release", self.release.is_some()),
            (
                "backchannel_logout_uri",
                self.backchannel_logout_uri.is_some(),
            ),
            ("token_auth_method", self.token_auth_method.is_some()),
            ("jwks", self.jwks.is_some()),
            ("token_format", self.access_token_format.is_some()),
            ("id_token_alg", self.id_token_alg.is_some()),
            (
                "post_logout_redirect_uris",
                self.post_logout_redirect_uris.is_some(),
            ),
            ("launch_url", self.launch_url.is_some()),
            ("xapi_scopes", self.xapi_scopes.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
    }

    fn touches_saml_settings(&self) -> bool {
        self.saml_sign.is_some()
            || self.saml_name_id.is_some()
            || self.saml_attributes.is_some()
            || self.saml_require_signed_requests.is_some()
    }
}

/// The app after a change.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AppUpdated {
    #[serde(flatten)]
    pub app: AppRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSettingsRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saml: Option<SpSettingsRow>,
}

fn only_for(field: &str, protocol: &str, wanted: &str) -> AppError {
    invalid(format!(
        "{field}: only {wanted} apps have this setting (this one is {protocol})"
    ))
}

/// The new OIDC settings: each changed field checked with its name, then the whole with the
/// registration's rules.
fn change_oidc(
    app: &AppRow,
    current: &OidcSettingsRow,
    change: &AppChange,
) -> Result<(OidcSettingsRow, bool), AppError> {
    use crate::oauth::clients::{parse_auth_method, Release};
    use kakehashi_oidc::ClientAuthMethod;
    let current_method = match &current.token_auth_method {
        Some(m) => parse_auth_method(m).map_err(invalid)?,
        None if app.public_client => ClientAuthMethod::None,
        None => ClientAuthMethod::ClientSecretBasic,
    };
    let method = match &change.token_auth_method {
        None => current_method,
        Some(m) => {
            let m = parse_auth_method(m.trim())
                .map_err(|e| invalid(format!("token_auth_method: {e}")))?;
            if app.public_client != (m == ClientAuthMethod::None) {
                return Err(invalid(if app.public_client {
                    "token_auth_method: this is a public client (PKCE, no secret): it stays none"
                } else {
                    "token_auth_method: none is for public clients; this one is confidential"
                }));
            }
            if matches!(
                m,
                ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
            ) && app.client_secret_hash.is_none()
            {
                return Err(invalid(
                    "token_auth_method: this client has no secret (it signs with private_key_jwt); register the app anew to get a client secret",
                ));
            }
            m
        }
    };
    let jwks = match (&change.jwks, method) {
        (Some(j), ClientAuthMethod::PrivateKeyJwt) => {
            let set = kakehashi_oidc::JwkSet::parse(j)
                .map_err(|e| invalid(format!("jwks: not a usable JWK set: {e}")))?;
            if set.verification_keys().map_or(true, |k| k.is_empty()) {
                return Err(invalid("jwks: holds no usable public key"));
            }
            Some(j.clone())
        }
        (Some(_), _) => return Err(invalid("jwks: goes with token_auth_method private_key_jwt")),
        (None, ClientAuthMethod::PrivateKeyJwt) => match &current.client_jwks {
            Some(j) => Some(j.clone()),
            None => {
                return Err(invalid(
                    "jwks: private_key_jwt needs the client's public keys (a JWK Set)",
                ))
            }
        },
        (None, _) => None,
    };
    let trimmed = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect()
    };
    let post_logout = match &change.post_logout_redirect_uris {
        Some(list) => {
            let list = trimmed(list);
            for u in &list {
                check_endpoint_url("post_logout_redirect_uris: post-logout redirect URI", u)?;
            }
            list
        }
        None => current.post_logout_redirect_uris.clone(),
    };
    let launch_url = match &change.launch_url {
        Some(Some(u)) => {
            check_endpoint_url("launch_url: launch URL", u)?;
            Some(u.clone())
        }
        Some(None) => None,
        None => current.launch_url.clone(),
    };
    let backchannel = match &change.backchannel_logout_uri {
        Some(Some(u)) => {
            check_endpoint_url("backchannel_logout_uri: back-channel logout URI", u)?;
            Some(u.clone())
        }
        Some(None) => None,
        None => current.backchannel_logout_uri.clone(),
    };
    let format = match &change.access_token_format {
        Some(f) if !matches!(f.trim(), "opaque" | "jwt") => {
            return Err(invalid(format!("token_format: {f:?}: use opaque or jwt")))
        }
        Some(f) => f.trim().to_owned(),
        None => current.access_token_format.clone(),
    };
    let alg = match &change.id_token_alg {
        Some(a) if !matches!(a.trim(), "RS256" | "ES256") => {
            return Err(invalid(format!("id_token_alg: {a:?}: use RS256 or ES256")))
        }
        Some(a) => a.trim().to_owned(),
        None => current.id_token_alg.clone(),
    };
    let release = match &change.release {
        Some(list) => {
            let mut claims: Vec<String> = Vec::new();
            for r in list {
                let r: Release = r
                    .trim()
                    .parse()
                    .map_err(|e: String| invalid(format!("release: {e}")))?;
                if !claims.iter().any(|x| x == r.as_str()) {
                    claims.push(r.as_str().to_owned());
                }
            }
            claims
        }
        None => current.release_claims.clone(),
    };
    let xapi_scopes = match &change.xapi_scopes {
        Some(list) => {
            let list = trimmed(list);
            for s in &list {
                if kakehashi_xapi::scope::Scope::parse(s).is_none() {
                    return Err(invalid(format!(
                        "xapi_scopes: {s:?}: use statements/write, statements/read/mine, statements/read, state, define, profile, all/read or all"
                    )));
                }
            }
            if !list.is_empty() && method == ClientAuthMethod::None {
                return Err(invalid(
                    "xapi_scopes: need a confidential client (client_credentials)",
                ));
            }
            list
        }
        None => current.xapi_scopes.clone(),
    };
    // The registration's rules over the whole (a belt to the checks above).
    let probe = NewApp {
        name: app.name.clone(),
        protocol: Protocol::Oidc,
        security_class: SecurityClass::Learning,
        audience: None,
        redirect_uris: app.redirect_uris.clone(),
        public: app.public_client,
        saml: None,
        subject_type: SubjectType::Pairwise,
        icon: None,
    };
    let settings = plan_oidc(
        &probe,
        &OidcOptions {
            token_auth_method: Some(method.as_str().to_owned()),
            jwks,
            post_logout_redirect_uris: post_logout,
            access_token_format: Some(format),
            id_token_alg: Some(alg),
            release,
            launch_url,
            xapi_scopes,
            backchannel_logout_uri: backchannel,
        },
    )?;
    let drop_secret = method == ClientAuthMethod::PrivateKeyJwt && app.client_secret_hash.is_some();
    Ok((settings, drop_secret))
}

/// The new SAML settings of an SP.
fn change_saml_settings(
    current: &SpSettingsRow,
    change: &AppChange,
) -> Result<SpSettingsRow, AppError> {
    let mut s = SpSettings::from_row(current)
        .map_err(|e| invalid(format!("the stored SAML settings cannot be read: {e}")))?;
    if let Some(sign) = &change.saml_sign {
        s.sign = parse_placement(sign.trim()).map_err(|e| invalid(format!("saml_sign: {e}")))?;
    }
    if let Some(n) = &change.saml_name_id {
        s.name_id =
            NameIdChoice::parse(n.trim()).map_err(|e| invalid(format!("saml_name_id: {e}")))?;
    }
    if let Some(list) = &change.saml_attributes {
        s.attributes = SpSettings::parse_attribute_list(&list.join(","))
            .map_err(|e| invalid(format!("saml_attributes: {e}")))?;
    }
    if let Some(r) = change.saml_require_signed_requests {
        s.require_signed_requests = r;
    }
    Ok(s.to_row())
}

fn audit_view(
    a: &AppRow,
    o: &Option<OidcSettingsRow>,
    s: &Option<SpSettingsRow>,
) -> serde_json::Value {
    serde_json::json!({
        "name": a.name, "iconType": a.icon_type,
        "audience": a.audience, "securityClass": a.security_class,
        "redirectUris": a.redirect_uris,
        "release": o.as_ref().map(|s| s.release_claims.clone()),
        "backchannelLogoutUri": o.as_ref().and_then(|s| s.backchannel_logout_uri.clone()),
        "tokenAuthMethod": o.as_ref().and_then(|s| s.token_auth_method.clone()),
        "clientJwks": o.as_ref().map(|s| s.client_jwks.is_some()),
        "clientSecret": (a.protocol == "oidc" && !a.public_client).then_some(a.client_secret_hash.is_some()),
        "accessTokenFormat": o.as_ref().map(|s| s.access_token_format.clone()),
        "idTokenAlg": o.as_ref().map(|s| s.id_token_alg.clone()),
        "postLogoutRedirectUris": o.as_ref().map(|s| s.post_logout_redirect_uris.clone()),
        "launchUrl": o.as_ref().and_then(|s| s.launch_url.clone()),
        "xapiScopes": o.as_ref().map(|s| s.xapi_scopes.clone()),
        "samlEntityId": a.saml_entity_id, "samlAcsUrl": a.saml_acs_url,
        "samlMetadata": a.saml_metadata.is_some().then_some(true),
        "saml": s,
    })
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
    tenants::require(store, tenant).await?;
    let unknown = || AppError::Unknown {
        tenant: tenant.clone(),
        id: id.to_owned(),
    };
    let before = identity::get_app(store, tenant, id)
        .await?
        .ok_or_else(unknown)?;
    let protocol = before.protocol.as_str();
    let oidc = protocol == "oidc";
    let saml = protocol == "saml";
    let mut after = before.clone();
    if let Some(name) = &change.name {
        let name = name.trim();
        if name.is_empty() {
            return Err(invalid("name: the app name must not be empty"));
        }
        after.name = name.to_owned();
    }
    match &change.icon {
        Some(Some(icon)) => {
            let kind = icon_type(&icon.bytes).map_err(|e| invalid(format!("icon: {e}")))?;
            after.icon_type = Some(kind.to_owned());
            after.icon_base64 = Some(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &icon.bytes,
            ));
        }
        Some(None) => {
            after.icon_type = None;
            after.icon_base64 = None;
        }
        None => {}
    }
    if let Some(c) = change.security_class {
        if protocol == "lti" && c != SecurityClass::Learning {
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
                "redirect_uris: only OIDC apps have redirect URIs (this one is {protocol})"
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
    if let Some(source) = &change.saml {
        if !saml {
            return Err(only_for("saml_metadata", protocol, "SAML"));
        }
        let (entity_id, acs_url, metadata) =
            saml_endpoint(source).map_err(|e| invalid(format!("saml_metadata: {e}")))?;
        let taken = identity::list_apps(store, tenant)
            .await?
            .into_iter()
            .any(|a| a.id != before.id && a.saml_entity_id.as_deref() == Some(&entity_id));
        if taken {
            return Err(AppError::DuplicateEntityId(entity_id));
        }
        after.saml_entity_id = Some(entity_id);
        after.saml_acs_url = Some(acs_url);
        after.saml_metadata = metadata;
    }
    let settings_before = if oidc {
        oauth::oidc_settings(store, tenant, id).await?
    } else {
        None
    };
    let mut settings_after = settings_before.clone();
    let mut drop_secret = false;
    if let Some(field) = change.oidc_field() {
        let Some(current) = &settings_before else {
            return Err(invalid(format!(
                "{field}: only OIDC apps have this setting (this one is {protocol}{})",
                match protocol {
                    "saml" => "; SAML apps: saml_attributes",
                    _ => "",
                }
            )));
        };
        let (s, drop) = change_oidc(&after, current, change)?;
        settings_after = Some(s);
        drop_secret = drop;
    }
    if drop_secret {
        after.client_secret_hash = None;
    }
    let saml_before = if saml {
        saml_store::sp_settings(store, tenant, id).await?
    } else {
        None
    };
    let mut saml_after = saml_before.clone();
    if change.touches_saml_settings() {
        let Some(current) = &saml_before else {
            return Err(only_for("saml_sign", protocol, "SAML"));
        };
        saml_after = Some(change_saml_settings(current, change)?);
    }
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !identity::update_app(&mut tx, tenant, &after).await? {
        return Err(unknown());
    }
    if drop_secret {
        identity::clear_client_secret(&mut tx, tenant, id).await?;
    }
    if let Some(s) = &settings_after {
        if settings_after != settings_before {
            oauth::set_oidc_settings(&mut tx, tenant, id, s).await?;
        }
    }
    if let Some(s) = &saml_after {
        if saml_after != saml_before {
            saml_store::set_sp_settings(&mut tx, tenant, id, s).await?;
        }
    }
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
                "before": audit_view(&before, &settings_before, &saml_before),
                "after": audit_view(&after, &settings_after, &saml_after),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(AppUpdated {
        app: after,
        oidc: settings_after,
        saml: saml_after,
    })
}

//! The app catalog in the console and the API (tenant admins): the same `crate::apps`
//! service the command line uses, a page at a time: list, register, change, remove.

use kakehashi_store::identity::AppRow;
use kakehashi_store::Store;

use super::authz::{Principal, TenantAction};
use super::{page_size, ConsoleError, Page};

/// The tenant's apps by id after `after`.
pub async fn list(
    store: &Store,
    by: &Principal,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<AppRow>, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let limit = page_size(limit) as usize;
    let mut all = crate::apps::list(store, &by.tenant)
        .await
        .map_err(|e| ConsoleError::Invalid(e.to_string()))?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let after = after.unwrap_or("");
    let mut items: Vec<AppRow> = all.into_iter().filter(|a| a.id.as_str() > after).collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|a| a.id.clone())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// An app registration as the console's form and the API take it: the command line's
/// `app add` options (docs/OIDC.md, docs/SAML.md), without the icon.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRequest {
    pub name: String,
    /// `oidc` or `saml`.
    pub protocol: String,
    /// `learning` or `school-affairs`.
    pub security_class: String,
    /// `all`, `staff`, `teachers`, `students` (default: by class).
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// A public OIDC client (PKCE, no secret).
    #[serde(default)]
    pub public: bool,
    /// `pairwise` (default) or `user-master-identifier`.
    #[serde(default)]
    pub subject: Option<String>,
    /// SAML: the SP's metadata XML, or the ACS URL and entity id.
    #[serde(default)]
    pub saml_metadata: Option<String>,
    #[serde(default)]
    pub saml_acs_url: Option<String>,
    #[serde(default)]
    pub saml_entity_id: Option<String>,
    /// OIDC: `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none`.
    #[serde(default)]
    pub token_auth_method: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `opaque` or `jwt`.
    #[serde(default)]
    pub token_format: Option<String>,
    /// `RS256` or `ES256`.
    #[serde(default)]
    pub id_token_alg: Option<String>,
    /// `name`, `kana`, `username`, `email`, `roster`.
    #[serde(default)]
    pub release: Vec<String>,
    #[serde(default)]
    pub launch_url: Option<String>,
    /// xAPI scopes a client_credentials token of this client may carry (`--xapi-scopes`).
    #[serde(default)]
    pub xapi_scopes: Vec<String>,
    /// Where the app takes Back-Channel Logout Tokens (`--backchannel-logout-uri`).
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
}

fn field<T: std::str::FromStr<Err = String>>(what: &str, v: &str) -> Result<T, ConsoleError> {
    v.parse::<T>()
        .map_err(|e| ConsoleError::Invalid(format!("{what}: {e}")))
}

impl AppRequest {
    fn into_parts(self) -> Result<(crate::apps::NewApp, crate::apps::OidcOptions), ConsoleError> {
        use crate::apps::{NewApp, OidcOptions, SamlSource};
        let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let saml = match (
            blank(self.saml_metadata),
            blank(self.saml_acs_url),
            blank(self.saml_entity_id),
        ) {
            (Some(xml), _, _) => Some(SamlSource::Metadata(xml)),
            (None, Some(acs_url), Some(entity_id)) => {
                Some(SamlSource::Manual { entity_id, acs_url })
            }
            (None, None, None) => None,
            _ => {
                return Err(ConsoleError::Invalid(
                    "SAML needs the metadata, or both the ACS URL and the entity id".into(),
                ))
            }
        };
        let subject = match blank(self.subject).as_deref() {
            None => "pairwise".to_owned(),
            Some("public") => "user-master-identifier".to_owned(),
            Some(s) => s.to_owned(),
        };
        let new = NewApp {
            name: self.name.trim().to_owned(),
            protocol: field("protocol", &self.protocol)?,
            security_class: field("security_class", &self.security_class)?,
            audience: blank(self.audience)
                .map(|a| field("audience", &a))
                .transpose()?,
            redirect_uris: self
                .redirect_uris
                .into_iter()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect(),
            public: self.public,
            saml,
            subject_type: field("subject", &subject)?,
            icon: None,
        };
        let oidc = OidcOptions {
            token_auth_method: blank(self.token_auth_method),
            jwks: None,
            post_logout_redirect_uris: self
                .post_logout_redirect_uris
                .into_iter()
                .filter(|u| !u.trim().is_empty())
                .collect(),
            access_token_format: blank(self.token_format),
            id_token_alg: blank(self.id_token_alg),
            release: self.release,
            launch_url: blank(self.launch_url),
            xapi_scopes: self.xapi_scopes,
            backchannel_logout_uri: blank(self.backchannel_logout_uri),
        };
        Ok((new, oidc))
    }
}

fn app_error(e: crate::apps::AppError) -> ConsoleError {
    use crate::apps::AppError;
    match e {
        AppError::Store(e) => ConsoleError::Store(e),
        AppError::Unknown { id, .. } => ConsoleError::NotFound(format!("app {id}")),
        e => ConsoleError::Invalid(e.to_string()),
    }
}

/// Registers an app (audited by the catalog as the command line's `app add` is); the
/// registration shows an OIDC client secret this once.
pub async fn register(
    store: &Store,
    clock: &dyn crate::Clock,
    by: &Principal,
    public_url: &str,
    req: AppRequest,
) -> Result<crate::apps::Registration, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let (new, oidc) = req.into_parts()?;
    crate::apps::add_with_oidc(store, clock, &by.actor, &by.tenant, public_url, &new, &oidc)
        .await
        .map_err(app_error)
}

/// Removes an app from the catalog.
pub async fn remove(
    store: &Store,
    clock: &dyn crate::Clock,
    by: &Principal,
    id: &str,
) -> Result<(), ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    crate::apps::remove(store, clock, &by.actor, &by.tenant, id)
        .await
        .map_err(app_error)
}

/// A change to an app as the console's form and `PATCH apps/{id}` take it: what is given is
/// changed, the rest kept (lists are replaced whole). The options of `kakehashi app set`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppPatch {
    pub name: Option<String>,
    /// A PNG, JPEG or WebP icon, base64; an empty string removes it.
    pub icon_base64: Option<String>,
    /// `all`, `staff`, `teachers`, `students`.
    pub audience: Option<String>,
    /// `learning` or `school-affairs`.
    pub security_class: Option<String>,
    /// OIDC: the whole new list.
    pub redirect_uris: Option<Vec<String>>,
    /// OIDC: the whole new list of claim groups (`name`, `kana`, `username`, `email`,
    /// `roster`); empty releases none beyond `sub`.
    pub release: Option<Vec<String>>,
    /// OIDC: where the app takes Back-Channel Logout Tokens; an empty string removes it.
    pub backchannel_logout_uri: Option<String>,
    /// OIDC, confidential clients: `client_secret_basic`, `client_secret_post` or
    /// `private_key_jwt` (the client secret is then forgotten).
    pub token_auth_method: Option<String>,
    /// OIDC, `private_key_jwt`: the client's JWK Set (an object, or its JSON text).
    pub jwks: Option<serde_json::Value>,
    /// OIDC: `opaque` or `jwt`.
    pub token_format: Option<String>,
    /// OIDC: `RS256` or `ES256`.
    pub id_token_alg: Option<String>,
    /// OIDC: the whole new list.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// OIDC: where the launcher sends users; an empty string removes it.
    pub launch_url: Option<String>,
    /// OIDC: the whole new list of xAPI scopes.
    pub xapi_scopes: Option<Vec<String>>,
    /// SAML: new metadata XML, or …
    pub saml_metadata: Option<String>,
    /// … a new ACS URL and/or entity id (the one not given is kept).
    pub saml_acs_url: Option<String>,
    pub saml_entity_id: Option<String>,
    /// SAML: `assertion`, `response` or `both`.
    pub saml_sign: Option<String>,
    /// SAML: `persistent` or `username`.
    pub saml_name_id: Option<String>,
    /// SAML: the whole new list of released attributes.
    pub saml_attributes: Option<Vec<String>>,
    pub saml_require_signed_requests: Option<bool>,
}

/// One app with its OIDC or SAML settings (the edit form).
pub async fn get(
    store: &Store,
    by: &Principal,
    id: &str,
) -> Result<crate::apps::AppUpdated, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let app = kakehashi_store::identity::get_app(store, &by.tenant, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("app {id}")))?;
    let (oidc, saml) = match app.protocol.as_str() {
        "oidc" => (
            kakehashi_store::oauth::oidc_settings(store, &by.tenant, id).await?,
            None,
        ),
        "saml" => (
            None,
            kakehashi_store::saml::sp_settings(store, &by.tenant, id).await?,
        ),
        _ => (None, None),
    };
    Ok(crate::apps::AppUpdated { app, oidc, saml })
}

impl AppPatch {
    async fn into_change(
        self,
        store: &Store,
        by: &Principal,
        id: &str,
    ) -> Result<crate::apps::AppChange, ConsoleError> {
        use crate::apps::{Icon, SamlSource};
        use base64::Engine;
        let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        // An empty string removes what may be absent.
        let removable =
            |v: Option<String>| v.map(|u| Some(u.trim().to_owned()).filter(|u| !u.is_empty()));
        let icon = match self.icon_base64 {
            None => None,
            Some(b) if b.trim().is_empty() => Some(None),
            Some(b) => Some(Some(Icon {
                bytes: base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .map_err(|e| ConsoleError::Invalid(format!("icon_base64: {e}")))?,
            })),
        };
        let jwks = match self.jwks {
            None => None,
            Some(serde_json::Value::String(s)) => blank(Some(s)),
            Some(v) => Some(v.to_string()),
        };
        let saml = match (
            blank(self.saml_metadata),
            blank(self.saml_acs_url),
            blank(self.saml_entity_id),
        ) {
            (Some(xml), None, None) => Some(SamlSource::Metadata(xml)),
            (Some(_), _, _) => {
                return Err(ConsoleError::Invalid(
                    "saml_metadata: give the metadata, or the ACS URL and entity id, not both"
                        .into(),
                ))
            }
            (None, None, None) => None,
            (None, acs, entity) => {
                let current = kakehashi_store::identity::get_app(store, &by.tenant, id)
                    .await?
                    .ok_or_else(|| ConsoleError::NotFound(format!("app {id}")))?;
                Some(SamlSource::Manual {
                    entity_id: entity
                        .or(current.saml_entity_id)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    acs_url: acs
                        .or(current.saml_acs_url)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                })
            }
        };
        Ok(crate::apps::AppChange {
            name: self.name,
            icon,
            audience: blank(self.audience)
                .map(|a| field("audience", a.trim()))
                .transpose()?,
            security_class: blank(self.security_class)
                .map(|c| field("security_class", c.trim()))
                .transpose()?,
            redirect_uris: self.redirect_uris,
            release: self.release,
            backchannel_logout_uri: removable(self.backchannel_logout_uri),
            token_auth_method: blank(self.token_auth_method),
            jwks,
            access_token_format: blank(self.token_format),
            id_token_alg: blank(self.id_token_alg),
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            launch_url: removable(self.launch_url),
            xapi_scopes: self.xapi_scopes,
            saml,
            saml_sign: blank(self.saml_sign),
            saml_name_id: blank(self.saml_name_id),
            saml_attributes: self.saml_attributes,
            saml_require_signed_requests: self.saml_require_signed_requests,
        })
    }
}

/// Changes an app (audited as `app.update` with before and after, as `kakehashi app set`).
pub async fn update(
    store: &Store,
    clock: &dyn crate::Clock,
    by: &Principal,
    id: &str,
    patch: AppPatch,
) -> Result<crate::apps::AppUpdated, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let change = patch.into_change(store, by, id).await?;
    crate::apps::update(store, clock, &by.actor, &by.tenant, id, &change)
        .await
        .map_err(app_error)
}

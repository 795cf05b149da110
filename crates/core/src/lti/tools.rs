//! Registering LTI tools: an app of protocol `lti` in the catalog (name, audience, subject
//! type, redirect URIs) with its LTI settings and deployments. `kakehashi lti tool add`
//! calls [`add`]; the result is what the tool's administrator needs. `lti tool set` (and
//! the console's edit form) calls [`update`]: the same rules, audited with before and after.

use kakehashi_oidc::jose::{thumbprint, Jwk, JwkSet};
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::lti::{self as stored, DeploymentRow, ToolRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};

use super::Endpoints;
use crate::apps::{AppError, Audience, SubjectType};
use crate::{tenants, Actor, Clock};

/// A tool to register.
#[derive(Clone, Debug, Default)]
pub struct NewTool {
    pub name: String,
    pub login_url: String,
    pub launch_url: String,
    pub deep_linking_url: Option<String>,
    pub jwks_url: Option<String>,
    /// A PEM public key (`--public-key FILE`), used when the tool publishes no JWKS.
    pub public_key_pem: Option<String>,
    /// Extra redirect URIs beside the launch and deep linking URLs.
    pub redirect_uris: Vec<String>,
    pub audience: Option<Audience>,
    pub subject_type: Option<SubjectType>,
    pub send_name: bool,
    pub send_email: bool,
    pub custom: Vec<(String, String)>,
    /// One deployment per school (sourcedIds of orgs); empty = one tenant-wide deployment.
    pub schools: Vec<String>,
}

/// What the tool's administrator configures on their side (`lti tool add` prints it).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ToolRegistration {
    pub client_id: String,
    /// The first (or only) deployment.
    pub deployment_id: String,
    pub deployments: Vec<DeploymentRow>,
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub name: String,
}

/// A tool as `lti tool list` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ToolListing {
    pub client_id: String,
    pub name: String,
    pub audience: String,
    pub subject_type: String,
    pub redirect_uris: Vec<String>,
    #[serde(flatten)]
    pub tool: ToolRow,
    pub deployments: Vec<DeploymentRow>,
}

fn invalid(s: impl Into<String>) -> AppError {
    AppError::Invalid(s.into())
}

/// https, or http only on this machine (development and tests).
fn check_url(what: &str, s: &str) -> Result<(), AppError> {
    let u = url::Url::parse(s)
        .map_err(|e| invalid(format!("{what} {s:?} is not an absolute URL: {e}")))?;
    if u.fragment().is_some() {
        return Err(invalid(format!("{what} {s:?} must not have a fragment")));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        other => Err(invalid(format!(
            "{what} {s:?} uses {other}: use https (http is allowed only for 127.0.0.1 or localhost)"
        ))),
    }
}

/// A PEM public key as a one-key JWKS. The `kid` is the RFC 7638 thumbprint, which is what
/// tool libraries (PyLTI1p3 via jwcrypto, ltijs) put in their headers for such a key.
pub fn jwks_from_pem(pem: &str) -> Result<String, AppError> {
    let key = openssl::pkey::PKey::public_key_from_pem(pem.as_bytes())
        .map_err(|e| invalid(format!("--public-key is not a PEM public key: {e}")))?;
    let mut jwk = Jwk::from_public_key(&key, None, None)
        .map_err(|e| invalid(format!("--public-key: {e}")))?;
    if jwk.kty != "RSA" {
        return Err(invalid(
            "--public-key must be an RSA key (LTI Security Framework 6.1: RS256)",
        ));
    }
    jwk.kid = Some(thumbprint(&jwk).map_err(|e| invalid(e.to_string()))?);
    jwk.alg = Some("RS256".into());
    Ok(JwkSet { keys: vec![jwk] }.to_json())
}

/// Checks a registration; returns the app and tool rows.
fn plan(new: &NewTool, id: &str, at: &str) -> Result<(AppRow, ToolRow), AppError> {
    plan_keeping(new, id, at, None)
}

/// [`plan`], where a change that gives no new key keeps the stored one (`kept_jwks`, a key
/// once given as PEM).
fn plan_keeping(
    new: &NewTool,
    id: &str,
    at: &str,
    kept_jwks: Option<&str>,
) -> Result<(AppRow, ToolRow), AppError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(invalid(
            "--name must not be empty (the tool's name in the launcher)",
        ));
    }
    check_url("--login-url", &new.login_url)?;
    check_url("--launch-url", &new.launch_url)?;
    if let Some(u) = &new.deep_linking_url {
        check_url("--deep-linking-url", u)?;
    }
    let public_jwks = match (&new.jwks_url, &new.public_key_pem) {
        (Some(u), None) => {
            check_url("--jwks-url", u)?;
            None
        }
        (None, Some(pem)) => Some(jwks_from_pem(pem)?),
        (None, None) if kept_jwks.is_some() => kept_jwks.map(str::to_owned),
        _ => {
            return Err(invalid(
                "give the tool's keys with exactly one of --jwks-url URL or --public-key FILE",
            ))
        }
    };
    let mut redirect_uris = vec![new.launch_url.clone()];
    if let Some(u) = &new.deep_linking_url {
        redirect_uris.push(u.clone());
    }
    for u in &new.redirect_uris {
        check_url("--redirect-uri", u)?;
        if !redirect_uris.contains(u) {
            redirect_uris.push(u.clone());
        }
    }
    let mut custom = serde_json::Map::new();
    for (k, v) in &new.custom {
        if k.is_empty() {
            return Err(invalid("custom parameter names must not be empty"));
        }
        custom.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    let app = AppRow {
        id: id.to_owned(),
        name: name.to_owned(),
        protocol: "lti".into(),
        security_class: "learning".into(),
        audience: new.audience.unwrap_or(Audience::All).as_str().to_owned(),
        public_client: false,
        client_secret_hash: None,
        redirect_uris,
        saml_entity_id: None,
        saml_acs_url: None,
        saml_metadata: None,
        subject_type: new
            .subject_type
            .unwrap_or(SubjectType::Pairwise)
            .as_str()
            .to_owned(),
        icon_type: None,
        icon_base64: None,
        created_at: at.to_owned(),
    };
    let tool = ToolRow {
        app_id: id.to_owned(),
        login_url: new.login_url.clone(),
        launch_url: new.launch_url.clone(),
        deep_linking_url: new.deep_linking_url.clone(),
        jwks_url: new.jwks_url.clone(),
        public_jwks,
        send_name: new.send_name,
        send_email: new.send_email,
        custom: serde_json::Value::Object(custom).to_string(),
        created_at: at.to_owned(),
    };
    Ok((app, tool))
}

/// Registers a tool with one deployment per school given, or one for the tenant.
pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    public_url: &str,
    new: &NewTool,
) -> Result<ToolRegistration, AppError> {
    tenants::require(store, tenant).await?;
    let mut tx = store.begin().await?;
    let reg = add_in(&mut tx, store, clock, actor, tenant, public_url, new).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(reg)
}

/// [`add`] inside the caller's transaction (Dynamic Registration uses its token in it).
pub(crate) async fn add_in(
    tx: &mut kakehashi_store::Tx,
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    public_url: &str,
    new: &NewTool,
) -> Result<ToolRegistration, AppError> {
    let at = clock.now_text();
    let id = uuid::Uuid::new_v4().to_string();
    let (app, tool) = plan(new, &id, &at)?;
    let schools: Vec<Option<String>> = if new.schools.is_empty() {
        vec![None]
    } else {
        new.schools.iter().map(|s| Some(s.clone())).collect()
    };
    let deployments: Vec<DeploymentRow> = schools
        .into_iter()
        .map(|school| DeploymentRow {
            deployment_id: uuid::Uuid::new_v4().to_string(),
            app_id: id.clone(),
            school_sourced_id: school,
            created_at: at.clone(),
        })
        .collect();
    identity::insert_app(tx, tenant, &app).await?;
    stored::insert_tool(tx, tenant, &tool).await?;
    for d in &deployments {
        stored::insert_deployment(tx, tenant, d).await?;
    }
    audit::append(
        tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "lti.tool.create".into(),
            target: format!("app:{id}"),
            details: serde_json::json!({
                "name": app.name, "audience": app.audience, "subjectType": app.subject_type,
                "deployments": deployments.iter().map(|d| &d.deployment_id).collect::<Vec<_>>(),
                "sendName": tool.send_name, "sendEmail": tool.send_email,
            }),
        },
    )
    .await?;
    let issuer = crate::apps::issuer(public_url, tenant);
    let e = Endpoints::new(&issuer);
    Ok(ToolRegistration {
        client_id: id,
        deployment_id: deployments[0].deployment_id.clone(),
        deployments,
        authorization_endpoint: e.authorization(),
        token_endpoint: e.token(),
        jwks_uri: e.jwks(),
        issuer,
        name: app.name,
    })
}

/// The tenant's tools.
pub async fn list(store: &Store, tenant: &TenantId) -> Result<Vec<ToolListing>, AppError> {
    tenants::require(store, tenant).await?;
    let apps = identity::list_apps(store, tenant).await?;
    let mut out = Vec::new();
    for tool in stored::list_tools(store, tenant).await? {
        let Some(app) = apps.iter().find(|a| a.id == tool.app_id) else {
            continue;
        };
        out.push(listing(store, tenant, app.clone(), tool).await?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.client_id.cmp(&b.client_id)));
    Ok(out)
}

/// What to change in a registered tool (`lti tool set`, `PATCH lti/tools/{id}`, the
/// console's edit form); `None` keeps the current value. The result is checked with the
/// registration's rules.
#[derive(Clone, Debug, Default)]
pub struct ToolChange {
    pub name: Option<String>,
    pub login_url: Option<String>,
    pub launch_url: Option<String>,
    /// `Some(None)` removes it.
    pub deep_linking_url: Option<Option<String>>,
    /// A new JWKS URL or a new PEM key (at most one); either replaces the stored key source.
    pub jwks_url: Option<String>,
    pub public_key_pem: Option<String>,
    /// The whole new list of further redirect URIs (the launch and deep linking URLs are
    /// always redirect URIs).
    pub redirect_uris: Option<Vec<String>>,
    pub audience: Option<Audience>,
    pub subject_type: Option<SubjectType>,
    pub send_name: Option<bool>,
    pub send_email: Option<bool>,
    /// The whole new set of custom parameters.
    pub custom: Option<Vec<(String, String)>>,
}

/// One tool as listed.
pub async fn get(store: &Store, tenant: &TenantId, id: &str) -> Result<ToolListing, AppError> {
    tenants::require(store, tenant).await?;
    let unknown = || AppError::Unknown {
        tenant: tenant.clone(),
        id: id.to_owned(),
    };
    let tool = stored::get_tool(store, tenant, id)
        .await?
        .ok_or_else(unknown)?;
    let app = identity::get_app(store, tenant, id)
        .await?
        .ok_or_else(unknown)?;
    Ok(listing(store, tenant, app, tool).await?)
}

async fn listing(
    store: &Store,
    tenant: &TenantId,
    app: AppRow,
    tool: ToolRow,
) -> Result<ToolListing, StoreError> {
    Ok(ToolListing {
        client_id: app.id.clone(),
        name: app.name,
        audience: app.audience,
        subject_type: app.subject_type,
        redirect_uris: app.redirect_uris,
        deployments: stored::deployments_of(store, tenant, &tool.app_id).await?,
        tool,
    })
}

/// The further redirect URIs of a tool: those beside its launch and deep linking URLs.
pub fn further_redirect_uris(t: &ToolListing) -> Vec<String> {
    t.redirect_uris
        .iter()
        .filter(|u| **u != t.tool.launch_url && Some(*u) != t.tool.deep_linking_url.as_ref())
        .cloned()
        .collect()
}

/// A tool's custom parameters as stored (a JSON object of strings), in name order.
pub fn custom_parameters(t: &ToolRow) -> Vec<(String, String)> {
    serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(&t.custom)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            v => (k, v.to_string()),
        })
        .collect()
}

/// The audit view of a tool (before and after a change).
fn audit_view(app: &AppRow, tool: &ToolRow) -> serde_json::Value {
    let key_kid = tool.public_jwks.as_deref().and_then(|j| {
        JwkSet::parse(j)
            .ok()
            .and_then(|s| s.keys.first().and_then(|k| k.kid.clone()))
    });
    serde_json::json!({
        "name": app.name, "audience": app.audience, "subjectType": app.subject_type,
        "redirectUris": app.redirect_uris, "loginUrl": tool.login_url,
        "launchUrl": tool.launch_url, "deepLinkingUrl": tool.deep_linking_url,
        "jwksUrl": tool.jwks_url, "publicKeyKid": key_kid,
        "sendName": tool.send_name, "sendEmail": tool.send_email,
        "custom": serde_json::from_str::<serde_json::Value>(&tool.custom).unwrap_or_default(),
    })
}

/// Changes a registered tool: what `change` gives, the rest kept; checked as a registration
/// is; audited as `lti.tool.update` with before and after, in the same transaction.
pub async fn update(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    id: &str,
    change: &ToolChange,
) -> Result<ToolListing, AppError> {
    let before = get(store, tenant, id).await?;
    let new_key = change.jwks_url.is_some() || change.public_key_pem.is_some();
    let new = NewTool {
        name: change.name.clone().unwrap_or_else(|| before.name.clone()),
        login_url: change
            .login_url
            .clone()
            .unwrap_or_else(|| before.tool.login_url.clone()),
        launch_url: change
            .launch_url
            .clone()
            .unwrap_or_else(|| before.tool.launch_url.clone()),
        deep_linking_url: change
            .deep_linking_url
            .clone()
            .unwrap_or_else(|| before.tool.deep_linking_url.clone()),
        jwks_url: if new_key {
            change.jwks_url.clone()
        } else {
            before.tool.jwks_url.clone()
        },
        public_key_pem: change.public_key_pem.clone(),
        redirect_uris: change
            .redirect_uris
            .clone()
            .unwrap_or_else(|| further_redirect_uris(&before)),
        audience: Some(match change.audience {
            Some(a) => a,
            None => before.audience.parse().map_err(AppError::Invalid)?,
        }),
        subject_type: Some(match change.subject_type {
            Some(s) => s,
            None => before.subject_type.parse().map_err(AppError::Invalid)?,
        }),
        send_name: change.send_name.unwrap_or(before.tool.send_name),
        send_email: change.send_email.unwrap_or(before.tool.send_email),
        custom: change
            .custom
            .clone()
            .unwrap_or_else(|| custom_parameters(&before.tool)),
        schools: Vec::new(),
    };
    let kept = if new_key || before.tool.jwks_url.is_some() {
        None
    } else {
        before.tool.public_jwks.as_deref()
    };
    let (mut app, mut tool) = plan_keeping(&new, id, &before.tool.created_at, kept)?;
    let Some(stored_app) = identity::get_app(store, tenant, id).await? else {
        return Err(AppError::Unknown {
            tenant: tenant.clone(),
            id: id.to_owned(),
        });
    };
    app.created_at = stored_app.created_at.clone();
    app.security_class = stored_app.security_class.clone();
    tool.created_at = before.tool.created_at.clone();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !identity::update_app(&mut tx, tenant, &app).await?
        || !stored::update_tool(&mut tx, tenant, &tool).await?
    {
        return Err(AppError::Unknown {
            tenant: tenant.clone(),
            id: id.to_owned(),
        });
    }
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "lti.tool.update".into(),
            target: format!("app:{id}"),
            details: serde_json::json!({
                "before": audit_view(&stored_app, &before.tool),
                "after": audit_view(&app, &tool),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(listing(store, tenant, app, tool).await?)
}

/// Removes a tool: its app, settings, deployments and resource links.
pub async fn remove(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    id: &str,
) -> Result<(), AppError> {
    tenants::require(store, tenant).await?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !stored::delete_tool(&mut tx, tenant, id).await? {
        return Err(AppError::Unknown {
            tenant: tenant.clone(),
            id: id.to_owned(),
        });
    }
    identity::delete_app(&mut tx, tenant, id).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "lti.tool.remove".into(),
            target: format!("app:{id}"),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool() -> NewTool {
        NewTool {
            name: "ドリル".into(),
            login_url: "https://tool.example/login".into(),
            launch_url: "https://tool.example/launch".into(),
            jwks_url: Some("https://tool.example/jwks".into()),
            ..NewTool::default()
        }
    }

    #[test]
    fn launch_and_deep_linking_urls_are_the_registered_redirect_uris() {
        let mut t = tool();
        t.deep_linking_url = Some("https://tool.example/dl".into());
        let (app, _) = plan(&t, "a", "t").unwrap();
        assert_eq!(
            app.redirect_uris,
            vec!["https://tool.example/launch", "https://tool.example/dl"]
        );
        assert_eq!(app.protocol, "lti");
        assert_eq!(app.subject_type, "pairwise");
    }

    #[test]
    fn exactly_one_key_source_and_https_urls() {
        let mut t = tool();
        t.public_key_pem = Some("x".into());
        assert!(plan(&t, "a", "t").is_err());
        let mut t = tool();
        t.jwks_url = None;
        assert!(plan(&t, "a", "t").is_err());
        let mut t = tool();
        t.login_url = "http://tool.example/login".into();
        assert!(plan(&t, "a", "t").is_err());
    }

    #[test]
    fn a_pem_key_becomes_a_jwks_with_its_thumbprint_as_kid() {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pem = String::from_utf8(rsa.public_key_to_pem().unwrap()).unwrap();
        let set = JwkSet::parse(&jwks_from_pem(&pem).unwrap()).unwrap();
        let jwk = &set.keys[0];
        assert_eq!(jwk.kid.as_deref(), Some(thumbprint(jwk).unwrap().as_str()));
    }
}

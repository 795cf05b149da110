//! LTI Dynamic Registration 1.0, the platform's side: an administrator starts a registration
//! from the tool's registration URL ([`start`]: a one-time token and the URL to open), the
//! tool reads our configuration and posts its registration ([`register`]), which becomes a
//! tool of the tenant (with a tenant-wide deployment, names and e-mail not released: the
//! administrator decides those, as with `lti tool add`).

use kakehashi_lti::registration::{parse_registration, registration_response};
use kakehashi_store::lti as stored;
use kakehashi_store::{audit, Store, StoreError, TenantId};
use serde_json::Value;

use super::tools::{add_in, NewTool};
use super::{hash, Endpoints, LtiServiceError};
use crate::apps::AppError;
use crate::{tenants, Actor, Clock};

/// How long a registration may take from start to the tool's request.
pub const TOKEN_LIFETIME: i64 = 3600;

/// Starts a registration: the URL the administrator opens (the tool's registration URL with
/// `openid_configuration` and `registration_token`, §3.3).
pub async fn start(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    public_url: &str,
    registration_url: &str,
) -> Result<String, AppError> {
    tenants::require(store, tenant).await?;
    let mut url = url::Url::parse(registration_url)
        .map_err(|e| AppError::Invalid(format!("--registration-url: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(AppError::Invalid(
            "--registration-url must be http(s)".into(),
        ));
    }
    let token = crate::oauth::random_value();
    let now = clock.now().unix_timestamp();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::insert_registration_token(
        &mut tx,
        tenant,
        &hash(&token),
        &actor.0,
        now + TOKEN_LIFETIME,
        &at,
    )
    .await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "lti.registration.start".into(),
            target: format!("url:{registration_url}"),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let issuer = crate::apps::issuer(public_url, tenant);
    url.query_pairs_mut()
        .append_pair(
            "openid_configuration",
            &Endpoints::new(&issuer).openid_configuration(),
        )
        .append_pair("registration_token", &token);
    Ok(url.into())
}

/// Why a registration request was refused (RFC 7591 §3.2.2 errors).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the registration token is missing, unknown, expired or already used")]
    Token,
    #[error("{0}")]
    Metadata(String),
}

/// `POST …/lti/register` with `Authorization: Bearer TOKEN`.
pub async fn register(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    public_url: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<Result<Value, Refused>, LtiServiceError> {
    let Some(token) = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
    else {
        return Ok(Err(Refused::Token));
    };
    let reg = match parse_registration(body) {
        Ok(r) => r,
        Err(e) => return Ok(Err(Refused::Metadata(e.to_string()))),
    };
    let mut redirect_uris = reg.redirect_uris.clone();
    redirect_uris.retain(|u| *u != reg.target_link_uri);
    let new = NewTool {
        name: reg.client_name.clone(),
        login_url: reg.initiate_login_uri.clone(),
        launch_url: reg.target_link_uri.clone(),
        deep_linking_url: reg.deep_linking_uri.clone(),
        jwks_url: Some(reg.jwks_uri.clone()),
        public_key_pem: None,
        redirect_uris,
        custom: reg.custom_parameters.clone(),
        ..NewTool::default()
    };
    let now = clock.now().unix_timestamp();
    let mut tx = store.begin().await?;
    if !stored::use_registration_token(&mut tx, tenant, &hash(token), now).await? {
        return Ok(Err(Refused::Token));
    }
    let actor = Actor(format!("lti-registration:{}", reg.client_name));
    let added = match add_in(&mut tx, store, clock, &actor, tenant, public_url, &new).await {
        Ok(a) => a,
        Err(AppError::Invalid(m)) => return Ok(Err(Refused::Metadata(m))),
        Err(AppError::Store(e)) => return Err(e.into()),
        Err(e) => return Ok(Err(Refused::Metadata(e.to_string()))),
    };
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Ok(registration_response(
        &reg,
        &added.client_id,
        &added.deployment_id,
    )))
}

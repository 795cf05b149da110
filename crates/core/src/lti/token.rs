//! The LTI token endpoint: client_credentials with `private_key_jwt` (RFC 7523 2.2; LTI
//! Security Framework 4.1), scoped to the tool. The assertion's `jti` is used once across
//! every node (the OpenID Provider's replay cache); the access token is opaque and stored by
//! hash, with the tool as its client.

use kakehashi_lti::services::parse_scopes;
use kakehashi_oidc::client::AccessTokenFormat;
use kakehashi_oidc::params::Params;
use kakehashi_oidc::token::{self as rules, ClientAssertionContext, ClientAuthError};
use kakehashi_oidc::{ClientAuthMethod, ClientPolicy, ErrorCode, JwkSet, OAuthError, SubjectType};
use kakehashi_store::oauth::{self as stored_oauth, TokenRow};
use kakehashi_store::{audit, StoreError};

use super::keys::{tool_jwks, JwksFetch};
use super::launch::tool_of;
use super::{hash, Endpoints, LtiServiceError, ACCESS_TOKEN_LIFETIME};
use crate::oauth::Provider;

/// The token response (RFC 6749 5.1).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

/// An OAuth error or an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Protocol(#[from] OAuthError),
    #[error(transparent)]
    Internal(#[from] LtiServiceError),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Internal(e.into())
    }
}

fn oauth(code: ErrorCode, d: impl Into<String>) -> TokenError {
    TokenError::Protocol(OAuthError::new(code, d))
}

async fn audit_refusal(p: &Provider<'_>, client_id: &str, reason: &str) -> Result<(), StoreError> {
    let mut tx = p.store.begin().await?;
    audit::append(
        &mut tx,
        p.store.backend(),
        Some(p.tenant),
        &p.clock.now_text(),
        &audit::Event {
            actor: format!("client:{client_id}"),
            action: "lti.client_auth.failed".into(),
            target: format!("app:{client_id}"),
            details: serde_json::json!({ "reason": reason }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)
}

/// `POST /t/{tenant}/lti/token`.
pub async fn token(
    p: &Provider<'_>,
    form: &Params,
    fetch: &dyn JwksFetch,
) -> Result<TokenResponse, TokenError> {
    let realm = p.issuer.as_str();
    let presented =
        rules::extract_client_auth(None, form).map_err(|e| e.to_oauth_error(false, realm))?;
    if presented.method() != ClientAuthMethod::PrivateKeyJwt {
        return Err(oauth(
            ErrorCode::InvalidClient,
            "LTI tools authenticate with private_key_jwt (LTI Security Framework 4.1)",
        ));
    }
    let client_id = presented.client_id().to_owned();
    let Some((app, tool)) = tool_of(p, &client_id).await? else {
        audit_refusal(p, &client_id, "unknown tool").await?;
        return Err(ClientAuthError::UnknownClient
            .to_oauth_error(false, realm)
            .into());
    };
    let jwks = tool_jwks(&tool, fetch).await?;
    let policy = ClientPolicy {
        client_id: app.id.clone(),
        redirect_uris: app.redirect_uris.clone(),
        post_logout_redirect_uris: vec![],
        auth_method: ClientAuthMethod::PrivateKeyJwt,
        secret: None,
        jwks: Some(JwkSet::parse(&jwks).map_err(|e| LtiServiceError::BadTool {
            app_id: app.id.clone(),
            detail: e.to_string(),
        })?),
        allowed_scopes: vec![],
        grant_types: vec!["client_credentials".into()],
        require_pkce: false,
        id_token_signed_response_alg: None,
        subject_type: SubjectType::Public,
        access_token_format: AccessTokenFormat::Opaque,
    };
    let endpoint = Endpoints::new(p.issuer.as_str()).token();
    let ctx = ClientAssertionContext {
        token_endpoint: &endpoint,
        issuer: p.issuer.as_str(),
        now: p.clock.now().unix_timestamp(),
        leeway: 30,
        max_lifetime: 600,
    };
    let authenticated = match rules::authenticate_client(&presented, &policy, &ctx) {
        Ok(a) => a,
        Err(e) => {
            audit_refusal(p, &client_id, &e.to_string()).await?;
            return Err(e.to_oauth_error(false, realm).into());
        }
    };
    let now = ctx.now;
    if let Some(j) = &authenticated.assertion_jti {
        if !stored_oauth::first_assertion_use(p.store, p.tenant, &app.id, &j.jti, j.expires_at, now)
            .await?
        {
            let e = ClientAuthError::AssertionReplayed;
            audit_refusal(p, &client_id, &e.to_string()).await?;
            return Err(e.to_oauth_error(false, realm).into());
        }
    }
    if form.get("grant_type") != Some("client_credentials") {
        return Err(oauth(
            ErrorCode::UnsupportedGrantType,
            "LTI tools use grant_type=client_credentials",
        ));
    }
    let scopes = parse_scopes(form.get("scope").unwrap_or_default()).map_err(|bad| {
        oauth(
            ErrorCode::InvalidScope,
            format!("scope {bad} is not an LTI Advantage scope of this platform"),
        )
    })?;
    if scopes.is_empty() {
        return Err(oauth(ErrorCode::InvalidScope, "scope is required"));
    }
    let access_token = crate::oauth::random_value();
    let scope = scopes.join(" ");
    let mut tx = p.store.begin().await?;
    stored_oauth::insert_token(
        &mut tx,
        p.tenant,
        &TokenRow {
            token_hash: hash(&access_token),
            kind: "lti_access".into(),
            family_id: uuid::Uuid::new_v4().to_string(),
            client_id: app.id.clone(),
            user_sourced_id: None,
            session_hash: None,
            subject: app.id.clone(),
            scopes: scope.clone(),
            claims: None,
            auth_time: None,
            acr: None,
            amr: None,
            jti: None,
            issued_at: now,
            expires_at: now + ACCESS_TOKEN_LIFETIME,
            rotated_at: None,
            revoked_at: None,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        p.store.backend(),
        Some(p.tenant),
        &p.clock.now_text(),
        &audit::Event {
            actor: format!("client:{}", app.id),
            action: "lti.token".into(),
            target: format!("app:{}", app.id),
            details: serde_json::json!({ "scopes": scope }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME,
        scope,
    })
}

/// A tool's bearer token at a service endpoint: the tool (client id) and its scopes.
#[derive(Clone, Debug)]
pub struct ServiceCaller {
    pub app_id: String,
    pub scopes: Vec<String>,
}

/// Checks `Authorization: Bearer …` for a service call. `None` when missing, unknown,
/// expired, revoked or not an LTI token.
pub async fn caller(
    p: &Provider<'_>,
    authorization: Option<&str>,
) -> Result<Option<ServiceCaller>, LtiServiceError> {
    let Some(token) = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
    else {
        return Ok(None);
    };
    let mut conn = p.store.pool().acquire().await.map_err(StoreError::from)?;
    let Some(row) = stored_oauth::find_token(&mut conn, p.tenant, &hash(token)).await? else {
        return Ok(None);
    };
    let now = p.clock.now().unix_timestamp();
    if row.kind != "lti_access" || row.revoked_at.is_some() || row.expires_at < now {
        return Ok(None);
    }
    Ok(Some(ServiceCaller {
        app_id: row.client_id,
        scopes: row.scopes.split(' ').map(str::to_owned).collect(),
    }))
}

//! The OpenID Provider's HTTP endpoints, one issuer per tenant (`{public-url}/t/{tenant}`).
//! Protocol rules live in `kakehashi-oidc`, the service in `kakehashi_core::oauth`, keys in
//! `kakehashi_core::keyring`. Handlers are thin: HTTP in, one core call, the protocol's own
//! response out (OAuth error JSON with `Cache-Control: no-store`, authorization redirects
//! with `state` and `iss`, an HTML page for what must never be redirected).
//!
//! - `GET /t/{tenant}/.well-known/openid-configuration` (OIDC Discovery 1.0 §4)
//! - `GET /t/{tenant}/jwks` (RFC 7517 §5): next, current and still-valid retired keys
//! - `GET|POST /t/{tenant}/authorize` (OIDC Core 3.1.2) — [`authorize`]
//! - `POST /t/{tenant}/token` (RFC 6749 3.2), `/revoke` (RFC 7009), `/introspect`
//!   (RFC 7662) — [`token`]
//! - `GET|POST /t/{tenant}/userinfo` (OIDC Core 5.3) — [`userinfo`]
//! - `GET /t/{tenant}/logout` (RP-Initiated Logout 1.0), `POST /t/{tenant}/logout/confirm`
//!   (the user's confirmation) — [`logout`]. `POST /t/{tenant}/logout` stays the portal's
//!   own sign-out form.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kakehashi_core::{keyring, SystemClock, TenantId};
use kakehashi_oidc::discovery::ProviderMetadata;
use kakehashi_oidc::params::Params;
use kakehashi_oidc::Issuer;

use crate::AppState;

pub(crate) mod authorize;
mod logout;
mod pages;
mod token;
mod userinfo;

pub(crate) use logout::{end_session_post, launch_response};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/t/{tenant}/jwks", get(jwks))
        .route(
            "/t/{tenant}/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .merge(browser_callable())
        .route("/t/{tenant}/introspect", post(token::introspect))
        .route("/t/{tenant}/logout", get(logout::end_session))
        .route("/t/{tenant}/logout/confirm", post(logout::confirm))
}

/// The endpoints a browser-based (public) client calls with `fetch`: any origin may call them
/// (CORS), since they authenticate by client credentials or Bearer tokens, never cookies.
fn browser_callable() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/token", post(token::token).options(preflight))
        .route("/t/{tenant}/revoke", post(token::revoke).options(preflight))
        .route(
            "/t/{tenant}/userinfo",
            get(userinfo::userinfo_get)
                .post(userinfo::userinfo_post)
                .options(preflight),
        )
        .layer(axum::middleware::map_response(allow_any_origin))
}

async fn allow_any_origin(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    resp
}

/// The CORS preflight (Fetch standard): POST/GET with Authorization and Content-Type.
async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type",
            ),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
        .into_response()
}

/// The tenant's issuer for this server's public URL. (The error is the response itself, as
/// for [`tenant`]: handlers return it as is.)
#[allow(clippy::result_large_err)]
pub(crate) fn issuer_of(state: &AppState, tenant: &TenantId) -> Result<Issuer, Response> {
    Issuer::for_tenant(&state.public_url, tenant.as_str()).map_err(|e| {
        tracing::error!(error = %e, public_url = %state.public_url, "bad issuer");
        json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server's public URL cannot be an issuer",
        )
    })
}

/// An OAuth error as JSON (RFC 6749 5.2) with its status and headers
/// (`Cache-Control: no-store`, `WWW-Authenticate` when set).
pub(crate) fn oauth_error(e: &kakehashi_oidc::OAuthError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, e.to_json()).into_response();
    for (name, value) in e.headers() {
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

/// The answer to a core endpoint error: the protocol error, or a logged `server_error`.
pub(crate) fn endpoint_error(e: kakehashi_core::oauth::EndpointError) -> Response {
    match e {
        kakehashi_core::oauth::EndpointError::Protocol(e) => oauth_error(&e),
        kakehashi_core::oauth::EndpointError::Internal(e) => {
            tracing::error!(error = %e, "OpenID Provider request failed");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            )
        }
    }
}

/// Form or query parameters (RFC 6749 3.1: empty values are omitted, repeats remembered).
pub(crate) fn params_of(body: &[u8]) -> Params {
    Params::from_urlencoded(&String::from_utf8_lossy(body))
}

/// The core provider for one request.
pub(crate) fn provider<'a>(
    state: &'a AppState,
    tenant: &'a TenantId,
    issuer: &'a Issuer,
) -> kakehashi_core::oauth::Provider<'a> {
    kakehashi_core::oauth::Provider {
        store: &state.store,
        master: &state.master_key,
        clock: &SystemClock,
        tenant,
        issuer,
        cache: &state.cache,
    }
}

/// An OAuth-style JSON error (RFC 6749 §5.2 shape) for these GET endpoints.
pub(crate) fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The tenant named in the path, if it exists.
pub(crate) async fn tenant(state: &AppState, raw: &str) -> Result<TenantId, Response> {
    let not_found = || json_error(StatusCode::NOT_FOUND, "not_found", "no such tenant");
    let id = TenantId::parse(raw).map_err(|_| not_found())?;
    match tenant_name(state, &id).await {
        Ok(Some(_)) => Ok(id),
        Ok(None) => Err(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "tenant lookup failed");
            Err(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "database unavailable",
            ))
        }
    }
}

/// The display name of tenant `id` if it exists. Existing tenants are cached for
/// `kakehashi_core::cache::TTL` (nearly every request asks); a missing one is asked again.
pub(crate) async fn tenant_name(
    state: &AppState,
    id: &TenantId,
) -> Result<Option<String>, kakehashi_store::StoreError> {
    if let Some(name) = state.cache.tenants.get(id) {
        return Ok(Some(name));
    }
    let found = kakehashi_store::tenants::get(&state.store, id).await?;
    if let Some(t) = &found {
        state.cache.tenants.insert(id.clone(), t.name.clone());
    }
    Ok(found.map(|t| t.name))
}

async fn discovery(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let id = match tenant(&state, &raw).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    // Derived from the issuer alone: built once per tenant and TTL.
    let body = match state.cache.discovery.get(&id) {
        Some(body) => body,
        None => {
            let issuer = match issuer_of(&state, &id) {
                Ok(i) => i,
                Err(r) => return r,
            };
            let body = std::sync::Arc::new(ProviderMetadata::for_issuer(&issuer).to_json());
            state.cache.discovery.insert(id.clone(), body.clone());
            body
        }
    };
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        String::clone(&body),
    )
        .into_response()
}

async fn jwks(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let id = match tenant(&state, &raw).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    // Cached for kakehashi_core::cache::TTL: a key is published as `next` for far longer than
    // that before it signs (see that module), so this copy always lists every signing key.
    if let Some(body) = state.cache.jwks.get(&id) {
        return jwks_response(String::clone(&body));
    }
    match keyring::jwks(&state.store, &state.master_key, &SystemClock, &id).await {
        Ok(set) => {
            let body = serde_json::to_string(&set).unwrap_or_else(|_| "{\"keys\":[]}".to_owned());
            state
                .cache
                .jwks
                .insert(id.clone(), std::sync::Arc::new(body.clone()));
            jwks_response(body)
        }
        Err(e) => {
            tracing::error!(error = %e, tenant = %id, "jwks failed");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "signing keys unavailable",
            )
        }
    }
}

fn jwks_response(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            // Short enough that a key published as `next` is seen well before it signs.
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
        .into_response()
}

//! The OpenID Provider's HTTP endpoints, one issuer per tenant (`{public-url}/t/{tenant}`).
//! Protocol rules live in `kakehashi-oidc`; keys in `kakehashi_core::keyring`.
//!
//! - `GET /t/{tenant}/.well-known/openid-configuration` (OIDC Discovery 1.0 §4)
//! - `GET /t/{tenant}/jwks` (RFC 7517 §5): next, current and still-valid retired keys

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kakehashi_core::{keyring, SystemClock, TenantId};
use kakehashi_oidc::discovery::ProviderMetadata;
use kakehashi_oidc::Issuer;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/t/{tenant}/jwks", get(jwks))
}

/// An OAuth-style JSON error (RFC 6749 §5.2 shape) for these GET endpoints.
fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The tenant named in the path, if it exists.
async fn tenant(state: &AppState, raw: &str) -> Result<TenantId, Response> {
    let not_found = || json_error(StatusCode::NOT_FOUND, "not_found", "no such tenant");
    let id = TenantId::parse(raw).map_err(|_| not_found())?;
    match kakehashi_store::tenants::get(&state.store, &id).await {
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

async fn discovery(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let id = match tenant(&state, &raw).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let issuer = match Issuer::for_tenant(&state.public_url, id.as_str()) {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, public_url = %state.public_url, "bad issuer");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the server's public URL cannot be an issuer",
            );
        }
    };
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        ProviderMetadata::for_issuer(&issuer).to_json(),
    )
        .into_response()
}

async fn jwks(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let id = match tenant(&state, &raw).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    match keyring::jwks(&state.store, &state.master_key, &SystemClock, &id).await {
        Ok(set) => (
            [
                (header::CONTENT_TYPE, "application/jwk-set+json"),
                // Short enough that a key published as `next` is seen well before it signs.
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
            serde_json::to_string(&set).unwrap_or_else(|_| "{\"keys\":[]}".to_owned()),
        )
            .into_response(),
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

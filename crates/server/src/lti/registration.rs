//! LTI Dynamic Registration 1.0: the platform's configuration (§3.5.1) and its registration
//! endpoint (§3.6; RFC 7591 errors).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kakehashi_core::lti::registration::{self as core, Refused};
use kakehashi_core::lti::Endpoints;
use kakehashi_core::SystemClock;
use kakehashi_lti::registration::{platform_configuration, PlatformEndpoints};

use crate::oidc::{issuer_of, json_error, tenant};
use crate::AppState;

/// `GET /t/{tenant}/lti/openid-configuration`.
pub async fn configuration(State(st): State<AppState>, Path(raw): Path<String>) -> Response {
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let issuer = match issuer_of(&st, &tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let e = Endpoints::new(issuer.as_str());
    let body = platform_configuration(&PlatformEndpoints {
        issuer: issuer.as_str(),
        authorization_endpoint: &e.authorization(),
        token_endpoint: &e.token(),
        jwks_uri: &e.jwks(),
        registration_endpoint: &e.registration(),
        version: env!("CARGO_PKG_VERSION"),
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `POST /t/{tenant}/lti/register`.
pub async fn register(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match core::register(
        &st.store,
        &SystemClock,
        &tenant,
        &st.public_url,
        auth,
        &body,
    )
    .await
    {
        Ok(Ok(v)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            v.to_string(),
        )
            .into_response(),
        Ok(Err(Refused::Token)) => json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            &Refused::Token.to_string(),
        ),
        Ok(Err(Refused::Metadata(m))) => {
            json_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &m)
        }
        Err(e) => {
            tracing::error!(error = %e, "LTI dynamic registration failed");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            )
        }
    }
}

//! The admin REST API, `/t/{tenant}/api/v1/…` (docs/CONSOLE.md; OpenAPI 3.1 document at
//! `/t/{tenant}/api/v1/openapi.json`). Authenticated with an OAuth 2.0 bearer token (RFC 6750)
//! from the tenant's own OpenID Provider: client_credentials, scope `admin`, for a client
//! holding an admin grant. Every route calls the same `kakehashi_core::console` service as the
//! console pages, which decides with `console::authz` before anything is read or written.
//!
//! Errors are JSON `{"error": CODE, "message": TEXT}`: 400 `invalid_request`, 401
//! `invalid_token` (with `WWW-Authenticate: Bearer`), 403 `forbidden`, 404 `not_found`,
//! 422 `invalid_roster` (with the validation report), 500 `server_error`. Every list is paged:
//! `limit` (1–200, default 50) and the cursor of the previous page's `next`.

pub(crate) mod handlers;
pub(crate) use handlers::csv_response;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kakehashi_core::console::authz::Principal;
use kakehashi_core::console::{api_auth, ConsoleError};
use kakehashi_core::passwords::PasswordError;
use kakehashi_core::SystemClock;
use serde_json::json;

use crate::AppState;

/// The OpenAPI document, maintained by hand beside the routes; `tests/console_api.rs` calls
/// every operation it lists and checks that each exists and answers as documented.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/api/v1/openapi.json", get(handlers::openapi))
        .route("/t/{tenant}/api/v1/people", get(handlers::people))
        .route("/t/{tenant}/api/v1/people/{id}", get(handlers::person))
        .route(
            "/t/{tenant}/api/v1/people/{id}/password",
            post(handlers::set_password),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/unlock",
            post(handlers::unlock),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/audit",
            get(handlers::person_audit),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/factors",
            get(handlers::person_factors),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/factors/reset",
            post(handlers::reset_factors),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/factors/{credential}",
            delete(handlers::remove_factor),
        )
        .route(
            "/t/{tenant}/api/v1/classes/{id}/pupils",
            get(handlers::class_pupils),
        )
        .route(
            "/t/{tenant}/api/v1/classes/{id}/cards",
            post(handlers::class_cards),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/card",
            post(handlers::person_card),
        )
        .route(
            "/t/{tenant}/api/v1/people/{id}/card/revoke",
            post(handlers::person_card_revoke),
        )
        .route("/t/{tenant}/api/v1/audit", get(handlers::audit))
        .route(
            "/t/{tenant}/api/v1/audit/export.csv",
            get(handlers::audit_csv),
        )
        .route(
            "/t/{tenant}/api/v1/audit/verify",
            get(handlers::audit_verify),
        )
        .route(
            "/t/{tenant}/api/v1/roster/imports",
            get(handlers::imports).post(handlers::import),
        )
        .route(
            "/t/{tenant}/api/v1/apps",
            get(handlers::apps).post(handlers::register_app),
        )
        .route(
            "/t/{tenant}/api/v1/apps/{id}",
            delete(handlers::remove_app).patch(handlers::update_app),
        )
        .route(
            "/t/{tenant}/api/v1/lti/tools",
            get(handlers::lti_tools).post(handlers::register_lti_tool),
        )
        .route(
            "/t/{tenant}/api/v1/lti/tools/{id}",
            get(handlers::lti_tool)
                .patch(handlers::update_lti_tool)
                .delete(handlers::remove_lti_tool),
        )
        .route(
            "/t/{tenant}/api/v1/lti/registrations",
            post(handlers::start_lti_registration),
        )
        .route(
            "/t/{tenant}/api/v1/security-policy",
            get(handlers::security_policy).put(handlers::set_security_policy),
        )
        .route(
            "/t/{tenant}/api/v1/security-policy/mfa",
            get(handlers::mfa_policy).put(handlers::set_mfa_policy),
        )
        .layer(DefaultBodyLimit::max(
            kakehashi_core::console::roster::MAX_UPLOAD_BYTES,
        ))
}

/// A JSON error in the API's one format.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut resp = (status, Json(json!({ "error": code, "message": message }))).into_response();
    no_store(resp.headers_mut());
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6750 3: the challenge; 3.1 `invalid_token` when a token was sent.
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"kakehashi-admin\", error=\"invalid_token\""),
        );
    }
    resp
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A JSON body with `Cache-Control: no-store` (personal data).
pub(crate) fn ok<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let mut resp = (status, Json(body)).into_response();
    no_store(resp.headers_mut());
    resp
}

/// The one mapping of service errors to the API's responses.
/// 200 with the service's answer as JSON, or its error in the API's format.
pub(crate) fn answer<T: serde::Serialize>(r: Result<T, ConsoleError>) -> Response {
    answer_with(StatusCode::OK, r)
}

/// [`answer`] with another success status (201 for what a request created).
pub(crate) fn answer_with<T: serde::Serialize>(
    status: StatusCode,
    r: Result<T, ConsoleError>,
) -> Response {
    match r {
        Ok(v) => ok(status, &v),
        Err(e) => console_error(e),
    }
}

pub(crate) fn console_error(e: ConsoleError) -> Response {
    match e {
        ConsoleError::Unauthenticated(m) => error(StatusCode::UNAUTHORIZED, "invalid_token", &m),
        ConsoleError::Forbidden(m) => error(StatusCode::FORBIDDEN, "forbidden", &m),
        ConsoleError::NotFound(m) => error(StatusCode::NOT_FOUND, "not_found", &m),
        ConsoleError::Invalid(m) => error(StatusCode::BAD_REQUEST, "invalid_request", &m),
        ConsoleError::Password(
            e @ (PasswordError::TooShort { .. } | PasswordError::BadCharacters),
        ) => error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
        ConsoleError::Password(PasswordError::UnknownUser { .. })
        | ConsoleError::Portal(kakehashi_core::portal::PortalError::UnknownUser { .. }) => {
            error(StatusCode::NOT_FOUND, "not_found", "no such person")
        }
        e => {
            tracing::error!(error = %e, "admin API request failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            )
        }
    }
}

/// The tenant of the path and the caller behind its bearer token.
pub(crate) async fn authenticate(
    state: &AppState,
    raw_tenant: &str,
    headers: &HeaderMap,
) -> Result<Principal, Response> {
    let tenant = crate::oidc::tenant(state, raw_tenant)
        .await
        .map_err(|_| error(StatusCode::NOT_FOUND, "not_found", "no such tenant"))?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    let Some(token) = token else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "send Authorization: Bearer TOKEN (client_credentials with scope=admin)",
        ));
    };
    api_auth::authenticate(&state.store, &SystemClock, &tenant, token)
        .await
        .map_err(console_error)
}

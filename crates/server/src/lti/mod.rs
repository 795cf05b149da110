//! The LTI 1.3 platform's HTTP endpoints, one platform per tenant (issuer
//! `{public-url}/t/{tenant}`, keys at `/t/{tenant}/jwks`). Protocol rules live in
//! `kakehashi-lti`, the service in `kakehashi_core::lti`. Handlers are thin.
//!
//! - `GET|POST /t/{tenant}/lti/auth` — the tool's authentication request → auto-POST of
//!   `id_token` and `state` (Security Framework 5.1.1) — [`auth`]
//! - `POST /t/{tenant}/lti/token` — client_credentials with private_key_jwt — [`services`]
//! - `GET /t/{tenant}/lti/openid-configuration`, `POST /t/{tenant}/lti/register` — LTI
//!   Dynamic Registration 1.0 — [`registration`]
//! - `GET /t/{tenant}/lti/links/{id}/launch` — launch a resource link placed in a class
//! - `GET /t/{tenant}/lti/tools/{id}/deep-link?class=…` — a teacher adds content (DL 2.0)
//! - `POST /t/{tenant}/lti/deep-link-return` — the tool's Deep Linking response
//! - `GET /t/{tenant}/lti/classes/{class}/results` — a class's scores, for its teachers
//! - `GET /t/{tenant}/lti/contexts/{class}/memberships` — NRPS 2.0
//! - `GET|POST /t/{tenant}/lti/contexts/{class}/lineitems`, `GET|PUT|DELETE …/{id}`,
//!   `POST …/{id}/scores`, `GET …/{id}/results` — AGS 2.0
//!
//! The launcher's tile of an LTI tool (`/t/{tenant}/launch/{id}`) starts a launch through
//! [`launch_response`].

mod auth;
mod fetch;
mod pages;
mod registration;
mod services;

use axum::routing::{get, post};
use axum::Router;

pub(crate) use auth::launch_response;
pub use fetch::HttpJwksFetch;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/lti/auth",
            get(auth::auth_get).post(auth::auth_post),
        )
        .route("/t/{tenant}/lti/links/{id}/launch", get(auth::link_launch))
        .route(
            "/t/{tenant}/lti/tools/{id}/deep-link",
            get(auth::deep_link_start),
        )
        .route(
            "/t/{tenant}/lti/deep-link-return",
            post(auth::deep_link_return),
        )
        .route(
            "/t/{tenant}/lti/classes/{class}/results",
            get(auth::class_results),
        )
        .route("/t/{tenant}/lti/token", post(services::token))
        .route(
            "/t/{tenant}/lti/openid-configuration",
            get(registration::configuration),
        )
        .route("/t/{tenant}/lti/register", post(registration::register))
        .route(
            "/t/{tenant}/lti/contexts/{class}/memberships",
            get(services::memberships),
        )
        .route(
            "/t/{tenant}/lti/contexts/{class}/lineitems",
            get(services::line_items).post(services::create_line_item),
        )
        .route(
            "/t/{tenant}/lti/contexts/{class}/lineitems/{id}",
            get(services::get_line_item)
                .put(services::update_line_item)
                .delete(services::delete_line_item),
        )
        .route(
            "/t/{tenant}/lti/contexts/{class}/lineitems/{id}/scores",
            post(services::post_score),
        )
        .route(
            "/t/{tenant}/lti/contexts/{class}/lineitems/{id}/results",
            get(services::results),
        )
}

//! The SAML 2.0 IdP's HTTP face (docs/SAML.md). Handlers are thin: they turn a request into a
//! `kakehashi_core::saml_idp` call and its outcome into a page: an auto-submitting POST form to
//! the SP's ACS (SAML Bindings 3.5), a 303 to the portal login, or an error page.
//!
//! - `GET  /t/{tenant}/saml/metadata` — IdP metadata (`application/samlmetadata+xml`).
//! - `GET  /t/{tenant}/saml/sso` — AuthnRequest, HTTP-Redirect binding (Bindings 3.4).
//! - `POST /t/{tenant}/saml/sso` — AuthnRequest, HTTP-POST binding (Bindings 3.5).
//! - `GET  /t/{tenant}/saml/resume/{id}` — where the login returns to for a pending request.
//! - `GET|POST /t/{tenant}/saml/slo` — SP-initiated Single Logout (Profiles 4.4).
//! - IdP-initiated SSO is the `saml` arm of the portal's `/t/{tenant}/launch/{app_id}`.

mod handlers;
mod pages;

use axum::routing::get;
use axum::Router;

pub(crate) use handlers::launch;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/saml/metadata", get(handlers::metadata))
        .route(
            "/t/{tenant}/saml/sso",
            get(handlers::sso_redirect).post(handlers::sso_post),
        )
        .route("/t/{tenant}/saml/resume/{id}", get(handlers::resume))
        .route(
            "/t/{tenant}/saml/slo",
            get(handlers::slo_redirect).post(handlers::slo_post),
        )
        .route("/t/{tenant}/saml/slo/next", get(handlers::slo_next))
}

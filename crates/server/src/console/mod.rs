//! The web console, `/t/{tenant}/console/…` (docs/CONSOLE.md): server-rendered pages for
//! boards of education, school admins, teachers and pupils, signed in with their portal
//! session. Each page builds the caller's `Principal` and calls the same
//! `kakehashi_core::console` service as the admin API; what a role may not use answers 403 or
//! 404 from that service, not from the menu. No JavaScript; the portal's CSP and headers; the
//! session's CSRF token in every form.
//!
//! - `GET /t/{tenant}/console/` — home.
//! - `GET …/people[?q=&after=]`, `GET …/people/{id}`, `POST …/people/{id}/password|unlock`,
//!   `POST …/people/{id}/factors/reset`, `POST …/people/{id}/factors/remove` (one key; both
//!   with a reason).
//! - `GET …/classes`, `GET …/classes/{id}` (pupils and their last sign-in),
//!   `POST …/classes/{id}/cards` (print new QR sign-in cards), `POST …/people/{id}/card`
//!   (reissue one), `POST …/people/{id}/card/revoke`.
//! - `GET|POST /t/{tenant}/card/{token}`: what scanning a card opens ("sign in as …?").
//! - `GET …/imports`, `POST …/imports` (multipart upload → validation and preview),
//!   `GET …/imports/{id}`, `GET …/imports/{id}/report.csv`, `POST …/imports/{id}/apply`.
//! - `GET …/audit[?action=&actor=&target=&from=&to=&before=]`, `GET …/audit.csv`,
//!   `GET …/audit/verify`.
//! - `GET|POST …/apps` (list, register), `GET|POST …/apps/{id}` (change what `app set`
//!   changes; multipart, with an icon), `POST …/apps/{id}/remove`,
//!   `GET|POST …/lti` (LTI tools: list, register), `GET|POST …/lti/{id}` (change, as
//!   `lti tool set`), `POST …/lti/{id}/remove`, `POST …/lti/registrations` (start a Dynamic
//!   Registration: a link to the tool's registration page),
//!   `GET|POST …/security` (session timeouts, lockout),
//!   `POST …/security/mfa` (second factors, school networks, risk, shared devices),
//!   `GET …/me` (own devices, second factors and sign-in history),
//!   `POST …/me/devices/forget` ("not my device"), `POST …/me/factors/remove` (one own key),
//!   `GET …/operator[?after=]` (the read-only cross-tenant overview, `platform-operator`
//!   grant; paged by tenant id).

mod handlers;
mod multipart;
pub(crate) mod pages;
pub(crate) mod qr;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    use handlers as h;
    Router::new()
        .route("/t/{tenant}/console/", get(h::home))
        .route("/t/{tenant}/console/people", get(h::people_page))
        .route("/t/{tenant}/console/people/{id}", get(h::person_page))
        .route(
            "/t/{tenant}/console/people/{id}/password",
            post(h::person_password),
        )
        .route(
            "/t/{tenant}/console/people/{id}/unlock",
            post(h::person_unlock),
        )
        .route(
            "/t/{tenant}/console/people/{id}/factors/reset",
            post(h::person_factors_reset),
        )
        .route(
            "/t/{tenant}/console/people/{id}/factors/remove",
            post(h::person_factor_remove),
        )
        .route("/t/{tenant}/console/classes", get(h::classes_page))
        .route("/t/{tenant}/console/classes/{id}", get(h::class_page))
        .route(
            "/t/{tenant}/console/classes/{id}/cards",
            post(h::class_cards),
        )
        .route("/t/{tenant}/console/people/{id}/card", post(h::person_card))
        .route(
            "/t/{tenant}/console/people/{id}/card/revoke",
            post(h::person_card_revoke),
        )
        .route(
            "/t/{tenant}/card/{token}",
            get(h::card_page).post(h::card_sign_in),
        )
        .route("/t/{tenant}/console/me", get(h::me_page))
        .route("/t/{tenant}/console/operator", get(h::operator_page))
        .route(
            "/t/{tenant}/console/me/devices/forget",
            post(h::me_device_forget),
        )
        .route(
            "/t/{tenant}/console/me/factors/remove",
            post(h::me_factor_remove),
        )
        .route("/t/{tenant}/console/audit", get(h::audit_page))
        .route("/t/{tenant}/console/audit.csv", get(h::audit_csv))
        .route("/t/{tenant}/console/audit/verify", get(h::audit_verify))
        .route(
            "/t/{tenant}/console/apps",
            get(h::apps_page).post(h::app_register),
        )
        .route(
            "/t/{tenant}/console/apps/{id}",
            get(h::app_edit_page).post(h::app_update),
        )
        .route("/t/{tenant}/console/apps/{id}/remove", post(h::app_remove))
        .route(
            "/t/{tenant}/console/lti",
            get(h::lti_page).post(h::lti_register),
        )
        .route(
            "/t/{tenant}/console/lti/registrations",
            post(h::lti_registration_start),
        )
        .route(
            "/t/{tenant}/console/lti/{id}",
            get(h::lti_edit_page).post(h::lti_update),
        )
        .route("/t/{tenant}/console/lti/{id}/remove", post(h::lti_remove))
        .route(
            "/t/{tenant}/console/security",
            get(h::security_page).post(h::security_submit),
        )
        .route(
            "/t/{tenant}/console/security/mfa",
            post(h::security_mfa_submit),
        )
        .route(
            "/t/{tenant}/console/imports",
            get(h::imports_page).post(h::import_upload),
        )
        .route("/t/{tenant}/console/imports/{id}", get(h::import_staged))
        .route(
            "/t/{tenant}/console/imports/{id}/report.csv",
            get(h::import_report_csv),
        )
        .route(
            "/t/{tenant}/console/imports/{id}/apply",
            post(h::import_apply),
        )
        .route("/portal-assets/console.css", get(css))
        .layer(DefaultBodyLimit::max(
            kakehashi_core::console::roster::MAX_STAGED_BYTES + 64 * 1024,
        ))
}

async fn css() -> axum::response::Response {
    crate::portal::handlers::static_asset(
        pages::CSS,
        "text/css; charset=utf-8",
        "public, max-age=3600",
    )
}

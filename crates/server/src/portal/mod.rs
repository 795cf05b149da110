//! The portal's HTTP face: login and logout pages, the launcher and app icons. Handlers are
//! thin: they check the tenant, the cookie and the CSRF token, call
//! `kakehashi_core::portal`, and render the outcome (see docs/PORTAL.md).
//!
//! - `GET  /t/{tenant}/login` — the login form (pre-login CSRF cookie).
//! - `POST /t/{tenant}/login` — username + password; 303 to `return_to` or the launcher.
//! - `POST /t/{tenant}/login/passkey/{start,finish}` — sign in with a passkey (see [`passkey`]).
//! - `POST /t/{tenant}/logout` — ends the session; 303 to the login page.
//! - `GET  /t/{tenant}/` — the launcher (303 to login without a session).
//! - `GET  /t/{tenant}/launch/{id}` — launch an app: the launch policy, then its protocol.
//! - `GET  /t/{tenant}/apps/{id}/icon` — an app's icon, for a signed-in user who may see it.
//! - `/t/{tenant}/mfa…` — second factors and step-up (see [`mfa`]).
//! - `GET  /portal-assets/portal.css` — the stylesheet.
//! - `GET  /portal-assets/webauthn.js` — the WebAuthn ceremonies' script.
//! - `GET  /portal-assets/passkey.js` — the login page's passkey script.
//! - `GET  /portal-assets/icon.svg`, `/favicon.ico` — the icon.

pub(crate) mod handlers;
pub(crate) mod http;
pub(crate) mod launch;
pub(crate) mod mfa;
pub(crate) mod mfa_pages;
pub(crate) mod pages;
pub(crate) mod passkey;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/login",
            get(handlers::login_page).post(handlers::login_submit),
        )
        .route("/t/{tenant}/login/passkey/start", post(passkey::start))
        .route("/t/{tenant}/login/passkey/finish", post(passkey::finish))
        .route("/t/{tenant}/logout", post(handlers::logout))
        .route("/t/{tenant}/", get(handlers::launcher))
        .route("/t/{tenant}", get(handlers::to_launcher))
        .route("/t/{tenant}/launch/{id}", get(launch::launch))
        .route("/t/{tenant}/apps/{id}/icon", get(handlers::icon))
        .route("/t/{tenant}/mfa", get(mfa::security_page))
        .route("/t/{tenant}/mfa/verify", get(mfa::verify_page))
        .route(
            "/t/{tenant}/mfa/webauthn/register/start",
            post(mfa::register_start),
        )
        .route(
            "/t/{tenant}/mfa/webauthn/register/finish",
            post(mfa::register_finish),
        )
        .route(
            "/t/{tenant}/mfa/webauthn/authenticate/start",
            post(mfa::authenticate_start),
        )
        .route(
            "/t/{tenant}/mfa/webauthn/authenticate/finish",
            post(mfa::authenticate_finish),
        )
        .route("/t/{tenant}/mfa/backup-codes", post(mfa::new_backup_codes))
        .route("/t/{tenant}/mfa/backup-code", post(mfa::backup_code))
        .route("/t/{tenant}/mfa/totp/enrol", post(mfa::totp_enrol))
        .route("/t/{tenant}/mfa/totp", post(mfa::totp_code))
        .route(
            "/t/{tenant}/mfa/credentials/remove",
            post(mfa::remove_credential),
        )
        .route("/portal-assets/portal.css", get(handlers::css))
        .route("/portal-assets/webauthn.js", get(handlers::webauthn_js))
        .route("/portal-assets/passkey.js", get(handlers::passkey_js))
        .route("/portal-assets/icon.svg", get(handlers::icon_svg))
        .route("/favicon.ico", get(handlers::icon_svg))
}

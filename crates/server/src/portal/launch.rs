//! `GET /t/{tenant}/launch/{app_id}`: the launcher's tiles lead here. The launch policy
//! (`kakehashi_core::portal::access`) decides first; only an allowed launch reaches the
//! app's protocol (OIDC: the app's launch address; SAML: IdP-initiated SSO).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kakehashi_core::portal::access::{self, LaunchDecision};
use kakehashi_core::portal::session::PortalSession;
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::TenantId;

use super::handlers::{current_session, internal, login_redirect, tenant_of, PageQuery};
use super::http::{html, Lang};
use super::pages;
use crate::AppState;

pub async fn launch(
    State(st): State<AppState>,
    Path((raw, app_id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return login_redirect(&tenant, lang, &launch_path(&tenant, &app_id)),
        Err(e) => return internal(e),
    };
    let app = match identity::get_app(&st.store, &tenant, &app_id).await {
        Ok(Some(app)) => app,
        // An app that does not exist and one the user may not see look the same.
        Ok(None) => return denied(lang, &tenant, StatusCode::NOT_FOUND),
        Err(e) => return internal(e.into()),
    };
    let policy = match kakehashi_core::mfa::policy::load(&st.store, &tenant).await {
        Ok(p) => p,
        Err(e) => return super::mfa::failed(e),
    };
    match access::decide(&app, &session, &policy, time::OffsetDateTime::now_utc()) {
        LaunchDecision::NotAllowed => denied(lang, &tenant, StatusCode::NOT_FOUND),
        LaunchDecision::SecondFactorRequired => {
            let mut back = launch_path(&tenant, &app_id);
            if let Some(c) = &q.class {
                back.push_str(&format!("?class={}", super::http::url_encode(c)));
            }
            step_up(&st, lang, &tenant, &session, &app, &back).await
        }
        LaunchDecision::Allowed => {
            launch_allowed(&st, lang, &tenant, &app, &session, q.class).await
        }
    }
}

/// The path of an app's launch route.
pub fn launch_path(tenant: &TenantId, app_id: &str) -> String {
    format!("/t/{tenant}/launch/{}", super::http::url_encode(app_id))
}

/// The protocol's own way into an app whose launch the policy allowed.
async fn launch_allowed(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    app: &AppRow,
    session: &PortalSession,
    class: Option<String>,
) -> Response {
    match app.protocol.as_str() {
        // The OIDC arm goes to the app's registered launch address.
        "oidc" => crate::oidc::launch_response(st, lang, tenant, app).await,
        // SAML: an IdP-initiated Response POSTed to the SP's ACS (SAML Profiles 4.1.5).
        "saml" => crate::saml::launch(st, lang, tenant, app, session).await,
        // LTI 1.3: third-party initiated login at the tool (Security Framework 5.1.1.1).
        "lti" => crate::lti::launch_response(st, lang, tenant, app, session, class).await,
        _ => html(
            StatusCode::NOT_FOUND,
            pages::no_launch_address(lang, tenant.as_str(), &app.name),
            &[],
        ),
    }
}

/// The page shown instead of signing in to an app the user may not use.
pub fn denied(lang: Lang, tenant: &TenantId, status: StatusCode) -> Response {
    html(status, pages::not_allowed(lang, tenant.as_str()), &[])
}

/// The step-up page shown instead of signing a staff member in to an app that needs a fresh
/// second factor (403: refused until the factor is proved); once proved, the browser goes
/// back to `back` and the app's protocol continues.
pub async fn step_up(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    session: &PortalSession,
    app: &AppRow,
    back: &str,
) -> Response {
    let class = access::class_of(app);
    super::mfa::step_up_response(
        st,
        lang,
        tenant,
        session,
        Some(&app.name),
        class.as_str(),
        back,
        StatusCode::FORBIDDEN,
        None,
    )
    .await
}

/// The explanation alone, for a request that reached an app needing a second factor without a
/// portal session to step up (403).
pub fn second_factor_required(lang: Lang, tenant: &TenantId, app: &AppRow) -> Response {
    html(
        StatusCode::FORBIDDEN,
        pages::second_factor_required(lang, tenant.as_str(), &app.name),
        &[],
    )
}

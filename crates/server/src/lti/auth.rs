//! Launches: the launcher tile and class links start a launch (303 to the tool's login
//! initiation URL, in the new window the tile opened); the tool's authentication request is
//! answered with the auto-POST of the `id_token`; the Deep Linking response comes back here.

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kakehashi_core::lti::{deep_link, launch as core};
use kakehashi_core::portal::access::{self, LaunchDecision};
use kakehashi_core::portal::session::PortalSession;
use kakehashi_oidc::form_post;
use kakehashi_oidc::params::Params;
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::TenantId;
use serde::Deserialize;

use super::pages;
use crate::oidc::authorize::auto_post_page;
use crate::oidc::{issuer_of, provider, tenant};
use crate::portal::handlers::{current_session, internal, login_redirect, tenant_of, PageQuery};
use crate::portal::http::{html, see_other, url_encode, Lang};
use crate::portal::launch::denied;
use crate::AppState;

/// The launcher tile of an LTI tool (the launch policy already allowed it).
pub(crate) async fn launch_response(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    app: &AppRow,
    session: &PortalSession,
    class: Option<String>,
) -> Response {
    start(st, lang, tenant, app, session, core::Target::Tile { class }).await
}

async fn start(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    app: &AppRow,
    session: &PortalSession,
    target: core::Target,
) -> Response {
    let issuer = match issuer_of(st, tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let p = provider(st, tenant, &issuer);
    match core::start(&p, &session.user, app, target).await {
        Ok(Ok(url)) => see_other(&url, &[]),
        Ok(Err(core::Refused::ChooseClass(choices))) => html(
            StatusCode::OK,
            pages::choose_class(lang, tenant.as_str(), &app.name, &app.id, &choices),
            &[],
        ),
        Ok(Err(refused)) => html(
            StatusCode::FORBIDDEN,
            pages::refused(lang, tenant.as_str(), &app.name, &refused),
            &[],
        ),
        Err(e) => {
            tracing::error!(error = %e, "LTI launch failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::error(lang, tenant.as_str(), "server_error"),
                &[],
            )
        }
    }
}

/// The signed-in user, the tool and the launch policy's decision, or the response to send.
async fn allowed_tool(
    st: &AppState,
    raw: &str,
    app_id: &str,
    back: &str,
    lang: Lang,
    headers: &HeaderMap,
) -> Result<(TenantId, AppRow, PortalSession), Response> {
    let (tenant, _) = tenant_of(st, raw, lang).await?;
    let session = match current_session(st, &tenant, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(login_redirect(&tenant, lang, back)),
        Err(e) => return Err(internal(e)),
    };
    let app = match identity::get_app(&st.store, &tenant, app_id).await {
        Ok(Some(a)) if a.protocol == "lti" => a,
        Ok(_) => return Err(denied(lang, &tenant, StatusCode::NOT_FOUND)),
        Err(e) => return Err(internal(e.into())),
    };
    // The launcher's policy (audience, second factor under the tenant's security policy): a
    // launch that needs step-up goes through the launcher tile first, which asks for it.
    let policy = match kakehashi_core::mfa::policy::load(&st.store, &tenant).await {
        Ok(p) => p,
        Err(e) => return Err(crate::portal::mfa::failed(e)),
    };
    if access::decide(&app, &session, &policy, time::OffsetDateTime::now_utc())
        != LaunchDecision::Allowed
    {
        return Err(denied(lang, &tenant, StatusCode::NOT_FOUND));
    }
    Ok((tenant, app, session))
}

/// `GET /t/{tenant}/lti/links/{id}/launch`: a resource link of one of the user's classes.
pub async fn link_launch(
    State(st): State<AppState>,
    Path((raw, link_id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let back = format!("/t/{raw}/lti/links/{}/launch", url_encode(&link_id));
    let Ok(tenant) = TenantId::parse(&raw) else {
        return html(
            StatusCode::NOT_FOUND,
            crate::portal::pages::not_found(lang),
            &[],
        );
    };
    let link = match kakehashi_store::lti::get_resource_link(&st.store, &tenant, &link_id).await {
        Ok(Some(l)) => l,
        Ok(None) => return denied(lang, &tenant, StatusCode::NOT_FOUND),
        Err(e) => return internal(e.into()),
    };
    let (tenant, app, session) =
        match allowed_tool(&st, &raw, &link.app_id, &back, lang, &headers).await {
            Ok(t) => t,
            Err(r) => return r,
        };
    start(
        &st,
        lang,
        &tenant,
        &app,
        &session,
        core::Target::Link(link.id),
    )
    .await
}

#[derive(Deserialize)]
pub struct DeepLinkQuery {
    class: Option<String>,
    lang: Option<String>,
}

/// `GET /t/{tenant}/lti/tools/{id}/deep-link?class=…`: a teacher chooses content.
pub async fn deep_link_start(
    State(st): State<AppState>,
    Path((raw, app_id)): Path<(String, String)>,
    Query(q): Query<DeepLinkQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let class = q.class.unwrap_or_default();
    let back = format!(
        "/t/{raw}/lti/tools/{}/deep-link?class={}",
        url_encode(&app_id),
        url_encode(&class)
    );
    let (tenant, app, session) = match allowed_tool(&st, &raw, &app_id, &back, lang, &headers).await
    {
        Ok(t) => t,
        Err(r) => return r,
    };
    start(
        &st,
        lang,
        &tenant,
        &app,
        &session,
        core::Target::DeepLinking { class },
    )
    .await
}

pub async fn auth_get(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    auth(st, raw, query.unwrap_or_default(), headers).await
}

pub async fn auth_post(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    auth(
        st,
        raw,
        String::from_utf8_lossy(&body).into_owned(),
        headers,
    )
    .await
}

async fn auth(st: AppState, raw: String, query: String, headers: HeaderMap) -> Response {
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let issuer = match issuer_of(&st, &tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let lang = Lang::pick(None, &headers);
    let params = Params::from_urlencoded(&query);
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let p = provider(&st, &tenant, &issuer);
    match core::authenticate(&p, &params, session.as_ref()).await {
        Ok(core::AuthOutcome::ShowError(e)) => html(
            StatusCode::BAD_REQUEST,
            pages::error(lang, tenant.as_str(), &e),
            &[],
        ),
        Ok(core::AuthOutcome::FormPost { action, fields }) => {
            let nonce = kakehashi_core::oauth::random_value();
            let body = form_post::form_post_html(&action, &fields, Some(&nonce));
            auto_post_page(&action, body, &nonce)
        }
        Err(e) => {
            tracing::error!(error = %e, "LTI authentication request failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::error(lang, tenant.as_str(), "server_error"),
                &[],
            )
        }
    }
}

/// `POST /t/{tenant}/lti/deep-link-return` (DL 2.0 §4.5: the form field `JWT`).
pub async fn deep_link_return(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::pick(None, &headers);
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let issuer = match issuer_of(&st, &tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let form = Params::from_urlencoded(&String::from_utf8_lossy(&body));
    let Some(jwt) = form.get("JWT") else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error(lang, tenant.as_str(), "the JWT form field is missing"),
            &[],
        );
    };
    let p = provider(&st, &tenant, &issuer);
    match deep_link::receive(&p, jwt, &st.lti_jwks).await {
        Ok(Ok(added)) => html(
            StatusCode::OK,
            pages::deep_link_added(lang, tenant.as_str(), &added),
            &[],
        ),
        Ok(Err(refused)) => {
            tracing::info!(reason = %refused, "LTI deep linking response refused");
            html(
                StatusCode::BAD_REQUEST,
                pages::error(lang, tenant.as_str(), &refused.to_string()),
                &[],
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "LTI deep linking response failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::error(lang, tenant.as_str(), "server_error"),
                &[],
            )
        }
    }
}

/// `GET /t/{tenant}/lti/classes/{class}/results`: the class's scores, for its teachers.
pub async fn class_results(
    State(st): State<AppState>,
    Path((raw, class)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let back = format!("/t/{tenant}/lti/classes/{}/results", url_encode(&class));
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return login_redirect(&tenant, lang, &back),
        Err(e) => return internal(e),
    };
    match kakehashi_core::lti::classes::results_for(
        &st.store,
        &kakehashi_core::SystemClock,
        &tenant,
        &session.user,
        &class,
    )
    .await
    {
        Ok(Some(items)) => html(
            StatusCode::OK,
            pages::results(lang, tenant.as_str(), &class, &items),
            &[],
        ),
        Ok(None) => denied(lang, &tenant, StatusCode::NOT_FOUND),
        Err(e) => internal(e.into()),
    }
}

//! `GET /t/{tenant}/logout` (RP-Initiated Logout 1.0) and `POST /t/{tenant}/logout/confirm`,
//! and the OIDC arm of the launcher ([`launch_response`]).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use kakehashi_core::oauth::logout::{self as core, LogoutOutcome};
use kakehashi_core::portal::token;
use kakehashi_oidc::params::Params;
use kakehashi_store::identity::AppRow;
use kakehashi_store::TenantId;

use super::{issuer_of, pages, params_of, provider, tenant};
use crate::portal::handlers::{current_session, internal};
use crate::portal::http::{clear_cookie, html, see_other, Lang, SESSION_COOKIE};
use crate::AppState;

pub async fn end_session(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    run(st, raw, query.unwrap_or_default(), headers, None).await
}

/// RP-Initiated Logout by POST (form parameters), routed here by the portal's
/// `POST /t/{tenant}/logout` when the form carries OIDC parameters instead of a CSRF field.
pub(crate) async fn end_session_post(
    st: AppState,
    raw: String,
    form: String,
    headers: HeaderMap,
) -> Response {
    run(st, raw, form, headers, None).await
}

/// The user confirmed on [`pages::logout_confirm`]: `csrf` (the session's synchronizer
/// token) and `request` (the original query).
pub async fn confirm(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = params_of(&body);
    let query = form.get("request").unwrap_or("").to_owned();
    let csrf = form.get("csrf").unwrap_or("").to_owned();
    run(st, raw, query, headers, Some(csrf)).await
}

async fn run(
    st: AppState,
    raw: String,
    query: String,
    headers: HeaderMap,
    csrf: Option<String>,
) -> Response {
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let issuer = match issuer_of(&st, &tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let confirmed = match (&csrf, &session) {
        (Some(field), Some(s)) if token::same(&s.csrf_secret, field) => true,
        (Some(_), Some(_)) => {
            return html(
                StatusCode::FORBIDDEN,
                pages::logout_error("the confirmation form expired; please try again"),
                &[],
            )
        }
        _ => false,
    };
    let p = provider(&st, &tenant, &issuer);
    let params = Params::from_urlencoded(&query);
    let outcome = match core::end_session(&p, &params, session.as_ref(), confirmed).await {
        Ok(Ok(o)) => o,
        // Never redirected: what failed is the redirect target or the hint.
        Ok(Err(e)) => {
            return html(
                StatusCode::BAD_REQUEST,
                pages::logout_error(&e.to_string()),
                &[],
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "end session failed");
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::logout_error("server_error"),
                &[],
            );
        }
    };
    let secure = st.public_url.starts_with("https://");
    match outcome {
        LogoutOutcome::Confirm { redirect } => match &session {
            Some(s) => {
                let mut resp = html(
                    StatusCode::OK,
                    pages::logout_confirm(tenant.as_str(), &s.csrf_secret, &query),
                    &[],
                );
                // Confirming redirects to the client: browsers apply the page's
                // `form-action` to that redirect too (CSP 3), so it must allow the client.
                if let Some(origin) = redirect.as_deref().and_then(super::authorize::origin_of) {
                    let csp = crate::portal::http::csp_with_form_action(origin);
                    if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
                        resp.headers_mut()
                            .insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
                    }
                }
                resp
            }
            None => see_other(&format!("/t/{tenant}/login?logged_out=1"), &[]),
        },
        LogoutOutcome::Done {
            redirect,
            ended_session,
            saml_journey,
        } => {
            let cookies: Vec<String> = if ended_session {
                // The back-channel apps' Logout Tokens were queued: send them now.
                crate::backchannel::deliver_soon(&st);
                vec![clear_cookie(SESSION_COOKIE, tenant.as_str(), secure)]
            } else {
                Vec::new()
            };
            // The SAML SPs first (their journey ends at `redirect`), as the portal's logout.
            match (saml_journey, redirect) {
                (Some(j), _) => {
                    let next = format!(
                        "/t/{tenant}/saml/slo/next?journey={}",
                        crate::portal::http::url_encode(&j)
                    );
                    if confirmed {
                        html(StatusCode::OK, pages::logout_continue(&next), &cookies)
                    } else {
                        see_other(&next, &cookies)
                    }
                }
                (None, Some(r)) => see_other(&r, &cookies),
                (None, None) => see_other(&format!("/t/{tenant}/login?logged_out=1"), &cookies),
            }
        }
    }
}

/// The launcher's way into an OIDC app whose launch the policy allowed: its registered launch
/// URL (the app then starts a normal authorization request, which finds the portal session).
pub(crate) async fn launch_response(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    app: &AppRow,
) -> Response {
    match kakehashi_store::oauth::oidc_settings(&st.store, tenant, &app.id).await {
        Ok(Some(s)) => match s.launch_url {
            Some(url) => see_other(&url, &[]),
            None => html(
                StatusCode::NOT_FOUND,
                crate::portal::pages::no_launch_address(lang, tenant.as_str(), &app.name),
                &[],
            ),
        },
        Ok(None) => html(
            StatusCode::NOT_FOUND,
            crate::portal::pages::not_allowed(lang, tenant.as_str()),
            &[],
        ),
        Err(e) => internal(e.into()),
    }
}

//! SAML handlers: HTTP in, `kakehashi_core::saml_idp` calls, pages out.

use axum::extract::{Form, Path, Query, RawQuery, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kakehashi_core::portal::session::PortalSession;
use kakehashi_core::saml_idp::propagate::{self, ResponseIncoming, ResponseRefused, Step};
use kakehashi_core::saml_idp::slo::{self, LogoutIncoming, LogoutOutcome};
use kakehashi_core::saml_idp::sso::{self, Idp, Incoming, SsoOutcome};
use kakehashi_core::saml_idp::{keys, SamlIdpError};
use kakehashi_core::SystemClock;
use kakehashi_store::identity::AppRow;
use kakehashi_store::TenantId;
use serde::Deserialize;

use super::pages;
use crate::portal::handlers::{current_session, internal, login_redirect, tenant_of, PageQuery};
use crate::portal::http::{clear_cookie, see_other, url_encode, Lang, SESSION_COOKIE};
use crate::portal::launch::second_factor_required;
use crate::AppState;

fn failed(e: SamlIdpError) -> Response {
    tracing::error!(error = %e, "SAML request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

fn idp<'a>(st: &'a AppState, tenant: &'a TenantId) -> Idp<'a> {
    Idp {
        store: &st.store,
        master: &st.master_key,
        clock: &SystemClock,
        tenant,
        public_url: &st.public_url,
    }
}

/// Turns an outcome into the browser's next step.
async fn respond(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    session: Option<&PortalSession>,
    outcome: SsoOutcome,
) -> Response {
    match outcome {
        SsoOutcome::Post(post) => pages::post_page(&post),
        SsoOutcome::Refused(r) => pages::refused(lang, &r),
        SsoOutcome::SecondFactorRequired { app, pending_id } => {
            let back = match &pending_id {
                Some(id) => format!("/t/{tenant}/saml/resume/{}", url_encode(id)),
                None => crate::portal::launch::launch_path(tenant, &app.id),
            };
            match session {
                Some(s) => crate::portal::launch::step_up(st, lang, tenant, s, &app, &back).await,
                None => second_factor_required(lang, tenant, &app),
            }
        }
        SsoOutcome::Login { pending_id, force } => {
            let back = format!("/t/{tenant}/saml/resume/{}", url_encode(&pending_id));
            if force {
                // ForceAuthn: the login form even with a session (SAML Core 3.4.1).
                see_other(
                    &format!(
                        "/t/{tenant}/login?lang={}&prompt=login&return_to={}",
                        lang.code(),
                        url_encode(&back)
                    ),
                    &[],
                )
            } else {
                login_redirect(tenant, lang, &back)
            }
        }
    }
}

async fn tenant_and_session(
    st: &AppState,
    raw: &str,
    lang: Lang,
    headers: &HeaderMap,
) -> Result<(TenantId, Option<PortalSession>), Response> {
    let (tenant, _) = tenant_of(st, raw, lang).await?;
    match current_session(st, &tenant, headers).await {
        Ok(s) => Ok((tenant, s)),
        Err(e) => Err(internal(e)),
    }
}

pub async fn metadata(State(st): State<AppState>, Path(raw): Path<String>) -> Response {
    let (tenant, _) = match tenant_of(&st, &raw, Lang::En).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match keys::metadata_xml(
        &st.store,
        &st.master_key,
        &SystemClock,
        &tenant,
        &st.public_url,
    )
    .await
    {
        Ok(xml) => {
            let mut resp = xml.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/samlmetadata+xml"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            resp
        }
        Err(e) => failed(e),
    }
}

/// HTTP-Redirect binding: the raw query is passed on untouched (its signature covers the
/// octets as received, SAML Bindings 3.4.4.1).
pub async fn sso_redirect(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(None, &headers);
    let (tenant, session) = match tenant_and_session(&st, &raw, lang, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let raw_query = query.unwrap_or_default();
    let incoming = Incoming::Redirect {
        raw_query: &raw_query,
    };
    match sso::receive(&idp(&st, &tenant), incoming, session.as_ref()).await {
        Ok(outcome) => respond(&st, lang, &tenant, session.as_ref(), outcome).await,
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct SsoForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    /// A LogoutResponse (at the SLO endpoint, answering our LogoutRequest).
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// HTTP-POST binding.
pub async fn sso_post(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SsoForm>,
) -> Response {
    let lang = Lang::pick(None, &headers);
    let (tenant, session) = match tenant_and_session(&st, &raw, lang, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let saml_request = form.saml_request.unwrap_or_default();
    let incoming = Incoming::Post {
        saml_request: &saml_request,
        relay_state: form.relay_state.as_deref(),
    };
    match sso::receive(&idp(&st, &tenant), incoming, session.as_ref()).await {
        Ok(outcome) => respond(&st, lang, &tenant, session.as_ref(), outcome).await,
        Err(e) => failed(e),
    }
}

/// Back from the login page with a session: answer the pending request.
pub async fn resume(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, session) = match tenant_and_session(&st, &raw, lang, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match sso::proceed(&idp(&st, &tenant), &id, session.as_ref()).await {
        Ok(outcome) => respond(&st, lang, &tenant, session.as_ref(), outcome).await,
        Err(e) => failed(e),
    }
}

/// IdP-initiated SSO (SAML Profiles 4.1.5): the `saml` arm of the portal's launch route, after
/// the launch policy allowed it.
pub(crate) async fn launch(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    app: &AppRow,
    session: &PortalSession,
) -> Response {
    match sso::idp_initiated(&idp(st, tenant), &app.id, session, None).await {
        Ok(outcome) => respond(st, lang, tenant, Some(session), outcome).await,
        Err(e) => failed(e),
    }
}

/// Turns a logout outcome into the browser's next step, clearing the session cookie when the
/// browser's own portal session was ended.
fn respond_logout(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    outcome: LogoutOutcome,
) -> Response {
    // Portal sessions ended by an SP's LogoutRequest queued Logout Tokens for their OIDC apps.
    crate::backchannel::deliver_soon(st);
    let clear = |ended: bool| {
        if ended {
            vec![clear_cookie(
                SESSION_COOKIE,
                tenant.as_str(),
                st.public_url.starts_with("https://"),
            )]
        } else {
            vec![]
        }
    };
    match outcome {
        LogoutOutcome::Refused(r) => pages::refused(lang, &r),
        LogoutOutcome::Redirect {
            location,
            ended_cookie_session,
        } => see_other(&location, &clear(ended_cookie_session)),
        LogoutOutcome::SignedOut {
            ended_cookie_session,
        } => see_other(
            &format!("/t/{tenant}/login?lang={}&logged_out=1", lang.code()),
            &clear(ended_cookie_session),
        ),
        LogoutOutcome::Post {
            post,
            ended_cookie_session,
        } => {
            let mut resp = pages::post_page(&post);
            for c in clear(ended_cookie_session) {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            resp
        }
    }
}

/// Single Logout, HTTP-Redirect binding (SAML Profiles 4.4, Bindings 3.4).
pub async fn slo_redirect(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(None, &headers);
    let (tenant, session) = match tenant_and_session(&st, &raw, lang, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let raw_query = query.unwrap_or_default();
    if raw_query
        .split('&')
        .any(|kv| kv.starts_with("SAMLResponse="))
    {
        let incoming = ResponseIncoming::Redirect {
            raw_query: &raw_query,
        };
        return match propagate::receive_response(&idp(&st, &tenant), incoming).await {
            Ok(r) => respond_step(lang, &tenant, r),
            Err(e) => failed(e),
        };
    }
    let incoming = LogoutIncoming::Redirect {
        raw_query: &raw_query,
    };
    match slo::receive_logout(&idp(&st, &tenant), incoming, session.as_ref()).await {
        Ok(outcome) => respond_logout(&st, lang, &tenant, outcome),
        Err(e) => failed(e),
    }
}

/// Single Logout, HTTP-POST binding (Bindings 3.5).
pub async fn slo_post(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SsoForm>,
) -> Response {
    let lang = Lang::pick(None, &headers);
    let (tenant, session) = match tenant_and_session(&st, &raw, lang, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if let Some(saml_response) = &form.saml_response {
        let incoming = ResponseIncoming::Post {
            saml_response,
            relay_state: form.relay_state.as_deref(),
        };
        return match propagate::receive_response(&idp(&st, &tenant), incoming).await {
            Ok(r) => respond_step(lang, &tenant, r),
            Err(e) => failed(e),
        };
    }
    let saml_request = form.saml_request.unwrap_or_default();
    let incoming = LogoutIncoming::Post {
        saml_request: &saml_request,
        relay_state: form.relay_state.as_deref(),
    };
    match slo::receive_logout(&idp(&st, &tenant), incoming, session.as_ref()).await {
        Ok(outcome) => respond_logout(&st, lang, &tenant, outcome),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    journey: Option<String>,
}

/// IdP-initiated Single Logout: the next SP of the journey the portal's logout started
/// (`kakehashi_core::saml_idp::propagate`), or "signed out" when all were told.
pub async fn slo_next(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(None, &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let journey = q.journey.unwrap_or_default();
    match propagate::next(&idp(&st, &tenant), &journey).await {
        Ok(step) => respond_step(lang, &tenant, Ok(step)),
        Err(e) => failed(e),
    }
}

/// Turns a step of a logout journey into the browser's next move.
fn respond_step(lang: Lang, tenant: &TenantId, step: Result<Step, ResponseRefused>) -> Response {
    match step {
        Ok(Step::Redirect(location)) => see_other(&location, &[]),
        Ok(Step::Post(post)) => {
            pages::post_message_page(&post, kakehashi_saml::binding::MessageParam::Request)
        }
        // The SP that asked for the logout gets its LogoutResponse last (Bindings 3.5.4).
        Ok(Step::Answer(post)) => pages::post_page(&post),
        // RP-Initiated Logout: the client's post_logout_redirect_uri.
        Ok(Step::Done { then: Some(to), .. }) => see_other(&to, &[]),
        Ok(Step::Done { then: None, .. }) => see_other(
            &format!("/t/{tenant}/login?lang={}&logged_out=1", lang.code()),
            &[],
        ),
        Err(refused) => {
            let kind = match refused {
                ResponseRefused::Malformed(_) => sso::RefusalKind::Malformed,
                ResponseRefused::Untrusted(_) => sso::RefusalKind::Untrusted,
                ResponseRefused::Unexpected => sso::RefusalKind::Expired,
            };
            tracing::warn!(tenant = %tenant, error = %refused, "LogoutResponse refused");
            pages::refused(
                lang,
                &sso::Refusal {
                    kind,
                    detail: refused.to_string(),
                },
            )
        }
    }
}

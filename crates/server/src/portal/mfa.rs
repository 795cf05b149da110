//! The second-factor endpoints (docs/MFA.md). Thin: session and CSRF checks, then
//! `kakehashi_core::mfa`. The WebAuthn ceremony endpoints take and give JSON (the page's
//! script calls them with the session's CSRF token in `X-CSRF-Token`); the rest are forms.
//!
//! - `GET  /t/{tenant}/mfa` — the user's factors; register, remove; backup codes.
//! - `GET  /t/{tenant}/mfa/verify?return_to=…` — the step-up page on its own.
//! - `POST /t/{tenant}/mfa/webauthn/register/{start,finish}` — registration ceremony.
//! - `POST /t/{tenant}/mfa/webauthn/authenticate/{start,finish}` — the second factor.
//! - `POST /t/{tenant}/mfa/backup-codes` — new backup codes, shown once.
//! - `POST /t/{tenant}/mfa/backup-code` — a backup code as the second factor.
//! - `POST /t/{tenant}/mfa/credentials/remove` — remove a credential.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kakehashi_core::apps::SecurityClass;
use kakehashi_core::mfa::webauthn::{self, AuthenticatorKind, RelyingParty};
use kakehashi_core::mfa::{backup_codes, factors, policy, totp, MfaError};
use kakehashi_core::portal::session::PortalSession;
use kakehashi_core::portal::token;
use kakehashi_core::SystemClock;
use kakehashi_store::TenantId;
use serde::Deserialize;

use super::handlers::{current_session, login_redirect, tenant_of};
use super::http::{html, safe_return_to, see_other, url_encode, Lang};
use super::mfa_pages::{self, SecurityPage, StepUpPage};
use super::pages;
use crate::AppState;

pub(crate) fn failed(e: MfaError) -> Response {
    tracing::error!(error = %e, "second-factor request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

pub(crate) fn json_error(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": error, "message": message })),
    )
        .into_response()
}

/// The JSON answer for a factor error the user can cause, or a 500.
fn json_refusal(e: MfaError) -> Response {
    let (status, code) = match &e {
        MfaError::Rejected(_) => (StatusCode::BAD_REQUEST, "rejected"),
        MfaError::NoCeremony => (StatusCode::CONFLICT, "no_ceremony"),
        MfaError::AaguidNotAllowed { .. } => (StatusCode::FORBIDDEN, "aaguid_not_allowed"),
        MfaError::AttestationRequired => (StatusCode::FORBIDDEN, "attestation_required"),
        MfaError::NoCredentials => (StatusCode::CONFLICT, "no_credentials"),
        MfaError::EnrolmentNotAllowed(_) => (StatusCode::FORBIDDEN, "enrolment_not_allowed"),
        _ => return failed(e),
    };
    json_error(status, code, &e.to_string())
}

// The error is the page to answer with, built once and returned at once; not worth a box.
#[allow(clippy::result_large_err)]
pub(crate) fn relying_party(st: &AppState) -> Result<&RelyingParty, Response> {
    st.relying_party.as_ref().as_ref().map_err(|why| {
        tracing::error!(error = %why, "WebAuthn is not available");
        json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "webauthn_unavailable",
            "WebAuthn is not available on this server (see the server log)",
        )
    })
}

/// The session of a JSON call, after the CSRF header check.
async fn json_session(
    st: &AppState,
    raw: &str,
    headers: &HeaderMap,
) -> Result<(TenantId, PortalSession), Response> {
    let Ok(tenant) = TenantId::parse(raw) else {
        return Err(json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such tenant",
        ));
    };
    let session = match current_session(st, &tenant, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(json_error(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "sign in first",
            ))
        }
        Err(e) => return Err(super::handlers::internal(e)),
    };
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !token::same(&session.csrf_secret, sent) {
        return Err(json_error(
            StatusCode::FORBIDDEN,
            "csrf",
            "the request did not come from the portal's page",
        ));
    }
    Ok((tenant, session))
}

/// After a second factor: this browser is a known device of the user from now on (the risk
/// engine's `new-device` signal). A failure here is logged, not shown: the factor was proved.
async fn remember_device(st: &AppState, session: &PortalSession, headers: &HeaderMap) {
    if let Ok(Some(id)) = super::handlers::device_of(st, &session.tenant, headers).await {
        if let Err(e) = kakehashi_core::mfa::risk::remember_device(
            &st.store,
            &SystemClock,
            &session.tenant,
            &session.user.sourced_id,
            &id,
            &session.user_agent,
        )
        .await
        {
            tracing::warn!(error = %e, "could not remember the device");
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MfaQuery {
    lang: Option<String>,
    return_to: Option<String>,
    class: Option<String>,
}

fn class_word(class: Option<&str>) -> &'static str {
    match class {
        Some("learning") => "learning",
        _ => "school-affairs",
    }
}

/// The step-up page: the app (if any) needs a fresh second factor; `return_to` is where the
/// browser goes once it is proved. 403 when it stands in for the app, 200 when asked for.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn step_up_response(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    session: &PortalSession,
    app_name: Option<&str>,
    security_class: &str,
    return_to: &str,
    status: StatusCode,
    notice: Option<&str>,
) -> Response {
    let fs = match factors::of_user(&st.store, tenant, &session.user.sourced_id).await {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    // "Why was I asked?" when the risk engine asked this login.
    let why = if session.risk_step_up_pending() {
        match kakehashi_core::mfa::risk::why_asked(&st.store, tenant, &session.user.sourced_id)
            .await
        {
            Ok(w) => w,
            Err(e) => return failed(e),
        }
    } else {
        Vec::new()
    };
    let body = mfa_pages::step_up(&StepUpPage {
        lang,
        tenant: tenant.as_str(),
        app_name,
        csrf: &session.csrf_secret,
        return_to,
        security_class,
        factors: &fs,
        notice,
        why: &why,
    });
    html(status, body, &[])
}

pub async fn verify_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let here = format!("/t/{tenant}/mfa/verify");
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return login_redirect(&tenant, lang, &here),
        Err(e) => return super::handlers::internal(e),
    };
    let next = q
        .return_to
        .as_deref()
        .and_then(|r| safe_return_to(tenant.as_str(), r))
        .unwrap_or_else(|| format!("/t/{tenant}/"));
    step_up_response(
        &st,
        lang,
        &tenant,
        &session,
        None,
        class_word(q.class.as_deref()),
        &next,
        StatusCode::OK,
        None,
    )
    .await
}

async fn render_security(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    session: &PortalSession,
    next: &str,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let fs = match factors::of_user(&st.store, tenant, &session.user.sourced_id).await {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    let pol = match policy::load(&st.store, tenant).await {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let refusal =
        match webauthn::may_enrol(session, fs.any(), &pol, time::OffsetDateTime::now_utc()) {
            Ok(()) => None,
            Err(MfaError::EnrolmentNotAllowed(_)) if fs.any() => Some(pages::t(
                lang,
                "キーを追加・削除するには、先に登録済みの二要素認証で確認してください。",
                "To add or remove a key, first confirm with a second factor you already have.",
            )),
            Err(MfaError::EnrolmentNotAllowed(_)) => Some(pages::t(
                lang,
                "最初のセキュリティキーは、学校のネットワークから登録してください。",
                "Register your first security key from a school network.",
            )),
            Err(e) => return failed(e),
        };
    let body = mfa_pages::security(&SecurityPage {
        lang,
        tenant: tenant.as_str(),
        csrf: &session.csrf_secret,
        factors: &fs,
        enrol_refusal: refusal,
        next,
        notice,
        totp_enabled: pol.totp_enabled,
    });
    html(status, body, &[])
}

pub async fn security_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return login_redirect(&tenant, lang, &format!("/t/{tenant}/mfa")),
        Err(e) => return super::handlers::internal(e),
    };
    let here = format!("/t/{tenant}/mfa?lang={}", lang.code());
    let next = q
        .return_to
        .as_deref()
        .and_then(|r| safe_return_to(tenant.as_str(), r))
        .unwrap_or(here);
    render_security(&st, lang, &tenant, &session, &next, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RegisterStart {
    kind: String,
}

pub async fn register_start(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RegisterStart>,
) -> Response {
    let (_, session) = match json_session(&st, &raw, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rp = match relying_party(&st) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let Some(kind) = AuthenticatorKind::parse(&body.kind) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "kind must be security-key or platform",
        );
    };
    match webauthn::start_registration(&st.store, &SystemClock, rp, &session, kind).await {
        Ok(options) => Json(options).into_response(),
        Err(e) => json_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct RegisterFinish {
    #[serde(default)]
    name: String,
    credential: serde_json::Value,
}

pub async fn register_finish(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RegisterFinish>,
) -> Response {
    let (_, session) = match json_session(&st, &raw, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rp = match relying_party(&st) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    match webauthn::finish_registration(
        &st.store,
        &SystemClock,
        rp,
        &session,
        &body.name,
        &body.credential,
    )
    .await
    {
        Ok(c) => Json(serde_json::json!({ "registered": c })).into_response(),
        Err(e) => json_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct AuthenticateStart {
    class: Option<String>,
}

pub async fn authenticate_start(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Json(body): Json<AuthenticateStart>,
) -> Response {
    let (_, session) = match json_session(&st, &raw, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rp = match relying_party(&st) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let class = match body.class.as_deref() {
        Some("learning") => SecurityClass::Learning,
        _ => SecurityClass::SchoolAffairs,
    };
    match webauthn::start_authentication(&st.store, &SystemClock, rp, &session, class).await {
        Ok(options) => Json(options).into_response(),
        Err(e) => json_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct AuthenticateFinish {
    credential: serde_json::Value,
}

pub async fn authenticate_finish(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Json(body): Json<AuthenticateFinish>,
) -> Response {
    let (_, session) = match json_session(&st, &raw, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rp = match relying_party(&st) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    match webauthn::finish_authentication(&st.store, &SystemClock, rp, &session, &body.credential)
        .await
    {
        Ok(amr) => {
            remember_device(&st, &session, &headers).await;
            Json(serde_json::json!({ "amr": amr })).into_response()
        }
        Err(e) => json_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct BackupCodeForm {
    csrf: Option<String>,
    code: Option<String>,
    return_to: Option<String>,
    security_class: Option<String>,
}

/// The session of a form post, after the CSRF field check; else the page to answer with.
async fn form_session(
    st: &AppState,
    raw: &str,
    lang: Lang,
    headers: &HeaderMap,
    csrf: Option<&str>,
    back: &str,
) -> Result<(TenantId, PortalSession), Response> {
    let (tenant, _) = tenant_of(st, raw, lang).await?;
    let session = match current_session(st, &tenant, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(login_redirect(&tenant, lang, back)),
        Err(e) => return Err(super::handlers::internal(e)),
    };
    if !token::same(&session.csrf_secret, csrf.unwrap_or("")) {
        return Err(html(
            StatusCode::FORBIDDEN,
            pages::forbidden(lang, tenant.as_str()),
            &[],
        ));
    }
    Ok((tenant, session))
}

pub async fn backup_code(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
    Form(form): Form<BackupCodeForm>,
) -> Response {
    code_factor(&st, &raw, q, &headers, form, CodeFactor::Backup).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn new_backup_codes(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let back = format!("/t/{raw}/mfa");
    let (tenant, session) =
        match form_session(&st, &raw, lang, &headers, form.csrf.as_deref(), &back).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    if let Some(r) = enrol_gate(&st, lang, &tenant, &session).await {
        return r;
    }
    match backup_codes::generate(&st.store, &SystemClock, &session).await {
        Ok(codes) => {
            let mut r = html(
                StatusCode::OK,
                mfa_pages::backup_codes(lang, tenant.as_str(), &codes),
                &[],
            );
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => failed(e),
    }
}

/// Changing factors needs what adding one needs (`webauthn::may_enrol`): else the step-up
/// page, coming back to the settings.
async fn enrol_gate(
    st: &AppState,
    lang: Lang,
    tenant: &TenantId,
    session: &PortalSession,
) -> Option<Response> {
    let fs = match factors::of_user(&st.store, tenant, &session.user.sourced_id).await {
        Ok(f) => f,
        Err(e) => return Some(failed(e)),
    };
    let pol = match policy::load(&st.store, tenant).await {
        Ok(p) => p,
        Err(e) => return Some(failed(e)),
    };
    match webauthn::may_enrol(session, fs.any(), &pol, time::OffsetDateTime::now_utc()) {
        Ok(()) => None,
        Err(MfaError::EnrolmentNotAllowed(_)) => {
            let back = format!("/t/{tenant}/mfa?lang={}", lang.code());
            Some(
                render_security(
                    st,
                    lang,
                    tenant,
                    session,
                    &back,
                    None,
                    StatusCode::FORBIDDEN,
                )
                .await,
            )
        }
        Err(e) => Some(failed(e)),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: Option<String>,
    id: Option<String>,
}

pub async fn remove_credential(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let back = format!("/t/{raw}/mfa");
    let (tenant, session) =
        match form_session(&st, &raw, lang, &headers, form.csrf.as_deref(), &back).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    if let Some(r) = enrol_gate(&st, lang, &tenant, &session).await {
        return r;
    }
    let id = form.id.unwrap_or_default();
    match factors::remove(&st.store, &SystemClock, &session, &id).await {
        Ok(_) => see_other(
            &format!("/t/{tenant}/mfa?lang={}", url_encode(lang.code())),
            &[],
        ),
        Err(e) => failed(e),
    }
}

/// `POST /t/{tenant}/mfa/totp/enrol`: a new TOTP secret, shown once with a confirm form.
pub async fn totp_enrol(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let back = format!("/t/{raw}/mfa");
    let (tenant, session) =
        match form_session(&st, &raw, lang, &headers, form.csrf.as_deref(), &back).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    match totp::begin(&st.store, &SystemClock, &st.master_key, &session).await {
        Ok(e) => {
            let mut r = html(
                StatusCode::OK,
                mfa_pages::totp_enrolment(lang, tenant.as_str(), &session.csrf_secret, &e),
                &[],
            );
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(MfaError::EnrolmentNotAllowed(why)) => {
            let here = format!("/t/{tenant}/mfa?lang={}", lang.code());
            let why = match why {
                w if w.contains("not enabled") => pages::t(
                    lang,
                    "この自治体では認証アプリは使えません。",
                    "Authenticator apps are not enabled here.",
                ),
                _ => pages::t(
                    lang,
                    "キーを追加するには、先に登録済みの二要素認証で確認してください。",
                    "To add a factor, first confirm with one you already have.",
                ),
            };
            render_security(
                &st,
                lang,
                &tenant,
                &session,
                &here,
                Some(why),
                StatusCode::FORBIDDEN,
            )
            .await
        }
        Err(e) => failed(e),
    }
}

/// `POST /t/{tenant}/mfa/totp`: a TOTP code as the second factor (or to confirm enrolment).
pub async fn totp_code(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<MfaQuery>,
    headers: HeaderMap,
    Form(form): Form<BackupCodeForm>,
) -> Response {
    code_factor(&st, &raw, q, &headers, form, CodeFactor::Totp).await
}

/// A second factor typed as a code.
#[derive(Clone, Copy)]
enum CodeFactor {
    Backup,
    Totp,
}

/// Checks a typed code (a backup code or a TOTP code) for the session and sends the browser
/// on, or back to the step-up page saying the code was wrong.
async fn code_factor(
    st: &AppState,
    raw: &str,
    q: MfaQuery,
    headers: &HeaderMap,
    form: BackupCodeForm,
    kind: CodeFactor,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), headers);
    let launcher = format!("/t/{raw}/");
    let (tenant, session) =
        match form_session(st, raw, lang, headers, form.csrf.as_deref(), &launcher).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let next = form
        .return_to
        .as_deref()
        .and_then(|r| safe_return_to(tenant.as_str(), r))
        .unwrap_or_else(|| format!("/t/{tenant}/"));
    let code = form.code.unwrap_or_default();
    let (verified, wrong) = match kind {
        CodeFactor::Backup => (
            backup_codes::redeem(&st.store, &SystemClock, &session, &code).await,
            pages::t(
                lang,
                "バックアップコードが違うか、すでに使われています。",
                "The backup code is wrong or has been used already.",
            ),
        ),
        CodeFactor::Totp => (
            totp::verify(&st.store, &SystemClock, &st.master_key, &session, &code).await,
            pages::t(
                lang,
                "コードが違うか、すでに使われています。",
                "The code is wrong or has been used already.",
            ),
        ),
    };
    let back = |status: StatusCode, notice: &'static str| {
        step_up_response(
            st,
            lang,
            &tenant,
            &session,
            None,
            class_word(form.security_class.as_deref()),
            &next,
            status,
            Some(notice),
        )
    };
    match verified {
        Ok(true) => {
            remember_device(st, &session, headers).await;
            see_other(&next, &[])
        }
        Ok(false) => back(StatusCode::UNAUTHORIZED, wrong).await,
        Err(MfaError::Throttled { retry_after_secs }) => {
            let wait = pages::t(
                lang,
                "間違ったコードが続いたため、しばらく入力できません。少し待ってからもう一度お試しください。",
                "Too many wrong codes: wait a little, then try again.",
            );
            let mut resp = back(StatusCode::TOO_MANY_REQUESTS, wait).await;
            // RFC 6585 section 4: a 429 may say how long to wait.
            if let Ok(v) = retry_after_secs.to_string().parse() {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
            resp
        }
        Err(e) => failed(e),
    }
}

//! Portal handlers: HTTP in, `kakehashi_core::portal` calls, pages out.

use axum::extract::{Form, Path, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use kakehashi_core::portal::login::{self, LoginAttempt, LoginOutcome};
use kakehashi_core::portal::session::{self, PortalSession};
use kakehashi_core::portal::token::{self, SessionToken};
use kakehashi_core::portal::{launcher as apps, login_csrf_key, PortalError};
use kakehashi_core::SystemClock;
use kakehashi_store::TenantId;
use serde::Deserialize;

use super::http::{
    clear_cookie, client_ip, cookies, html, safe_return_to, see_other, set_cookie, url_encode,
    Lang, LOGIN_COOKIE, SESSION_COOKIE,
};
use super::pages::{self, LauncherPage, LoginPage, Notice};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub(crate) lang: Option<String>,
    pub(crate) return_to: Option<String>,
    pub(crate) logged_out: Option<String>,
    /// `login` when a fresh login is needed (OIDC Core 3.1.2.1 `prompt=login`, `max_age`;
    /// SAML Core 3.4.1 `ForceAuthn`): the form is shown even to a signed-in browser.
    pub(crate) prompt: Option<String>,
    /// The class an LTI tool's tile opens in (`/t/{tenant}/launch/{id}?class=`).
    pub(crate) class: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    username: Option<String>,
    password: Option<String>,
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub(crate) fn internal(e: PortalError) -> Response {
    tracing::error!(error = %e, "portal request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

/// The tenant of the path and its display name, or the 404 page.
pub(crate) async fn tenant_of(
    st: &AppState,
    raw: &str,
    lang: Lang,
) -> Result<(TenantId, String), Response> {
    let nf = || html(StatusCode::NOT_FOUND, pages::not_found(lang), &[]);
    let Ok(id) = TenantId::parse(raw) else {
        return Err(nf());
    };
    match crate::oidc::tenant_name(st, &id).await {
        Ok(Some(name)) => Ok((id, name)),
        Ok(None) => Err(nf()),
        Err(e) => Err(internal(e.into())),
    }
}

pub(crate) fn secure(st: &AppState) -> bool {
    st.public_url.starts_with("https://")
}

/// The live session of the request's cookie in this tenant, if any.
pub(crate) async fn current_session(
    st: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
) -> Result<Option<PortalSession>, PortalError> {
    for raw in cookies(headers, SESSION_COOKIE) {
        if let Some(tok) = SessionToken::parse(raw) {
            if let Some(s) = session::resume(&st.store, &SystemClock, tenant, &tok).await? {
                return judged(st, s, headers).await;
            }
        }
    }
    Ok(None)
}

/// A resumed session as this request sees it: its `ip` becomes the request's address; the
/// shared-device rules may end it; another user agent than the session signed in with may
/// drop its second factor or end it (`mfa::risk::judge_session_user_agent`).
async fn judged(
    st: &AppState,
    s: PortalSession,
    headers: &HeaderMap,
) -> Result<Option<PortalSession>, PortalError> {
    use kakehashi_core::mfa::risk::{judge_session_user_agent, SessionVerdict};
    // From here on the session is judged from where this request comes (school networks,
    // off-site freshness, shared devices), not where it signed in.
    let mut s = s;
    if let Some(ip) = super::http::request_ip() {
        s.ip = ip;
    }
    // Shared-device mode: idle and lesson-period ends sign the session out.
    let policy = kakehashi_core::mfa::policy::load(&st.store, &s.tenant)
        .await
        .map_err(|e| PortalError::Mfa(e.to_string()))?;
    let now = time::OffsetDateTime::now_utc();
    if let Some(why) =
        kakehashi_core::mfa::shared_device::ends(&policy, &s.ip, &s.last_seen_at, now)
    {
        tracing::info!(reason = ?why, "shared-device session ended");
        session::logout(&st.store, &SystemClock, &s).await?;
        crate::backchannel::deliver_soon(st);
        return Ok(None);
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ua.chars().take(512).eq(s.user_agent.chars()) {
        return Ok(Some(s));
    }
    let ip = s.ip.clone();
    let verdict = judge_session_user_agent(&st.store, &SystemClock, &s, ua, &ip)
        .await
        .map_err(|e| PortalError::Mfa(e.to_string()))?;
    Ok(match verdict {
        SessionVerdict::Keep => Some(s),
        SessionVerdict::Ended => {
            crate::backchannel::deliver_soon(st);
            None
        }
        SessionVerdict::SecondFactorDropped => {
            s.amr.retain(|m| m == "pwd");
            s.second_factor_at = None;
            s.acr = kakehashi_oidc::discovery::ACR_PASSWORD.to_owned();
            Some(s)
        }
    })
}

/// The cookie naming this browser to the risk engine (`kakehashi_core::mfa::risk`): HttpOnly,
/// SameSite=Lax, kept 400 days (the longest browsers allow).
pub(crate) const DEVICE_COOKIE: &str = "kakehashi_device";

pub(crate) fn device_cookie(value: &str, tenant: &str, secure: bool) -> String {
    format!(
        "{DEVICE_COOKIE}={value}; Path=/t/{tenant}/; HttpOnly; SameSite=Lax; Max-Age=34560000{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The device id of the request's device cookie, when its MAC verifies.
pub(crate) async fn device_of(
    st: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
) -> Result<Option<String>, Response> {
    let key = kakehashi_core::mfa::risk::device_key(&st.store, &SystemClock)
        .await
        .map_err(super::mfa::failed)?;
    Ok(cookies(headers, DEVICE_COOKIE)
        .find_map(|v| kakehashi_core::mfa::risk::verify_device_cookie(&key, tenant, v)))
}

pub(crate) fn launcher_path(tenant: &TenantId) -> String {
    format!("/t/{tenant}/")
}

/// 303 to the tenant's login page, coming back to `return_to` (a path in this tenant) after.
pub(crate) fn login_redirect(tenant: &TenantId, lang: Lang, return_to: &str) -> Response {
    see_other(
        &format!(
            "/t/{tenant}/login?lang={}&return_to={}",
            lang.code(),
            url_encode(return_to)
        ),
        &[],
    )
}

pub async fn login_page(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, name) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let return_to = q
        .return_to
        .as_deref()
        .and_then(|r| safe_return_to(tenant.as_str(), r));
    match current_session(&st, &tenant, &headers).await {
        Ok(Some(_)) if q.prompt.as_deref() != Some("login") => {
            return see_other(&return_to.unwrap_or_else(|| launcher_path(&tenant)), &[])
        }
        Ok(Some(_)) => {}
        Ok(None) => {}
        Err(e) => return internal(e),
    }
    let notice = if q.logged_out.is_some() {
        Notice::LoggedOut
    } else {
        Notice::None
    };
    render_login(
        &st,
        &tenant,
        &name,
        lang,
        &headers,
        return_to.as_deref(),
        "",
        notice,
        StatusCode::OK,
    )
    .await
}

/// The pre-login CSRF field for a form, reusing the browser's pre-login nonce when it has a
/// valid one (else a new nonce and the cookie to set).
pub(crate) async fn login_csrf_for(
    st: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
) -> Result<(String, Vec<String>), Response> {
    let key = login_csrf_key(&st.store, &SystemClock)
        .await
        .map_err(internal)?;
    let existing = cookies(headers, LOGIN_COOKIE)
        .find(|n| token::is_hex_token(n))
        .map(str::to_owned);
    let (nonce, set) = match existing {
        Some(n) => (n, vec![]),
        None => {
            let n = token::random_hex().map_err(internal)?;
            let c = set_cookie(LOGIN_COOKIE, &n, tenant.as_str(), secure(st));
            (n, vec![c])
        }
    };
    Ok((token::login_csrf(&key, tenant.as_str(), &nonce), set))
}

/// Checks a pre-login form's CSRF field against the browser's pre-login cookie; the 403 page
/// otherwise.
pub(crate) async fn check_login_csrf(
    st: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
    field: Option<&str>,
    lang: Lang,
) -> Result<(), Response> {
    let key = login_csrf_key(&st.store, &SystemClock)
        .await
        .map_err(internal)?;
    let field = field.unwrap_or("");
    if cookies(headers, LOGIN_COOKIE)
        .any(|nonce| token::check_login_csrf(&key, tenant.as_str(), nonce, field))
    {
        Ok(())
    } else {
        Err(html(
            StatusCode::FORBIDDEN,
            pages::forbidden(lang, tenant.as_str()),
            &[],
        ))
    }
}

/// Renders the login form, reusing the pre-login nonce when the browser has a valid one.
#[allow(clippy::too_many_arguments)]
async fn render_login(
    st: &AppState,
    tenant: &TenantId,
    tenant_name: &str,
    lang: Lang,
    headers: &HeaderMap,
    return_to: Option<&str>,
    username: &str,
    notice: Notice,
    status: StatusCode,
) -> Response {
    let (csrf, set) = match login_csrf_for(st, tenant, headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The passkey button: when WebAuthn works on this server and the tenant allows staff
    // passkeys (a policy that cannot be read hides the button; the form still works).
    let passkey = st.relying_party.as_ref().is_ok()
        && kakehashi_core::mfa::policy::load(&st.store, tenant)
            .await
            .is_ok_and(|p| p.staff_passkeys);
    let body = pages::login(&LoginPage {
        lang,
        tenant: tenant.as_str(),
        tenant_name,
        csrf: &csrf,
        return_to,
        username,
        notice,
        passkey,
    });
    let mut resp = html(status, body, &set);
    // Signing in to continue an authorization request ends at the client: the form's
    // redirects must be allowed to lead there (see `continuation_origin`).
    if let Some(r) = return_to {
        if let Some(origin) = crate::oidc::authorize::continuation_origin(st, tenant, r).await {
            if let Ok(v) = HeaderValue::from_str(&super::http::csp_with_form_action(&origin)) {
                resp.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    resp
}

pub async fn login_submit(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    ext: Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, name) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match login_csrf_key(&st.store, &SystemClock).await {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    let field = form.csrf.as_deref().unwrap_or("");
    let csrf_ok = cookies(&headers, LOGIN_COOKIE)
        .any(|nonce| token::check_login_csrf(&key, tenant.as_str(), nonce, field));
    if !csrf_ok {
        return html(
            StatusCode::FORBIDDEN,
            pages::forbidden(lang, tenant.as_str()),
            &[],
        );
    }
    let return_to = form
        .return_to
        .as_deref()
        .and_then(|r| safe_return_to(tenant.as_str(), r));
    let username = form.username.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let ip = client_ip(&ext);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let old: Vec<SessionToken> = cookies(&headers, SESSION_COOKIE)
        .filter_map(SessionToken::parse)
        .collect();
    // The risk engine's device cookie: the browser's id when its MAC verifies, else a new one
    // (set with the session below).
    let (device, new_device_cookie) = match device_of(&st, &tenant, &headers).await {
        Ok(Some(id)) => (id, None),
        Ok(None) => match token::random_hex() {
            Ok(id) => {
                let key = match kakehashi_core::mfa::risk::device_key(&st.store, &SystemClock).await
                {
                    Ok(k) => k,
                    Err(e) => return super::mfa::failed(e),
                };
                let value = kakehashi_core::mfa::risk::device_cookie(&key, &tenant, &id);
                (
                    id,
                    Some(device_cookie(&value, tenant.as_str(), secure(&st))),
                )
            }
            Err(e) => return internal(e),
        },
        Err(r) => return r,
    };
    let attempt = LoginAttempt {
        tenant: &tenant,
        username: &username,
        password: &password,
        ip: &ip,
        user_agent,
        replaces: old.first(),
        device: Some(&device),
    };
    let outcome = match login::attempt(&st.store, &SystemClock, &attempt).await {
        Ok(o) => o,
        Err(e) => return internal(e),
    };
    let (notice, status) = match outcome {
        LoginOutcome::Success { token, step_up, .. } => {
            if !old.is_empty() {
                // The session this login replaced may have queued Logout Tokens.
                crate::backchannel::deliver_soon(&st);
            }
            let sec = secure(&st);
            let mut cookies = vec![
                set_cookie(SESSION_COOKIE, token.expose(), tenant.as_str(), sec),
                clear_cookie(LOGIN_COOKIE, tenant.as_str(), sec),
            ];
            cookies.extend(new_device_cookie);
            let next = return_to.unwrap_or_else(|| launcher_path(&tenant));
            // The risk engine asked for the second factor: its page first, then `next`.
            let next = if step_up {
                format!(
                    "/t/{tenant}/mfa/verify?lang={}&return_to={}",
                    lang.code(),
                    url_encode(&next)
                )
            } else {
                next
            };
            return see_other(&next, &cookies);
        }
        LoginOutcome::RiskDenied => (Notice::RiskDenied, StatusCode::FORBIDDEN),
        LoginOutcome::Failed => (Notice::BadCredentials, StatusCode::UNAUTHORIZED),
        LoginOutcome::Delayed { retry_after_secs } => {
            let mut r = render_login(
                &st,
                &tenant,
                &name,
                lang,
                &headers,
                return_to.as_deref(),
                username.trim(),
                Notice::Delayed(retry_after_secs),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        LoginOutcome::Locked => (Notice::Locked, StatusCode::LOCKED),
    };
    render_login(
        &st,
        &tenant,
        &name,
        lang,
        &headers,
        return_to.as_deref(),
        username.trim(),
        notice,
        status,
    )
    .await
}

pub async fn logout(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // RP-Initiated Logout 1.0 §2: the OpenID Provider's end-session endpoint shares this
    // path and takes POST too; such a request has OIDC parameters and no portal CSRF field.
    let fields = kakehashi_oidc::params::Params::from_urlencoded(&String::from_utf8_lossy(&body));
    if fields.get("csrf").is_none()
        && [
            "id_token_hint",
            "client_id",
            "post_logout_redirect_uri",
            "logout_hint",
        ]
        .iter()
        .any(|k| fields.get(k).is_some())
    {
        let query = String::from_utf8_lossy(&body).into_owned();
        return crate::oidc::end_session_post(st, raw, query, headers).await;
    }
    let form = CsrfForm {
        csrf: fields.get("csrf").map(str::to_owned),
    };
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, _) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let login = format!("/t/{tenant}/login?lang={}&logged_out=1", lang.code());
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        // No session: nothing to end.
        Ok(None) => return see_other(&login, &[]),
        Err(e) => return internal(e),
    };
    if !token::same(&session.csrf_secret, form.csrf.as_deref().unwrap_or("")) {
        return html(
            StatusCode::FORBIDDEN,
            pages::forbidden(lang, tenant.as_str()),
            &[],
        );
    }
    let ended = session::logout(&st.store, &SystemClock, &session).await;
    // Logout Tokens for the back-channel apps were queued with the session's end.
    crate::backchannel::deliver_soon(&st);
    let next = match ended {
        // SAML SPs to tell (IdP-initiated Single Logout): the browser visits each in turn.
        Ok(Some(journey)) => format!("/t/{tenant}/saml/slo/next?journey={}", url_encode(&journey)),
        Ok(None) => login,
        Err(e) => return internal(e),
    };
    see_other(
        &next,
        &[clear_cookie(SESSION_COOKIE, tenant.as_str(), secure(&st))],
    )
}

pub async fn to_launcher(Path(raw): Path<String>) -> Response {
    match TenantId::parse(&raw) {
        Ok(t) => see_other(&launcher_path(&t), &[]),
        Err(_) => html(StatusCode::NOT_FOUND, pages::not_found(Lang::Ja), &[]),
    }
}

pub async fn launcher(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let (tenant, name) = match tenant_of(&st, &raw, lang).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            // Back to the launcher in the language the visitor asked for, not the default.
            let back = match q.lang.as_deref() {
                Some(l @ ("ja" | "en")) => format!("{}?lang={l}", launcher_path(&tenant)),
                _ => launcher_path(&tenant),
            };
            return login_redirect(&tenant, lang, &back);
        }
        Err(e) => return internal(e),
    };
    if session.risk_step_up_pending() {
        return see_other(
            &format!(
                "/t/{tenant}/mfa/verify?lang={}&return_to={}",
                lang.code(),
                url_encode(&launcher_path(&tenant))
            ),
            &[],
        );
    }
    let list = match apps::apps_for(&st.store, &tenant, &session.user.role).await {
        Ok(l) => l,
        Err(e) => return internal(e.into()),
    };
    let classes = match kakehashi_core::lti::classes::materials_for(
        &st.store,
        &tenant,
        &session.user,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return internal(e.into()),
    };
    let body = pages::launcher(&LauncherPage {
        lang,
        tenant: tenant.as_str(),
        tenant_name: &name,
        user: &session.user,
        csrf: &session.csrf_secret,
        apps: &list,
        classes: &classes,
    });
    html(StatusCode::OK, body, &[])
}

pub async fn icon(
    State(st): State<AppState>,
    Path((raw, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found\n").into_response();
    let Ok(tenant) = TenantId::parse(&raw) else {
        return not_found();
    };
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(e) => return internal(e),
    };
    let (ctype, b64) = match apps::icon_for(&st.store, &tenant, &session.user.role, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return internal(e.into()),
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) else {
        return not_found();
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    // Only image types the catalog accepted are stored; anything else is served as bytes.
    let ctype = if ctype.starts_with("image/") {
        ctype
    } else {
        "application/octet-stream".to_owned()
    };
    if let Ok(v) = HeaderValue::from_str(&ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    super::http::harden(h);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    resp
}

/// A built-in asset: its bytes with a content type, `nosniff` and a public cache lifetime.
pub(crate) fn static_asset(
    body: &'static str,
    content_type: &'static str,
    max_age: &'static str,
) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(max_age));
    resp
}

/// The portal's icon (SVG), linked from every page and also served as `/favicon.ico`: without
/// one, browsers fetch `/favicon.ico`, get a 404 and log a console error on every page.
pub async fn icon_svg() -> Response {
    let mut resp = static_asset(pages::ICON_SVG, "image/svg+xml", "public, max-age=86400");
    // An SVG opened on its own is a document: no script, nothing loaded from elsewhere.
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    resp
}

pub async fn css() -> Response {
    static_asset(
        pages::CSS,
        "text/css; charset=utf-8",
        "public, max-age=3600",
    )
}

/// The login page's passkey script (`assets/passkey.js` after the shared
/// `assets/webauthn_common.js`).
pub async fn passkey_js() -> Response {
    static_asset(
        concat!(
            include_str!("assets/webauthn_common.js"),
            include_str!("assets/passkey.js")
        ),
        "text/javascript; charset=utf-8",
        "public, max-age=3600",
    )
}

/// The WebAuthn ceremonies' script (`assets/webauthn.js` after the shared
/// `assets/webauthn_common.js`).
pub async fn webauthn_js() -> Response {
    static_asset(
        concat!(
            include_str!("assets/webauthn_common.js"),
            include_str!("assets/webauthn.js")
        ),
        "text/javascript; charset=utf-8",
        "public, max-age=3600",
    )
}

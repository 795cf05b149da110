//! Signing in with a passkey from the login page (docs/MFA.md, "Passkey sign-in"). Thin: the
//! pre-login CSRF check (the login form's token in `X-CSRF-Token`, verified against the
//! browser's pre-login cookie, whose nonce also keys the ceremony), then
//! `kakehashi_core::portal::passkey`, and JSON back to `assets/passkey.js`.
//!
//! - `POST /t/{tenant}/login/passkey/start` — the `PublicKeyCredentialRequestOptions`.
//! - `POST /t/{tenant}/login/passkey/finish` — `{credential, return_to}`; on success the
//!   session cookie and `{"next": path}`; any refusal is one 401 `passkey_failed`.

use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kakehashi_core::portal::login_csrf_key;
use kakehashi_core::portal::passkey::{self, PasskeyAttempt, PasskeyOutcome};
use kakehashi_core::portal::token::{self, SessionToken};
use kakehashi_core::SystemClock;
use kakehashi_store::TenantId;
use serde::Deserialize;

use super::handlers::{device_cookie, device_of, internal, launcher_path, secure};
use super::http::{clear_cookie, client_ip, cookies, safe_return_to, set_cookie};
use super::http::{LOGIN_COOKIE, SESSION_COOKIE};
use super::mfa::{json_error, relying_party};
use crate::AppState;

/// The one answer for every refused passkey login (which of them is in the audit log).
fn refused() -> Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        "passkey_failed",
        "the passkey sign-in was not accepted",
    )
}

/// The tenant and the pre-login nonce whose CSRF token the request carries.
async fn prelogin(
    st: &AppState,
    raw: &str,
    headers: &HeaderMap,
) -> Result<(TenantId, String), Response> {
    let Ok(tenant) = TenantId::parse(raw) else {
        return Err(json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such tenant",
        ));
    };
    match crate::oidc::tenant_name(st, &tenant).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such tenant",
            ))
        }
        Err(e) => return Err(internal(e.into())),
    }
    let key = login_csrf_key(&st.store, &SystemClock)
        .await
        .map_err(internal)?;
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    cookies(headers, LOGIN_COOKIE)
        .find(|nonce| token::check_login_csrf(&key, tenant.as_str(), nonce, sent))
        .map(|nonce| (tenant.clone(), nonce.to_owned()))
        .ok_or_else(|| {
            json_error(
                StatusCode::FORBIDDEN,
                "csrf",
                "the request did not come from the login page (reload it)",
            )
        })
}

pub async fn start(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (tenant, nonce) = match prelogin(&st, &raw, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rp = match relying_party(&st) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    match passkey::start(&st.store, &SystemClock, rp, &tenant, &nonce).await {
        Ok(Some(options)) => Json(options).into_response(),
        Ok(None) => json_error(
            StatusCode::FORBIDDEN,
            "passkeys_off",
            "this tenant does not allow signing in with a passkey",
        ),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct FinishBody {
    credential: serde_json::Value,
    return_to: Option<String>,
}

pub async fn finish(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ext: Extensions,
    body: axum::body::Bytes,
) -> Response {
    let (tenant, nonce) = match prelogin(&st, &raw, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rp = match relying_party(&st) {
        Ok(rp) => rp,
        Err(r) => return r,
    };
    let Ok(body) = serde_json::from_slice::<FinishBody>(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be JSON {\"credential\": PublicKeyCredential, \"return_to\": path}",
        );
    };
    let ip = client_ip(&ext);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let old: Vec<SessionToken> = cookies(&headers, SESSION_COOKIE)
        .filter_map(SessionToken::parse)
        .collect();
    // The risk engine's device cookie, as for the password login.
    let (device, new_device_cookie) = match device_of(&st, &tenant, &headers).await {
        Ok(Some(id)) => (id, None),
        Ok(None) => {
            let Ok(id) = token::random_hex() else {
                return json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal");
            };
            let key = match kakehashi_core::mfa::risk::device_key(&st.store, &SystemClock).await {
                Ok(k) => k,
                Err(e) => return super::mfa::failed(e),
            };
            let value = kakehashi_core::mfa::risk::device_cookie(&key, &tenant, &id);
            (
                id,
                Some(device_cookie(&value, tenant.as_str(), secure(&st))),
            )
        }
        Err(r) => return r,
    };
    let attempt = PasskeyAttempt {
        tenant: &tenant,
        prelogin: &nonce,
        ip: &ip,
        user_agent,
        replaces: old.first(),
        device: Some(&device),
    };
    let outcome =
        match passkey::finish(&st.store, &SystemClock, rp, &attempt, &body.credential).await {
            Ok(o) => o,
            Err(e) => return internal(e),
        };
    match outcome {
        PasskeyOutcome::Success { token, .. } => {
            let sec = secure(&st);
            let mut set = vec![
                set_cookie(SESSION_COOKIE, token.expose(), tenant.as_str(), sec),
                clear_cookie(LOGIN_COOKIE, tenant.as_str(), sec),
            ];
            set.extend(new_device_cookie);
            let next = body
                .return_to
                .as_deref()
                .and_then(|r| safe_return_to(tenant.as_str(), r))
                .unwrap_or_else(|| launcher_path(&tenant));
            let mut resp = Json(serde_json::json!({ "next": next })).into_response();
            for c in set {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        PasskeyOutcome::Failed => refused(),
        PasskeyOutcome::RiskDenied => json_error(
            StatusCode::FORBIDDEN,
            "risk_denied",
            "this sign-in looked unusual and was refused",
        ),
        PasskeyOutcome::Delayed { retry_after_secs } => {
            let mut r = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                "delayed",
                &format!("too many failed logins; try again in {retry_after_secs} s"),
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

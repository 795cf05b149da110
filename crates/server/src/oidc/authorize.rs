//! `GET|POST /t/{tenant}/authorize` (OIDC Core 3.1.2).
//!
//! The request goes to `kakehashi_core::oauth::authorize` with the browser's portal session.
//! Signing in first goes through the portal's login page: the request travels in `return_to`
//! as `/t/{tenant}/authorize?r=<base64url(query)>` (the portal accepts only plain paths), and
//! for a fresh login (`prompt=login`, `max_age`) without `prompt` and `max_age`, so the login
//! just done satisfies it.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kakehashi_core::oauth::authorize::{self as core, AuthorizeOutcome, FRESH_LOGIN_PARAMS};
use kakehashi_oidc::authorize::AuthorizationResponse;
use kakehashi_oidc::form_post;
use kakehashi_oidc::params::Params;

use super::{issuer_of, pages, provider, tenant};
use crate::portal::handlers::current_session;
use crate::portal::http::{html, safe_return_to, see_other, url_encode, Lang};
use crate::AppState;

pub async fn authorize_get(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    run(st, raw, query.unwrap_or_default(), headers).await
}

/// OIDC Core 3.1.2.1: the endpoint supports POST with form parameters too.
pub async fn authorize_post(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    run(
        st,
        raw,
        String::from_utf8_lossy(&body).into_owned(),
        headers,
    )
    .await
}

/// The query of a request that came back from the login page (`r=`), or the request itself.
fn unwrap_query(query: String) -> String {
    let params = Params::from_urlencoded(&query);
    match params.get("r") {
        Some(r) if params.get("client_id").is_none() => URL_SAFE_NO_PAD
            .decode(r.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or(query),
        _ => query,
    }
}

/// The query without the parameters a fresh login satisfies.
fn without_fresh_login_params(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !FRESH_LOGIN_PARAMS.contains(&name)
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn run(st: AppState, raw: String, query: String, headers: HeaderMap) -> Response {
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let issuer = match issuer_of(&st, &tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let query = unwrap_query(query);
    let params = Params::from_urlencoded(&query);
    // OIDC Core 3.1.2.1 ui_locales: the first of ours the RP names, else the browser's.
    let asked = params.get("ui_locales").and_then(|l| {
        l.split(' ')
            .map(|t| t.split('-').next().unwrap_or(""))
            .find(|t| *t == "ja" || *t == "en")
    });
    let lang = Lang::pick(asked, &headers);
    let session = match current_session(&st, &tenant, &headers).await {
        Ok(s) => s,
        Err(e) => return crate::portal::handlers::internal(e),
    };
    let p = provider(&st, &tenant, &issuer);
    let outcome = match core::authorize(&p, &params, session.as_ref()).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "authorization request failed");
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::authorize_error("server_error"),
                &[],
            );
        }
    };
    match outcome {
        // OIDC Core 3.1.2.6: never redirect to an untrusted place.
        AuthorizeOutcome::ShowError(e) => html(
            StatusCode::BAD_REQUEST,
            pages::authorize_error(&e.to_string()),
            &[],
        ),
        AuthorizeOutcome::Respond(r) => respond(&r),
        AuthorizeOutcome::Login { fresh } => {
            let back_query = if fresh {
                without_fresh_login_params(&query)
            } else {
                query.clone()
            };
            let back = format!(
                "/t/{tenant}/authorize?r={}",
                URL_SAFE_NO_PAD.encode(back_query.as_bytes())
            );
            let Some(back) = safe_return_to(tenant.as_str(), &back) else {
                return html(
                    StatusCode::BAD_REQUEST,
                    pages::authorize_error("the authorization request is too long"),
                    &[],
                );
            };
            let prompt = if fresh { "&prompt=login" } else { "" };
            see_other(
                &format!(
                    "/t/{tenant}/login?lang={}&return_to={}{prompt}",
                    lang.code(),
                    url_encode(&back)
                ),
                &[],
            )
        }
        AuthorizeOutcome::SecondFactorRequired { app } => {
            // Step-up, then the same authorization request again (docs/MFA.md).
            let back = format!(
                "/t/{tenant}/authorize?r={}",
                URL_SAFE_NO_PAD.encode(query.as_bytes())
            );
            match (session.as_ref(), safe_return_to(tenant.as_str(), &back)) {
                (Some(s), Some(back)) => {
                    let mut resp =
                        crate::portal::launch::step_up(&st, lang, &tenant, s, &app, &back).await;
                    // The page's backup-code form ends at the client too (see render_login).
                    if let Some(origin) = continuation_origin(&st, &tenant, &back).await {
                        if let Ok(v) = HeaderValue::from_str(
                            &crate::portal::http::csp_with_form_action(&origin),
                        ) {
                            resp.headers_mut()
                                .insert(header::CONTENT_SECURITY_POLICY, v);
                        }
                    }
                    resp
                }
                _ => html(
                    StatusCode::FORBIDDEN,
                    crate::portal::pages::second_factor_required(lang, tenant.as_str(), &app.name),
                    &[],
                ),
            }
        }
    }
}

/// Where a browser signing in on the login page with this `return_to` is sent at the end:
/// the origin of the redirect URI, when `return_to` continues an authorization request of a
/// registered client to one of its registered redirect URIs. The login page's CSP
/// `form-action` must allow it, because browsers apply `form-action` to every redirect that
/// follows a form submission (CSP 3 §6.4.1: login POST → 303 authorize → 303 client), and a
/// form that may post only to `'self'` would otherwise stop the sign-in short of the client.
pub(crate) async fn continuation_origin(
    st: &AppState,
    tenant: &kakehashi_store::TenantId,
    return_to: &str,
) -> Option<String> {
    let query = return_to.strip_prefix(&format!("/t/{tenant}/authorize?"))?;
    let params = Params::from_urlencoded(&unwrap_query(query.to_owned()));
    let (client_id, redirect_uri) = (params.get("client_id")?, params.get("redirect_uri")?);
    let client =
        kakehashi_core::oauth::clients::find_cached(&st.store, &st.cache, tenant, client_id)
            .await
            .ok()??;
    if !client
        .policy
        .redirect_uris
        .iter()
        .any(|u| u == redirect_uri)
    {
        return None;
    }
    origin_of(redirect_uri).map(str::to_owned)
}

/// `scheme://host[:port]` of an absolute URL (for the form_post page's `form-action`).
pub(crate) fn origin_of(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    Some(&url[..end])
}

/// The authorization response: 303 for `query`, an auto-submitting form for `form_post`.
fn respond(r: &AuthorizationResponse) -> Response {
    match r {
        AuthorizationResponse::Redirect { location } => {
            let mut resp = StatusCode::SEE_OTHER.into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(location) {
                h.insert(header::LOCATION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            resp
        }
        AuthorizationResponse::FormPost { action, .. } => {
            let nonce = kakehashi_core::oauth::random_value();
            let body = r.form_post_html(Some(&nonce)).unwrap_or_default();
            auto_post_page(action, body, &nonce)
        }
    }
}

/// An auto-submitting form page (Form Post Response Mode; LTI's `id_token` POST) with its
/// headers. Form Post Response Mode 5 / RFC 6749 10.12: no caching, no framing; the page's
/// one script is the nonce'd auto-submit; it may post only to the client's origin.
pub(crate) fn auto_post_page(action: &str, body: String, nonce: &str) -> Response {
    let csp = format!(
        "{}; form-action {}",
        form_post::content_security_policy(Some(nonce)),
        origin_of(action).unwrap_or("'none'")
    );
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_fresh_login_params() {
        assert_eq!(
            origin_of("https://rp.example:8443/cb?x=1"),
            Some("https://rp.example:8443")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:9/cb"),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            without_fresh_login_params("client_id=a&prompt=login&max_age=0&state=s"),
            "client_id=a&state=s"
        );
        let q = "client_id=a&redirect_uri=https%3A%2F%2Frp%2Fcb";
        let r = format!("r={}", URL_SAFE_NO_PAD.encode(q));
        assert_eq!(unwrap_query(r), q);
    }
}

//! HTTP details of the portal: cookies (RFC 6265), security headers, the client address,
//! the page language, and the `return_to` check.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Response};

/// The session cookie. It is scoped to the tenant's path (`/t/{tenant}/`), so a browser
/// signed in to two tenants keeps two cookies; the tenant is also in every session lookup.
pub const SESSION_COOKIE: &str = "kakehashi_session";
/// The pre-login cookie holding the nonce that the login form's CSRF field is bound to.
pub const LOGIN_COOKIE: &str = "kakehashi_login";

/// Every value of cookie `name` the request carries (RFC 6265 §5.4: several may share a
/// name when paths differ).
pub fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v.trim_matches('"'))
        })
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Lax (not sent on
/// cross-site POSTs: a second CSRF defence), Secure when the portal is served over https,
/// no Max-Age (a browser session cookie; the server enforces the real timeouts).
pub fn set_cookie(name: &str, value: &str, tenant: &str, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/t/{tenant}/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, tenant: &str, secure: bool) -> String {
    format!(
        "{name}=; Path=/t/{tenant}/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The Content-Security-Policy of every portal page: no inline script or style, no plugins,
/// no framing (clickjacking), forms post only to us.
pub const CSP: &str = "default-src 'self'; script-src 'self'; object-src 'none'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The portal's CSP with one more origin its forms may lead to (the login page continuing
/// an authorization request: the client's redirect URI origin, checked by the caller).
pub fn csp_with_form_action(origin: &str) -> String {
    CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    )
}

/// Adds the security headers every portal response carries.
pub fn harden(headers: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // Pages carry CSRF tokens and personal names: never cache them (OWASP Session Management).
    set(headers, header::CACHE_CONTROL, "no-store");
}

/// An HTML response with the portal's headers and any cookies to set.
pub fn html(status: StatusCode, body: String, set_cookies: &[String]) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    harden(h);
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// A 303 See Other to `location` (a path we built or checked), with cookies.
pub fn see_other(location: &str, set_cookies: &[String]) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    harden(h);
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The client's address as the socket sees it. (Behind a load balancer this is the balancer;
/// trusting `X-Forwarded-For` needs a configured list of proxies, which comes with the
/// deployment settings.)
pub fn client_ip(ext: &Extensions) -> String {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

tokio::task_local! {
    /// The address of the request being served ([`with_request_ip`]).
    static REQUEST_IP: String;
}

/// Middleware: makes the request's client address ([`client_ip`]) known to everything that
/// serves it, so a session is judged by where *this request* comes from (school networks,
/// shared devices), not where it signed in; and keeps the security policy a request reads
/// for the rest of that request (`mfa::policy::per_request`).
pub async fn with_request_ip(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let ip = client_ip(req.extensions());
    // And the tenant's security policy is read once per request, not once per check.
    REQUEST_IP
        .scope(ip, kakehashi_core::mfa::policy::per_request(next.run(req)))
        .await
}

/// The client address of the request being served, if [`with_request_ip`] runs.
pub fn request_ip() -> Option<String> {
    REQUEST_IP.try_with(Clone::clone).ok()
}

/// Page language: `?lang=` first, then the first Accept-Language preference; Japanese unless
/// English is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn pick(query: Option<&str>, headers: &HeaderMap) -> Lang {
        match query {
            Some("en") => return Lang::En,
            Some("ja") => return Lang::Ja,
            _ => {}
        }
        let first = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_ascii_lowercase());
        match first {
            Some(l) if l.starts_with("en") => Lang::En,
            _ => Lang::Ja,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

/// `return_to` is followed only when it is a path on this origin under the tenant's own
/// prefix: not `//host` or `/\host` (which browsers treat as another origin), no `..`
/// segments to climb out of the tenant, no characters that could split a header.
pub fn safe_return_to(tenant: &str, candidate: &str) -> Option<String> {
    let prefix = format!("/t/{tenant}/");
    let ok = candidate.len() <= 2048
        && candidate.starts_with(&prefix)
        && !candidate.contains("//")
        && !candidate.contains('\\')
        && !candidate
            .split(['/', '?', '#'])
            .any(|seg| seg == ".." || seg.eq_ignore_ascii_case("%2e%2e"))
        && !candidate.to_ascii_lowercase().contains("%2f")
        && !candidate.to_ascii_lowercase().contains("%5c")
        && candidate
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'<' | b'>'));
    ok.then(|| candidate.to_owned())
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for HTML element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_in_the_tenant() {
        assert!(safe_return_to("demo", "/t/demo/").is_some());
        assert!(safe_return_to("demo", "/t/demo/authorize?client_id=a%20b&x=1").is_some());
        for bad in [
            "https://evil.example/",
            "//evil.example/t/demo/",
            "/t/demo//evil.example",
            "/t/demo/\\evil",
            "/t/demo/../../admin",
            "/t/demo/%2e%2e/x",
            "/t/demo/%2F%2Fevil",
            "/t/demo2/",
            "/t/demo",
            "/t/demo/\r\nSet-Cookie:x",
            "",
        ] {
            assert_eq!(safe_return_to("demo", bad), None, "{bad}");
        }
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; kakehashi_session=tok; b=2"),
        );
        assert_eq!(cookies(&h, SESSION_COOKIE).collect::<Vec<_>>(), ["tok"]);
        assert_eq!(cookies(&h, "none").count(), 0);
    }

    #[test]
    fn language_is_japanese_unless_english_is_asked_for() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::pick(None, &h), Lang::Ja);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-US,en;q=0.9"),
        );
        assert_eq!(Lang::pick(None, &h), Lang::En);
        assert_eq!(Lang::pick(Some("ja"), &h), Lang::Ja);
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        assert_eq!(url_encode("/t/demo/?a=1"), "%2Ft%2Fdemo%2F%3Fa%3D1");
    }
}

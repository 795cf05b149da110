//! The SAML pages: the POST form to an SP (strict CSP with a script nonce and a visible
//! button for browsers without script) and the error page shown when nothing may be sent to
//! the SP.

use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kakehashi_core::saml_idp::sso::{PostToSp, Refusal, RefusalKind};
use kakehashi_saml::binding::post::post_form;
use kakehashi_saml::binding::MessageParam;

use crate::portal::http::{esc, harden, html, Lang};

/// `scheme://host[:port]` of an absolute URL, for CSP `form-action`.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &url[..scheme.len() + 3 + host_end];
    origin
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"'))
        .then_some(origin)
}

/// The page that POSTs a Response to the SP's ACS (SAML Bindings 3.5.4).
pub fn post_page(post: &PostToSp) -> Response {
    post_message_page(post, MessageParam::Response)
}

/// An auto-posting form carrying `post.xml` as `param` (a LogoutRequest to an SP is a
/// `SAMLRequest`).
pub fn post_message_page(post: &PostToSp, param: MessageParam) -> Response {
    let mut nonce = [0u8; 16];
    if openssl::rand::rand_bytes(&mut nonce).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
    }
    let nonce = hex::encode(nonce);
    let body = post_form(
        &post.acs_url,
        param,
        &post.xml,
        post.relay_state.as_deref(),
        &nonce,
    );
    let Some(form_action) = origin(&post.acs_url) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
    };
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; \
         form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    harden(h);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// The error page: the request is refused and nothing is sent to the SP (Profiles 4.1.3.5).
pub fn refused(lang: Lang, refusal: &Refusal) -> Response {
    let (ja, en) = match refusal.kind {
        RefusalKind::Malformed => (
            "サインイン要求を読み取れませんでした。",
            "The sign-in request could not be read.",
        ),
        RefusalKind::UnknownSp => (
            "このサービスは登録されていません。",
            "This service is not registered.",
        ),
        RefusalKind::Untrusted => (
            "このサインイン要求は信頼できないため、処理しませんでした。",
            "This sign-in request cannot be trusted and was not processed.",
        ),
        RefusalKind::Replay => (
            "このサインイン要求はすでに使われています。サービスの画面からやり直してください。",
            "This sign-in request was already used. Start again from the service.",
        ),
        RefusalKind::Expired => (
            "サインイン要求の有効期限が切れました。サービスの画面からやり直してください。",
            "The sign-in request has expired. Start again from the service.",
        ),
    };
    let (title, text) = match lang {
        Lang::Ja => ("サインインできません", ja),
        Lang::En => ("Cannot sign in", en),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/portal-assets/portal.css\">\n\
         </head>\n<body>\n<main class=\"card\">\n<h1>{title}</h1>\n<p>{text}</p>\n\
         <p class=\"detail\"><code>{detail}</code></p>\n</main>\n</body>\n</html>\n",
        code = lang.code(),
        detail = esc(&refusal.detail),
    );
    html(StatusCode::BAD_REQUEST, body, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_is_the_acs_origin() {
        assert_eq!(
            origin("https://koumu.example:8443/saml/acs?x=1"),
            Some("https://koumu.example:8443")
        );
        assert_eq!(
            origin("http://127.0.0.1:5000"),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(origin("https://a.example;script-src *"), None);
        assert_eq!(origin("no-scheme"), None);
    }
}

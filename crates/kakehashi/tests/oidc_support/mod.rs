//! Support for the OpenID Provider tests: registering relying parties with the real CLI, a
//! raw HTTP client that sends any header (no redirects followed), PKCE values, and driving a
//! browser through authorize → portal login → authorization response.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use openidconnect::url::Url;

use crate::common::Env;
use crate::portal_support::{Browser, Resp};

/// A registered relying party.
#[derive(Clone, Debug)]
pub struct Rp {
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

/// `kakehashi app add --protocol oidc` in `tenant` with `extra` flags; the registration.
pub fn register(env: &Env, tenant: &str, name: &str, redirect_uri: &str, extra: &[&str]) -> Rp {
    let mut args = vec![
        "app",
        "add",
        "--tenant",
        tenant,
        "--name",
        name,
        "--protocol",
        "oidc",
        "--redirect-uri",
        redirect_uri,
        "--format",
        "json",
    ];
    if !extra.contains(&"--security-class") {
        args.extend(["--security-class", "learning"]);
    }
    args.extend_from_slice(extra);
    let out = env.run(&args).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("registration JSON");
    Rp {
        client_id: v["client_id"].as_str().expect("client_id").to_owned(),
        secret: v["client_secret"].as_str().map(str::to_owned),
        redirect_uri: redirect_uri.to_owned(),
    }
}

/// One HTTP/1.1 request with the given headers and body; nothing followed.
pub fn raw(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body.as_bytes()).expect("write body");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = h.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: b.to_owned(),
    }
}

/// `Authorization: Basic …` for a client (RFC 6749 2.3.1: form-urlencoded, then base64).
pub fn basic(id: &str, secret: &str) -> String {
    let e = crate::portal_support::enc;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", e(id), e(secret)))
    )
}

/// POST a form to `/t/{tenant}/{endpoint}`, optionally with Basic client auth; (status, JSON).
pub fn post_form(
    addr: &str,
    tenant: &str,
    endpoint: &str,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (Resp, serde_json::Value) {
    let header;
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some((id, secret)) = auth {
        header = basic(id, secret);
        headers.push(("Authorization", header.as_str()));
    }
    let r = raw(
        addr,
        "POST",
        &format!("/t/{tenant}/{endpoint}"),
        &headers,
        &crate::portal_support::encode_form(form),
    );
    let v = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
    (r, v)
}

/// GET userinfo with a Bearer token.
pub fn userinfo(addr: &str, tenant: &str, token: &str) -> (Resp, serde_json::Value) {
    let auth = format!("Bearer {token}");
    let r = raw(
        addr,
        "GET",
        &format!("/t/{tenant}/userinfo"),
        &[("Authorization", &auth)],
        "",
    );
    let v = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
    (r, v)
}

/// A PKCE verifier and its S256 challenge (RFC 7636 4.1, 4.2).
pub fn pkce() -> (String, String) {
    let verifier = kakehashi_oidc::rng::random_token(&mut kakehashi_oidc::OsRng, 32);
    let challenge = kakehashi_oidc::pkce::s256(&verifier);
    (verifier, challenge)
}

/// `/t/{tenant}/authorize?…` for `rp` with `response_type=code` and `extra` parameters.
pub fn authorize_path(tenant: &str, rp: &Rp, extra: &[(&str, &str)]) -> String {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", rp.client_id.as_str()),
        ("redirect_uri", rp.redirect_uri.as_str()),
    ];
    form.extend_from_slice(extra);
    format!(
        "/t/{tenant}/authorize?{}",
        crate::portal_support::encode_form(&form)
    )
}

/// A query parameter of an absolute URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The path and query of an absolute URL (what a browser requests).
pub fn path_of(url: &str) -> String {
    let u = Url::parse(url).expect("absolute URL");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

/// Opens `authorize` in the browser; when sent to the login page, signs in as `user` and
/// follows the way back. Returns the authorization endpoint's final answer.
pub fn authorize_as(b: &mut Browser<'_>, authorize: &str, user: &str, password: &str) -> Resp {
    let first = b.get(authorize);
    if first.status != 303 {
        return first;
    }
    let location = first.header("location").unwrap_or("").to_owned();
    if !location.starts_with(&format!("/t/{}/login", b.tenant)) {
        return first;
    }
    let return_to = param(&format!("http://x{location}"), "return_to").expect("return_to");
    let login = b.login_to(user, password, Some(&return_to));
    assert_eq!(login.status, 303, "login: {}", login.body);
    let back = login.header("location").expect("login redirect").to_owned();
    assert_eq!(
        back, return_to,
        "the login goes back to the authorization request"
    );
    b.get(&back)
}

/// The `code` of a successful query-mode authorization response (checks `state` and `iss`).
pub fn code_of(resp: &Resp, rp: &Rp, state: &str, issuer: &str) -> String {
    assert_eq!(resp.status, 303, "{}", resp.body);
    let location = resp.header("location").expect("Location").to_owned();
    assert!(location.starts_with(&rp.redirect_uri), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some(state));
    // RFC 9207 2: iss in every authorization response.
    assert_eq!(param(&location, "iss").as_deref(), Some(issuer));
    param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// The `error` of an authorization error response sent back to the client.
pub fn error_of(resp: &Resp) -> String {
    assert_eq!(resp.status, 303, "{}", resp.body);
    let location = resp.header("location").expect("Location");
    param(location, "error").unwrap_or_else(|| panic!("no error in {location}"))
}

/// Exchanges a code at the token endpoint with Basic auth (or as a public client).
pub fn exchange(
    addr: &str,
    tenant: &str,
    rp: &Rp,
    code: &str,
    verifier: Option<&str>,
) -> (Resp, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", rp.redirect_uri.as_str()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    match &rp.secret {
        Some(s) => post_form(addr, tenant, "token", Some((&rp.client_id, s)), &form),
        None => {
            form.push(("client_id", rp.client_id.as_str()));
            post_form(addr, tenant, "token", None, &form)
        }
    }
}

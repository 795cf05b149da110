//! Support for the portal tests: starting `kakehashi serve` nodes, a small HTTP/1.1 client
//! over raw TCP (no redirects followed, cookies handled by hand), and a browser-like session
//! that logs in through the real form.

#![allow(dead_code, unused_imports)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::Env;

pub const TEACHER: &str = "minami.t01";
pub const TEACHER_PASSWORD: &str = "demo-teacher-2026";
pub const PUPIL: &str = "minami.s01";
pub const PUPIL_PASSWORD: &str = "demo1234";

#[allow(unused_imports)] // each test file uses a different part
pub use crate::common::node::{start, start_node, Node};

/// An HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of a hidden input named `name` in the body.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
}

thread_local! {
    /// The source address of this thread's requests (`None`: the system's choice, 127.0.0.1).
    static SOURCE: std::cell::Cell<Option<std::net::IpAddr>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with this thread's requests sent from `source` (another loopback address, such as
/// 127.0.0.2, stands for a client on another network; the server still listens on 127.0.0.1).
pub fn from_address<T>(source: &str, f: impl FnOnce() -> T) -> T {
    let before = SOURCE.with(|s| s.replace(Some(source.parse().expect("an IP address"))));
    let out = f();
    SOURCE.with(|s| s.set(before));
    out
}

fn connect(addr: &str) -> TcpStream {
    let Some(source) = SOURCE.with(|s| s.get()) else {
        return TcpStream::connect(addr).expect("connect");
    };
    let target: std::net::SocketAddr = addr.parse().expect("a socket address");
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.bind(&std::net::SocketAddr::new(source, 0).into())
        .expect("bind the source address");
    sock.connect(&target.into()).expect("connect");
    sock.into()
}

/// One request; `cookie` is sent as the Cookie header when not empty.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&[(&str, &str)]>,
) -> Resp {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let body = form.map(encode_form).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: kakehashi-portal-test\r\n");
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write request");
    s.write_all(body.as_bytes()).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

pub fn encode_form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `name=value` part of a Set-Cookie for `name`.
pub fn cookie_pair(resp: &Resp, name: &str) -> Option<String> {
    resp.set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// A browser's view of one tenant: its cookies and the last CSRF field seen.
pub struct Browser<'a> {
    pub addr: &'a str,
    pub tenant: &'a str,
    pub login_cookie: String,
    pub session_cookie: String,
    /// The risk engine's device cookie (kept like a browser keeps it).
    pub device_cookie: String,
}

impl<'a> Browser<'a> {
    pub fn new(node: &'a Node, tenant: &'a str) -> Browser<'a> {
        Browser {
            addr: &node.addr,
            tenant,
            login_cookie: String::new(),
            session_cookie: String::new(),
            device_cookie: String::new(),
        }
    }

    pub fn cookie(&self) -> String {
        [
            self.login_cookie.as_str(),
            self.session_cookie.as_str(),
            self.device_cookie.as_str(),
        ]
        .iter()
        .filter(|c| !c.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
    }

    pub fn get(&mut self, path: &str) -> Resp {
        let r = request(self.addr, "GET", path, &self.cookie(), None);
        self.absorb(&r);
        r
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let r = request(self.addr, "POST", path, &self.cookie(), Some(form));
        self.absorb(&r);
        r
    }

    fn absorb(&mut self, r: &Resp) {
        for c in r.set_cookies() {
            let pair = c.split(';').next().unwrap_or("").to_owned();
            let cleared = c.contains("Max-Age=0");
            if pair.starts_with("kakehashi_login=") {
                self.login_cookie = if cleared { String::new() } else { pair };
            } else if pair.starts_with("kakehashi_session=") {
                self.session_cookie = if cleared { String::new() } else { pair };
            } else if pair.starts_with("kakehashi_device=") {
                self.device_cookie = if cleared { String::new() } else { pair };
            }
        }
    }

    /// Opens the login page and posts the form; returns the POST's response.
    pub fn login(&mut self, username: &str, password: &str) -> Resp {
        self.login_to(username, password, None)
    }

    pub fn login_to(&mut self, username: &str, password: &str, return_to: Option<&str>) -> Resp {
        let page = self.get(&format!("/t/{}/login", self.tenant));
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page
            .hidden("csrf")
            .expect("the login form has a csrf field");
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ];
        if let Some(r) = return_to {
            form.push(("return_to", r));
        }
        self.post(&format!("/t/{}/login", self.tenant), &form)
    }
}

/// Starts a demo node and registers three apps: a pupils' drill, a teachers' tool and a
/// school-affairs system (staff only, second factor).
pub fn demo_with_apps(env: &Env) -> Node {
    let node = start(env, &["--demo"]);
    let icon = env.path("icon.png");
    std::fs::write(&icon, PNG_1X1).expect("write icon");
    env.run(&[
        "app",
        "add",
        "--tenant",
        "demo",
        "--name",
        "けいさんドリル",
        "--protocol",
        "oidc",
        "--security-class",
        "learning",
        "--audience",
        "students",
        "--redirect-uri",
        "https://drill.example/cb",
        "--icon",
        icon.to_str().expect("utf-8 path"),
    ])
    .ok();
    env.run(&[
        "app",
        "add",
        "--tenant",
        "demo",
        "--name",
        "授業支援ツール",
        "--protocol",
        "oidc",
        "--security-class",
        "learning",
        "--audience",
        "teachers",
        "--redirect-uri",
        "https://class.example/cb",
    ])
    .ok();
    env.run(&[
        "app",
        "add",
        "--tenant",
        "demo",
        "--name",
        "校務支援システム",
        "--protocol",
        "saml",
        "--security-class",
        "school-affairs",
        "--saml-acs-url",
        "https://koumu.example/acs",
        "--saml-entity-id",
        "https://koumu.example/sp",
    ])
    .ok();
    node
}

/// A 1×1 transparent PNG.
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Runs SQL against the environment's database (test set-up only).
pub async fn sql(env: &Env, statement: &str) {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open the test database");
    sqlx::raw_sql(statement)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    store.close().await;
}

/// Makes backup codes for the signed-in user from the security page; returns them.
pub fn make_backup_codes(b: &mut Browser<'_>) -> Vec<String> {
    let page = b.get(&format!("/t/{}/mfa", b.tenant));
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf").expect("csrf on the security page");
    let r = b.post(
        &format!("/t/{}/mfa/backup-codes", b.tenant),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"), "shown once");
    let codes: Vec<String> = r
        .body
        .split("<code>")
        .skip(1)
        .filter_map(|c| c.split("</code>").next())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10, "{}", r.body);
    codes
}

/// Posts a backup code from a step-up page (its `csrf` and `return_to`).
pub fn use_backup_code(b: &mut Browser<'_>, step_up: &Resp, code: &str) -> Resp {
    let csrf = step_up.hidden("csrf").expect("backup-code form");
    let back = step_up.hidden("return_to").expect("return_to");
    let back = back.replace("&amp;", "&");
    b.post(
        &format!("/t/{}/mfa/backup-code", b.tenant),
        &[("csrf", &csrf), ("code", code), ("return_to", &back)],
    )
}

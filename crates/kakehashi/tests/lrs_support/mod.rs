//! Support for the LRS tests: a `kakehashi serve` node with a tenant and a credential, and
//! a minimal HTTP/1.1 client (one request per connection) that shows every header.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::Env;

pub use crate::common::node::Node;

/// Starts `kakehashi serve` on a free port against the environment's database.
pub fn start(env: &Env) -> Node {
    crate::common::node::start(env, &[])
}

/// Creates a tenant and a credential; returns (key, secret).
pub fn tenant_with_credential(env: &Env, tenant: &str, read_only: bool) -> (String, String) {
    env.run(&["tenant", "add", "--id", tenant, "--name", tenant])
        .ok();
    let mut args = vec![
        "lrs",
        "credential",
        "add",
        "--tenant",
        tenant,
        "--name",
        "drill",
        "--format",
        "json",
    ];
    if read_only {
        args.push("--read-only");
    }
    let out = env.run(&args).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("credential JSON");
    (
        v["key"].as_str().expect("key").to_owned(),
        v["secret"].as_str().expect("secret").to_owned(),
    )
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client for one tenant's LRS with HTTP Basic credentials and a version header.
#[derive(Clone)]
pub struct Client {
    pub addr: String,
    pub tenant: String,
    pub auth: Option<String>,
    pub version: Option<String>,
}

impl Client {
    pub fn new(node: &Node, tenant: &str, key: &str, secret: &str) -> Client {
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"));
        Client {
            addr: node.addr.clone(),
            tenant: tenant.to_owned(),
            auth: Some(format!("Basic {auth}")),
            version: Some("1.0.3".into()),
        }
    }

    pub fn with_version(&self, v: Option<&str>) -> Client {
        let mut c = self.clone();
        c.version = v.map(str::to_owned);
        c
    }

    /// `path` is relative to the xAPI endpoint (e.g. `statements?limit=1`) or absolute.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let target = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/t/{}/xapi/{path}", self.tenant)
        };
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(a) = &self.auth {
            req.push_str(&format!("Authorization: {a}\r\n"));
        }
        if let Some(v) = &self.version {
            req.push_str(&format!("X-Experience-API-Version: {v}\r\n"));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
        s.write_all(req.as_bytes()).expect("write");
        s.write_all(body).expect("write body");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read");
        parse_response(&raw)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], b"")
    }

    pub fn post_json(&self, path: &str, v: &serde_json::Value) -> Resp {
        self.send(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            v.to_string().as_bytes(),
        )
    }

    pub fn put_json(&self, path: &str, v: &serde_json::Value) -> Resp {
        self.send(
            "PUT",
            path,
            &[("Content-Type", "application/json")],
            v.to_string().as_bytes(),
        )
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..pos]).trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[pos + 2..pos + 2 + size]);
            rest = &rest[pos + 2 + size + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

//! Starting `kakehashi serve` nodes and talking plain HTTP to them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Env;

/// Writes one master key into each data directory (as an operator copies `master.key` to
/// every node that shares a database).
pub fn share_master_key(dirs: &[&Path]) {
    let key: String = (0..32)
        .map(|i| format!("{:02x}", (i * 37 + 11) % 256))
        .collect();
    for d in dirs {
        std::fs::create_dir_all(d).expect("data dir");
        std::fs::write(d.join("master.key"), format!("{key}\n")).expect("write master key");
    }
}

pub struct Node {
    child: Child,
    /// `http://host:port` of the node.
    pub url: String,
    /// `host:port` of the node.
    pub addr: String,
    _log: mpsc::Receiver<String>,
    pub early: Vec<String>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(env: &Env, extra: &[&str]) -> Node {
    let url = (env.label() == "postgresql").then(|| env.db.url.clone());
    start_node(&env.data_dir(), url.as_deref(), extra)
}

/// Starts `kakehashi serve` on a free port with its own data dir and the given database.
pub fn start_node(data_dir: &std::path::Path, database_url: Option<&str>, extra: &[&str]) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    cmd.arg("serve");
    // A test that needs a known port (e.g. a public URL on `localhost` for WebAuthn) passes
    // its own --listen.
    if !extra.contains(&"--listen") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    cmd.args(extra)
        .env("KAKEHASHI_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match database_url {
        Some(url) => cmd.env("KAKEHASHI_DATABASE_URL", url),
        None => cmd.env_remove("KAKEHASHI_DATABASE_URL"),
    };
    let mut child = cmd.spawn().expect("spawn kakehashi serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut early = Vec::new();
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server did not start; it said:\n{}", early.join("\n"));
        };
        if let Some(rest) = line.split(" listening on ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            early.push(line);
            let addr = url.trim_start_matches("http://").to_owned();
            return Node {
                child,
                url,
                addr,
                _log: rx,
                early,
            };
        }
        early.push(line);
    }
}

/// A plain HTTP/1.1 GET; returns (status, body).
pub fn get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read response");
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

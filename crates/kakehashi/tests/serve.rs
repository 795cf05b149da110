//! `kakehashi serve`: first start, demo data, health and metrics, and several nodes on one
//! PostgreSQL database.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::Env;

struct Node {
    child: Child,
    url: String,
    _log: mpsc::Receiver<String>,
    early: Vec<String>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(env: &Env, extra: &[&str]) -> Node {
    let url = (env.label() == "postgresql").then(|| env.db.url.clone());
    start_node(&env.data_dir(), url.as_deref(), extra)
}

/// Starts `kakehashi serve` on a free port with its own data dir and the given database.
fn start_node(data_dir: &std::path::Path, database_url: Option<&str>, extra: &[&str]) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
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
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start; it said:\n{}", early.join("\n")));
        if let Some(rest) = line.split(" listening on ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            early.push(line);
            return Node {
                child,
                url,
                _log: rx,
                early,
            };
        }
        early.push(line);
    }
}

/// A plain HTTP/1.1 GET; returns (status, body).
fn get(base: &str, path: &str) -> (u16, String) {
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

#[tokio::test]
async fn first_start_with_demo_serves_health_and_metrics() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let said = node.early.join("\n");
        assert!(said.contains("created the demo tenant `demo`"), "{said}");
        assert!(env.data_dir().join("master.key").exists());
        let (status, body) = get(&node.url, "/healthz");
        assert_eq!((status, body.as_str()), (200, "ok\n"), "{}", env.label());
        let (status, metrics) = get(&node.url, "/metrics");
        assert_eq!(status, 200);
        assert!(metrics.contains("kakehashi_database_up 1"), "{metrics}");
        assert!(
            metrics.contains(
                "kakehashi_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"
            ),
            "{metrics}"
        );
        drop(node);
        // The demo tenant holds the generated roster, with names outside the BMP intact.
        let listed = env.run(&["tenant", "list"]).ok();
        assert!(listed.stdout.starts_with("demo\t"), "{}", listed.stdout);
        let out = env.path("demo-export");
        env.run(&[
            "oneroster",
            "export",
            "--tenant",
            "demo",
            out.to_str().unwrap(),
        ])
        .ok();
        let users = std::fs::read_to_string(out.join("users.csv")).unwrap();
        assert!(users.contains('𠮷'), "the demo roster has a name with 𠮷");
        // A second start with --demo leaves the tenant as it is.
        let again = start(&env, &["--demo"]);
        assert!(again.early.join("\n").contains("already there"));
    }
}

#[tokio::test]
async fn two_nodes_share_one_postgresql_database() {
    let env = Env::both().await.pop().expect("postgres env");
    assert_eq!(env.label(), "postgresql");
    let url = env.db.url.clone();
    let (dir_a, dir_b) = (env.path("node-a"), env.path("node-b"));
    // Both start at once against an empty database: migrations and the demo tenant must not
    // race, and neither node holds state the other needs.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start_node(&dir_a, Some(&url), &["--demo"]));
        let b = s.spawn(|| start_node(&dir_b, Some(&url), &["--demo"]));
        (a.join().expect("node a"), b.join().expect("node b"))
    });
    for node in [&a, &b] {
        let (status, body) = get(&node.url, "/healthz");
        assert_eq!((status, body.as_str()), (200, "ok\n"));
    }
    let created = [&a, &b]
        .iter()
        .filter(|n| n.early.join("\n").contains("created the demo tenant"))
        .count();
    assert_eq!(created, 1, "exactly one node creates the demo tenant");
    let listed = env.run(&["tenant", "list"]).ok();
    assert_eq!(listed.stdout.lines().count(), 1, "{}", listed.stdout);
    let verified = env.run(&["audit", "verify"]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
}

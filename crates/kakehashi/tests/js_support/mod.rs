//! Runs the Node.js interop scripts of `tests/js/` (Debian Chromium through playwright-core,
//! openid-client as a relying party) and reads their JSON-lines output.
//!
//! The scripts observe and report one JSON object per line (`{"check": NAME, ...}`, then
//! `{"done": true}`, or `{"error": ...}` and a non-zero exit); the tests judge. A missing piece
//! (node, the npm packages, Chromium) is a failure naming it and how to install it, never a
//! skip: `./scripts/test` installs all of them.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// `tests/js/` at the workspace root.
pub fn js_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/js"))
}

/// The Chromium the scripts drive (Debian's; `KAKEHASHI_CHROMIUM` overrides, as in the scripts).
pub fn chromium() -> PathBuf {
    std::env::var_os("KAKEHASHI_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

const HOW: &str = "./scripts/test installs every prerequisite of the JS/browser tests \
    (see docs/TESTING.md)";

/// Checks, once per test binary, that node, the pinned npm packages and (when `browser`)
/// Chromium are there; panics naming what is missing.
pub fn preflight(browser: bool) {
    static NODE_AND_MODULES: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(e) = NODE_AND_MODULES.get_or_init(check_node_and_modules) {
        panic!("{e}\n{HOW}");
    }
    if browser && !chromium().exists() {
        panic!(
            "Chromium is missing: no {} (install it with `apt-get install -y chromium`; \
             never a downloaded browser build).\n{HOW}",
            chromium().display()
        );
    }
}

fn check_node_and_modules() -> Result<(), String> {
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("node is missing ({e}): install Node.js 20 or newer"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(format!(
            "node {version} is too old: the JS tests need Node.js 20 or newer"
        ));
    }
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(js_dir().join("package.json"))
            .map_err(|e| format!("tests/js/package.json: {e}"))?,
    )
    .map_err(|e| format!("tests/js/package.json: {e}"))?;
    let pinned = manifest["devDependencies"]
        .as_object()
        .ok_or("tests/js/package.json has no devDependencies")?;
    for (name, want) in pinned {
        let installed = js_dir()
            .join("node_modules")
            .join(name)
            .join("package.json");
        let have = std::fs::read_to_string(&installed)
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned));
        match have {
            None => {
                return Err(format!(
                    "node_modules is missing {name}: run `npm ci` in tests/js"
                ))
            }
            Some(v) if Some(v.as_str()) != want.as_str() => {
                return Err(format!(
                    "node_modules is stale: {name} {v} installed, {want} pinned; run `npm ci` in tests/js"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// What a script printed and how it ended.
#[derive(Debug)]
pub struct ScriptRun {
    pub command: String,
    pub code: Option<i32>,
    /// The JSON lines, in order.
    pub lines: Vec<Value>,
    /// Lines that were not JSON, and stderr.
    pub other: String,
    pub elapsed: Duration,
}

impl ScriptRun {
    /// Every reported line with `"check": name`.
    pub fn all(&self, name: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l["check"].as_str() == Some(name))
            .collect()
    }

    /// The one reported line with `"check": name`.
    #[track_caller]
    pub fn one(&self, name: &str) -> &Value {
        let all = self.all(name);
        assert_eq!(
            all.len(),
            1,
            "expected one `{name}` line from {}\n{}",
            self.command,
            self.transcript()
        );
        all[0]
    }

    /// Everything the script said, for failure messages.
    pub fn transcript(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(Value::to_string).collect();
        format!(
            "--- exit {:?} after {:.1} s; JSON lines:\n{}\n--- other output:\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            lines.join("\n"),
            self.other
        )
    }

    /// Panics (with the transcript) unless the script finished normally.
    #[track_caller]
    pub fn succeeded(self) -> ScriptRun {
        let done = self.lines.last().is_some_and(|l| l["done"] == true);
        assert!(
            self.code == Some(0) && done,
            "{} did not finish\n{}",
            self.command,
            self.transcript()
        );
        self
    }
}

/// Runs `node tests/js/SCRIPT ARGS...` with a time limit; the process is killed past it.
pub fn run_script(script: &str, args: &[&str], limit: Duration) -> ScriptRun {
    preflight(true);
    let command = format!("node tests/js/{script} {}", args.join(" "));
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(js_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start `{command}`: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("waiting for `{command}`: {e}"),
        }
    };
    let mut lines = Vec::new();
    let mut other = String::new();
    for line in out.join().unwrap_or_default() {
        match serde_json::from_str::<Value>(&line) {
            Ok(v) if v.is_object() => lines.push(v),
            _ => {
                other.push_str(&line);
                other.push('\n');
            }
        }
    }
    other.push_str(&err.join().unwrap_or_default());
    if code.is_none() {
        other.push_str(&format!("\n(killed after {} s)", limit.as_secs()));
    }
    ScriptRun {
        command,
        code,
        lines,
        other,
        elapsed: started.elapsed(),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// Judges every `health` line: no uncaught exception, no CSP violation, no failed request,
/// and no console error or warning — except Chromium's own note that a document came with
/// an error status, when it is one the server sends on purpose: `expected` lists each such
/// status with a fragment of the URL that answers it (e.g. 401 for a wrong password on
/// `/login`).
#[track_caller]
pub fn assert_healthy(run: &ScriptRun, expected: &[(u16, &str)]) {
    let health = run.all("health");
    assert!(!health.is_empty(), "no health report\n{}", run.transcript());
    for h in health {
        let where_ = s(h, "where");
        // Chromium fetches the icon lazily after the page has loaded and aborts that fetch
        // when the script moves on at once; any other failed request is a finding.
        let failed: Vec<&Value> = h["failedRequests"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|r| {
                        !(s(r, "failure") == "net::ERR_ABORTED"
                            && s(r, "url").ends_with("/portal-assets/icon.svg"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            failed.is_empty(),
            "{where_}: failed requests: {failed:?}\n{}",
            run.transcript()
        );
        for key in ["pageErrors", "csp"] {
            assert_eq!(
                h[key].as_array().map(Vec::len),
                Some(0),
                "{where_}: {key}: {}\n{}",
                h[key],
                run.transcript()
            );
        }
        let responses = h["errorResponses"].as_array().cloned().unwrap_or_default();
        for m in h["console"].as_array().cloned().unwrap_or_default() {
            let text = s(&m, "text");
            let url = s(&m, "url");
            let on_purpose = expected.iter().any(|(code, path)| {
                text.starts_with(&format!(
                    "Failed to load resource: the server responded with a status of {code} "
                )) && url.contains(path)
                    && responses
                        .iter()
                        .any(|r| r["url"] == url && r["status"] == *code)
            });
            assert!(
                on_purpose,
                "{where_}: console {}: {text} ({url})\n{}",
                s(&m, "type"),
                run.transcript()
            );
        }
    }
}

//! Support for the LTI tests: PyPI PyLTI1p3 as the tool (tests/interop/lti_tool.py, a real
//! HTTP server on 127.0.0.1), registering it with `kakehashi lti tool add`, and a browser
//! that follows a launch across the portal and the tool over plain HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::common::Env;
use crate::portal_support::{request, Browser, Node, Resp};

pub const TENANT: &str = "demo";
/// The demo class of `minami.t01` (teacher) and `minami.s01`, `minami.s02` (pupils).
pub const CLASS: &str = "cls-minami-5-1";
pub const PYLTI1P3_VERSION: &str = "2.0.0";

/// The Python of the interop virtualenv with PyLTI1p3, or a loud failure saying how.
pub fn lti_python() -> PathBuf {
    let venv = std::env::var_os("KAKEHASHI_INTEROP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv"));
    let py = venv.join("bin/python");
    let check = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, pylti1p3; print(m.version('PyLTI1p3'))",
        ])
        .output();
    match check {
        Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == PYLTI1P3_VERSION => py,
        _ => panic!(
            "PyLTI1p3=={PYLTI1P3_VERSION} is not installed in {}: run scripts/test (it creates that \
             virtualenv and pip-installs the pinned PyLTI1p3), or set KAKEHASHI_INTEROP_VENV",
            venv.display()
        ),
    }
}

fn driver() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/lti_tool.py")
}

/// A running tool (PyLTI1p3 or ltijs).
pub struct Tool {
    child: Child,
    /// ltijs reads the platform registration on its standard input.
    stdin: Option<std::process::ChildStdin>,
    stdout: Option<BufReader<std::process::ChildStdout>>,
    pub dir: PathBuf,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The tool's cookies (its state cookie between login and launch).
    pub cookies: Vec<(String, String)>,
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tool {
    /// Generates the tool's key and starts it on a free port.
    pub fn start(env: &Env, tag: &str) -> Tool {
        let py = lti_python();
        let dir = env.path(&format!("lti-tool-{tag}"));
        let out = Command::new(&py)
            .arg(driver())
            .args(["keygen", "--dir"])
            .arg(&dir)
            .output()
            .expect("run lti_tool.py keygen");
        assert!(
            out.status.success(),
            "keygen: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut child = Command::new(&py)
            .arg(driver())
            .args(["serve", "--dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start lti_tool.py serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the tool's port");
        let v: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|_| panic!("lti_tool.py serve printed {line:?}"));
        let port = v["port"].as_u64().expect("port");
        Tool {
            child,
            stdin: None,
            stdout: None,
            dir,
            addr: format!("127.0.0.1:{port}"),
            base: format!("http://127.0.0.1:{port}"),
            cookies: Vec::new(),
        }
    }

    /// Starts npm ltijs (tests/js/lti_tool_ltijs.mjs) with its own PostgreSQL database.
    pub fn start_ltijs(pg: &LtijsDb) -> Tool {
        Tool::start_ltijs_mode(pg, None)
    }

    /// ltijs with its Dynamic Registration service on (`/register`).
    pub fn start_ltijs_dynreg(pg: &LtijsDb) -> Tool {
        Tool::start_ltijs_mode(pg, Some("dynreg"))
    }

    fn start_ltijs_mode(pg: &LtijsDb, mode: Option<&str>) -> Tool {
        crate::js_support::preflight(false);
        let port = free_port();
        let script = crate::js_support::js_dir().join("lti_tool_ltijs.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .args([
                port.to_string(),
                pg.host.clone(),
                pg.port.to_string(),
                pg.user.clone(),
                pg.database.clone(),
            ])
            .args(mode)
            .current_dir(crate::js_support::js_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node lti_tool_ltijs.mjs");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        // Built first, so that a failure below still stops the process (Drop).
        let mut tool = Tool {
            child,
            stdin,
            stdout: Some(stdout),
            dir: PathBuf::new(),
            addr: format!("127.0.0.1:{port}"),
            base: format!("http://127.0.0.1:{port}"),
            cookies: Vec::new(),
        };
        let v = tool.next_json_line();
        assert!(v.get("listening").is_some(), "ltijs did not start: {v}");
        tool
    }

    /// The next line of the peer's output that is a JSON object (ltijs-sequelize also
    /// prints its migrations there).
    fn next_json_line(&mut self) -> Value {
        let out = self.stdout.as_mut().expect("stdout");
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            let n = out.read_line(&mut line).expect("read the peer's output");
            if n == 0 {
                panic!("the peer exited; it printed:\n{}", seen.join(""));
            }
            match serde_json::from_str::<Value>(line.trim()) {
                Ok(v) if v.is_object() => return v,
                _ => seen.push(line),
            }
        }
    }

    /// Registers ltijs in `tenant` (routes `/login`, `/`, keys at `/keys`) and hands it
    /// the platform's registration.
    pub fn register_ltijs(&mut self, env: &Env, node: &Node, tenant: &str) -> Value {
        let login = format!("{}/login", self.base);
        let app = format!("{}/", self.base);
        let jwks = format!("{}/keys", self.base);
        let run = env
            .run(&[
                "lti",
                "tool",
                "add",
                "--tenant",
                tenant,
                "--name",
                "ltijs ドリル",
                "--login-url",
                &login,
                "--launch-url",
                &app,
                "--deep-linking-url",
                &app,
                "--jwks-url",
                &jwks,
                "--public-url",
                &node.url,
                "--format",
                "json",
            ])
            .ok();
        let reg: Value = serde_json::from_str(&run.stdout).expect("lti tool add JSON");
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("ltijs stdin");
        writeln!(stdin, "{reg}").expect("write the registration");
        stdin.flush().ok();
        let v = self.next_json_line();
        assert_eq!(v["registered"], true, "ltijs: {v}");
        reg
    }

    pub fn private_key_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("private.pem")).expect("tool private key")
    }

    /// Registers the tool in `tenant` (its keys by `--jwks-url`) and writes its config.
    pub fn register(&self, env: &Env, node: &Node, tenant: &str, extra: &[&str]) -> Value {
        let login = format!("{}/login", self.base);
        let launch = format!("{}/launch", self.base);
        let deep = format!("{}/deep", self.base);
        let jwks = format!("{}/jwks", self.base);
        let mut args = vec![
            "lti",
            "tool",
            "add",
            "--tenant",
            tenant,
            "--name",
            "PyLTI1p3 ドリル",
            "--login-url",
            &login,
            "--launch-url",
            &launch,
            "--deep-linking-url",
            &deep,
            "--jwks-url",
            &jwks,
            "--public-url",
            &node.url,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let run = env.run(&args).ok();
        let reg: Value = serde_json::from_str(&run.stdout).expect("lti tool add JSON");
        let deployments: Vec<Value> = reg["deployments"]
            .as_array()
            .expect("deployments")
            .iter()
            .map(|d| d["deployment_id"].clone())
            .collect();
        let config = json!({
            "issuer": reg["issuer"],
            "client_id": reg["client_id"],
            "deployment_ids": deployments,
            "auth_login_url": reg["authorization_endpoint"],
            "auth_token_url": reg["token_endpoint"],
            "key_set_url": reg["jwks_uri"],
        });
        std::fs::write(self.dir.join("config.json"), config.to_string()).expect("tool config");
        reg
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A request to the tool with its cookies; absorbs the cookies it sets.
    pub fn send(&mut self, method: &str, url: &str, form: Option<&[(&str, &str)]>) -> Resp {
        let path = path_of(url);
        let r = request(&self.addr, method, &path, &self.cookie_header(), form);
        for c in r.set_cookies() {
            if let Some((k, v)) = c.split(';').next().and_then(|p| p.split_once('=')) {
                self.cookies.retain(|(n, _)| n != k);
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        r
    }
}

/// The path and query of an absolute URL.
pub fn path_of(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/')
                .map_or("/".to_owned(), |j| rest[j..].to_owned())
        }
        None => url.to_owned(),
    }
}

/// A query parameter of a URL, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?');
                out.push(h);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces a query parameter's value (already encoded) in a URL.
pub fn with_param(url: &str, name: &str, encoded_value: &str) -> String {
    let (base, q) = url.split_once('?').expect("a query");
    let q: Vec<String> = q
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={encoded_value}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", q.join("&"))
}

/// The `action` of the first form of a page.
pub fn form_action(resp: &Resp) -> String {
    let needle = "action=\"";
    let start = resp.body.find(needle).expect("a form") + needle.len();
    let end = resp.body[start..].find('"').expect("action end") + start;
    resp.body[start..end].replace("&amp;", "&")
}

/// One launch, step by step.
pub struct Launched {
    /// The tool's login initiation URL we redirected to.
    pub login_url: String,
    /// Our authorization endpoint URL the tool redirected to.
    pub auth_url: String,
    /// Our answer to the authentication request (the auto-POST page).
    pub auth: Resp,
    /// The tool's answer to the POSTed id_token.
    pub tool: Resp,
}

/// The claims of a JWT, unverified (the tool verified it; the test reads what it said).
pub fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Follows a launch from a portal path (a tile, a class link, the deep-link start) through
/// the tool's login, our auth endpoint and the tool's launch.
pub fn launch(b: &mut Browser<'_>, tool: &mut Tool, start: &str) -> Launched {
    let r = b.get(start);
    assert_eq!(r.status, 303, "{start}: {}", r.body);
    let login_url = r
        .header("location")
        .expect("to the tool's login")
        .to_owned();
    assert!(login_url.starts_with(&tool.base), "{login_url}");
    let auth_url = login_to_auth(tool, &login_url);
    let auth = b.get(&path_of(&auth_url));
    assert_eq!(auth.status, 200, "auth: {}", auth.body);
    let tool_resp = post_to_tool(tool, &auth);
    Launched {
        login_url,
        auth_url,
        auth,
        tool: tool_resp,
    }
}

/// The tool's answer to our login initiation: the URL of its authentication request.
pub fn login_to_auth(tool: &mut Tool, login_url: &str) -> String {
    let r = tool.send("GET", login_url, None);
    assert_eq!(r.status, 302, "tool login: {}", r.body);
    r.header("location")
        .expect("to our auth endpoint")
        .to_owned()
}

/// Posts our auto-POST page's fields to the tool, as the browser's script would, and
/// follows the tool's own redirects (ltijs answers 302 to its app route).
pub fn post_to_tool(tool: &mut Tool, auth: &Resp) -> Resp {
    let action = form_action(auth);
    let id_token = auth.hidden("id_token").expect("id_token field");
    let state = auth.hidden("state").expect("state field");
    let mut r = tool.send(
        "POST",
        &action,
        Some(&[("id_token", id_token.as_str()), ("state", state.as_str())]),
    );
    for _ in 0..3 {
        if !matches!(r.status, 301..=303) {
            break;
        }
        let next = r.header("location").expect("location").to_owned();
        r = tool.send("GET", &next, None);
    }
    r
}

/// The number of xAPI statements with `verb` in the tenant's LRS.
pub async fn statements_with_verb(env: &Env, verb: &str) -> Vec<Value> {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open store");
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM xapi_statements WHERE tenant_id = $1 AND verb_id = $2 ORDER BY seq",
    )
    .bind(TENANT)
    .bind(verb)
    .fetch_all(store.pool())
    .await
    .expect("statements");
    store.close().await;
    rows.iter()
        .map(|b| serde_json::from_str(b).expect("statement JSON"))
        .collect()
}

/// Signs `claims` with the tool's key (RS256, its thumbprint as kid), as the tool would.
pub fn sign_as_tool(tool: &Tool, claims: &Value) -> String {
    let key = kakehashi_oidc::SigningKey::from_pkcs8_pem(
        &tool.private_key_pem(),
        Some(kakehashi_oidc::Algorithm::RS256),
    )
    .expect("tool key");
    key.sign_json(Some("JWT"), claims).expect("sign")
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A free port on 127.0.0.1 (for a peer that must be told its port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A PostgreSQL database of ltijs's own on the test server (ltijs-sequelize), dropped by
/// [`LtijsDb::drop_database`].
pub struct LtijsDb {
    pub admin_url: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
}

impl LtijsDb {
    pub async fn create() -> LtijsDb {
        use sqlx::Connection;
        let admin_url = std::env::var("KAKEHASHI_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let rest = admin_url
            .strip_prefix("postgres://")
            .or_else(|| admin_url.strip_prefix("postgresql://"))
            .expect("a postgres:// URL");
        let (auth, hostpart) = rest.split_once('@').expect("user@host in the URL");
        let user = auth.split(':').next().unwrap_or("postgres").to_owned();
        let hostport = hostpart.split('/').next().unwrap_or("127.0.0.1:5432");
        let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
        let database = format!(
            "kh_ltijs_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut c = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} (ltijs's database): {e}; scripts/test starts it")
            });
        sqlx::raw_sql(&format!("CREATE DATABASE {database}"))
            .execute(&mut c)
            .await
            .expect("create ltijs's database");
        c.close().await.ok();
        let (host, user) = (host.to_owned(), user.clone());
        LtijsDb {
            admin_url: admin_url.clone(),
            host,
            port: port.parse().unwrap_or(5432),
            user,
            database,
        }
    }

    pub async fn drop_database(self) {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect");
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.database
        ))
        .execute(&mut c)
        .await
        .expect("drop ltijs's database");
        c.close().await.ok();
    }
}

//! Interop with npm `openid-client` 6.x as a second independent relying party (the issue's
//! proof asks for it beside the `openidconnect` crate): code + PKCE with state, nonce and
//! RFC 9207 `iss` checked by the RP, userinfo with the subject check, refresh rotation,
//! client_credentials, introspection, revocation and RP-initiated logout. On SQLite and
//! PostgreSQL. Needs Node.js and npm; the test installs `openid-client` into Cargo's test
//! temp directory and fails (never skips) with a message when it cannot.

mod common;
mod oidc_support;
mod portal_support;

use std::path::PathBuf;
use std::process::Command;

use common::Env;
use oidc_support::*;
use portal_support::{start, Browser, TEACHER, TEACHER_PASSWORD};

/// The directory holding `node_modules/openid-client` and the RP script.
fn openid_client_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("openid-client-rp");
    std::fs::create_dir_all(&dir).expect("temp dir");
    if !dir.join("node_modules/openid-client/package.json").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("openid-client@6")
            .status()
            .unwrap_or_else(|e| {
                panic!("npm is needed for the openid-client interop test ({e}); install Node.js 20 and npm (apt-get install -y nodejs npm)")
            });
        assert!(
            status.success(),
            "npm install openid-client@6 failed; check network access to the npm registry"
        );
    }
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/openid_client_rp.mjs"
        ),
        dir.join("rp.mjs"),
    )
    .expect("copy the RP script");
    dir
}

#[tokio::test]
async fn npm_openid_client_completes_code_pkce_refresh_client_credentials_and_logout() {
    let rp_dir = openid_client_dir();
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "openid-client",
            "http://127.0.0.1:9/cb",
            &[
                "--token-auth-method",
                "client_secret_post",
                "--release",
                "name,roster",
                "--post-logout-redirect-uri",
                "http://127.0.0.1:9/bye",
            ],
        );
        let (verifier, challenge) = pkce();
        let path = authorize_path(
            "demo",
            &rp,
            &[
                ("scope", "openid profile roster"),
                ("state", "st-1"),
                ("nonce", "nonce-1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let mut b = Browser::new(&node, "demo");
        let resp = authorize_as(&mut b, &path, TEACHER, TEACHER_PASSWORD);
        assert_eq!(resp.status, 303, "{}", resp.body);
        let callback = resp.header("location").unwrap().to_owned();
        let input = serde_json::json!({
            "issuer": issuer, "client_id": rp.client_id, "client_secret": rp.secret,
            "callback": callback, "code_verifier": verifier, "state": "st-1",
            "nonce": "nonce-1", "post_logout_redirect_uri": "http://127.0.0.1:9/bye",
        });
        let out = Command::new("node")
            .arg(rp_dir.join("rp.mjs"))
            .arg(input.to_string())
            .output()
            .expect("run node (install Node.js 20)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "openid-client said {stdout} / {} ({e})",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert!(v.get("error").is_none(), "{}: {v}", env.label());
        assert_eq!(v["nonce"], "nonce-1");
        assert_eq!(v["amr"], serde_json::json!(["pwd"]));
        assert_eq!(v["userinfo"]["sub"], v["sub"]);
        assert!(v["userinfo"]["name"].is_string(), "{v}");
        assert_eq!(
            v["userinfo"]["https://schemas.kakehashi.jp/roster/role"],
            "teacher"
        );
        assert_eq!(v["refreshed"], true);
        assert_eq!(
            v["introspection"],
            serde_json::json!({"before": true, "after": false})
        );
        // The end-session URL the RP built works against the portal session.
        let end = v["end_session"].as_str().unwrap();
        let r = b.get(&path_of(end));
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(
            r.header("location"),
            Some("http://127.0.0.1:9/bye?state=bye")
        );
    }
}

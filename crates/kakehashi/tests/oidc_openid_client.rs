//! Interop with npm `openid-client` 6.x as a second independent relying party (the issue's
//! proof asks for it beside the `openidconnect` crate): code + PKCE with state, nonce and
//! RFC 9207 `iss` checked by the RP, userinfo with the subject check, refresh rotation,
//! client_credentials, introspection, revocation and RP-initiated logout. On SQLite and
//! PostgreSQL. The RP script is `tests/js/oidc_exchange.mjs`, with the pinned `openid-client` of
//! `tests/js/` (installed by `./scripts/test`); a missing node or package fails the test
//! naming it, never skips. `oidc_rp.rs` drives the same RP through Chromium.

mod common;
mod js_support;
mod oidc_support;
mod portal_support;

use std::process::Command;

use common::Env;
use oidc_support::*;
use portal_support::{start, Browser, TEACHER, TEACHER_PASSWORD};

#[tokio::test]
async fn npm_openid_client_completes_code_pkce_refresh_client_credentials_and_logout() {
    js_support::preflight(false);
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
        let v = openid_client(input, env.label());
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

/// Runs `oidc_exchange.mjs` with `input` and returns its JSON answer (an `error` member fails).
fn openid_client(input: serde_json::Value, label: &str) -> serde_json::Value {
    let out = Command::new("node")
        .arg("oidc_exchange.mjs")
        .arg(input.to_string())
        .current_dir(js_support::js_dir())
        .output()
        .expect("run node (install Node.js 20)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "openid-client said {stdout} / {} ({e})",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(v.get("error").is_none(), "{label}: {v}");
    v
}

#[tokio::test]
async fn npm_openid_client_asks_acr_values_and_max_age_and_gets_a_stepped_up_sign_in() {
    // OIDC Core 3.1.2.1 (acr_values, max_age) and 2 (acr, amr, auth_time); RFC 8176 amr
    // values. openid-client builds the request and checks auth_time against max_age itself.
    js_support::preflight(false);
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "openid-client-acr",
            "http://127.0.0.1:9/cb",
            &[],
        );
        let (verifier, challenge) = pkce();
        let built = openid_client(
            serde_json::json!({
                "mode": "authorize_url", "issuer": issuer, "client_id": rp.client_id,
                "client_secret": rp.secret,
                "params": {
                    "redirect_uri": "http://127.0.0.1:9/cb", "scope": "openid",
                    "state": "st-acr", "nonce": "n-acr", "code_challenge": challenge,
                    "code_challenge_method": "S256",
                    "acr_values": "urn:kakehashi:acr:mfa", "max_age": "600",
                },
            }),
            label,
        );
        let url = built["url"].as_str().expect("url");
        assert!(
            url.contains("acr_values=urn%3Akakehashi%3Aacr%3Amfa"),
            "{url}"
        );
        let path = path_of(url);

        // A learning app, but the RP asked for mfa: password alone gets the step-up page.
        let mut b = Browser::new(&node, "demo");
        let first = authorize_as(&mut b, &path, TEACHER, TEACHER_PASSWORD);
        assert_eq!(first.status, 403, "{label}: {}", first.body);
        let codes = portal_support::make_backup_codes(&mut b);
        let step_up = b.get(&path);
        let ok = portal_support::use_backup_code(&mut b, &step_up, &codes[0]);
        assert_eq!(ok.status, 303, "{label}: {}", ok.body);
        let back = b.get(ok.header("location").expect("back to authorize"));
        assert_eq!(back.status, 303, "{label}: {}", back.body);
        let callback = back.header("location").expect("callback").to_owned();
        assert!(callback.starts_with("http://127.0.0.1:9/cb?"), "{callback}");

        let v = openid_client(
            serde_json::json!({
                "mode": "step_up", "issuer": issuer, "client_id": rp.client_id,
                "client_secret": rp.secret, "callback": callback,
                "code_verifier": verifier, "state": "st-acr", "nonce": "n-acr",
                "max_age": 600,
            }),
            label,
        );
        assert_eq!(v["acr"], "urn:kakehashi:acr:mfa", "{label}: {v}");
        assert_eq!(
            v["amr"],
            serde_json::json!(["pwd", "otp", "mfa"]),
            "{label}"
        );
        assert!(v["auth_time"].is_i64(), "{label}: {v}");
    }
}

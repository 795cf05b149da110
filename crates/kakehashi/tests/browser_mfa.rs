//! Second factors in a real browser: Debian Chromium through playwright-core with the DevTools
//! WebAuthn virtual authenticator (`tests/js/mfa.mjs`), against a real `kakehashi serve --demo`
//! whose public URL is `http://localhost:PORT` (browsers refuse WebAuthn on an IP address). On
//! SQLite only, like the other browser tests: `mfa_step_up.rs` proves the HTTP rules on both
//! databases.
//!
//! Run one alone: `cargo test -p kakehashi --test browser_mfa -- NAME`.

mod common;
mod js_support;
mod oidc_support;
mod portal_support;
mod saml_support;

use std::time::Duration;

use base64::Engine;
use common::Env;
use js_support::{assert_healthy, run_script, ScriptRun};
use oidc_support::{authorize_path, exchange, param, register, Rp};
use portal_support::{start, Node, TEACHER, TEACHER_PASSWORD};
use saml_support::audit_actions;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(180);

/// A demo node reachable as `http://localhost:PORT`, its public URL.
fn localhost_node(env: &Env) -> Node {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://localhost:{port}");
    start(
        env,
        &["--demo", "--listen", &listen, "--public-url", &public],
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Registers a school-affairs SAML SP (on a fake `.example` host) and a school-affairs OIDC RP
/// (redirecting to the script's server on `rp_port`); returns the SAML app's launch path, the
/// RP and an authorization request path for it.
fn school_affairs_apps(env: &Env, rp_port: u16) -> (String, Rp, String) {
    let out = env
        .run(&[
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
            "--format",
            "json",
        ])
        .ok();
    let v: Value = serde_json::from_str(&out.stdout).expect("app add prints JSON");
    let launch = format!("/t/demo/launch/{}", v["id"].as_str().expect("id"));
    let rp = register(
        env,
        "demo",
        "成績処理",
        &format!("http://127.0.0.1:{rp_port}/cb"),
        &["--security-class", "school-affairs", "--audience", "staff"],
    );
    let authorize = authorize_path(
        "demo",
        &rp,
        &[("scope", "openid"), ("state", "st-1"), ("nonce", "n-1")],
    );
    (launch, rp, authorize)
}

fn mfa(node: &Node, scenario: &str, args: &[&str]) -> ScriptRun {
    let mut all = vec![scenario, node.url.as_str(), "demo"];
    all.extend_from_slice(args);
    run_script("mfa.mjs", &all, LIMIT).succeeded()
}

fn amr_of(node: &Node, rp: &Rp, callback: &str) -> (Value, Value) {
    assert_eq!(
        param(callback, "state").as_deref(),
        Some("st-1"),
        "{callback}"
    );
    let code = param(callback, "code").unwrap_or_else(|| panic!("no code in {callback}"));
    let (resp, token) = exchange(&node.addr, "demo", rp, &code, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let jwt = token["id_token"].as_str().expect("id_token");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(1).expect("payload"))
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&payload).expect("claims");
    (claims["acr"].clone(), claims["amr"].clone())
}

/// Runs the step-up scenario with an authenticator of `kind` on `node` and judges it; returns
/// the `amr` the OIDC app received.
async fn steps_up_with(env: &Env, node: &Node, kind: &str, name: &str) -> Value {
    let rp_port = free_port();
    let (launch, rp, authorize) = school_affairs_apps(env, rp_port);
    let port = rp_port.to_string();
    let run = mfa(
        node,
        "step-up",
        &[
            TEACHER,
            TEACHER_PASSWORD,
            kind,
            name,
            &port,
            &launch,
            &authorize,
        ],
    );
    let reg = run.one("registered");
    assert_eq!(reg["outcome"], "navigated", "{}", run.transcript());
    assert_eq!(reg["credentials"][0]["name"], name, "{reg}");
    assert_eq!(reg["onAuthenticator"], 1, "{reg}");
    // Discoverable credentials (passkeys) for staff on platform authenticators only.
    let discoverable = i64::from(kind == "platform");
    assert_eq!(reg["residentKeys"], discoverable, "{reg}");

    let steps = run.all("stepped-up");
    assert_eq!(steps.len(), 2, "{}", run.transcript());
    let saml = steps[0];
    assert_eq!(saml["before"]["status"], 403, "{saml}");
    assert_eq!(saml["before"]["h1"], "二要素認証が必要です");
    assert_eq!(saml["arrived"], true, "{}", run.transcript());
    let hit = &saml["reachedApp"][0];
    assert_eq!(hit["url"], "https://koumu.example/acs", "{saml}");
    assert_eq!(hit["method"], "POST");
    assert_eq!(hit["samlResponse"], true, "the SP received a SAML Response");

    let oidc = steps[1];
    assert_eq!(oidc["before"]["status"], 403, "{oidc}");
    assert_eq!(oidc["arrived"], true, "{}", run.transcript());
    let landed = oidc["callbacks"][0].as_str().unwrap_or_default();
    assert!(landed.starts_with(&rp.redirect_uri), "{oidc}");
    let (acr, amr) = amr_of(node, &rp, landed);
    assert_eq!(acr, "urn:kakehashi:acr:mfa");

    let after = run.one("after");
    assert!(
        !after["credentials"][0]["used"]
            .as_str()
            .unwrap_or_default()
            .contains("まだ"),
        "last use is recorded: {after}"
    );
    assert_healthy(&run, &[(403, "/launch/"), (403, "/authorize")]);
    let actions = audit_actions(env).await;
    assert!(actions.iter().any(|(a, _)| a == "mfa.webauthn.register"));
    assert!(actions.iter().any(|(a, _)| a == "mfa.webauthn.verified"));
    amr
}

#[tokio::test]
async fn a_usb_security_key_registers_and_steps_up_into_a_saml_sp_and_an_oidc_rp() {
    let env = Env::sqlite().await;
    let node = localhost_node(&env);
    let amr = steps_up_with(&env, &node, "security-key", "職員室のキー").await;
    // RFC 8176: a hardware-held key and a touch; no user verification on this key.
    assert_eq!(amr, serde_json::json!(["pwd", "hwk", "user", "mfa"]));
}

#[tokio::test]
async fn a_platform_authenticator_with_user_verification_steps_up_under_a_uv_required_policy() {
    let env = Env::sqlite().await;
    let node = localhost_node(&env);
    env.run(&[
        "tenant",
        "security",
        "set",
        "--tenant",
        "demo",
        "--uv-school-affairs",
        "required",
    ])
    .ok();
    let amr = steps_up_with(&env, &node, "platform", "この端末").await;
    assert_eq!(amr, serde_json::json!(["pwd", "hwk", "user", "fpt", "mfa"]));
}

#[tokio::test]
async fn an_authenticator_outside_the_aaguid_allow_list_is_refused() {
    let env = Env::sqlite().await;
    let node = localhost_node(&env);
    env.run(&[
        "tenant",
        "security",
        "set",
        "--tenant",
        "demo",
        "--aaguids",
        "cb69481e-8ff7-4039-93ec-0a2729a154a8",
    ])
    .ok();
    let run = mfa(
        &node,
        "refused",
        &[TEACHER, TEACHER_PASSWORD, "security-key"],
    );
    let r = run.one("refused");
    assert_eq!(r["outcome"], "error", "{}", run.transcript());
    assert!(
        r["status"]
            .as_str()
            .unwrap_or_default()
            .contains("is not allowed in this tenant"),
        "{r}"
    );
    assert_eq!(r["credentials"], serde_json::json!([]), "nothing stored");
    assert_healthy(&run, &[(403, "/mfa/webauthn/register/finish")]);
    let actions = audit_actions(&env).await;
    let refusal = actions
        .iter()
        .find(|(a, _)| a == "mfa.webauthn.register.refused")
        .expect("the refusal is audited");
    assert!(refusal.1.contains("not allowed"), "{}", refusal.1);
}

#[tokio::test]
async fn a_backup_code_works_once_in_the_browser() {
    let env = Env::sqlite().await;
    let node = localhost_node(&env);
    let (launch, _, _) = school_affairs_apps(&env, free_port());
    let run = mfa(&node, "backup-code", &[TEACHER, TEACHER_PASSWORD, &launch]);
    assert_eq!(run.one("codes")["count"], 10);
    let first = run.one("first-use");
    assert_eq!(first["before"], 403, "{first}");
    assert!(
        first["landed"]
            .as_str()
            .unwrap_or_default()
            .starts_with("https://koumu.example/acs"),
        "{first}"
    );
    let second = run.one("second-use");
    assert_eq!(second["after"], 401, "{second}");
    assert!(
        second["notice"]
            .as_str()
            .unwrap_or_default()
            .contains("すでに使われています"),
        "{second}"
    );
    assert_healthy(&run, &[(403, "/launch/"), (401, "/mfa/backup-code")]);
}

/// Issue 5: a teacher who registered a platform authenticator (a discoverable credential)
/// signs in with the passkey button alone — no username, no password — and reaches a
/// school-affairs app with no further step-up (the passkey verified the user: a multi-factor
/// authenticator, NIST SP 800-63B §5.1.9); a replayed finish request and another browser's
/// authenticator get the same generic refusal, audited with its reason.
#[tokio::test]
async fn a_teacher_signs_in_with_a_passkey_alone_and_reaches_a_school_affairs_app() {
    let env = Env::sqlite().await;
    let node = localhost_node(&env);
    let rp_port = free_port();
    let (launch, rp, authorize) = school_affairs_apps(&env, rp_port);
    let port = rp_port.to_string();
    let run = mfa(
        &node,
        "passkey",
        &[TEACHER, TEACHER_PASSWORD, &port, &launch, &authorize],
    );
    let reg = run.one("registered");
    assert_eq!(reg["outcome"], "navigated", "{}", run.transcript());
    assert_eq!(reg["residentKeys"], 1, "{reg}");

    let login = run.one("passkey-login");
    assert_eq!(login["outcome"], "navigated", "{}", run.transcript());
    assert!(
        login["landed"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/t/demo/"),
        "the launcher: {login}"
    );
    // No step-up page in between: the SAML SP received a Response at once.
    assert_eq!(login["appStatus"], 200, "{login}");
    assert!(
        login["landedApp"]
            .as_str()
            .unwrap_or_default()
            .starts_with("https://koumu.example/acs"),
        "{login}"
    );
    assert_eq!(login["reachedApp"][0]["samlResponse"], true, "{login}");
    // The OIDC RP gets a code at once too; its ID token says what the login was (RFC 8176).
    let landed = login["callbacks"][0].as_str().unwrap_or_default();
    assert!(landed.starts_with(&rp.redirect_uri), "{login}");
    let (acr, amr) = amr_of(&node, &rp, landed);
    assert_eq!(acr, "urn:kakehashi:acr:mfa");
    assert_eq!(amr, serde_json::json!(["hwk", "user", "fpt", "mfa"]));

    let replayed = run.one("replayed");
    assert_eq!(replayed["captured"], true, "{}", run.transcript());
    assert_eq!(replayed["status"], 401, "{replayed}");
    assert_eq!(replayed["body"]["error"], "passkey_failed", "{replayed}");
    assert!(replayed["setCookie"].is_null(), "no session: {replayed}");

    let none = run.one("no-credential");
    let unknown = run.one("unknown-credential");
    for refused in [none, unknown] {
        assert_eq!(refused["outcome"], "error", "{}", run.transcript());
        assert!(
            refused["landed"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/t/demo/login"),
            "{refused}"
        );
    }
    // One generic message whatever went wrong.
    assert_eq!(none["status"], unknown["status"]);
    assert!(
        unknown["status"]
            .as_str()
            .unwrap_or_default()
            .contains("パスキーでログインできませんでした"),
        "{unknown}"
    );
    assert_healthy(&run, &[(401, "/login/passkey/finish")]);

    let actions = audit_actions(&env).await;
    let logins: Vec<Value> = actions
        .iter()
        .filter(|(a, _)| a == "portal.login")
        .map(|(_, d)| serde_json::from_str(d).expect("details"))
        .collect();
    let by_passkey = logins
        .iter()
        .find(|d| !d["credential"].is_null())
        .expect("a passkey login is audited");
    assert_eq!(
        by_passkey["amr"],
        serde_json::json!(["hwk", "user", "fpt", "mfa"])
    );
    assert_eq!(by_passkey["acr"], "urn:kakehashi:acr:mfa");
    let reasons: Vec<String> = actions
        .iter()
        .filter(|(a, _)| a == "portal.login.failed")
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter(|d| d["method"] == "passkey")
        .map(|d| d["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(reasons.iter().any(|r| r == "no-ceremony"), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r == "unknown-credential"),
        "{reasons:?}"
    );
}

//! npm `openid-client` 6.x, a strict and widely used relying party, against the OpenID
//! Provider of a real `kakehashi serve --demo` (`tests/js/oidc_rp.mjs`; the browser parts are
//! Debian Chromium). The script reports what the RP saw as JSON lines; these tests judge it.
//! Discovery and client_credentials run on SQLite and PostgreSQL; the browser flows on SQLite
//! (`oidc_flow.rs` proves the same state machines on both databases over plain HTTP).
//!
//! Run one alone: `cargo test -p kakehashi --test oidc_rp -- NAME`.

mod common;
mod js_support;
mod portal_support;
mod saml_support;

use std::time::Duration;

use common::Env;
use js_support::{assert_healthy, run_script, ScriptRun};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(180);

/// A registered OIDC client of tenant `demo`.
struct Client {
    id: String,
    secret: String,
}

/// Registers a confidential OIDC client through the command line, as an operator does.
fn register(env: &Env, extra: &[&str]) -> Client {
    let mut args = vec![
        "app",
        "add",
        "--tenant",
        "demo",
        "--protocol",
        "oidc",
        "--security-class",
        "learning",
        "--format",
        "json",
    ];
    if !extra.contains(&"--name") {
        args.extend(["--name", "openid-client RP"]);
    }
    args.extend_from_slice(extra);
    let out = env.run(&args).ok();
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("app add --format json: {e}\n{}", out.stdout));
    Client {
        id: v["client_id"].as_str().expect("client_id").to_owned(),
        secret: v["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
    }
}

fn rp(scenario: &str, issuer: &str, client: &Client, args: &[&str]) -> ScriptRun {
    let mut all = vec![scenario, issuer, client.id.as_str(), client.secret.as_str()];
    all.extend_from_slice(args);
    run_script("oidc_rp.mjs", &all, LIMIT).succeeded()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn openid_client_accepts_discovery_and_every_key_of_the_jwks() {
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);
        let client = register(&env, &["--redirect-uri", "http://127.0.0.1:9/cb"]);
        let issuer = format!("{}/t/demo", node.url);
        let run = rp("discovery", &issuer, &client, &[]);

        // OIDC Discovery 1.0 §3 (required members) and §4.3 (issuer equals the URL's).
        let md = &run.one("metadata")["metadata"];
        assert_eq!(md["issuer"], issuer.as_str(), "{label}");
        assert_eq!(md["jwks_uri"], format!("{issuer}/jwks").as_str());
        for required in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
        ] {
            assert!(!md[required].is_null(), "{label}: {required} missing: {md}");
        }
        assert!(md["authorization_endpoint"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&issuer));
        assert!(strings(&md["response_types_supported"]).contains(&"code"));
        assert!(strings(&md["code_challenge_methods_supported"]).contains(&"S256"));
        assert!(!strings(&md["code_challenge_methods_supported"]).contains(&"plain"));
        let algs = strings(&md["id_token_signing_alg_values_supported"]);
        assert!(
            algs.contains(&"RS256") && algs.contains(&"ES256"),
            "{algs:?}"
        );
        assert!(!algs.contains(&"none"));

        // Every published key imports into WebCrypto for its algorithm, is a public signing
        // key with a unique kid, and both algorithms are there.
        let keys = run.one("jwks")["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(keys.len() >= 2, "{label}: {keys:?}");
        for k in &keys {
            assert_eq!(k["imported"], true, "{label}: {k}");
            assert_eq!(k["private"], false, "{label}: private material: {k}");
            assert_eq!(k["use"], "sig", "{k}");
        }
        let mut kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
        kids.sort_unstable();
        kids.dedup();
        assert_eq!(kids.len(), keys.len(), "kids are unique");
        for alg in ["RS256", "ES256"] {
            assert!(
                keys.iter().any(|k| k["alg"] == alg),
                "{label}: no {alg} key"
            );
        }

        // A tenant that does not exist is not an issuer openid-client will accept.
        let wrong = run.one("unknown-issuer");
        assert_eq!(wrong["ok"], false, "{wrong}");
    }
}

/// A port on 127.0.0.1 that nothing listens on now, for the RP's own callback server.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A client whose redirect and post-logout URIs are the script's callback server.
fn register_with_callback(env: &Env, port: u16) -> Client {
    let cb = format!("http://127.0.0.1:{port}/cb");
    let out = format!("http://127.0.0.1:{port}/logged-out");
    register(
        env,
        &[
            "--redirect-uri",
            &cb,
            "--post-logout-redirect-uri",
            &out,
            "--release",
            "name,kana,roster",
        ],
    )
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

#[tokio::test]
async fn openid_client_signs_a_pupil_in_with_code_and_pkce_refreshes_revokes_and_logs_out() {
    let env = Env::sqlite().await;
    let node = common::node::start(&env, &["--demo"]);
    let port = free_port();
    let client = register_with_callback(&env, port);
    let issuer = format!("{}/t/demo", node.url);
    let port_arg = port.to_string();
    let run = rp(
        "code",
        &issuer,
        &client,
        &["minami.s01", "demo1234", &port_arg],
    );
    // The whole way a pupil goes: authorization request, our login form, back to the RP.
    assert!(
        run.all("code-login-failed").is_empty(),
        "signing in on the login page during an authorization request did not reach the RP\n{}",
        run.transcript()
    );
    let code = run.one("code");
    assert_eq!(code["loginShown"], true, "{code}");
    assert!(s(code, "callback").contains("&iss="), "RFC 9207: {code}");
    let claims = &code["claims"];
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["acr"], "urn:kakehashi:acr:pwd");
    assert_eq!(strings(&claims["amr"]), ["pwd"]);
    assert!(!s(claims, "nonce").is_empty() && !s(claims, "at_hash").is_empty());
    assert_eq!(code["has_refresh_token"], true);
    let sub = s(claims, "sub").to_owned();
    assert!(!sub.is_empty());

    // userinfo: the same sub, the name exactly as the roster has it (𠮷田 is outside the BMP).
    let info = run.one("userinfo");
    assert_eq!(info["ok"], true, "{info}");
    let info = &info["value"];
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["family_name"], "𠮷田", "{info}");
    assert_eq!(info["family_name#ja-Kana-JP"], "ヨシダ", "{info}");
    assert_eq!(info["https://schemas.kakehashi.jp/roster/role"], "student");

    let active = run.one("introspect-access");
    assert_eq!(active["value"]["active"], true, "{active}");
    assert_eq!(active["value"]["sub"], sub.as_str());
    assert_eq!(active["value"]["client_id"], client.id.as_str());

    // Refresh rotates; presenting the old refresh token again ends the whole family.
    let refresh = run.one("refresh");
    assert_eq!(
        (&refresh["newAccess"], &refresh["newRefresh"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "{refresh}"
    );
    for check in ["refresh-reuse", "after-reuse-rotated-refresh"] {
        let v = run.one(check);
        assert_eq!(
            (&v["ok"], s(v, "error")),
            (&Value::Bool(false), "invalid_grant"),
            "{check}: {v}"
        );
    }
    assert_eq!(run.one("after-reuse-access")["value"]["active"], false);

    // Single sign-on: the second authorization needs no login.
    let sso = run.one("sso");
    assert_eq!(
        (&sso["loginShown"], &sso["sameSub"]),
        (&Value::Bool(false), &Value::Bool(true)),
        "{sso}"
    );
    // prompt=login (OIDC Core 3.1.2.1): the form again although signed in, a fresh auth_time.
    let fresh = run.one("prompt-login");
    assert_eq!(fresh["loginShown"], true, "{fresh}");
    assert_eq!(fresh["sameSub"], true, "{fresh}");
    assert_eq!(fresh["newerAuthTime"], true, "{fresh}");
    // Revocation (RFC 7009) of an access token and of a refresh token.
    assert_eq!(run.one("revoke-access")["ok"], true);
    assert_eq!(
        run.one("revoked-access-introspect")["value"]["active"],
        false
    );
    let userinfo = run.one("revoked-access-userinfo");
    assert_eq!(
        (&userinfo["ok"], &userinfo["status"]),
        (&Value::Bool(false), &Value::from(401)),
        "{userinfo}"
    );
    assert_eq!(run.one("revoke-refresh")["ok"], true);
    assert_eq!(
        s(run.one("revoked-refresh-grant"), "error"),
        "invalid_grant"
    );

    // prompt=none: a code while signed in, login_required once signed out.
    assert_eq!(run.one("prompt-none-signed-in")["ok"], true);
    let logout = run.one("logout");
    assert_eq!(
        s(logout, "landed"),
        format!("http://127.0.0.1:{port}/logged-out?state=bye-123"),
        "RP-initiated logout back to the RP with its state: {logout}"
    );
    assert_eq!(run.one("logout-token")["value"]["active"], false);
    let none = run.one("prompt-none-signed-out");
    assert_eq!(s(none, "error"), "login_required", "{none}");
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn openid_client_completes_a_form_post_response_for_a_teacher() {
    let env = Env::sqlite().await;
    let node = common::node::start(&env, &["--demo"]);
    let port = free_port();
    let client = register_with_callback(&env, port);
    let issuer = format!("{}/t/demo", node.url);
    let port_arg = port.to_string();
    let run = rp(
        "form-post",
        &issuer,
        &client,
        &["minami.t01", "demo-teacher-2026", &port_arg],
    );
    let cb = run.one("form-post-callback");
    assert_eq!(s(cb, "method"), "POST", "{cb}");
    assert_eq!(s(cb, "contentType"), "application/x-www-form-urlencoded");
    assert_eq!(strings(&cb["fields"]), ["code", "iss", "state"], "{cb}");
    assert_eq!(s(cb, "query"), "", "nothing in the URL: {cb}");
    let tokens = run.one("form-post-tokens");
    assert_eq!(tokens["ok"], true, "{tokens}");
    assert_eq!(tokens["value"]["claims"]["aud"], client.id.as_str());
    // The auto-submitting page runs its script under a nonce CSP: no violation.
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn openid_client_gets_a_client_credentials_token_introspects_and_revokes_it() {
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);
        let client = register(&env, &["--redirect-uri", "http://127.0.0.1:9/cb"]);
        let issuer = format!("{}/t/demo", node.url);
        let run = rp("client-credentials", &issuer, &client, &[]);
        let t = run.one("client-credentials");
        assert_eq!(s(t, "token_type").to_ascii_lowercase(), "bearer", "{label}");
        assert_eq!(s(t, "scope"), "roster", "{t}");
        assert_eq!(
            (&t["has_refresh_token"], &t["has_id_token"]),
            (&Value::Bool(false), &Value::Bool(false)),
            "no user, so no refresh or ID token: {t}"
        );
        let i = &run.one("client-credentials-introspect")["value"];
        assert_eq!(i["active"], true, "{label}: {i}");
        assert_eq!(i["client_id"], client.id.as_str());
        assert_eq!(
            s(run.one("client-credentials-openid"), "error"),
            "invalid_scope"
        );
        assert_eq!(run.one("client-credentials-revoke")["ok"], true);
        assert_eq!(
            run.one("client-credentials-revoked")["value"]["active"],
            false,
            "{label}"
        );
    }
}

#[tokio::test]
async fn rp_initiated_logout_without_a_hint_is_confirmed_by_the_user_and_returns_to_the_rp() {
    let env = Env::sqlite().await;
    let node = common::node::start(&env, &["--demo"]);
    let port = free_port();
    let client = register_with_callback(&env, port);
    let issuer = format!("{}/t/demo", node.url);
    let port_arg = port.to_string();
    let run = rp(
        "logout-confirm",
        &issuer,
        &client,
        &["minami.t01", "demo-teacher-2026", &port_arg],
    );
    let v = run.one("logout-confirm");
    assert_eq!(
        s(v, "landed"),
        format!("http://127.0.0.1:{port}/logged-out?state=bye-456"),
        "after confirming, back to the RP with its state\n{}",
        run.transcript()
    );
    let after = run.one("after-logout");
    assert_eq!(after["signedIn"], false, "{after}");
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn a_confirmed_rp_initiated_logout_walks_the_saml_sp_in_chromium_then_reaches_the_rp() {
    let env = Env::sqlite().await;
    let node = common::node::start(&env, &["--demo"]);
    let port = free_port();
    let client = register_with_callback(&env, port);
    // A SAML SP on the script's callback server, with a SingleLogoutService.
    let sp = format!("http://127.0.0.1:{port}/sp");
    let acs = format!("http://127.0.0.1:{port}/acs");
    let slo = format!("http://127.0.0.1:{port}/slo");
    let key = saml_support::sp_key("SLO SP");
    let md = saml_support::sp_metadata(&sp, &acs, Some(key.certificate()), false).replace(
        "<md:AssertionConsumerService",
        &format!("<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{slo}\"/><md:AssertionConsumerService"),
    );
    saml_support::register(&env, "SLO SP", &md, &["--security-class", "learning"]);
    let xml = saml_support::authn_request(&node.url, &saml_support::new_id(), &sp, &acs, "", "");
    let sso_path = saml_support::redirect_path(&xml, None, None);
    let issuer = format!("{}/t/demo", node.url);
    let port_arg = port.to_string();
    let run = rp(
        "logout-confirm-saml",
        &issuer,
        &client,
        &["minami.t01", "demo-teacher-2026", &port_arg, &sso_path],
    );
    let sso = run.one("saml-sso");
    assert_eq!(sso["method"], "POST", "{}", run.transcript());
    assert_eq!(s(sso, "url"), acs);
    // RP-Initiated Logout confirmed on our page: Chromium goes on to the SP's SLO URL (the
    // continuation page is not cut by the confirmation form's CSP form-action) ...
    let to_sp = run.one("saml-slo");
    assert!(
        s(to_sp, "url").starts_with(&format!("{slo}?SAMLRequest=")),
        "{}",
        run.transcript()
    );
    // ... and, the SP not answering, to the RP's post_logout_redirect_uri with its state.
    let v = run.one("logout-confirm-saml");
    assert_eq!(
        s(v, "landed"),
        format!("http://127.0.0.1:{port}/logged-out?state=bye-789"),
        "{}",
        run.transcript()
    );
    assert_eq!(run.one("after-logout")["signedIn"], false);
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn a_pupil_taps_a_tile_and_is_signed_in_to_the_app_without_logging_in_again() {
    let env = Env::sqlite().await;
    let node = common::node::start(&env, &["--demo"]);
    let port = free_port();
    let cb = format!("http://127.0.0.1:{port}/cb");
    let launch = format!("http://127.0.0.1:{port}/launch");
    let client = register(
        &env,
        &[
            "--name",
            "デジタル教科書",
            "--audience",
            "students",
            "--redirect-uri",
            &cb,
            "--launch-url",
            &launch,
        ],
    );
    let issuer = format!("{}/t/demo", node.url);
    let port_arg = port.to_string();
    let run = rp(
        "launcher",
        &issuer,
        &client,
        &["minami.s01", "demo1234", &port_arg, "デジタル教科書"],
    );
    let v = run.one("launcher");
    assert!(
        v["error"].is_null(),
        "the tile did not reach the app\n{}",
        run.transcript()
    );
    assert_eq!(v["loginShownInPopup"], false, "{v}");
    let tokens = &v["tokens"];
    assert_eq!(tokens["ok"], true, "{tokens}");
    assert_eq!(tokens["value"]["claims"]["aud"], client.id.as_str());
    assert_eq!(tokens["value"]["claims"]["iss"], issuer.as_str());
    assert_healthy(&run, &[]);
}

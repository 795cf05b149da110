//! Signing in with a passkey (docs/MFA.md, "Passkey sign-in") over plain HTTP against the real
//! binary, on SQLite and PostgreSQL: the refusals that need no real authenticator. The whole
//! ceremony with a WebAuthn authenticator is proven in Chromium by `browser_mfa.rs`
//! (`a_teacher_signs_in_with_a_passkey_alone_and_reaches_a_school_affairs_app`).
//!
//! The server judges a discoverable assertion's credential id and user handle before it
//! checks the signature, so an assertion with a made-up signature reaches every rule: unknown
//! credential, another tenant's, a pupil's, a replayed or never-started ceremony — and each
//! gets the same answer.

mod common;
mod portal_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::Env;
use portal_support::{sql, Browser, Node, PUPIL, TEACHER};
use serde_json::{json, Value};

/// A demo node whose public URL is `http://localhost:PORT` (WebAuthn needs a domain name).
fn localhost_node(env: &Env) -> Node {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://localhost:{port}");
    portal_support::start(
        env,
        &["--demo", "--listen", &listen, "--public-url", &public],
    )
}

/// A JSON POST with the pre-login cookie and CSRF header; (status, headers, body).
fn post_json(
    node: &Node,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: &Value,
) -> (u16, String, Value) {
    let mut s = TcpStream::connect(&node.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let body = body.to_string();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: kakehashi-portal-test\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        node.addr,
        body.len()
    );
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if let Some(c) = csrf {
        head.push_str(&format!("X-CSRF-Token: {c}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0\r\n").map_or(rest, |(b, _)| b))
            .unwrap_or(body)
            .to_owned()
    } else {
        body.to_owned()
    };
    (
        status,
        head.to_owned(),
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

/// The login page's CSRF token (also on the passkey button) and the browser's cookies.
fn login_page(b: &mut Browser<'_>) -> (String, String) {
    let page = b.get(&format!("/t/{}/login", b.tenant));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"passkey-login\""), "{}", page.body);
    assert!(
        page.body
            .contains("<script src=\"/portal-assets/passkey.js\" defer></script>"),
        "{}",
        page.body
    );
    (page.hidden("csrf").expect("csrf"), b.cookie())
}

/// Kakehashi's WebAuthn user handle of a user (as `core::mfa::webauthn` derives it).
fn user_handle(tenant: &str, sourced_id: &str) -> Vec<u8> {
    let mut input = b"kakehashi-webauthn-user\0".to_vec();
    input.extend_from_slice(tenant.as_bytes());
    input.push(0);
    input.extend_from_slice(sourced_id.as_bytes());
    openssl::sha::sha256(&input)[..16].to_vec()
}

/// A discoverable assertion for `credential_id` and `handle` whose signature is made up: the
/// server refuses it on the credential and holder rules, or else on the signature.
fn assertion(credential_id: &[u8], handle: &[u8], challenge: &str, origin: &str) -> Value {
    let client_data = json!({
        "type": "webauthn.get", "challenge": challenge, "origin": origin, "crossOrigin": false,
    })
    .to_string();
    let rp_hash = openssl::sha::sha256(b"localhost");
    let mut auth_data = rp_hash.to_vec();
    auth_data.push(0x05); // UP | UV
    auth_data.extend_from_slice(&[0, 0, 0, 1]);
    let id = URL_SAFE_NO_PAD.encode(credential_id);
    json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": {
            "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
            "signature": URL_SAFE_NO_PAD.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
            "userHandle": URL_SAFE_NO_PAD.encode(handle),
        },
        "clientExtensionResults": {},
    })
}

async fn sourced_id(env: &Env, tenant: &str, username: &str) -> String {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open");
    let t = kakehashi_store::TenantId::parse(tenant).expect("tenant");
    let u = kakehashi_store::roster::find_user_by_username(&store, &t, username)
        .await
        .expect("query")
        .expect("the user exists");
    store.close().await;
    u.sourced_id
}

/// Registers a discoverable credential row for a user (set-up only: the browser test
/// registers real ones).
async fn discoverable_credential(env: &Env, tenant: &str, user: &str, id: &[u8]) {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open");
    let t = kakehashi_store::TenantId::parse(tenant).expect("tenant");
    let mut tx = store.begin().await.expect("begin");
    kakehashi_store::mfa::insert_credential(
        &mut tx,
        &t,
        &kakehashi_store::mfa::CredentialRow {
            credential_id: URL_SAFE_NO_PAD.encode(id),
            user_sourced_id: user.to_owned(),
            name: "この端末".into(),
            kind: "platform".into(),
            aaguid: "00000000-0000-0000-0000-000000000000".into(),
            attestation: "none".into(),
            user_verified: true,
            discoverable: true,
            credential: "{}".into(),
            created_at: "2026-04-01T08:00:00.000Z".into(),
            last_used_at: None,
        },
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    store.close().await;
}

/// The reasons of the passkey login refusals in a tenant's audit log, oldest first.
async fn refusal_reasons(env: &Env, tenant: &str) -> Vec<String> {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open");
    let t = kakehashi_store::TenantId::parse(tenant).expect("tenant");
    let rows = kakehashi_store::audit::recent(&store, Some(&t), 500)
        .await
        .expect("audit");
    store.close().await;
    let mut reasons: Vec<String> = rows
        .into_iter()
        .map(|e| (e.action, e.details))
        .filter(|(a, _)| a == "portal.login.failed")
        .filter_map(|(_, d)| serde_json::from_str::<Value>(&d).ok())
        .filter(|d| d["method"] == "passkey")
        .map(|d| d["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    reasons.reverse();
    reasons
}

/// Starts a ceremony for the browser; returns its challenge.
fn start(node: &Node, tenant: &str, cookie: &str, csrf: &str) -> String {
    let (status, _, options) = post_json(
        node,
        &format!("/t/{tenant}/login/passkey/start"),
        cookie,
        Some(csrf),
        &json!({}),
    );
    assert_eq!(status, 200, "{options}");
    options["publicKey"]["challenge"]
        .as_str()
        .expect("a challenge")
        .to_owned()
}

fn finish(node: &Node, tenant: &str, cookie: &str, csrf: &str, credential: &Value) -> (u16, Value) {
    let (status, head, body) = post_json(
        node,
        &format!("/t/{tenant}/login/passkey/finish"),
        cookie,
        Some(csrf),
        &json!({ "credential": credential }),
    );
    assert!(
        !head.to_ascii_lowercase().contains("kakehashi_session="),
        "no session cookie on a refusal: {head}"
    );
    (status, body)
}

#[tokio::test]
async fn the_passkey_options_ask_for_any_discoverable_credential_with_user_verification() {
    for env in Env::both().await {
        let label = env.label();
        let node = localhost_node(&env);
        let mut b = Browser::new(&node, "demo");
        let (csrf, cookie) = login_page(&mut b);
        // The login page's CSRF token is required (bound to the pre-login cookie).
        let (status, _, body) = post_json(
            &node,
            "/t/demo/login/passkey/start",
            &cookie,
            None,
            &json!({}),
        );
        assert_eq!(status, 403, "{label}: {body}");
        assert_eq!(body["error"], "csrf");
        let (status, _, options) = post_json(
            &node,
            "/t/demo/login/passkey/start",
            &cookie,
            Some(&csrf),
            &json!({}),
        );
        assert_eq!(status, 200, "{label}: {options}");
        let pk = &options["publicKey"];
        // WebAuthn §5.5: no allowCredentials, so the authenticator offers its discoverable
        // credential; user verification required (the passkey is the whole login).
        assert!(
            pk["allowCredentials"]
                .as_array()
                .is_none_or(|a| a.is_empty()),
            "{options}"
        );
        assert_eq!(pk["userVerification"], "required", "{options}");
        assert!(options.get("mediation").is_none(), "{options}");

        // A tenant that turns staff passkeys off shows no button and starts nothing.
        env.run(&[
            "tenant",
            "security",
            "set",
            "--tenant",
            "demo",
            "--staff-passkeys",
            "off",
        ])
        .ok();
        let page = b.get("/t/demo/login");
        assert!(!page.body.contains("passkey-login"), "{label}");
        let (status, _, body) = post_json(
            &node,
            "/t/demo/login/passkey/start",
            &b.cookie(),
            Some(&csrf),
            &json!({}),
        );
        assert_eq!(status, 403, "{label}: {body}");
        assert_eq!(body["error"], "passkeys_off");
    }
}

#[tokio::test]
async fn unknown_other_tenants_pupils_and_replayed_passkey_logins_get_one_generic_refusal() {
    for env in Env::both().await {
        let label = env.label();
        let node = localhost_node(&env);
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B市"])
            .ok();
        let origin = node.url.replace("127.0.0.1", "localhost");
        let teacher = sourced_id(&env, "demo", TEACHER).await;
        let pupil = sourced_id(&env, "demo", PUPIL).await;
        discoverable_credential(&env, "demo", &teacher, b"teacher-passkey-1").await;
        discoverable_credential(&env, "demo", &pupil, b"pupil-passkey-001").await;

        let mut b = Browser::new(&node, "demo");
        let (csrf, cookie) = login_page(&mut b);
        let mut refusals = vec![];

        // A credential the tenant does not know.
        let c = start(&node, "demo", &cookie, &csrf);
        let unknown = assertion(
            b"never-registered",
            &user_handle("demo", &teacher),
            &c,
            &origin,
        );
        refusals.push(finish(&node, "demo", &cookie, &csrf, &unknown));
        // The same assertion again: the ceremony was used (a replay), refused before anything.
        refusals.push(finish(&node, "demo", &cookie, &csrf, &unknown));

        // A pupil's credential (pupils sign in with a password or a card only).
        let c = start(&node, "demo", &cookie, &csrf);
        let pupils = assertion(
            b"pupil-passkey-001",
            &user_handle("demo", &pupil),
            &c,
            &origin,
        );
        refusals.push(finish(&node, "demo", &cookie, &csrf, &pupils));

        // The teacher's credential with another user's handle (WebAuthn §7.2 step 6).
        let c = start(&node, "demo", &cookie, &csrf);
        let swapped = assertion(
            b"teacher-passkey-1",
            &user_handle("demo", &pupil),
            &c,
            &origin,
        );
        refusals.push(finish(&node, "demo", &cookie, &csrf, &swapped));

        // The teacher's credential at another tenant's login page: unknown there.
        let mut other = Browser::new(&node, "city-b");
        let page = other.get("/t/city-b/login");
        let other_csrf = page.hidden("csrf").expect("csrf");
        let c = start(&node, "city-b", &other.cookie(), &other_csrf);
        let elsewhere = assertion(
            b"teacher-passkey-1",
            &user_handle("demo", &teacher),
            &c,
            &origin,
        );
        refusals.push(finish(
            &node,
            "city-b",
            &other.cookie(),
            &other_csrf,
            &elsewhere,
        ));

        // A ceremony belongs to the browser that started it: another pre-login cookie finds
        // none, even with a valid CSRF token of its own.
        let c = start(&node, "demo", &cookie, &csrf);
        let mut thief = Browser::new(&node, "demo");
        let (thief_csrf, thief_cookie) = login_page(&mut thief);
        let stolen = assertion(
            b"teacher-passkey-1",
            &user_handle("demo", &teacher),
            &c,
            &origin,
        );
        refusals.push(finish(&node, "demo", &thief_cookie, &thief_csrf, &stolen));

        for (status, body) in &refusals {
            assert_eq!(*status, 401, "{label}: {body}");
            assert_eq!(
                body,
                &json!({"error": "passkey_failed", "message": "the passkey sign-in was not accepted"}),
                "{label}: one answer for every refusal"
            );
        }
        assert_eq!(
            refusal_reasons(&env, "demo").await,
            [
                "unknown-credential",
                "no-ceremony",
                "not-staff",
                "user-handle-mismatch",
                "no-ceremony",
            ],
            "{label}"
        );
        assert_eq!(
            refusal_reasons(&env, "city-b").await,
            ["unknown-credential"],
            "{label}"
        );
        // Every refusal counted on the address's throttle counter, like a wrong password.
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .expect("open");
        let t = kakehashi_store::TenantId::parse("demo").expect("tenant");
        let counter = kakehashi_store::sessions::throttle::get(
            &store,
            &t,
            kakehashi_store::sessions::throttle::Scope::Ip,
            "127.0.0.1",
        )
        .await
        .expect("counter")
        .expect("an address counter");
        assert_eq!(counter.failures, 5, "{label}");
        store.close().await;
    }
}

#[tokio::test]
async fn passkey_logins_are_throttled_per_address_like_passwords() {
    for env in Env::both().await {
        let label = env.label();
        let node = localhost_node(&env);
        let now = time::OffsetDateTime::now_utc();
        let at = |d: time::Duration| {
            (now - d)
                .format(&time::format_description::well_known::Rfc3339)
                .expect("format")
        };
        // 310 failures from this address in the last 15 minutes (core::portal::throttle): the
        // back-off starts at 300 with one second and doubles, so ten more make the full five
        // minutes, long enough that a slow run cannot outlast it before the request.
        sql(
            &env,
            &format!(
                "INSERT INTO login_throttle (tenant_id, scope, subject, failures, window_start, \
                 last_failure_at) VALUES ('demo', 'ip', '127.0.0.1', 310, '{}', '{}')",
                at(time::Duration::minutes(5)),
                at(time::Duration::ZERO),
            ),
        )
        .await;
        let mut b = Browser::new(&node, "demo");
        let (csrf, cookie) = login_page(&mut b);
        let c = start(&node, "demo", &cookie, &csrf);
        let any = assertion(b"whatever", b"0123456789abcdef", &c, "http://localhost");
        let (status, head, body) = post_json(
            &node,
            "/t/demo/login/passkey/finish",
            &cookie,
            Some(&csrf),
            &json!({ "credential": any }),
        );
        assert_eq!(status, 429, "{label}: {body}");
        assert_eq!(body["error"], "delayed");
        assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
        // Not checked, not counted.
        assert!(refusal_reasons(&env, "demo").await.is_empty(), "{label}");
    }
}

/// A session as a passkey login leaves it (amr without `pwd`), put straight into the store;
/// returns its cookie.
async fn passkey_session(env: &Env, user: &str, user_agent: &str) -> String {
    let token = "P".repeat(43);
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open");
    let t = kakehashi_store::TenantId::parse("demo").expect("tenant");
    let mut tx = store.begin().await.expect("begin");
    kakehashi_store::sessions::insert(
        &mut tx,
        &t,
        &kakehashi_store::sessions::SessionRow {
            id_hash: hex_of(&openssl::sha::sha256(token.as_bytes())),
            user_sourced_id: user.to_owned(),
            role: "teacher".into(),
            created_at: fmt(now),
            last_seen_at: fmt(now),
            auth_time: fmt(now),
            idle_timeout_secs: 3600,
            expires_at: fmt(now + time::Duration::hours(8)),
            amr: r#"["hwk","user","fpt","mfa"]"#.into(),
            acr: "urn:kakehashi:acr:mfa".into(),
            csrf_secret: "00".repeat(16),
            user_agent: user_agent.into(),
            ip: "127.0.0.1".into(),
            second_factor_at: Some(fmt(now)),
        },
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    store.close().await;
    format!("kakehashi_session={token}")
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_factor_reset_ends_sessions_signed_in_with_a_passkey_alone() {
    for env in Env::both().await {
        let label = env.label();
        let node = localhost_node(&env);
        let teacher = sourced_id(&env, "demo", TEACHER).await;
        let passkey = passkey_session(&env, &teacher, "kakehashi-portal-test").await;
        let mut by_password = Browser::new(&node, "demo");
        assert_eq!(
            by_password
                .login(TEACHER, portal_support::TEACHER_PASSWORD)
                .status,
            303
        );
        let launcher = |cookie: &str| {
            portal_support::request(&node.addr, "GET", "/t/demo/", cookie, None).status
        };
        assert_eq!(launcher(&passkey), 200, "{label}");
        let out = env
            .run(&[
                "mfa",
                "reset",
                "--tenant",
                "demo",
                "--username",
                TEACHER,
                "--reason",
                "PC を紛失",
            ])
            .ok();
        assert!(
            out.stdout.contains("1 passkey session(s) ended"),
            "{}",
            out.stdout
        );
        // The passkey was all that session had: it ends. The password session goes on.
        assert_eq!(launcher(&passkey), 303, "{label}");
        assert_eq!(by_password.get("/t/demo/").status, 200, "{label}");
    }
}

#[tokio::test]
async fn a_risk_step_up_on_a_changed_user_agent_ends_a_passkey_alone_session() {
    for env in Env::both().await {
        let label = env.label();
        let node = localhost_node(&env);
        env.run(&[
            "tenant",
            "security",
            "set",
            "--tenant",
            "demo",
            "--risk",
            "step-up",
            "--risk-weight",
            "user-agent-changed=60",
        ])
        .ok();
        let teacher = sourced_id(&env, "demo", TEACHER).await;
        // Signed in from another browser than the one now using the cookie.
        let passkey = passkey_session(&env, &teacher, "Mozilla/5.0 (the teacher's PC)").await;
        let r = portal_support::request(&node.addr, "GET", "/t/demo/", &passkey, None);
        // A password session would go on without its factor; this one has nothing left.
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .expect("open");
        let t = kakehashi_store::TenantId::parse("demo").expect("tenant");
        let rows = kakehashi_store::audit::recent(&store, Some(&t), 50)
            .await
            .expect("audit");
        store.close().await;
        let risk = rows
            .iter()
            .find(|e| e.action == "portal.session.risk")
            .expect("audited");
        let d: Value = serde_json::from_str(&risk.details).expect("details");
        assert_eq!(d["ended"], true, "{label}: {d}");
    }
}

//! Second factors and step-up over plain HTTP against the real binary, on SQLite and
//! PostgreSQL: backup codes as the second factor (WebAuthn itself is proven in a browser by
//! `browser_mfa.rs`), step-up into a school-affairs SAML SP and OIDC RP and back, `acr`/`amr`
//! in the ID token (RFC 8176), factor reset and the tenant security policy on the command line.

mod common;
mod oidc_support;
mod portal_support;
mod saml_support;

use base64::Engine;
use common::Env;
use oidc_support::{authorize_as, authorize_path, code_of, error_of, exchange, register};
use portal_support::{
    demo_with_apps, Browser, Resp, PUPIL, PUPIL_PASSWORD, TEACHER, TEACHER_PASSWORD,
};
use saml_support::audit_actions;

/// The id of the launcher tile whose name is `name`.
fn tile_id(page: &str, name: &str) -> String {
    page.split("<li class=\"app\" data-app-id=\"")
        .skip(1)
        .find(|tile| tile.contains(name))
        .and_then(|tile| tile.split('"').next())
        .unwrap_or_else(|| panic!("no tile named {name} in {page}"))
        .to_owned()
}

fn make_backup_codes(b: &mut Browser<'_>) -> Vec<String> {
    portal_support::make_backup_codes(b)
}

fn use_code(b: &mut Browser<'_>, step_up: &Resp, code: &str) -> Resp {
    portal_support::use_backup_code(b, step_up, code)
}

#[tokio::test]
async fn a_backup_code_steps_up_into_a_school_affairs_saml_app_and_works_once() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = b.get("/t/demo/");
        let koumu = tile_id(&home.body, "校務支援システム");
        let launch = format!("/t/demo/launch/{koumu}");

        // No factor yet: the step-up page offers to register one, nothing reaches the SP.
        let r = b.get(&launch);
        assert_eq!(r.status, 403, "{label}");
        assert!(r.body.contains("二要素認証が必要です"));
        assert!(!r.body.contains("why-asked"), "the risk engine did not ask");
        assert!(
            r.body.contains("/t/demo/mfa?lang=ja&amp;return_to="),
            "{}",
            r.body
        );
        assert!(!r.body.contains("koumu.example"));

        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&launch);
        assert_eq!(step_up.status, 403);
        assert!(step_up.body.contains("name=\"code\""), "{}", step_up.body);
        assert_eq!(
            step_up.hidden("return_to").as_deref(),
            Some(launch.as_str())
        );

        // A wrong code changes nothing.
        let wrong = use_code(&mut b, &step_up, "2222-22222");
        assert_eq!(wrong.status, 401, "{label}: {}", wrong.body);
        assert!(wrong.body.contains("バックアップコードが違うか"));

        // The right one: back to the launch, which now signs in to the SP.
        let ok = use_code(&mut b, &step_up, &codes[0].to_uppercase());
        assert_eq!(ok.status, 303, "{label}: {}", ok.body);
        assert_eq!(ok.header("location"), Some(launch.as_str()));
        let app = b.get(&launch);
        assert_eq!(app.status, 200, "{label}: {}", app.body);
        assert!(app.body.contains("SAMLResponse"), "{}", app.body);

        // Once only: the same code in a new session is refused.
        let mut again = Browser::new(&node, "demo");
        assert_eq!(again.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let page = again.get(&launch);
        let reused = use_code(&mut again, &page, &codes[0]);
        assert_eq!(reused.status, 401, "{label}: a used code is refused");
        assert_eq!(again.get(&launch).status, 403);

        let actions = audit_actions(&env).await;
        let has = |a: &str| actions.iter().any(|(x, _)| x == a);
        assert!(has("mfa.backup_codes.generate"), "{label}");
        assert!(has("mfa.backup_code.used"), "{label}");
        assert!(has("mfa.backup_code.failed"), "{label}");
    }
}

fn id_token_claims(token: &serde_json::Value) -> serde_json::Value {
    let jwt = token["id_token"].as_str().expect("id_token");
    let payload = jwt.split('.').nth(1).expect("JWS payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("claims JSON")
}

#[tokio::test]
async fn oidc_school_affairs_rp_steps_up_and_the_id_token_reports_acr_and_amr() {
    for env in Env::both().await {
        let label = env.label();
        let node = portal_support::start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(
            &env,
            "demo",
            "成績処理",
            "https://seiseki.example/cb",
            &["--security-class", "school-affairs", "--audience", "staff"],
        );
        let mut b = Browser::new(&node, "demo");
        let authorize = authorize_path(
            "demo",
            &rp,
            &[("scope", "openid"), ("state", "s1"), ("nonce", "n1")],
        );
        // Password only: the step-up page, not a code (never a silent downgrade).
        let first = authorize_as(&mut b, &authorize, TEACHER, TEACHER_PASSWORD);
        assert_eq!(first.status, 403, "{label}: {}", first.body);
        assert!(first.body.contains("二要素認証が必要です"));

        // prompt=none cannot show that page: OIDC Core 3.1.2.6 interaction_required.
        let silent = b.get(&authorize_path(
            "demo",
            &rp,
            &[("scope", "openid"), ("state", "s0"), ("prompt", "none")],
        ));
        assert_eq!(error_of(&silent), "interaction_required", "{label}");

        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&authorize);
        assert_eq!(step_up.status, 403);
        let ok = use_code(&mut b, &step_up, &codes[1]);
        assert_eq!(ok.status, 303, "{label}: {}", ok.body);
        let back = ok.header("location").expect("back").to_owned();
        assert!(back.starts_with("/t/demo/authorize?r="), "{back}");
        let answer = b.get(&back);
        let code = code_of(&answer, &rp, "s1", &issuer);
        let (resp, token) = exchange(&node.addr, "demo", &rp, &code, None);
        assert_eq!(resp.status, 200, "{}", resp.body);
        let claims = id_token_claims(&token);
        // OIDC Core 2: acr and amr say what the sign-in did; RFC 8176 values.
        assert_eq!(claims["acr"], "urn:kakehashi:acr:mfa", "{claims}");
        let amr: Vec<&str> = claims["amr"]
            .as_array()
            .expect("amr")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(amr, ["pwd", "otp", "mfa"], "{claims}");

        // An essential acr the provider does not know: Unmet Authentication Requirements 1.0.
        let claims_param =
            r#"{"id_token":{"acr":{"essential":true,"values":["urn:example:loa:4"]}}}"#;
        let unmet = b.get(&authorize_path(
            "demo",
            &rp,
            &[
                ("scope", "openid"),
                ("state", "s2"),
                ("claims", claims_param),
            ],
        ));
        assert_eq!(
            error_of(&unmet),
            "unmet_authentication_requirements",
            "{label}"
        );
    }
}

#[tokio::test]
async fn acr_values_asking_for_mfa_step_up_even_a_learning_app() {
    for env in Env::both().await {
        let label = env.label();
        let node = portal_support::start(&env, &["--demo"]);
        let rp = register(&env, "demo", "ドリル", "https://drill.example/cb", &[]);
        let mut b = Browser::new(&node, "demo");
        let plain = authorize_path("demo", &rp, &[("scope", "openid"), ("state", "p")]);
        let r = authorize_as(&mut b, &plain, TEACHER, TEACHER_PASSWORD);
        assert_eq!(
            r.status, 303,
            "{label}: a learning app needs no second factor"
        );
        let mfa = authorize_path(
            "demo",
            &rp,
            &[
                ("scope", "openid"),
                ("state", "m"),
                ("acr_values", "urn:kakehashi:acr:mfa"),
            ],
        );
        let r = b.get(&mfa);
        assert_eq!(r.status, 403, "{label}: acr_values=mfa asks for the factor");
        assert!(r.body.contains("二要素認証が必要です"));
    }
}

#[tokio::test]
async fn mfa_reset_needs_a_reason_is_audited_and_takes_the_factor_away() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = b.get("/t/demo/");
        let launch = format!("/t/demo/launch/{}", tile_id(&home.body, "校務支援システム"));
        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&launch);
        assert_eq!(use_code(&mut b, &step_up, &codes[0]).status, 303);
        assert_eq!(b.get(&launch).status, 200, "{label}");

        let out = env
            .run(&[
                "mfa",
                "list",
                "--tenant",
                "demo",
                "--username",
                TEACHER,
                "--format",
                "json",
            ])
            .ok();
        let listed: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        assert_eq!(listed["backupCodesLeft"], 9, "{label}");

        let blank = env
            .run(&[
                "mfa",
                "reset",
                "--tenant",
                "demo",
                "--username",
                TEACHER,
                "--reason",
                " ",
            ])
            .code(1);
        assert!(blank.stderr.contains("reason"), "{}", blank.stderr);
        env.run(&[
            "mfa",
            "reset",
            "--tenant",
            "demo",
            "--username",
            "nobody",
            "--reason",
            "x",
        ])
        .code(1);
        let done = env
            .run(&[
                "mfa",
                "reset",
                "--tenant",
                "demo",
                "--username",
                TEACHER,
                "--reason",
                "キーを紛失（本人から電話）",
            ])
            .ok();
        assert!(
            done.stdout.contains("9 unused backup code(s)"),
            "{}",
            done.stdout
        );
        // The live session is back to password only: step-up again, and no code works.
        let r = b.get(&launch);
        assert_eq!(r.status, 403, "{label}");
        assert!(!r.body.contains("name=\"code\""));
        let actions = audit_actions(&env).await;
        let reset = actions
            .iter()
            .find(|(a, _)| a == "mfa.reset")
            .expect("mfa.reset audited");
        assert!(reset.1.contains("キーを紛失"), "{}", reset.1);
    }
}

#[tokio::test]
async fn the_security_policy_is_set_validated_and_enforced_on_enrolment() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let shown = env
            .run(&[
                "tenant", "security", "show", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let p: serde_json::Value = serde_json::from_str(&shown.stdout).expect("json");
        assert_eq!(
            p["second-factor-max-age-secs"], 28800,
            "{label}: 8 h default"
        );
        assert_eq!(p["totp-enabled"], false, "TOTP off by default");

        let bad = env
            .run(&[
                "tenant",
                "security",
                "set",
                "--tenant",
                "demo",
                "--offsite-max-age",
                "900",
            ])
            .code(2);
        assert!(bad.stderr.contains("school-networks"), "{}", bad.stderr);
        let bad = env
            .run(&[
                "tenant",
                "security",
                "set",
                "--tenant",
                "demo",
                "--school-networks",
                "10.1.2.3/8",
            ])
            .code(2);
        assert!(bad.stderr.contains("10.1.2.3/8"), "{}", bad.stderr);

        let set = env
            .run(&[
                "tenant",
                "security",
                "set",
                "--tenant",
                "demo",
                "--school-networks",
                "10.0.0.0/8,192.168.0.0/16",
                "--offsite-max-age",
                "900",
                "--risk",
                "step-up",
                "--risk-weight",
                "new-device=25",
                "--school-hours",
                "07:30-18:30",
                "--format",
                "json",
            ])
            .ok();
        let p: serde_json::Value = serde_json::from_str(&set.stdout).expect("json");
        assert_eq!(p["school-networks"][1], "192.168.0.0/16");
        assert_eq!(p["risk"]["weights"]["new-device"], 25);
        assert_eq!(p["risk"]["mode"], "step-up");

        // The test client is 127.0.0.1, outside the school networks: the first factor cannot be
        // enrolled from here (a stolen password alone must not enrol an attacker's key).
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let page = b.get("/t/demo/mfa");
        assert!(
            page.body.contains("学校のネットワークから登録"),
            "{}",
            page.body
        );
        let csrf = page.hidden("csrf").expect("csrf");
        let r = b.post("/t/demo/mfa/backup-codes", &[("csrf", &csrf)]);
        assert_eq!(r.status, 403, "{label}");
        assert!(!r.body.contains("<code>"));

        let actions = audit_actions(&env).await;
        assert!(
            actions.iter().any(|(a, _)| a == "tenant.security.set"),
            "{label}"
        );
    }
}

fn security_set(env: &Env, args: &[&str]) {
    let mut all = vec!["tenant", "security", "set", "--tenant", "demo"];
    all.extend_from_slice(args);
    env.run(&all).ok();
}

/// The `details` of the newest audit row with `action`, as JSON.
fn newest(actions: &[(String, String)], action: &str) -> serde_json::Value {
    let (_, d) = actions
        .iter()
        .find(|(a, _)| a == action)
        .unwrap_or_else(|| panic!("no {action} in the audit log"));
    serde_json::from_str(d).expect("details JSON")
}

#[tokio::test]
async fn risk_a_new_device_outside_the_school_network_is_asked_a_known_one_inside_is_not() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        // The teacher has a factor to prove (made before the engine is on).
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let codes = make_backup_codes(&mut b);
        // School hours are not a signal here (the test may run at any hour, any day).
        security_set(
            &env,
            &[
                "--school-networks",
                "10.0.0.0/8",
                "--risk",
                "step-up",
                "--risk-weight",
                "outside-school-hours=0",
            ],
        );

        // A new browser from 127.0.0.1, outside 10.0.0.0/8: 30 + 30 = 60 ≥ 50, asked.
        let mut fresh = Browser::new(&node, "demo");
        let r = fresh.login(TEACHER, TEACHER_PASSWORD);
        assert_eq!(r.status, 303, "{label}");
        let to = r.header("location").unwrap_or_default().to_owned();
        assert!(to.starts_with("/t/demo/mfa/verify?"), "{label}: {to}");
        assert!(
            !fresh.device_cookie.is_empty(),
            "a signed device cookie is set"
        );
        // Nothing is reachable before the factor: not the launcher, not even a learning app.
        let home = fresh.get("/t/demo/");
        assert_eq!(home.status, 303, "{label}");
        assert!(home
            .header("location")
            .unwrap_or_default()
            .starts_with("/t/demo/mfa/verify"));
        let details = newest(&audit_actions(&env).await, "portal.login");
        let reasons: Vec<&str> = details["risk"]["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter_map(|r| r["signal"].as_str())
            .collect();
        assert_eq!(
            reasons,
            ["new-device", "outside-school-network"],
            "{details}"
        );
        assert_eq!(details["risk"]["score"], 60);
        assert_eq!(details["risk"]["stepUp"], true);

        let verify = fresh.get(&to);
        assert_eq!(verify.status, 200);
        // "Why was I asked?": the page names the signals, in the order they were scored.
        assert!(
            verify.body.contains(
                "理由: はじめて使う端末からのログイン、学校のネットワークの外からのログイン"
            ),
            "{label}: {}",
            verify.body
        );
        let ok = use_code(&mut fresh, &verify, &codes[0]);
        assert_eq!(ok.status, 303, "{label}: {}", ok.body);
        assert_eq!(
            fresh.get("/t/demo/").status,
            200,
            "{label}: in after the factor"
        );

        // The same browser (now a known device) from inside the school network: not asked.
        security_set(&env, &["--school-networks", "127.0.0.0/8"]);
        // (A new sign-in in that browser: its device cookie, no session.)
        let mut same_device = Browser::new(&node, "demo");
        same_device.device_cookie = fresh.device_cookie.clone();
        let again = same_device.login(TEACHER, TEACHER_PASSWORD);
        assert_eq!(again.header("location"), Some("/t/demo/"), "{label}");
        let details = newest(&audit_actions(&env).await, "portal.login");
        assert_eq!(details["risk"]["score"], 0, "{details}");
        assert_eq!(details["risk"]["decision"], "allow");

        // Deny: a new browser outside the network at or above the deny threshold is refused.
        security_set(
            &env,
            &[
                "--school-networks",
                "10.0.0.0/8",
                "--risk",
                "deny",
                "--risk-deny-threshold",
                "60",
            ],
        );
        let mut stranger = Browser::new(&node, "demo");
        let refused = stranger.login(TEACHER, TEACHER_PASSWORD);
        assert_eq!(refused.status, 403, "{label}");
        assert!(
            refused.body.contains("いつもと違うログイン"),
            "{}",
            refused.body
        );
        assert!(stranger.session_cookie.is_empty());
        let denied = newest(&audit_actions(&env).await, "portal.login.risk_denied");
        assert_eq!(denied["score"], 60, "{denied}");
    }
}

#[tokio::test]
async fn risk_a_changed_user_agent_drops_the_sessions_second_factor() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = b.get("/t/demo/");
        let launch = format!("/t/demo/launch/{}", tile_id(&home.body, "校務支援システム"));
        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&launch);
        assert_eq!(use_code(&mut b, &step_up, &codes[0]).status, 303);
        assert_eq!(b.get(&launch).status, 200, "{label}");
        security_set(&env, &["--risk", "step-up"]);
        // The same cookie from another program: user-agent-changed (40) < 50, kept.
        let other = oidc_support::raw(
            &node.addr,
            "GET",
            &launch,
            &[("Cookie", &b.cookie()), ("User-Agent", "curl/8.0")],
            "",
        );
        assert_eq!(
            other.status, 200,
            "{label}: below the threshold nothing changes"
        );
        security_set(&env, &["--risk-weight", "user-agent-changed=60"]);
        let other = oidc_support::raw(
            &node.addr,
            "GET",
            &launch,
            &[("Cookie", &b.cookie()), ("User-Agent", "curl/8.0")],
            "",
        );
        assert_eq!(other.status, 403, "{label}: the factor no longer counts");
        assert_eq!(
            b.get(&launch).status,
            403,
            "{label}: for the session as a whole"
        );
        let d = newest(&audit_actions(&env).await, "portal.session.risk");
        assert_eq!(d["reasons"][0]["signal"], "user-agent-changed", "{d}");
    }
}

#[tokio::test]
async fn totp_is_off_by_default_and_when_on_an_rfc_6238_code_steps_up_once() {
    use kakehashi_core::mfa::totp;
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = b.get("/t/demo/");
        let launch = format!("/t/demo/launch/{}", tile_id(&home.body, "校務支援システム"));
        let page = b.get("/t/demo/mfa");
        assert!(
            !page.body.contains("/mfa/totp/enrol"),
            "{label}: off by default"
        );
        let csrf = page.hidden("csrf").expect("csrf");
        let refused = b.post("/t/demo/mfa/totp/enrol", &[("csrf", &csrf)]);
        assert_eq!(refused.status, 403, "{label}");

        security_set(&env, &["--totp", "on"]);
        let page = b.get("/t/demo/mfa");
        assert!(page.body.contains("/mfa/totp/enrol"), "{label}");
        let enrol = b.post("/t/demo/mfa/totp/enrol", &[("csrf", &csrf)]);
        assert_eq!(enrol.status, 200, "{label}: {}", enrol.body);
        let secret = enrol
            .body
            .split("<code class=\"totp-secret\">")
            .nth(1)
            .and_then(|s| s.split("</code>").next())
            .expect("the secret is shown")
            .to_owned();
        assert!(enrol
            .body
            .contains("otpauth://totp/Kakehashi:minami.t01?secret="));
        let key = totp::from_base32(&secret).expect("base32");
        let code = totp::code_at(&key, time::OffsetDateTime::now_utc());
        let confirm = b.post(
            "/t/demo/mfa/totp",
            &[("csrf", &csrf), ("code", &code), ("return_to", &launch)],
        );
        assert_eq!(confirm.status, 303, "{label}: {}", confirm.body);
        assert_eq!(
            b.get(&launch).status,
            200,
            "{label}: the enrolment code counts"
        );

        // RFC 6238 §5.2: the same code (the same step) is not accepted twice.
        let mut other = Browser::new(&node, "demo");
        assert_eq!(other.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let step_up = other.get(&launch);
        assert!(step_up.body.contains("totp-code"), "{}", step_up.body);
        let csrf2 = step_up.hidden("csrf").expect("csrf");
        let replay = other.post(
            "/t/demo/mfa/totp",
            &[("csrf", &csrf2), ("code", &code), ("return_to", &launch)],
        );
        assert_eq!(replay.status, 401, "{label}");
        let actions = audit_actions(&env).await;
        assert!(actions.iter().any(|(a, _)| a == "mfa.totp.verified"));
        assert!(actions.iter().any(|(a, _)| a == "mfa.totp.failed"));
    }
}

#[tokio::test]
async fn wrong_second_factor_codes_back_off_without_locking_the_teacher_out() {
    // RFC 6238 section 5.2 and NIST SP 800-63B 5.2.2: the verifier limits failed code
    // attempts. From the 5th wrong code in an hour each attempt waits (1 s doubling); an
    // attempt during the wait is answered 429 with Retry-After (RFC 6585 section 4), is not
    // checked (even a right code does not spend itself) and is not counted.
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = b.get("/t/demo/");
        let launch = format!("/t/demo/launch/{}", tile_id(&home.body, "校務支援システム"));
        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&launch);
        for n in 1..=5 {
            let wrong = use_code(&mut b, &step_up, "2222-22222");
            assert_eq!(wrong.status, 401, "{label}: wrong code {n}");
        }
        let held = use_code(&mut b, &step_up, &codes[1]);
        assert_eq!(held.status, 429, "{label}: {}", held.body);
        assert_eq!(held.header("retry-after"), Some("1"), "{label}");
        assert!(held.body.contains("間違ったコードが続いたため"), "{label}");
        assert_eq!(
            b.get(&launch).status,
            403,
            "{label}: still no second factor"
        );

        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let ok = use_code(&mut b, &step_up, &codes[1]);
        assert_eq!(
            ok.status, 303,
            "{label}: the unspent code works after the wait"
        );
        assert_eq!(b.get(&launch).status, 200, "{label}");

        let actions = audit_actions(&env).await;
        let failed = actions
            .iter()
            .filter(|(a, _)| a == "mfa.backup_code.failed")
            .count();
        assert_eq!(
            failed, 5,
            "{label}: the held attempt is not a checked failure"
        );
    }
}

#[tokio::test]
async fn each_request_is_judged_from_where_it_comes_not_where_the_session_signed_in() {
    // The step-up rule (issue: "may require the request to come from the tenant's school
    // networks unless the factor is fresh"): a session that stepped up at school and then
    // sends a request from outside (a laptop taken home, a stolen cookie) is judged by that
    // request's address. 127.0.0.2 is another loopback address standing for "outside".
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        security_set(
            &env,
            &[
                "--school-networks",
                "127.0.0.1/32",
                "--offsite-max-age",
                "0",
            ],
        );
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = b.get("/t/demo/");
        let launch = format!("/t/demo/launch/{}", tile_id(&home.body, "校務支援システム"));
        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&launch);
        assert_eq!(use_code(&mut b, &step_up, &codes[0]).status, 303, "{label}");
        assert_eq!(
            b.get(&launch).status,
            200,
            "{label}: in school, fresh factor"
        );

        // The same session from outside: the off-site window (0 s) has passed, step up again.
        let outside = portal_support::from_address("127.0.0.2", || b.get(&launch));
        assert_eq!(outside.status, 403, "{label}: {}", outside.body);
        assert!(outside.body.contains("二要素認証が必要です"), "{label}");
        // A learning app does not care where the request comes from.
        assert_eq!(
            portal_support::from_address("127.0.0.2", || b.get("/t/demo/")).status,
            200,
            "{label}"
        );
        // Back at school, the session's factor is fresh again for the school network.
        assert_eq!(b.get(&launch).status, 200, "{label}");
    }
}

/// Moves every portal session's last activity `secs` into the past (as if idle that long).
async fn age_sessions(env: &Env, secs: i64) {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open store");
    let then = kakehashi_store::now_rfc3339_of(
        time::OffsetDateTime::now_utc() - time::Duration::seconds(secs),
    );
    sqlx::query("UPDATE portal_sessions SET last_seen_at = $1")
        .bind(then)
        .execute(store.pool())
        .await
        .expect("age sessions");
    store.close().await;
}

#[tokio::test]
async fn a_shared_classroom_device_signs_out_after_idle_only_on_its_network() {
    // Shared-device mode for the classroom tablets' network only (here 127.0.0.2): a session
    // idle for longer than the limit ends there, so the next pupil does not find the previous
    // one signed in; the same idle time on another network (a teacher's PC, 127.0.0.1) ends
    // nothing. Judged per request (the address of the request, not of the sign-in).
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        security_set(
            &env,
            &[
                "--shared-device",
                "on",
                "--shared-device-idle",
                "600",
                "--shared-device-networks",
                "127.0.0.2/32",
            ],
        );
        let mut tablet = Browser::new(&node, "demo");
        let r = portal_support::from_address("127.0.0.2", || tablet.login(PUPIL, PUPIL_PASSWORD));
        assert_eq!(r.status, 303, "{label}");
        let mut pc = Browser::new(&node, "demo");
        assert_eq!(pc.login(TEACHER, TEACHER_PASSWORD).status, 303);

        age_sessions(&env, 300).await;
        let home = portal_support::from_address("127.0.0.2", || tablet.get("/t/demo/"));
        assert_eq!(
            home.status, 200,
            "{label}: 5 minutes idle is within the limit"
        );

        age_sessions(&env, 11 * 60).await;
        let home = portal_support::from_address("127.0.0.2", || tablet.get("/t/demo/"));
        assert_eq!(
            home.status, 303,
            "{label}: signed out after 11 idle minutes"
        );
        assert!(
            home.header("location")
                .unwrap_or_default()
                .contains("/login"),
            "{label}: {:?}",
            home.header("location")
        );
        // The session is gone for good, not just hidden from that network.
        assert_eq!(tablet.get("/t/demo/").status, 303, "{label}");
        assert_eq!(
            pc.get("/t/demo/").status,
            200,
            "{label}: not a shared device"
        );
    }
}

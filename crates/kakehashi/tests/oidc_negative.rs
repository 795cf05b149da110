//! What the OpenID Provider must refuse, each case named after the rule it comes from, on
//! SQLite and PostgreSQL against the real binary.

mod common;
mod oidc_support;
mod portal_support;

use common::Env;
use oidc_support::*;
use portal_support::{start, Browser, PUPIL, PUPIL_PASSWORD, TEACHER, TEACHER_PASSWORD};

/// How many audit rows of `action` the demo tenant has.
async fn audit_count(env: &Env, action: &str) -> i64 {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open the test database");
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE chain = 'demo' AND action = $1")
            .bind(action)
            .fetch_one(store.pool())
            .await
            .expect("count audit rows");
    store.close().await;
    n
}

/// A demo node, an RP registered on it, and a code the teacher's login gave that RP.
fn teacher_code(env: &Env, state: &str) -> (portal_support::Node, Rp, String) {
    let node = start(env, &["--demo"]);
    let issuer = format!("{}/t/demo", node.url);
    let rp = register(env, "demo", "RP", "https://rp.example/cb", &[]);
    let mut b = Browser::new(&node, "demo");
    let resp = authorize_as(
        &mut b,
        &authorize_path("demo", &rp, &[("scope", "openid"), ("state", state)]),
        TEACHER,
        TEACHER_PASSWORD,
    );
    let code = code_of(&resp, &rp, state, &issuer);
    (node, rp, code)
}

#[tokio::test]
async fn rfc7636_and_rfc9700_2_1_1_pkce_downgrades_are_refused() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let public = register(
            &env,
            "demo",
            "公開",
            "http://127.0.0.1:9/pub",
            &["--public"],
        );
        let conf = register(&env, "demo", "機密", "https://conf.example/cb", &[]);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);

        // A public client without a code_challenge (RFC 9700 2.1.1): invalid_request.
        let r = b.get(&authorize_path(
            "demo",
            &public,
            &[("scope", "openid"), ("state", "x")],
        ));
        assert_eq!(error_of(&r), "invalid_request");
        // The plain method is not accepted (RFC 7636 4.2, RFC 9700 2.1.1: S256).
        let r = b.get(&authorize_path(
            "demo",
            &public,
            &[
                ("scope", "openid"),
                (
                    "code_challenge",
                    "abcdefghijabcdefghijabcdefghijabcdefghijabc",
                ),
                ("code_challenge_method", "plain"),
            ],
        ));
        assert_eq!(error_of(&r), "invalid_request");

        // A code with a challenge and no verifier at the token endpoint (RFC 7636 4.6).
        let (verifier, challenge) = pkce();
        let with_pkce = [
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let code = code_of(
            &b.get(&authorize_path("demo", &conf, &with_pkce)),
            &conf,
            "s",
            &issuer,
        );
        let (r, v) = exchange(&node.addr, "demo", &conf, &code, None);
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // A wrong verifier (RFC 7636 4.6).
        let code = code_of(
            &b.get(&authorize_path("demo", &conf, &with_pkce)),
            &conf,
            "s",
            &issuer,
        );
        let (wrong, _) = pkce();
        let (r, v) = exchange(&node.addr, "demo", &conf, &code, Some(&wrong));
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // The right verifier works once.
        let code = code_of(
            &b.get(&authorize_path("demo", &conf, &with_pkce)),
            &conf,
            "s",
            &issuer,
        );
        let (r, _) = exchange(&node.addr, "demo", &conf, &code, Some(&verifier));
        assert_eq!(r.status, 200, "{}", r.body);
        // A verifier for a code issued without a challenge: a downgrade attempt (RFC 9700 4.8.2).
        let code = code_of(
            &b.get(&authorize_path(
                "demo",
                &conf,
                &[("scope", "openid"), ("state", "s")],
            )),
            &conf,
            "s",
            &issuer,
        );
        let (r, v) = exchange(&node.addr, "demo", &conf, &code, Some(&verifier));
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "{}",
            env.label()
        );
    }
}

#[tokio::test]
async fn oidc_core_3_1_2_6_unknown_client_or_redirect_uri_mismatch_shows_a_page_never_redirects() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let rp = register(&env, "demo", "RP", "https://rp.example/cb", &[]);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let mut evil = rp.clone();
        evil.redirect_uri = "https://evil.example/cb".into();
        let r = b.get(&authorize_path(
            "demo",
            &evil,
            &[("scope", "openid"), ("state", "x")],
        ));
        assert_eq!(r.status, 400);
        assert!(r.header("location").is_none());
        assert!(r.body.contains("not registered"), "{}", r.body);
        // A prefix of the registered URI is not it (OIDC Core 3.1.2.1: exact match).
        evil.redirect_uri = "https://rp.example/cb/../x".into();
        let r = b.get(&authorize_path("demo", &evil, &[("scope", "openid")]));
        assert_eq!((r.status, r.header("location")), (400, None));
        let mut unknown = rp.clone();
        unknown.client_id = "no-such-client".into();
        let r = b.get(&authorize_path("demo", &unknown, &[("scope", "openid")]));
        assert_eq!((r.status, r.header("location")), (400, None));
    }
}

#[tokio::test]
async fn rfc6749_4_1_2_code_replay_fails_and_revokes_the_first_tokens() {
    for env in Env::both().await {
        let (node, rp, code) = teacher_code(&env, "z");
        let (r, first) = exchange(&node.addr, "demo", &rp, &code, None);
        assert_eq!(r.status, 200, "{}", r.body);
        let access = first["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&node.addr, "demo", access).0.status, 200);
        let (r, v) = exchange(&node.addr, "demo", &rp, &code, None);
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // RFC 6749 4.1.2 / 10.5: the tokens issued from the code are revoked.
        assert_eq!(
            userinfo(&node.addr, "demo", access).0.status,
            401,
            "{}",
            env.label()
        );
        assert_eq!(audit_count(&env, "oidc.code.replay").await, 1);
        let s = rp.secret.clone().unwrap();
        let (_, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&rp.client_id, &s)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ],
        );
        assert_eq!(v["error"], "invalid_grant");
    }
}

/// The same code presented by many requests at once: one is answered with tokens, the others
/// with invalid_grant, and the tokens of that one are revoked all the same (RFC 6749 4.1.2 /
/// 10.5). (When a replay meets the first use in one SQLite group commit, with its tokens still
/// queued, the store's `group_commit` test pins that the revocation reaches them.)
#[tokio::test]
async fn rfc6749_4_1_2_a_code_replayed_concurrently_revokes_the_tokens_of_its_one_success() {
    for env in Env::both().await {
        let (node, rp, code) = teacher_code(&env, "c");
        let answers: Vec<_> = std::thread::scope(|s| {
            let tasks: Vec<_> = (0..6)
                .map(|_| s.spawn(|| exchange(&node.addr, "demo", &rp, &code, None)))
                .collect();
            tasks.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let ok: Vec<_> = answers.iter().filter(|(r, _)| r.status == 200).collect();
        assert_eq!(ok.len(), 1, "{}: {answers:?}", env.label());
        for (r, v) in answers.iter().filter(|(r, _)| r.status != 200) {
            assert_eq!(
                (r.status, v["error"].as_str()),
                (400, Some("invalid_grant"))
            );
        }
        let access = ok[0].1["access_token"].as_str().unwrap();
        assert_eq!(
            userinfo(&node.addr, "demo", access).0.status,
            401,
            "{}: the one success's tokens outlived the replay",
            env.label()
        );
        assert_eq!(audit_count(&env, "oidc.code.replay").await, 5);
    }
}

/// A user disabled between the login and the code exchange gets no tokens, and the code is
/// used up all the same (RFC 6749 4.1.2: a code is used once, whatever the answer).
#[tokio::test]
async fn a_user_disabled_before_the_code_exchange_gets_no_tokens_and_the_code_is_spent() {
    for env in Env::both().await {
        let (node, rp, code) = teacher_code(&env, "d");
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .expect("open the test database");
        sqlx::query("UPDATE users SET enabled = 0 WHERE tenant_id = 'demo' AND username = $1")
            .bind(TEACHER)
            .execute(store.pool())
            .await
            .expect("disable the teacher");
        let (r, v) = exchange(&node.addr, "demo", &rp, &code, None);
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        assert!(
            v["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("no longer active")),
            "{v}"
        );
        let consumed: Option<i64> =
            sqlx::query_scalar("SELECT consumed_at FROM oauth_codes WHERE tenant_id = 'demo'")
                .fetch_one(store.pool())
                .await
                .expect("the code row");
        assert!(
            consumed.is_some(),
            "{}: the code was not spent",
            env.label()
        );
        store.close().await;
        // Presented again, the spent code is a replay.
        let (_, v) = exchange(&node.addr, "demo", &rp, &code, None);
        assert_eq!(v["error"], "invalid_grant", "{}", env.label());
    }
}

#[tokio::test]
async fn rfc9700_4_14_2_refresh_token_reuse_revokes_the_whole_family() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(&env, "demo", "RP", "https://rp.example/cb", &[]);
        let s = rp.secret.clone().unwrap();
        let mut b = Browser::new(&node, "demo");
        let resp = authorize_as(
            &mut b,
            &authorize_path("demo", &rp, &[("scope", "openid"), ("state", "r")]),
            TEACHER,
            TEACHER_PASSWORD,
        );
        let (_, first) = exchange(
            &node.addr,
            "demo",
            &rp,
            &code_of(&resp, &rp, "r", &issuer),
            None,
        );
        let r1 = first["refresh_token"].as_str().unwrap();
        let refresh = |token: &str| {
            post_form(
                &node.addr,
                "demo",
                "token",
                Some((&rp.client_id, &s)),
                &[("grant_type", "refresh_token"), ("refresh_token", token)],
            )
        };
        let (r, second) = refresh(r1);
        assert_eq!(r.status, 200, "{}", r.body);
        let r2 = second["refresh_token"].as_str().unwrap();
        // A wider scope than granted is invalid_scope (RFC 6749 6) and does not rotate.
        let (_, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&rp.client_id, &s)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", r2),
                ("scope", "openid email"),
            ],
        );
        assert_eq!(v["error"], "invalid_scope", "{v}");
        // The rotated r1 comes back: reuse. Everything of the family is revoked, r2 too.
        let (_, v) = refresh(r1);
        assert_eq!(v["error"], "invalid_grant");
        let (_, v) = refresh(r2);
        assert_eq!(
            v["error"],
            "invalid_grant",
            "{}: the family is revoked",
            env.label()
        );
        assert_eq!(audit_count(&env, "oidc.refresh.reuse").await, 1);
        assert_eq!(
            userinfo(&node.addr, "demo", second["access_token"].as_str().unwrap())
                .0
                .status,
            401
        );
        // Presented once more after the family is revoked: still a reuse, audited again.
        let (_, v) = refresh(r1);
        assert_eq!(v["error"], "invalid_grant");
        assert_eq!(
            audit_count(&env, "oidc.refresh.reuse").await,
            2,
            "{}",
            env.label()
        );
    }
}

#[tokio::test]
async fn tenant_isolation_tenant_b_tokens_are_unknown_at_tenant_a() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B市"])
            .ok();
        let a = register(&env, "demo", "A", "https://a.example/cb", &[]);
        let b_rp = register(&env, "city-b", "B", "https://b.example/cb", &[]);
        let (bs, as_) = (b_rp.secret.clone().unwrap(), a.secret.clone().unwrap());
        let (r, v) = post_form(
            &node.addr,
            "city-b",
            "token",
            Some((&b_rp.client_id, &bs)),
            &[("grant_type", "client_credentials")],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let token = v["access_token"].as_str().unwrap();
        // Tenant A's userinfo does not know it (RFC 6750 3.1 invalid_token) ...
        let (r, v) = userinfo(&node.addr, "demo", token);
        assert_eq!(
            (r.status, v["error"].as_str()),
            (401, Some("invalid_token"))
        );
        // ... nor does its introspection (RFC 7662 2.2: only active:false).
        let (_, v) = post_form(
            &node.addr,
            "demo",
            "introspect",
            Some((&a.client_id, &as_)),
            &[("token", token)],
        );
        assert_eq!(v, serde_json::json!({"active": false}));
        // Tenant B's client does not exist in tenant A.
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&b_rp.client_id, &bs)),
            &[("grant_type", "client_credentials")],
        );
        assert_eq!(
            (r.status, v["error"].as_str()),
            (401, Some("invalid_client")),
            "{}",
            env.label()
        );
    }
}

#[tokio::test]
async fn rfc6749_5_2_wrong_client_secret_is_401_invalid_client_with_www_authenticate() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let rp = register(&env, "demo", "RP", "https://rp.example/cb", &[]);
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            Some((&rp.client_id, "wrong")),
            &[("grant_type", "client_credentials")],
        );
        assert_eq!(r.status, 401);
        assert_eq!(v["error"], "invalid_client");
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic realm=")),
            "{:?}",
            r.headers
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
        // client_secret_post with a wrong secret: 401 too (no Basic challenge needed).
        let (r, v) = post_form(
            &node.addr,
            "demo",
            "token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &rp.client_id),
                ("client_secret", "wrong"),
            ],
        );
        assert_eq!(
            (r.status, v["error"].as_str()),
            (401, Some("invalid_client"))
        );
        // The failure is in the audit log.
        assert!(audit_count(&env, "oidc.client_auth.failed").await >= 2);
    }
}

#[tokio::test]
async fn audience_and_launch_policy_pupil_refused_and_school_affairs_needs_a_second_factor() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let teachers = register(
            &env,
            "demo",
            "授業",
            "https://class.example/cb",
            &["--audience", "teachers"],
        );
        let koumu = register(
            &env,
            "demo",
            "校務支援",
            "https://koumu.example/cb",
            &["--security-class", "school-affairs", "--audience", "staff"],
        );
        let mut pupil = Browser::new(&node, "demo");
        let r = authorize_as(
            &mut pupil,
            &authorize_path("demo", &teachers, &[("scope", "openid"), ("state", "p")]),
            PUPIL,
            PUPIL_PASSWORD,
        );
        // OIDC Core 3.1.2.6 / RFC 6749 4.1.2.1: access_denied back to the RP.
        assert_eq!(error_of(&r), "access_denied");
        let mut teacher = Browser::new(&node, "demo");
        let r = authorize_as(
            &mut teacher,
            &authorize_path("demo", &koumu, &[("scope", "openid"), ("state", "k")]),
            TEACHER,
            TEACHER_PASSWORD,
        );
        // Never a silent sign-in with a password only: the second-factor page.
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.header("location").is_none());
        assert!(r.body.contains("二要素認証"), "{}", r.body);
        // prompt=none cannot show that page: interaction_required.
        let r = teacher.get(&authorize_path(
            "demo",
            &koumu,
            &[("scope", "openid"), ("prompt", "none")],
        ));
        assert_eq!(error_of(&r), "interaction_required", "{}", env.label());
    }
}

#[tokio::test]
async fn no_node_local_state_a_code_from_node_a_is_redeemed_once_across_nodes() {
    // Several nodes share one PostgreSQL database behind a load balancer (ARCHITECTURE.md).
    let env = Env::both().await.pop().expect("postgres");
    let url = env.db.url.clone();
    let (a, b) = (env.path("a"), env.path("b"));
    // The CLI (env.run) is a third node of the same database.
    common::node::share_master_key(&[&a, &b, &env.data_dir()]);
    // (Each node here answers at its own address, so each has its own issuer string; behind
    // a load balancer they would share --public-url.)
    let node_a = portal_support::start_node(&a, Some(&url), &["--demo"]);
    let node_b = portal_support::start_node(&b, Some(&url), &[]);
    let issuer_a = format!("{}/t/demo", node_a.url);
    let issuer = issuer_a.as_str();
    let rp = register(&env, "demo", "RP", "https://rp.example/cb", &[]);
    let s = rp.secret.clone().unwrap();
    let mut browser = Browser::new(&node_a, "demo");
    let resp = authorize_as(
        &mut browser,
        &authorize_path("demo", &rp, &[("scope", "openid"), ("state", "n")]),
        TEACHER,
        TEACHER_PASSWORD,
    );
    let code = code_of(&resp, &rp, "n", issuer);
    // Redeemed at node B ...
    let (r, tokens) = exchange(&node_b.addr, "demo", &rp, &code, None);
    assert_eq!(r.status, 200, "{}", r.body);
    // ... replayed at node A: refused, and B's tokens revoked (RFC 6749 4.1.2).
    let (r, v) = exchange(&node_a.addr, "demo", &rp, &code, None);
    assert_eq!(
        (r.status, v["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&node_b.addr, "demo", access).0.status, 401);
    // A fresh grant: refreshed at A, the old refresh token reused at B is caught.
    let resp = browser.get(&authorize_path(
        "demo",
        &rp,
        &[("scope", "openid"), ("state", "m")],
    ));
    let (_, t) = exchange(
        &node_a.addr,
        "demo",
        &rp,
        &code_of(&resp, &rp, "m", issuer),
        None,
    );
    let r1 = t["refresh_token"].as_str().unwrap();
    let refresh = |addr: &str| {
        post_form(
            addr,
            "demo",
            "token",
            Some((&rp.client_id, &s)),
            &[("grant_type", "refresh_token"), ("refresh_token", r1)],
        )
    };
    assert_eq!(refresh(&node_a.addr).0.status, 200);
    assert_eq!(refresh(&node_b.addr).1["error"], "invalid_grant");
    assert_eq!(audit_count(&env, "oidc.refresh.reuse").await, 1);
}

#[tokio::test]
async fn oidc_core_3_1_2_1_id_token_hint_of_another_user_is_login_required_with_prompt_none() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        let rp = register(&env, "demo", "RP", "https://rp.example/cb", &[]);
        let mut teacher = Browser::new(&node, "demo");
        let resp = authorize_as(
            &mut teacher,
            &authorize_path("demo", &rp, &[("scope", "openid"), ("state", "t")]),
            TEACHER,
            TEACHER_PASSWORD,
        );
        let (_, tokens) = exchange(
            &node.addr,
            "demo",
            &rp,
            &code_of(&resp, &rp, "t", &issuer),
            None,
        );
        let hint = tokens["id_token"].as_str().unwrap();
        let silent = |state: &'static str| {
            authorize_path(
                "demo",
                &rp,
                &[
                    ("scope", "openid"),
                    ("state", state),
                    ("prompt", "none"),
                    ("id_token_hint", hint),
                ],
            )
        };
        // The teacher's own session and hint: a code, silently.
        code_of(&teacher.get(&silent("same")), &rp, "same", &issuer);
        // A pupil's session with the teacher's hint: login_required, not the pupil's code.
        let mut pupil = Browser::new(&node, "demo");
        assert_eq!(pupil.login(PUPIL, PUPIL_PASSWORD).status, 303);
        assert_eq!(
            error_of(&pupil.get(&silent("other"))),
            "login_required",
            "{}",
            env.label()
        );
        // A hint that is not our ID token at all: the same.
        let forged = authorize_path(
            "demo",
            &rp,
            &[
                ("scope", "openid"),
                ("prompt", "none"),
                ("id_token_hint", "e30.e30.x"),
            ],
        );
        assert_eq!(error_of(&teacher.get(&forged)), "login_required");
    }
}

/// Clients are cached per node for `kakehashi_core::cache::TTL` (5 s): a client removed by
/// another process (here the command line) must stop authenticating within that time, and
/// the JWKS/discovery copies must keep answering meanwhile.
#[tokio::test]
async fn a_removed_client_stops_authenticating_within_the_cache_ttl() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let rp = register(&env, "demo", "消える", "https://gone.example/cb", &[]);
        let secret = rp.secret.clone().expect("confidential");
        let cc = || {
            post_form(
                &node.addr,
                "demo",
                "token",
                Some((&rp.client_id, &secret)),
                &[("grant_type", "client_credentials")],
            )
        };
        assert_eq!(cc().0.status, 200, "{}", env.label());
        // Cached now: a second request is answered from the copy.
        assert_eq!(cc().0.status, 200, "{}", env.label());
        env.run(&["app", "remove", "--tenant", "demo", "--id", &rp.client_id])
            .ok();
        let removed_at = std::time::Instant::now();
        let refused = loop {
            let (r, v) = cc();
            if r.status == 401 {
                break v;
            }
            assert_eq!(r.status, 200, "{}: {}", env.label(), r.body);
            assert!(
                removed_at.elapsed()
                    < kakehashi_core::cache::TTL + std::time::Duration::from_secs(2),
                "{}: a removed client still authenticates after the cache TTL",
                env.label()
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        };
        assert_eq!(refused["error"], "invalid_client", "{}", env.label());
    }
}

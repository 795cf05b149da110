//! The portal through the real `kakehashi serve` over HTTP, on SQLite and PostgreSQL: login,
//! the launcher, CSRF, open redirects, timeouts, lockout and unlock, tenant isolation, logout,
//! and a session shared by two nodes on one PostgreSQL database.

mod common;
mod portal_support;

use common::Env;
use portal_support::*;

#[tokio::test]
async fn login_sets_an_httponly_cookie_and_the_launcher_shows_only_what_the_role_allows() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let said = node.early.join("\n");
        assert!(
            said.contains("/t/demo/login") && said.contains("minami.s01"),
            "{said}"
        );

        let mut pupil = Browser::new(&node, "demo");
        let page = pupil.get("/t/demo/login");
        assert!(page.body.contains("<html lang=\"ja\""), "{label}");
        assert!(page.body.contains("ユーザー名"));
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"),
            "{csp}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert!(page.header("referrer-policy").is_some());

        let r = pupil.login(PUPIL, PUPIL_PASSWORD);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        assert_eq!(r.header("location"), Some("/t/demo/"));
        let set = r
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("kakehashi_session="))
            .expect("a session cookie")
            .to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        assert!(set.contains("Path=/t/demo/"), "{set}");
        assert!(!set.contains("Secure"), "plain http public URL: {set}");

        let home = pupil.get("/t/demo/");
        assert_eq!(home.status, 200, "{label}");
        assert!(home.body.contains("𠮷田"), "{}", home.body);
        assert!(home.body.contains("けいさんドリル"));
        assert!(!home.body.contains("授業支援ツール"));
        assert!(!home.body.contains("校務支援システム"));
        assert!(home.body.contains("ログアウト"));
        assert_eq!(home.header("cache-control"), Some("no-store"));
        // The drill's icon, with its content type.
        let id = home
            .body
            .split("data-app-id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("an app tile")
            .to_owned();
        let icon = pupil.get(&format!("/t/demo/apps/{id}/icon"));
        assert_eq!(
            (icon.status, icon.header("content-type")),
            (200, Some("image/png"))
        );

        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = teacher.get("/t/demo/?lang=en");
        assert!(home.body.contains("<html lang=\"en\""));
        assert!(home.body.contains("授業支援ツール") && home.body.contains("校務支援システム"));
        assert!(home.body.contains("Second factor required"));
        assert!(!home.body.contains("けいさんドリル"));
        // Without a session the icon is not served.
        let anon = request(
            &node.addr,
            "GET",
            &format!("/t/demo/apps/{id}/icon"),
            "",
            None,
        );
        assert_eq!(anon.status, 404);
    }
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let mut b = Browser::new(&node, "demo");
        let wrong = b.login(TEACHER, "not-the-password");
        let unknown = b.login("nobody.t99", "not-the-password");
        assert_eq!(wrong.status, 401, "{}", env.label());
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(
            unknown.body.replace("nobody.t99", "USER"),
            wrong.body.replace(TEACHER, "USER"),
            "{}",
            env.label()
        );
        assert!(wrong.body.contains("ユーザー名またはパスワードが違います"));
        assert!(b.session_cookie.is_empty());
    }
}

#[tokio::test]
async fn posts_without_a_valid_csrf_token_are_refused() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let mut b = Browser::new(&node, "demo");
        let page = b.get("/t/demo/login");
        let csrf = page.hidden("csrf").expect("csrf");
        let creds = [("username", PUPIL), ("password", PUPIL_PASSWORD)];
        // No token.
        assert_eq!(
            b.post("/t/demo/login", &creds).status,
            403,
            "{}",
            env.label()
        );
        // A wrong token.
        let mut bad = vec![("csrf", "0".repeat(64))];
        bad.extend(creds.iter().map(|(k, v)| (*k, v.to_string())));
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(b.post("/t/demo/login", &bad).status, 403);
        // The right token without its cookie (a cross-site form).
        let with_token = [("csrf", csrf.as_str()), creds[0], creds[1]];
        let r = request(&node.addr, "POST", "/t/demo/login", "", Some(&with_token));
        assert_eq!(r.status, 403);
        // The token of one tenant's form does not work for another tenant's path.
        env.run(&["tenant", "add", "--id", "other", "--name", "他市"])
            .ok();
        let r = request(
            &node.addr,
            "POST",
            "/t/other/login",
            &b.cookie(),
            Some(&with_token),
        );
        assert_eq!(r.status, 403);
        // Logged in, logout needs the session's token.
        assert_eq!(b.login(PUPIL, PUPIL_PASSWORD).status, 303);
        assert_eq!(b.post("/t/demo/logout", &[("csrf", "nope")]).status, 403);
        assert_eq!(
            b.get("/t/demo/").status,
            200,
            "a refused logout leaves the session"
        );
    }
}

#[tokio::test]
async fn return_to_is_followed_only_inside_the_tenant() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        for (asked, expected) in [
            ("https://evil.example/", "/t/demo/"),
            ("//evil.example/", "/t/demo/"),
            ("/t/demo/../../metrics", "/t/demo/"),
            ("/t/other/", "/t/demo/"),
            ("/t/demo/?lang=en", "/t/demo/?lang=en"),
        ] {
            let mut b = Browser::new(&node, "demo");
            let r = b.login_to(PUPIL, PUPIL_PASSWORD, Some(asked));
            assert_eq!(r.status, 303, "{}", env.label());
            assert_eq!(r.header("location"), Some(expected), "return_to {asked}");
        }
        // The launcher sends an anonymous visitor to login and back.
        let r = request(&node.addr, "GET", "/t/demo/", "", None);
        assert_eq!(r.status, 303);
        assert_eq!(
            r.header("location"),
            Some("/t/demo/login?lang=ja&return_to=%2Ft%2Fdemo%2F")
        );
    }
}

#[tokio::test]
async fn a_session_from_one_node_works_on_another_sharing_postgresql() {
    let env = Env::both()
        .await
        .into_iter()
        .nth(1)
        .expect("postgresql env");
    assert_eq!(env.label(), "postgresql");
    let a = start(&env, &["--demo"]);
    // Node B has a data directory of its own with a copy of the master key, as an operator
    // sets up a second node.
    let other_dir = env.path("node-b");
    std::fs::create_dir_all(&other_dir).expect("node B data dir");
    std::fs::copy(
        env.data_dir().join("master.key"),
        other_dir.join("master.key"),
    )
    .expect("copy master.key");
    let b_node = start_node(&other_dir, Some(&env.db.url), &[]);
    let mut on_a = Browser::new(&a, "demo");
    assert_eq!(on_a.login(TEACHER, TEACHER_PASSWORD).status, 303);
    let r = request(&b_node.addr, "GET", "/t/demo/", &on_a.session_cookie, None);
    assert_eq!(
        r.status, 200,
        "node B must accept node A's session: {}",
        r.body
    );
    assert!(r.body.contains("ログアウト"));
    // Logging out on B ends it on A too.
    let csrf = r.hidden("csrf").expect("logout csrf");
    let out = request(
        &b_node.addr,
        "POST",
        "/t/demo/logout",
        &on_a.session_cookie,
        Some(&[("csrf", &csrf)]),
    );
    assert_eq!(out.status, 303);
    assert_eq!(on_a.get("/t/demo/").status, 303);
    // And a login form from A posts fine to B (the CSRF key is shared in the database).
    let page = request(&a.addr, "GET", "/t/demo/login", "", None);
    let login_cookie = cookie_pair(&page, "kakehashi_login").expect("pre-login cookie");
    let csrf = page.hidden("csrf").expect("csrf");
    let r = request(
        &b_node.addr,
        "POST",
        "/t/demo/login",
        &login_cookie,
        Some(&[
            ("csrf", &csrf),
            ("username", PUPIL),
            ("password", PUPIL_PASSWORD),
        ]),
    );
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn an_idle_session_ends() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        sql(
            &env,
            "INSERT INTO tenant_settings (tenant_id, staff_idle_secs, staff_absolute_secs,
               pupil_idle_secs, pupil_absolute_secs, pupil_lockout_threshold, updated_at)
             VALUES ('demo', 2, 36000, 2, 28800, 10, '2026-01-01T00:00:00.000Z')",
        )
        .await;
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        assert_eq!(b.get("/t/demo/").status, 200, "{}", env.label());
        std::thread::sleep(std::time::Duration::from_millis(3000));
        let r = b.get("/t/demo/");
        assert_eq!(
            r.status,
            303,
            "{}: idle for 3 s with a 2 s timeout",
            env.label()
        );
    }
}

#[tokio::test]
async fn a_pupil_is_locked_after_ten_failures_and_a_teacher_unlocks() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let mut b = Browser::new(&node, "demo");
        for i in 1..10 {
            assert_eq!(b.login(PUPIL, "wrong").status, 401, "{label}: failure {i}");
        }
        let tenth = b.login(PUPIL, "wrong");
        assert_eq!(tenth.status, 423, "{label}");
        assert!(tenth.body.contains("先生に解除してもらって"));
        // Locked: even the right password is refused.
        assert_eq!(b.login(PUPIL, PUPIL_PASSWORD).status, 423);
        // Another pupil is not affected.
        assert_eq!(
            Browser::new(&node, "demo")
                .login("minami.s02", PUPIL_PASSWORD)
                .status,
            303
        );
        let out = env
            .run(&["user", "unlock", "--tenant", "demo", "--username", PUPIL])
            .ok();
        assert!(out.stdout.contains("1 lock(s) lifted"), "{}", out.stdout);
        assert_eq!(b.login(PUPIL, PUPIL_PASSWORD).status, 303, "{label}");
        // Staff are slowed down, never locked.
        let mut t = Browser::new(&node, "demo");
        for _ in 0..5 {
            assert_eq!(t.login(TEACHER, "wrong").status, 401);
        }
        let slowed = t.login(TEACHER, "wrong");
        assert_eq!(slowed.status, 429, "{label}");
        assert!(slowed.header("retry-after").is_some());
        // Everything is in the audit log, and the chain verifies.
        let verify = env.run(&["audit", "verify"]).ok();
        assert!(verify.code == 0, "{}", verify.stdout);
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .expect("open");
        let actions: Vec<String> =
            sqlx::query_scalar("SELECT action FROM audit_log WHERE chain = 'demo' ORDER BY seq")
                .fetch_all(store.pool())
                .await
                .expect("audit rows");
        for a in [
            "portal.login",
            "portal.login.failed",
            "portal.lockout",
            "portal.unlock",
        ] {
            assert!(
                actions.iter().any(|x| x == a),
                "{label}: no {a} in {actions:?}"
            );
        }
        store.close().await;
        assert_eq!(
            env.run(&["user", "unlock", "--tenant", "demo", "--username", "nobody"])
                .code,
            1
        );
    }
}

#[tokio::test]
async fn a_cookie_of_one_tenant_is_useless_in_another() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        env.run(&["tenant", "add", "--id", "other", "--name", "他市教育委員会"])
            .ok();
        let pkg = common::demo_package(&env.path("pkg"));
        env.run(&[
            "oneroster",
            "import",
            "--tenant",
            "other",
            pkg.to_str().expect("utf-8"),
        ])
        .ok();
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let r = request(&node.addr, "GET", "/t/other/", &b.session_cookie, None);
        assert_eq!(r.status, 303, "{}", env.label());
        assert!(r
            .header("location")
            .unwrap_or_default()
            .starts_with("/t/other/login"));
    }
}

#[tokio::test]
async fn logout_ends_the_session() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(PUPIL, PUPIL_PASSWORD).status, 303);
        let old = b.session_cookie.clone();
        let home = b.get("/t/demo/");
        let csrf = home.hidden("csrf").expect("logout form");
        let r = b.post("/t/demo/logout", &[("csrf", &csrf)]);
        assert_eq!(r.status, 303, "{}", env.label());
        assert!(r
            .header("location")
            .unwrap_or_default()
            .starts_with("/t/demo/login"));
        assert!(b.session_cookie.is_empty(), "the cookie is cleared");
        let again = request(&node.addr, "GET", "/t/demo/", &old, None);
        assert_eq!(again.status, 303, "the old cookie no longer works");
        // A new login gets a new token (no fixation).
        assert_eq!(b.login(PUPIL, PUPIL_PASSWORD).status, 303);
        assert_ne!(b.session_cookie, old);
    }
}

/// The id of the launcher tile whose name is `name`.
fn tile_id(page: &str, name: &str) -> String {
    page.split("<li class=\"app\" data-app-id=\"")
        .skip(1)
        .find(|tile| tile.contains(name))
        .and_then(|tile| tile.split('"').next())
        .unwrap_or_else(|| panic!("no tile named {name} in {page}"))
        .to_owned()
}

#[tokio::test]
async fn launching_applies_the_audience_and_asks_for_a_second_factor_on_school_affairs() {
    for env in Env::both().await {
        let label = env.label();
        let node = demo_with_apps(&env);
        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = teacher.get("/t/demo/");
        let koumu = tile_id(&home.body, "校務支援システム");
        let tool = tile_id(&home.body, "授業支援ツール");
        assert!(
            home.body.contains(&format!(
                "href=\"/t/demo/launch/{koumu}?lang=ja\" target=\"_blank\""
            )),
            "tiles open in a new window: {}",
            home.body
        );

        // MEXT guideline: school-affairs data only with multi-factor authentication. A
        // password-only session gets a page that says so, never the app.
        let r = teacher.get(&format!("/t/demo/launch/{koumu}"));
        assert_eq!(r.status, 403, "{label}: {}", r.body);
        assert!(r.body.contains("二要素認証が必要です"), "{}", r.body);
        assert!(r.body.contains("校務支援システム"));
        assert!(
            !r.body.contains("koumu.example"),
            "nothing is sent to the SP"
        );
        let r = teacher.get(&format!("/t/demo/launch/{koumu}?lang=en"));
        assert!(r.body.contains("Second factor required"), "{}", r.body);

        // A pupil cannot launch the teachers' tool, nor learn that it exists.
        let mut pupil = Browser::new(&node, "demo");
        assert_eq!(pupil.login(PUPIL, PUPIL_PASSWORD).status, 303);
        let r = pupil.get(&format!("/t/demo/launch/{tool}"));
        assert_eq!(r.status, 404, "{label}");
        assert!(r.body.contains("このアプリは使えません"));
        let r = pupil.get(&format!("/t/demo/launch/{koumu}"));
        assert_eq!(r.status, 404, "{label}: pupils never reach school affairs");
        assert_eq!(pupil.get("/t/demo/launch/no-such-app").status, 404);

        // Without a session: to the login page, coming back to the launch afterwards.
        let anon = request(
            &node.addr,
            "GET",
            &format!("/t/demo/launch/{tool}"),
            "",
            None,
        );
        assert_eq!(anon.status, 303);
        let to = anon.header("location").unwrap_or_default();
        assert!(
            to.starts_with("/t/demo/login?") && to.contains(&format!("%2Flaunch%2F{tool}")),
            "{to}"
        );
    }
}

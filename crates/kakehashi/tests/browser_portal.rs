//! The portal's login pages in a real browser: Debian Chromium driven by playwright-core
//! (`tests/js/portal.mjs`) against a real `kakehashi serve --demo`. The script reports what it
//! saw as JSON lines; these tests judge it. They run on SQLite only: the pages and cookies are
//! the subject here, and `portal_login.rs` proves the same rules on both databases.
//!
//! Run one alone: `cargo test -p kakehashi --test browser_portal -- NAME`.

mod common;
mod js_support;
mod portal_support;

use std::time::Duration;

use common::Env;
use js_support::{assert_healthy, run_script, ScriptRun};
use portal_support::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(180);
const WRONG: &str = "ユーザー名またはパスワードが違います。";
const LOCKED: &str = "このアカウントはロックされています。先生に解除してもらってください。";

fn portal(node: &Node, tenant: &str, scenario: &str, args: &[&str]) -> ScriptRun {
    let mut all = vec![scenario, node.url.as_str(), tenant];
    all.extend_from_slice(args);
    run_script("portal.mjs", &all, LIMIT).succeeded()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The display name and kana the launcher must show, from the database.
async fn expected_name(env: &Env, tenant: &str, username: &str) -> (String, String) {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open the test database");
    let tenant = kakehashi_store::TenantId::parse(tenant).expect("tenant id");
    let u = kakehashi_store::roster::find_user_by_username(&store, &tenant, username)
        .await
        .expect("query users")
        .unwrap_or_else(|| panic!("no user {username}"));
    store.close().await;
    let kana = format!(
        "（{} {}）",
        u.kana_family_name.unwrap_or_default(),
        u.kana_given_name.unwrap_or_default()
    );
    (format!("{} {}", u.family_name, u.given_name), kana)
}

#[tokio::test]
async fn the_login_page_is_japanese_by_default_and_english_by_switch_query_or_accept_language() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    let run = portal(&node, "demo", "language", &[]);

    let ja = run.one("default");
    assert_eq!(ja["status"], 200);
    assert_eq!(s(ja, "acceptLanguage"), "ja-JP");
    assert_eq!(s(ja, "lang"), "ja", "{ja}");
    assert_eq!(s(ja, "h1"), "ログイン");
    assert_eq!(strings(ja, "labels"), ["ユーザー名", "パスワード"]);
    assert_eq!(s(ja, "button"), "ログイン");
    assert_eq!(s(ja, "langLink"), "English");

    for (check, url) in [
        ("switched", "/t/demo/login?lang=en"),
        ("query-en", "/t/demo/login?lang=en"),
        ("accept-language-en", "/t/demo/login"),
    ] {
        let en = run.one(check);
        assert_eq!(s(en, "url"), url, "{check}");
        assert_eq!(s(en, "lang"), "en", "{check}: {en}");
        assert_eq!(s(en, "h1"), "Sign in", "{check}");
        assert_eq!(strings(en, "labels"), ["Username", "Password"], "{check}");
        assert_eq!(s(en, "langLink"), "日本語", "{check}");
    }
    assert!(s(run.one("accept-language-en"), "acceptLanguage").starts_with("en"));
    let back = run.one("switched-back");
    assert_eq!(
        (s(back, "lang"), s(back, "h1")),
        ("ja", "ログイン"),
        "{back}"
    );

    // The CSP header forbids inline script, and the browser enforces it: an injected inline
    // script does not run and the violation is seen (so the health checks can see one).
    let csp = s(&ja["headers"], "content-security-policy");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    assert_eq!(script_src, "script-src 'self'", "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    let probe = run.one("inline-script-probe");
    assert_eq!(probe["ran"], false, "{probe}");
    let violations = probe["newViolations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        violations
            .iter()
            .any(|v| s(v, "directive").starts_with("script-src") && s(v, "blocked") == "inline"),
        "{probe}"
    );
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn a_teacher_and_a_pupil_sign_in_and_see_their_own_launcher_and_name() {
    let env = Env::sqlite().await;
    let node = demo_with_apps(&env);
    // The demo also registers an OIDC client for everyone; what matters here is that each
    // role sees its own apps and not the other role's.
    for (user, password, mine, not_mine) in [
        (
            PUPIL,
            PUPIL_PASSWORD,
            vec!["けいさんドリル"],
            vec!["授業支援ツール", "校務支援システム"],
        ),
        (
            TEACHER,
            TEACHER_PASSWORD,
            vec!["授業支援ツール", "校務支援システム"],
            vec!["けいさんドリル"],
        ),
    ] {
        let (name, kana) = expected_name(&env, "demo", user).await;
        let run = portal(&node, "demo", "login", &[user, password]);
        let home = run.one("signed-in");
        assert_eq!(home["status"], 200, "{user}: {home}");
        assert_eq!(strings(home, "methods"), ["POST", "GET"], "{user}: a 303");
        assert_eq!(s(home, "url"), "/t/demo/", "{user}");
        assert_eq!(s(home, "name"), name, "{user}: the name exactly");
        assert_eq!(s(home, "kana"), kana, "{user}");
        assert_eq!(s(home, "lang"), "ja");
        assert!(home["hasLogout"] == true && home["hasLoginForm"] == false);
        let shown = strings(home, "apps");
        for app in mine {
            assert!(
                shown.iter().any(|a| a == app),
                "{user}: {app} missing in {shown:?}"
            );
        }
        for app in not_mine {
            assert!(
                !shown.iter().any(|a| a == app),
                "{user}: {app} shown in {shown:?}"
            );
        }
        assert_healthy(&run, &[]);
    }
    // 𠮷田 is outside the BMP (U+20BB7): a name that breaks naive UTF-16 or Shift_JIS handling.
    assert!(expected_name(&env, "demo", PUPIL)
        .await
        .0
        .starts_with("𠮷田"));
}

#[tokio::test]
async fn a_wrong_password_shows_the_same_message_as_an_unknown_user() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    let run = portal(
        &node,
        "demo",
        "wrong-password",
        &[TEACHER, "not-the-password", "nobody.t99"],
    );
    let wrong = run.one("wrong-password");
    let unknown = run.one("unknown-user");
    for (what, v) in [("wrong password", wrong), ("unknown user", unknown)] {
        assert_eq!(v["status"], 401, "{what}: {v}");
        assert_eq!(s(v, "notice"), WRONG, "{what}");
        assert_eq!(v["hasLoginForm"], true, "{what}: the form again");
    }
    // Same page apart from the username the user typed, which is kept for them.
    assert_eq!(s(wrong, "username"), TEACHER);
    assert_eq!(s(unknown, "username"), "nobody.t99");
    for key in ["notice", "url", "title", "h1", "lang"] {
        assert_eq!(wrong[key], unknown[key], "{key}");
    }
    assert_healthy(&run, &[(401, "/login")]);
}

#[tokio::test]
async fn logout_ends_the_session_and_back_or_reload_do_not_show_the_launcher() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    let (name, _) = expected_name(&env, "demo", TEACHER).await;
    let run = portal(&node, "demo", "logout", &[TEACHER, TEACHER_PASSWORD]);
    assert_eq!(s(run.one("signed-in"), "name"), name);
    let out = run.one("signed-out");
    assert!(
        s(out, "url").starts_with("/t/demo/login"),
        "logout lands on the login page: {out}"
    );
    assert_eq!(s(out, "notice"), "ログアウトしました。");
    assert!(
        !strings(run.one("cookies"), "names").contains(&"kakehashi_session".to_owned()),
        "the session cookie is gone"
    );
    for check in ["back", "reload", "launcher-url"] {
        let v = run.one(check);
        assert_eq!(v["hasLogout"], false, "{check} shows the launcher: {v}");
        assert!(s(v, "name").is_empty(), "{check} shows a name: {v}");
        assert_eq!(v["hasLoginForm"], true, "{check}: {v}");
        assert!(s(v, "url").starts_with("/t/demo/login"), "{check}: {v}");
    }
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn return_to_is_honoured_inside_the_tenant_and_ignored_off_site() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    let run = portal(&node, "demo", "return-to", &[PUPIL, PUPIL_PASSWORD]);
    // A bookmarked English launcher: to the (English) login page and back to it.
    let redirect = run.one("bookmark-redirect");
    assert_eq!(
        s(redirect, "url"),
        "/t/demo/login?lang=en&return_to=%2Ft%2Fdemo%2F%3Flang%3Den",
        "{redirect}"
    );
    assert_eq!(s(redirect, "lang"), "en");
    let back = run.one("bookmark-signed-in");
    assert_eq!(s(back, "url"), "/t/demo/?lang=en", "{back}");
    assert_eq!(s(back, "lang"), "en");
    assert_eq!(back["hasLogout"], true);
    // Off-site and other-tenant targets land on our own launcher; the browser never asks
    // another host for anything.
    let offsite = run.all("offsite");
    assert_eq!(offsite.len(), 4, "{}", run.transcript());
    for v in offsite {
        let target = s(v, "target");
        assert_eq!(s(v, "host"), node.addr, "{target}: {v}");
        assert_eq!(s(v, "url"), "/t/demo/", "{target}: {v}");
        assert_eq!(v["hasLogout"], true, "{target}: signed in all the same");
        assert_eq!(
            v["offsiteRequests"].as_array().map(Vec::len),
            Some(0),
            "{target}: {v}"
        );
    }
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn on_an_ipad_and_a_chromebook_the_pages_fit_and_touch_targets_are_at_least_44_px() {
    let env = Env::sqlite().await;
    let node = demo_with_apps(&env);
    let run = portal(&node, "demo", "devices", &[TEACHER, TEACHER_PASSWORD]);
    let layouts = run.all("layout");
    assert_eq!(layouts.len(), 4, "{}", run.transcript());
    for l in layouts {
        let at = format!("{} {}", s(l, "device"), s(l, "page"));
        let width = l["innerWidth"].as_f64().unwrap_or(0.0);
        let expected = if s(l, "device") == "ipad" {
            810.0
        } else {
            1366.0
        };
        assert_eq!(width, expected, "{at}: viewport");
        assert!(
            l["scrollWidth"].as_f64().unwrap_or(f64::MAX)
                <= l["clientWidth"].as_f64().unwrap_or(0.0),
            "{at}: horizontal scrolling: {l}"
        );
        let controls = l["controls"].as_array().cloned().unwrap_or_default();
        assert!(!controls.is_empty(), "{at}: no controls? {l}");
        for c in controls {
            let (w, h) = (
                c["width"].as_f64().unwrap_or(0.0),
                c["height"].as_f64().unwrap_or(0.0),
            );
            // WCAG 2.2 2.5.5 (AAA) and Apple's HIG: 44 × 44 CSS px for anything tapped.
            assert!(w >= 44.0 && h >= 44.0, "{at}: too small to tap: {c}");
            assert!(
                c["right"].as_f64().unwrap_or(f64::MAX) <= width,
                "{at}: off screen: {c}"
            );
            // iOS Safari zooms the page into inputs with text under 16 px.
            if s(&c, "what").starts_with("input") {
                assert!(c["fontSize"].as_f64().unwrap_or(0.0) >= 16.0, "{at}: {c}");
            }
        }
        if s(l, "page") == "launcher" {
            assert_eq!(l["status"], 200, "{at}: signed in (by touch on the iPad)");
        }
    }
    assert_healthy(&run, &[]);
}

#[tokio::test]
async fn a_tile_opens_its_app_in_a_new_window_and_school_affairs_ask_for_a_second_factor() {
    let env = Env::sqlite().await;
    let node = demo_with_apps(&env);
    let run = portal(
        &node,
        "demo",
        "launch",
        &[TEACHER, TEACHER_PASSWORD, "校務支援システム"],
    );
    let v = run.one("launched");
    // A new window without a handle back to the portal (iPad Safari blocks the third-party
    // cookies an app in a frame would need; noopener keeps the app from steering the portal).
    assert_eq!((s(v, "target"), s(v, "rel")), ("_blank", "noopener"), "{v}");
    assert_eq!(v["opener"], false, "{v}");
    // A password-only teacher gets the explanation, in Japanese, and a way back.
    assert_eq!(v["status"], 403, "{v}");
    assert!(s(v, "url").starts_with("/t/demo/launch/"), "{v}");
    assert_eq!(s(v, "lang"), "ja");
    assert_eq!(s(v, "h1"), "二要素認証が必要です");
    assert_eq!(s(v, "back"), "/t/demo/?lang=ja");
    let layout = &v["layout"];
    assert!(
        layout["scrollWidth"].as_f64() <= layout["clientWidth"].as_f64(),
        "{layout}"
    );
    for c in layout["controls"].as_array().cloned().unwrap_or_default() {
        assert!(
            c["width"].as_f64().unwrap_or(0.0) >= 44.0
                && c["height"].as_f64().unwrap_or(0.0) >= 44.0,
            "too small to tap: {c}"
        );
    }
    assert_healthy(&run, &[(403, "/launch/")]);
}

#[tokio::test]
async fn a_pupil_is_locked_out_after_ten_failures_in_a_fresh_tenant_and_others_are_not() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    // A tenant of its own, so that the lock touches nothing else.
    env.run(&[
        "tenant",
        "add",
        "--id",
        "lockout",
        "--name",
        "ロック市教育委員会",
    ])
    .ok();
    let pkg = common::demo_package(&env.path("pkg"));
    env.run(&[
        "oneroster",
        "import",
        "--tenant",
        "lockout",
        pkg.to_str().expect("utf-8 path"),
    ])
    .ok();
    env.run_with_stdin(
        &[
            "user",
            "set-password",
            "--tenant",
            "lockout",
            "--username",
            PUPIL,
            "--password-stdin",
        ],
        &format!("{PUPIL_PASSWORD}\n"),
    )
    .ok();

    // docs/PORTAL.md: the (username, address) pair is locked at its 10th failure.
    let run = portal(
        &node,
        "lockout",
        "lockout",
        &[PUPIL, "wrong", PUPIL_PASSWORD, "10"],
    );
    let attempts = run.all("attempt");
    assert_eq!(attempts.len(), 10, "{}", run.transcript());
    for a in &attempts[..9] {
        assert_eq!(a["status"], 401, "{a}");
        assert_eq!(s(a, "notice"), WRONG, "{a}");
    }
    assert_eq!(attempts[9]["status"], 423, "{}", attempts[9]);
    assert_eq!(s(attempts[9], "notice"), LOCKED);
    let right = run.one("right-password");
    assert_eq!(right["status"], 423, "locked even with the right password");
    assert_eq!(s(right, "notice"), LOCKED);
    assert_eq!(right["hasLogout"], false);
    assert_healthy(&run, &[(401, "/login"), (423, "/login")]);

    // The same username in the demo tenant, from the same address, is not locked.
    let other = portal(&node, "demo", "login", &[PUPIL, PUPIL_PASSWORD]);
    assert_eq!(s(other.one("signed-in"), "url"), "/t/demo/");
}

//! The web console in a real browser: Debian Chromium driven by playwright-core
//! (`tests/js/console.mjs`) against `kakehashi serve --demo`. Each role's main path, every
//! screen checked by npm `axe-core` (WCAG 2.1 A and AA rules: no serious or critical
//! violation) and saved as a screenshot under `target/screenshots/console/` for review.
//! SQLite only: the pages are the subject; `console_pages.rs` proves the same over HTTP on
//! both databases.

mod common;
mod js_support;

use std::time::Duration;

use common::Env;
use js_support::{assert_healthy, run_script};

fn zip(env: &Env, name: &str, change: fn(&mut kakehashi_oneroster::Roster)) -> String {
    let mut roster = kakehashi_oneroster::generate::small_demo();
    change(&mut roster);
    let path = env.path(name);
    kakehashi_oneroster::write_zip(&roster, &path).expect("zip");
    path.to_str().expect("utf-8 path").to_owned()
}

#[tokio::test]
async fn every_console_screen_works_in_chromium_and_passes_axe() {
    use kakehashi_oneroster::Entity;
    let env = Env::sqlite().await;
    let node = common::node::start(&env, &["--demo"]);
    env.run(&[
        "admin",
        "grant",
        "--tenant",
        "demo",
        "--username",
        "minami.t03",
        "--role",
        "tenant-admin",
    ])
    .ok();
    // The admin also holds the operator overview; another teacher two keys (one gets lost);
    // every sign-in is let in and remembered as a device (the pupil's "my devices").
    env.run(&[
        "admin",
        "grant",
        "--tenant",
        "demo",
        "--username",
        "minami.t03",
        "--role",
        "platform-operator",
    ])
    .ok();
    common::give_security_key(&env, "demo", "usr-minami-t02", "職員室の鍵").await;
    common::give_security_key(&env, "demo", "usr-minami-t02", "予備の鍵").await;
    env.run(&[
        "tenant",
        "security",
        "set",
        "--tenant",
        "demo",
        "--risk",
        "step-up",
        "--risk-step-up-threshold",
        "999",
        "--risk-deny-threshold",
        "999",
    ])
    .ok();
    let good = zip(&env, "good.zip", |r| {
        let users = r.tables.get_mut(&Entity::Users).unwrap();
        let u = users
            .iter_mut()
            .find(|u| u.sourced_id == "usr-kita-s07")
            .unwrap();
        for f in u.fields.iter_mut().filter(|(k, _)| k == "givenName") {
            f.1 = "新しい名".into();
        }
    });
    let bad = zip(&env, "bad.zip", |r| {
        let enr = r.tables.get_mut(&Entity::Enrollments).unwrap();
        let mut e = enr[0].clone();
        e.sourced_id = "enr-bad".into();
        for f in e.fields.iter_mut().filter(|(k, _)| k == "classSourcedId") {
            f.1 = "cls-nowhere".into();
        }
        enr.push(e);
    });
    let shots = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/screenshots/console"
    ));
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let run = run_script(
        "console.mjs",
        &[
            &node.url,
            "demo",
            shots.to_str().expect("utf-8"),
            "minami.t01",
            "minami.t03",
            "minami.s01",
            "demo-teacher-2026",
            "demo1234",
            &good,
            &bad,
            "usr-minami-t02",
        ],
        Duration::from_secs(240),
    );
    // The printed codes are judged first: one that reads wrong fails here, naming the card,
    // rather than later on the page its wrong URL opens.
    printed_cards_decode_to_their_links(&run, &node.url, "cards", 10);
    let run = run.succeeded();
    // The pupil's refused audit page is a 403 on purpose.
    // The invalid second-factor policy is a 400 on purpose.
    // The replaced QR card is a 404 on purpose.
    assert_healthy(
        &run,
        &[
            (403, "/console/audit"),
            (400, "/console/security/mfa"),
            (404, "/t/demo/card/"),
        ],
    );
    let screens = run.all("screen");
    let names: Vec<String> = screens
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["role"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names.len(), 39, "{names:?}");
    for s in &screens {
        let name = format!("{}/{}", s["role"], s["name"]);
        let serious: Vec<&serde_json::Value> = s["axe"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "{name}: axe: {serious:?}\n{}",
            run.transcript()
        );
        assert!(
            std::path::Path::new(s["shot"].as_str().unwrap()).exists(),
            "{name}"
        );
        let expected_status = if name.contains("refused") {
            403
        } else if name.contains("replaced") {
            404
        } else if name.contains("invalid") {
            400
        } else {
            200
        };
        assert_eq!(s["status"], expected_status, "{name}: {s}");
        let expected_lang = if name.ends_with("-en\"") { "en" } else { "ja" };
        assert_eq!(s["lang"], expected_lang, "{name}");
    }
    let by = |n: &str| {
        screens
            .iter()
            .find(|s| {
                format!(
                    "{}/{}",
                    s["role"].as_str().unwrap(),
                    s["name"].as_str().unwrap()
                ) == n
            })
            .unwrap_or_else(|| panic!("no screen {n}"))
    };
    let text = |n: &str| by(n)["text"].as_str().unwrap_or_default().to_owned();
    assert_eq!(by("teacher/class")["rows"], 10, "5年1組 has ten pupils");
    assert!(text("teacher/unlocked").contains("ロックを解除しました"));
    assert_eq!(
        by("teacher/cards")["text"]
            .as_str()
            .unwrap()
            .matches("minami.s")
            .count(),
        10
    );
    assert!(
        text("pupil/card").contains("ログインする"),
        "the card asks before signing in"
    );
    assert_eq!(
        by("pupil/card-launcher")["url"],
        "/t/demo/",
        "signed in: the launcher"
    );
    assert!(
        by("pupil/card-launcher")["who"]
            .as_str()
            .is_some_and(|w| w.starts_with("𠮷田")),
        "{}",
        by("pupil/card-launcher")
    );
    // The lost card reissued: the old code opens "このカードは使えません" with nothing to tap,
    // the new one signs the same pupil in.
    assert!(
        text("teacher/card-reissued").contains("再発行"),
        "{}",
        text("teacher/card-reissued")
    );
    assert!(
        text("pupil/card-replaced").contains("このカードは使えません"),
        "{}",
        text("pupil/card-replaced")
    );
    printed_cards_decode_to_their_links(&run, &node.url, "reissued", 1);
    let reissued = run.all("card-qr");
    assert_eq!(
        reissued.last().unwrap()["username"],
        reissued[0]["username"],
        "the scanned (first) card was reissued"
    );
    let reissue = run.one("card-reissue");
    assert_eq!(reissue["oldButtons"], 0, "{reissue}");
    assert_eq!(reissue["freshStatus"], 200, "{reissue}");
    assert_eq!(reissue["signedIn"], 200, "{reissue}");
    assert_eq!(reissue["url"], "/t/demo/", "{reissue}");
    assert_eq!(
        reissue["who"],
        by("pupil/card-launcher")["who"],
        "the reissued card signs in the same pupil: {reissue}"
    );
    assert!(text("admin/import-report").contains("enrollments.csv"));
    assert!(text("admin/import-report").contains("classSourcedId"));
    assert!(text("admin/import-preview").contains("この内容で取り込む"));
    assert!(text("admin/import-applied").contains("取り込みました"));
    assert!(text("admin/import-history").contains("good.zip"));
    assert!(text("admin/people-search").contains("minami.s01"));
    assert!(text("admin/audit-person").contains("console.person.view"));
    assert!(text("admin/audit-verify").contains("改ざんはありません"));
    assert!(text("admin/people-en").contains("Name, kana or username"));
    assert!(text("admin/app-registered").contains("client_secret"));
    assert!(text("pupil/me").contains("成功"));
    assert!(text("admin/app-edited").contains("保存しました"));
    let form = run.one("app-edited-form");
    assert_eq!(form["tokenFormat"], "jwt", "{form}");
    assert_eq!(form["launchUrl"], "https://drill.example/start", "{form}");
    for item in [
        "client_id",
        "deployment_id",
        "issuer",
        "token_endpoint",
        "jwks_uri",
    ] {
        assert!(text("admin/lti-registered").contains(item), "{item}");
    }
    // The LTI tool's edit form shows the key in force (kept unless a new one is given); the
    // change is saved.
    let edit = text("admin/lti-edit");
    assert!(
        edit.contains("LTIツールの設定を変える") && edit.contains("https://tool.example/jwks"),
        "{edit}"
    );
    assert!(text("admin/lti-edited").contains("保存しました"));
    // Dynamic Registration: the tool's URL with our configuration and a one-time token,
    // opened in a new window without an opener (LTI Dynamic Registration 1.0 section 3.3).
    let link = run.one("registration-link");
    let href = link["href"].as_str().unwrap();
    assert!(
        href.starts_with("https://tool.example/register?from=console&openid_configuration=")
            && href.contains("registration_token="),
        "{link}"
    );
    assert_eq!(link["target"], "_blank", "{link}");
    assert!(link["rel"].as_str().unwrap().contains("noopener"), "{link}");
    assert!(text("admin/lti-dynamic").contains("1時間"));
    assert!(
        text("admin/person-factors").contains("バックアップコードの残り: 10"),
        "{}",
        text("admin/person-factors")
    );
    assert!(text("admin/factors-reset").contains("10件を削除"));
    assert!(text("admin/security-mfa-invalid").contains("10.20.0.0/33"));
    assert!(text("admin/security-mfa-saved").contains("保存しました"));
    // One key of another teacher removed, the other kept.
    assert!(text("admin/person-keys").contains("キーを1つ削除"));
    let removed = text("admin/key-removed");
    assert!(
        removed.contains("セキュリティキーを1つ削除しました")
            && removed.contains("職員室の鍵")
            && !removed.contains("予備の鍵"),
        "{removed}"
    );
    // The operator overview: the demo tenant's counts and an intact chain.
    let overview = text("admin/operator");
    assert!(
        overview.contains("demo") && overview.contains("正常"),
        "{overview}"
    );
    // The pupil's devices: the iPad marked, the home browser forgotten.
    let me = text("pupil/me");
    assert!(
        me.contains("わたしの端末") && me.contains("（この端末）") && me.contains("iPad"),
        "{me}"
    );
    assert_eq!(by("pupil/me")["rows"].as_u64().map(|n| n >= 3), Some(true));
    let forgotten = text("pupil/device-forgotten");
    assert!(forgotten.contains("端末を忘れました"), "{forgotten}");
    assert_eq!(
        forgotten.matches("自分の端末ではない").count(),
        2,
        "{forgotten}: the intro and one device"
    );
}

/// The printed cards read back by an independent decoder (npm `jsqr`, ISO/IEC 18004) from
/// print-media screenshots at device scale 1: every card of the `page` (`cards`: the class's,
/// `reissued`: one reissued) decodes to the link shown for that pupil, on this server; no two
/// cards printed in this run share a code. The code keeps its quiet zone (ISO/IEC 18004:2015
/// section 9.1: four modules wide, light) and modules of at least 3 px at 96 px per inch
/// (0.8 mm printed), which a tablet's camera reads at arm's length.
fn printed_cards_decode_to_their_links(
    run: &js_support::ScriptRun,
    base: &str,
    page: &str,
    count: usize,
) {
    let cards = run.all("card-qr");
    let on_page = cards.iter().filter(|c| c["name"] == page).count();
    assert_eq!(
        on_page,
        count,
        "{page}: {count} cards expected\n{}",
        run.transcript()
    );
    let mut seen = std::collections::HashSet::new();
    for card in &cards {
        let decoded = &card["decoded"];
        let text = decoded["text"].as_str().unwrap_or_else(|| {
            panic!(
                "the QR code on {}'s printed card does not decode: {card}",
                card["username"]
            )
        });
        assert_eq!(card["href"], text, "the code is the card's link: {card}");
        assert!(
            text.starts_with(&format!("{base}/t/demo/card/")),
            "{base}: {card}"
        );
        assert!(
            card["username"]
                .as_str()
                .is_some_and(|u| u.starts_with("minami.s")),
            "{card}"
        );
        assert!(seen.insert(text.to_owned()), "two cards, one code: {card}");
        let quiet = decoded["quietZone"].as_f64().unwrap_or(0.0);
        // Measured off the decoder's corner estimate: allow half a module of error.
        assert!(quiet >= 3.5, "quiet zone of {quiet} modules: {card}");
        let module = decoded["modulePx"].as_f64().unwrap_or(0.0);
        assert!(module >= 3.0, "modules of {module} px: {card}");
    }
}

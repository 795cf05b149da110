//! The web console over HTTP on SQLite and PostgreSQL, signed in through the portal: what a
//! teacher, a tenant admin and a pupil each get; CSRF on every form; the roster upload
//! (validation report table and CSV, preview, apply, history); the portal's CSP on every page;
//! second factors (list, reset), the MFA policy form, LTI tools and changing an app.

mod common;
mod lrs_support;
mod portal_support;

use common::Env;
use portal_support::{Browser, Resp};

const TEACHER_PW: &str = "demo-teacher-2026";

fn csrf_of(page: &Resp) -> String {
    page.hidden("csrf").expect("a csrf field")
}

fn location(r: &Resp) -> String {
    r.header("location").expect("a Location").to_owned()
}

/// POSTs a multipart form with the browser's cookies: text fields and at most one file
/// (field, file name, content type, bytes).
fn multipart_post(
    b: &Browser<'_>,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &str, &[u8])>,
) -> lrs_support::Resp {
    let boundary = "----kakehashi-test-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((field, name, kind, data)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
                 Content-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let client = lrs_support::Client {
        addr: b.addr.to_owned(),
        tenant: b.tenant.to_owned(),
        auth: None,
        version: None,
    };
    let cookie = b.cookie();
    client.send(
        "POST",
        path,
        &[
            ("Cookie", cookie.as_str()),
            (
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            ),
        ],
        &body,
    )
}

/// POSTs the roster upload form: (csrf, zip).
fn upload(b: &Browser<'_>, csrf: &str, name: &str, zip: &[u8]) -> lrs_support::Resp {
    multipart_post(
        b,
        &format!("/t/{}/console/imports", b.tenant),
        &[("csrf", csrf)],
        Some(("package", name, "application/zip", zip)),
    )
}

/// The console's OIDC app edit form, every field as a browser sends it.
fn oidc_form<'a>(csrf: &'a str, launch: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", "改名したアプリ"),
        ("security_class", "learning"),
        ("audience", "staff"),
        ("oidc", "1"),
        ("redirect_uris", "https://c.example/cb"),
        ("release", "roster"),
        ("backchannel_logout_uri", ""),
        ("token_auth_method", "client_secret_post"),
        ("jwks", ""),
        ("token_format", "jwt"),
        ("id_token_alg", "ES256"),
        ("post_logout_redirect_uris", "https://c.example/bye"),
        ("launch_url", launch),
        ("xapi_scopes", "statements/write"),
    ]
}

fn zip_of(env: &Env, name: &str, change: fn(&mut kakehashi_oneroster::Roster)) -> Vec<u8> {
    let mut roster = kakehashi_oneroster::generate::small_demo();
    change(&mut roster);
    let path = env.path(name);
    kakehashi_oneroster::write_zip(&roster, &path).expect("zip");
    std::fs::read(path).expect("read zip")
}

#[tokio::test]
async fn the_console_serves_each_role_its_own_pages_on_both_databases() {
    use kakehashi_oneroster::Entity;
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);

        // Without a session: to the login page, coming back to the console.
        let mut anon = Browser::new(&node, "demo");
        let r = anon.get("/t/demo/console/people");
        assert_eq!(r.status, 303, "{label}");
        assert!(
            location(&r).contains("return_to=%2Ft%2Fdemo%2Fconsole%2Fpeople"),
            "{}",
            location(&r)
        );

        // A teacher: their class with last sign-ins; not another school's class; no audit.
        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login("minami.t01", TEACHER_PW).status, 303);
        let r = teacher.get("/t/demo/console/classes");
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert!(
            r.body.contains("5年1組") && !r.body.contains("5年2組"),
            "{label}"
        );
        assert!(r
            .header("content-security-policy")
            .is_some_and(|c| c.contains("script-src 'self'")));
        let mut pupil = Browser::new(&node, "demo");
        assert_eq!(pupil.login("minami.s01", "demo1234").status, 303);
        let r = teacher.get("/t/demo/console/classes/cls-minami-5-1");
        assert_eq!(r.status, 200);
        assert!(
            r.body.contains("minami.s01") && r.body.contains("minami.s10"),
            "{label}"
        );
        assert!(!r.body.contains("minami.s11"), "{label}");
        assert_eq!(
            r.body.matches("まだログインしていません").count(),
            9,
            "{label}: s01 signed in"
        );
        assert_eq!(
            teacher.get("/t/demo/console/classes/cls-kita-5-1").status,
            404
        );
        assert_eq!(teacher.get("/t/demo/console/audit").status, 403);
        assert_eq!(teacher.get("/t/demo/console/imports").status, 403);
        assert_eq!(
            teacher.get("/t/demo/console/people/usr-kita-s01").status,
            404
        );
        let r = teacher.get("/t/demo/console/people?q=%E3%82%88%E3%81%97"); // よし
        assert!(
            r.body.contains("minami.s01"),
            "{label}: kana search: {}",
            r.body
        );
        // Unlock and a temporary password for their pupil, CSRF-checked.
        let page = teacher.get("/t/demo/console/people/usr-minami-s01");
        assert_eq!(page.status, 200);
        let csrf = csrf_of(&page);
        assert_eq!(
            teacher
                .post("/t/demo/console/people/usr-minami-s01/unlock", &[])
                .status,
            403
        );
        let r = teacher.post(
            "/t/demo/console/people/usr-minami-s01/unlock",
            &[("csrf", &csrf)],
        );
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        assert!(location(&r).ends_with("?done=unlock"));
        let r = teacher.post(
            "/t/demo/console/people/usr-minami-s01/password",
            &[("csrf", &csrf), ("password", "x")],
        );
        assert_eq!(r.status, 400, "{label}: too short");
        let r = teacher.post(
            "/t/demo/console/people/usr-minami-s01/password",
            &[("csrf", &csrf), ("password", "hanabi7")],
        );
        assert_eq!(r.status, 303, "{label}");
        let mut again = Browser::new(&node, "demo");
        assert_eq!(
            again.login("minami.s01", "hanabi7").status,
            303,
            "{label}: the new password works"
        );

        // QR sign-in cards: the teacher prints the class's cards; scanning one opens "sign in
        // as …?" and one tap signs the pupil in (amr qr); reissuing one card stops the old one,
        // revoking stops it too.
        let class = teacher.get("/t/demo/console/classes/cls-minami-5-1");
        let csrf_t = csrf_of(&class);
        assert_eq!(
            teacher
                .post("/t/demo/console/classes/cls-minami-5-1/cards", &[])
                .status,
            403
        );
        let printed = teacher.post(
            "/t/demo/console/classes/cls-minami-5-1/cards",
            &[("csrf", &csrf_t)],
        );
        assert_eq!(printed.status, 200, "{label}: {}", printed.body);
        let links: Vec<String> = printed
            .body
            .split("class=\"card-link\" href=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect();
        assert_eq!(links.len(), 10, "{label}");
        assert_eq!(printed.body.matches("<svg").count(), 10);
        assert_eq!(
            teacher
                .post(
                    "/t/demo/console/classes/cls-kita-5-1/cards",
                    &[("csrf", &csrf_t)]
                )
                .status,
            404
        );
        let path_of = |url: &str| url.trim_start_matches(&node.url).to_owned();
        let first = path_of(&links[0]);
        let mut tablet = Browser::new(&node, "demo");
        let ask = tablet.get(&first);
        assert_eq!(ask.status, 200, "{label}: {}", ask.body);
        assert!(ask.body.contains("ログインする"));
        assert_eq!(tablet.post(&first, &[("csrf", "forged")]).status, 403);
        let csrf_card = csrf_of(&ask);
        let r = tablet.post(&first, &[("csrf", &csrf_card)]);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let launcher = tablet.get("/t/demo/");
        assert_eq!(launcher.status, 200, "{label}: signed in by card");
        // Reissue one pupil's card: their old one stops working.
        let who = printed
            .body
            .split("<span>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_owned();
        assert!(who.starts_with("minami.s"), "{who}");
        let id = format!("usr-minami-{}", who.trim_start_matches("minami."));
        let page = teacher.get(&format!("/t/demo/console/people/{id}"));
        assert!(page.body.contains("QRログインカードを再発行"), "{label}");
        let re = teacher.post(
            &format!("/t/demo/console/people/{id}/card"),
            &[("csrf", &csrf_t)],
        );
        assert_eq!(re.status, 200);
        let new_link = re
            .body
            .split("class=\"card-link\" href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let mut other = Browser::new(&node, "demo");
        assert_eq!(other.get(&first).status, 404, "{label}: the replaced card");
        assert_eq!(
            other.get(&path_of(&new_link)).status,
            200,
            "{label}: the new card"
        );
        let r = teacher.post(
            &format!("/t/demo/console/people/{id}/card/revoke"),
            &[("csrf", &csrf_t)],
        );
        assert_eq!(r.status, 303);
        assert_eq!(
            other.get(&path_of(&new_link)).status,
            404,
            "{label}: revoked"
        );
        // A teacher cannot issue a card to a pupil of another class.
        assert_eq!(
            teacher
                .post(
                    "/t/demo/console/people/usr-minami-s11/card",
                    &[("csrf", &csrf_t)]
                )
                .status,
            404
        );

        // A pupil: their own sign-ins, nothing else.
        let r = pupil.get("/t/demo/console/me");
        assert_eq!(r.status, 200);
        assert!(r.body.contains("成功"), "{label}: {}", r.body);
        assert_eq!(pupil.get("/t/demo/console/people").status, 403);
        assert_eq!(
            pupil.get("/t/demo/console/people/usr-minami-s02").status,
            404
        );

        // A tenant admin: roster upload → report / preview → apply → history; audit.
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
        let mut admin = Browser::new(&node, "demo");
        assert_eq!(admin.login("minami.t03", TEACHER_PW).status, 303);
        let page = admin.get("/t/demo/console/imports?lang=en");
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<html lang=\"en\">") && page.body.contains("Import history"));
        let csrf = csrf_of(&page);
        let broken = zip_of(&env, "broken.zip", |r| {
            let enr = r.tables.get_mut(&Entity::Enrollments).unwrap();
            let mut bad = enr[0].clone();
            bad.sourced_id = "enr-bad".into();
            for f in bad.fields.iter_mut().filter(|(k, _)| k == "userSourcedId") {
                f.1 = "usr-nobody".into();
            }
            enr.push(bad);
        });
        assert_eq!(upload(&admin, "wrong", "broken.zip", &broken).status, 403);
        let r = upload(&admin, &csrf, "broken.zip", &broken);
        assert_eq!(r.status, 303, "{label}: {}", r.text());
        let staged = r.header("location").unwrap().to_owned();
        let r = admin.get(&staged);
        assert_eq!(r.status, 200);
        assert!(
            r.body.contains("enrollments.csv") && r.body.contains("userSourcedId"),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("この内容で取り込む"),
            "{label}: an invalid package cannot be applied"
        );
        let csv = admin.get(&format!(
            "{}/report.csv",
            staged.trim_end_matches("?lang=en")
        ));
        assert_eq!(csv.status, 200);
        assert!(csv
            .body
            .contains("file,line,column,field,rule,severity,message"));
        assert!(csv.body.contains("enrollments.csv,"), "{}", csv.body);

        let renamed = zip_of(&env, "renamed.zip", |r| {
            let users = r.tables.get_mut(&Entity::Users).unwrap();
            let u = users
                .iter_mut()
                .find(|u| u.sourced_id == "usr-minami-s05")
                .unwrap();
            for f in u.fields.iter_mut().filter(|(k, _)| k == "givenName") {
                f.1 = "新名".into();
            }
        });
        let r = upload(&admin, &csrf, "renamed.zip", &renamed);
        assert_eq!(r.status, 303);
        let staged = r.header("location").unwrap().to_owned();
        let page = admin.get(&staged);
        assert!(
            page.body.contains("この内容で取り込む"),
            "{label}: {}",
            page.body
        );
        assert!(
            page.body.contains("<code>usr-minami-s05</code>"),
            "{label}: the preview names the row"
        );
        let id = staged.rsplit('/').next().unwrap();
        let apply = format!("/t/demo/console/imports/{id}/apply");
        let r = admin.post(&apply, &[("csrf", &csrf)]);
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert!(r.body.contains("users: +0 ~1 −0"), "{label}: {}", r.body);
        assert_eq!(
            admin.post(&apply, &[("csrf", &csrf)]).status,
            400,
            "{label}: once only"
        );
        let r = admin.get("/t/demo/console/imports");
        assert!(
            r.body.contains("renamed.zip") && r.body.contains("user:demo/usr-minami-t03"),
            "{label}"
        );
        let r = admin.get("/t/demo/console/people/usr-minami-s05");
        assert!(r.body.contains("新名"), "{label}");
        let r = admin.get("/t/demo/console/audit?target=user%3Ausr-minami-s01");
        assert!(
            r.body.contains("portal.unlock") && r.body.contains("user:demo/usr-minami-t01"),
            "{label}"
        );
        let r = admin.get("/t/demo/console/audit?action=portal.login");
        assert!(
            r.body.contains("&quot;amr&quot;:[&quot;qr&quot;]"),
            "{label}: a card login is audited as amr qr"
        );
        let r = admin.get("/t/demo/console/audit/verify");
        assert!(r.body.contains("改ざんはありません"), "{label}: {}", r.body);
        // Registering an app in the browser: the secret is shown once; a teacher may not.
        let r = admin.post(
            "/t/demo/console/apps",
            &[
                ("csrf", &csrf),
                ("name", "ブラウザ登録"),
                ("protocol", "oidc"),
                ("security_class", "learning"),
                ("audience", "students"),
                (
                    "redirect_uris",
                    "https://a.example/cb\r\nhttps://b.example/cb",
                ),
                ("release", "name"),
                ("release", "kana"),
            ],
        );
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert!(r.body.contains("client_secret"), "{label}");
        let listed = admin.get("/t/demo/console/apps");
        assert!(listed.body.contains("ブラウザ登録"), "{label}");
        // Test launch: the real launch route, in a new window, under the launcher's policy —
        // the app is for pupils, so the admin's own test launch is refused, not let through.
        let row = listed
            .body
            .split("<tr>")
            .find(|r| r.contains("ブラウザ登録"))
            .expect("the app's row");
        let launch = row
            .split("href=\"")
            .filter_map(|h| h.split('"').next())
            .find(|h| h.starts_with("/t/demo/launch/"))
            .expect("a test-launch link")
            .to_owned();
        assert!(row.contains("target=\"_blank\" rel=\"noopener\""), "{row}");
        let id = row
            .split("<code>")
            .nth(1)
            .and_then(|c| c.split("</code>").next())
            .expect("the app's id");
        assert_eq!(launch, format!("/t/demo/launch/{id}"), "{label}");
        assert_eq!(admin.get(&launch).status, 404, "{label}: audience students");
        assert_eq!(
            teacher
                .post("/t/demo/console/apps", &[("csrf", "x"), ("name", "n")])
                .status,
            403
        );

        // The security policy: a form in minutes, checked bounds, CSRF.
        let page = admin.get("/t/demo/console/security");
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("value=\"30\"") && page.body.contains("value=\"10\""),
            "{label}"
        );
        let form = |csrf: &str, lockout: &str| {
            vec![
                ("csrf".to_owned(), csrf.to_owned()),
                ("staff_idle".to_owned(), "20".to_owned()),
                ("staff_absolute".to_owned(), "600".to_owned()),
                ("pupil_idle".to_owned(), "50".to_owned()),
                ("pupil_absolute".to_owned(), "480".to_owned()),
                ("lockout".to_owned(), lockout.to_owned()),
            ]
        };
        let post = |b: &mut Browser<'_>, f: Vec<(String, String)>| {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post("/t/demo/console/security", &f)
        };
        assert_eq!(post(&mut admin, form("", "8")).status, 403);
        assert_eq!(post(&mut admin, form(&csrf, "99")).status, 400);
        assert_eq!(post(&mut admin, form(&csrf, "8")).status, 303);
        assert!(admin
            .get("/t/demo/console/security")
            .body
            .contains("value=\"20\""));
        assert_eq!(teacher.get("/t/demo/console/security").status, 403);
        let r = admin.get("/t/demo/console/audit.csv?action=console.");
        assert!(r.body.contains("console.person.view"), "{label}");
    }
}

/// Second factors, the MFA policy, LTI tools and app changes in the console on SQLite and
/// PostgreSQL: a tenant admin's forms (CSRF, errors naming the field, audited), a school
/// admin and a teacher refused.
#[tokio::test]
async fn the_console_manages_factors_policy_lti_tools_and_apps_on_both_databases() {
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);
        for (user, role) in [
            ("minami.t03", &["--role", "tenant-admin"][..]),
            (
                "minami.t02",
                &["--role", "school-admin", "--school", "sch-minami"][..],
            ),
        ] {
            let mut args = vec!["admin", "grant", "--tenant", "demo", "--username", user];
            args.extend_from_slice(role);
            env.run(&args).ok();
        }
        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login("minami.t01", TEACHER_PW).status, 303);
        let mut admin = Browser::new(&node, "demo");
        assert_eq!(admin.login("minami.t03", TEACHER_PW).status, 303);
        let mut school = Browser::new(&node, "demo");
        assert_eq!(school.login("minami.t02", TEACHER_PW).status, 303);
        let csrf = csrf_of(&admin.get("/t/demo/console/"));
        let csrf_t = csrf_of(&teacher.get("/t/demo/console/"));
        let csrf_s = csrf_of(&school.get("/t/demo/console/"));
        // An app to change later.
        let r = admin.post(
            "/t/demo/console/apps",
            &[
                ("csrf", &csrf),
                ("name", "ブラウザ登録"),
                ("protocol", "oidc"),
                ("security_class", "learning"),
                ("audience", "students"),
                (
                    "redirect_uris",
                    "https://a.example/cb\r\nhttps://b.example/cb",
                ),
                ("release", "name"),
                ("release", "kana"),
            ],
        );
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        let registered = r
            .body
            .split("<td>client_id</td><td><code>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("the client_id")
            .to_owned();

        // A person's second factors: listed on their page for the tenant admin, reset with a
        // required reason; a school admin reaches their school's people but not another
        // admin; a teacher sees no factors and may not reset them.
        let mfa_page = teacher.get("/t/demo/mfa");
        let r = teacher.post("/t/demo/mfa/backup-codes", &[("csrf", &csrf_of(&mfa_page))]);
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        common::give_security_key(&env, "demo", "usr-minami-t01", "職員室の鍵").await;
        let page = admin.get("/t/demo/console/people/usr-minami-t01");
        assert!(
            page.body
                .contains("<td>職員室の鍵</td><td>セキュリティキー</td>")
                && page.body.contains("2026-04-02T09:30:00.000Z")
                && page.body.contains("バックアップコードの残り: 10")
                && page.body.contains("二要素認証をリセット"),
            "{label}: {}",
            page.body
        );
        let r = teacher.get("/t/demo/console/people/usr-minami-s01");
        assert!(!r.body.contains("二要素認証をリセット"), "{label}");
        // One key (the spare is lost): beside the reset, same rule, with a reason.
        common::give_security_key(&env, "demo", "usr-minami-t01", "予備の鍵").await;
        common::give_security_key(&env, "demo", "usr-kita-t01", "北小の鍵").await;
        let page = admin.get("/t/demo/console/people/usr-minami-t01");
        assert!(
            page.body.contains("キーを1つ削除")
                && page
                    .body
                    .contains("<option value=\"test-usr-minami-t01-12\">予備の鍵</option>"),
            "{label}: {}",
            page.body
        );
        let remove = |b: &mut Browser<'_>, id: &str, csrf: &str, key: &str, reason: &str| {
            b.post(
                &format!("/t/demo/console/people/{id}/factors/remove"),
                &[("csrf", csrf), ("credential", key), ("reason", reason)],
            )
        };
        assert_eq!(
            remove(
                &mut school,
                "usr-kita-t01",
                &csrf_s,
                "test-usr-kita-t01-12",
                "紛失"
            )
            .status,
            404,
            "{label}: a school admin cannot remove a key outside their schools"
        );
        assert_eq!(
            remove(
                &mut teacher,
                "usr-minami-t01",
                &csrf_t,
                "test-usr-minami-t01-12",
                "紛失"
            )
            .status,
            403,
            "{label}: a teacher may not"
        );
        assert_eq!(
            remove(
                &mut admin,
                "usr-minami-t01",
                "",
                "test-usr-minami-t01-12",
                "紛失"
            )
            .status,
            403,
            "{label}: CSRF"
        );
        let r = remove(
            &mut admin,
            "usr-minami-t01",
            &csrf,
            "test-usr-minami-t01-12",
            "",
        );
        assert_eq!(r.status, 400, "{label}");
        assert!(r.body.contains("理由"), "{label}: {}", r.body);
        let r = remove(
            &mut school,
            "usr-minami-t01",
            &csrf_s,
            "test-usr-minami-t01-12",
            "予備の鍵を紛失",
        );
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let page = school.get(&location(&r));
        assert!(
            page.body.contains("セキュリティキーを1つ削除しました")
                && !page.body.contains("予備の鍵")
                && page.body.contains("職員室の鍵"),
            "{label}: {}",
            page.body
        );
        let r = admin.get("/t/demo/console/audit?action=mfa.webauthn.remove");
        assert!(
            r.body.contains("予備の鍵を紛失") && r.body.contains("user:demo/usr-minami-t02"),
            "{label}: {}",
            r.body
        );

        let reset = |b: &mut Browser<'_>, id: &str, csrf: &str, reason: &str| {
            b.post(
                &format!("/t/demo/console/people/{id}/factors/reset"),
                &[("csrf", csrf), ("reason", reason)],
            )
        };
        assert_eq!(
            reset(&mut teacher, "usr-minami-s01", &csrf_t, "忘れた").status,
            403,
            "{label}: a teacher may not"
        );
        let r = school.get("/t/demo/console/people/usr-minami-t01");
        assert!(
            r.body.contains("職員室の鍵"),
            "{label}: their school's teacher"
        );
        let r = school.get("/t/demo/console/people/usr-minami-t03");
        assert_eq!(r.status, 200);
        assert!(
            !r.body.contains("二要素認証をリセット"),
            "{label}: an admin's"
        );
        assert_eq!(
            reset(&mut school, "usr-minami-t03", &csrf_s, "x").status,
            403,
            "{label}"
        );
        assert_eq!(
            reset(&mut school, "usr-kita-t01", &csrf_s, "x").status,
            404,
            "{label}: another school"
        );
        assert_eq!(reset(&mut admin, "usr-minami-t01", "", "紛失").status, 403);
        let r = reset(&mut admin, "usr-minami-t01", &csrf, " ");
        assert_eq!(r.status, 400, "{label}");
        assert!(r.body.contains("理由"), "{label}: {}", r.body);
        let r = reset(
            &mut admin,
            "usr-minami-t01",
            &csrf,
            "鍵を紛失（本人に電話で確認）",
        );
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let back = location(&r);
        assert!(back.contains("done=factors-reset&removed=11"), "{back}");
        let page = admin.get(&back);
        assert!(
            page.body.contains("11件を削除")
                && page.body.contains("セキュリティキーは登録されていません")
                && page.body.contains("バックアップコードの残り: 0"),
            "{label}: {}",
            page.body
        );
        let listed = env
            .run(&[
                "mfa",
                "list",
                "--tenant",
                "demo",
                "--username",
                "minami.t01",
                "--format",
                "json",
            ])
            .ok();
        let listed: serde_json::Value = serde_json::from_str(&listed.stdout).expect("factors JSON");
        assert_eq!(listed["backupCodesLeft"], 0, "{label}: {listed}");
        let r = admin.get("/t/demo/console/audit?action=mfa.reset");
        assert!(
            r.body.contains("鍵を紛失") && r.body.contains("user:demo/usr-minami-t03"),
            "{label}"
        );

        // Changing an app: the form shows what is set; the registration's rules hold; a
        // teacher and a school admin are refused.
        let edit = format!("/t/demo/console/apps/{registered}");
        let page = admin.get(&edit);
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(
            page.body.contains("<option value=\"students\" selected>")
                && page
                    .body
                    .contains("https://a.example/cb\nhttps://b.example/cb</textarea>")
                && page.body.contains("value=\"kana\" checked"),
            "{label}: {}",
            page.body
        );
        let change = |b: &mut Browser<'_>, csrf: &str, audience: &str| {
            b.post(
                &edit,
                &[
                    ("csrf", csrf),
                    ("security_class", "school-affairs"),
                    ("audience", audience),
                    ("oidc", "1"),
                    ("redirect_uris", "https://c.example/cb"),
                    ("release", "roster"),
                ],
            )
        };
        assert_eq!(change(&mut admin, "", "staff").status, 403);
        let r = change(&mut admin, &csrf, "students");
        assert_eq!(r.status, 400, "{label}");
        assert!(
            r.body.contains("audience: school-affairs apps"),
            "{label}: {}",
            r.body
        );
        let r = change(&mut admin, &csrf, "staff");
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let page = admin.get(&location(&r));
        assert!(
            page.body.contains("保存しました")
                && page
                    .body
                    .contains("<option value=\"school-affairs\" selected>")
                && page.body.contains("https://c.example/cb</textarea>")
                && page.body.contains("value=\"roster\" checked")
                && !page.body.contains("value=\"kana\" checked"),
            "{label}: {}",
            page.body
        );
        assert!(admin
            .get("/t/demo/console/apps")
            .body
            .contains(&format!("href=\"/t/demo/console/apps/{registered}\"")));
        assert_eq!(teacher.get(&edit).status, 403, "{label}");
        assert_eq!(
            change(&mut teacher, &csrf_t, "staff").status,
            403,
            "{label}"
        );
        assert_eq!(change(&mut school, &csrf_s, "staff").status, 403, "{label}");
        let r = admin.get("/t/demo/console/audit?action=app.update");
        assert!(r.body.contains(&format!("app:{registered}")), "{label}");

        // The rest of what `app add` set, in the same (multipart) form: name, icon, token
        // format, ID token algorithm, launch URL, post-logout URIs, xAPI scopes; a bad one is
        // named and nothing changes.
        let page = admin.get(&edit);
        assert!(
            page.body.contains("enctype=\"multipart/form-data\"")
                && page.body.contains("<option value=\"opaque\" selected>")
                && page.body.contains("<option value=\"RS256\" selected>")
                && page
                    .body
                    .contains("<option value=\"client_secret_basic\" selected>")
                && page
                    .body
                    .contains("id=\"icon\" name=\"icon\" type=\"file\""),
            "{label}: {}",
            page.body
        );
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"a tiny image"].concat();
        let r = multipart_post(
            &admin,
            &edit,
            &oidc_form(&csrf, "http://c.example/start"),
            Some(("icon", "icon.png", "image/png", &png)),
        );
        assert_eq!(r.status, 400, "{label}");
        assert!(r.text().contains("launch_url: "), "{label}: {}", r.text());
        assert!(
            r.text().contains("value=\"http://c.example/start\"")
                && r.text().contains("<option value=\"jwt\" selected>"),
            "{label}: the form comes back as typed: {}",
            r.text()
        );
        let r = multipart_post(
            &admin,
            &edit,
            &oidc_form(&csrf, "https://c.example/start"),
            Some(("icon", "icon.png", "image/png", &png)),
        );
        assert_eq!(r.status, 303, "{label}: {}", r.text());
        let page = admin.get(&edit);
        assert!(
            page.body.contains("value=\"改名したアプリ\"")
                && page.body.contains("<option value=\"jwt\" selected>")
                && page.body.contains("<option value=\"ES256\" selected>")
                && page
                    .body
                    .contains("<option value=\"client_secret_post\" selected>")
                && page.body.contains("value=\"https://c.example/start\"")
                && page.body.contains("https://c.example/bye</textarea>")
                && page.body.contains("value=\"statements/write\"")
                && page.body.contains("name=\"icon_remove\""),
            "{label}: {}",
            page.body
        );
        assert_eq!(
            multipart_post(
                &school,
                &edit,
                &oidc_form(&csrf_s, "https://c.example/s"),
                None
            )
            .status,
            403,
            "{label}"
        );

        // A SAML SP: its ACS URL and entity id shown (sent back unchanged they change
        // nothing), what is signed, the NameID, the attributes.
        let sp = env
            .run(&[
                "app",
                "add",
                "--tenant",
                "demo",
                "--name",
                "校務SP",
                "--protocol",
                "saml",
                "--security-class",
                "learning",
                "--saml-acs-url",
                "https://sp.example/acs",
                "--saml-entity-id",
                "https://sp.example/",
                "--format",
                "json",
            ])
            .ok();
        let sp: serde_json::Value = serde_json::from_str(&sp.stdout).unwrap();
        let sp_edit = format!("/t/demo/console/apps/{}", sp["id"].as_str().unwrap());
        let page = admin.get(&sp_edit);
        assert!(
            page.body.contains("value=\"https://sp.example/acs\"")
                && page.body.contains("<option value=\"both\" selected>")
                && page.body.contains("name=\"saml_attributes\" value=\"uid\"")
                && !page.body.contains("name=\"redirect_uris\""),
            "{label}: {}",
            page.body
        );
        let saml_form = |acs: &'static str, name_id: &'static str| {
            vec![
                ("csrf", csrf.as_str()),
                ("name", "校務SP"),
                ("security_class", "learning"),
                ("audience", "all"),
                ("saml", "1"),
                ("saml_metadata", ""),
                ("saml_acs_url", acs),
                ("saml_entity_id", "https://sp.example/"),
                ("saml_sign", "assertion"),
                ("saml_name_id", name_id),
                ("saml_attributes", "uid"),
                ("saml_attributes", "mail"),
                ("saml_require_signed_requests", "on"),
            ]
        };
        let r = multipart_post(
            &admin,
            &sp_edit,
            &saml_form("https://sp.example/acs", "email"),
            None,
        );
        assert_eq!(r.status, 400, "{label}");
        assert!(r.text().contains("saml_name_id: "), "{label}: {}", r.text());
        let r = multipart_post(
            &admin,
            &sp_edit,
            &saml_form("https://sp.example/v2/acs", "username"),
            None,
        );
        assert_eq!(r.status, 303, "{label}: {}", r.text());
        let page = admin.get(&sp_edit);
        assert!(
            page.body.contains("value=\"https://sp.example/v2/acs\"")
                && page.body.contains("<option value=\"assertion\" selected>")
                && page.body.contains("<option value=\"username\" selected>")
                && page
                    .body
                    .contains("name=\"saml_attributes\" value=\"mail\" checked")
                && page
                    .body
                    .contains("name=\"saml_require_signed_requests\" value=\"on\" checked"),
            "{label}: {}",
            page.body
        );

        // LTI tools: register (the answer names what the tool configures), list, remove; a
        // bad field is named; a teacher and a school admin are refused.
        let page = admin.get("/t/demo/console/lti");
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(page.body.contains("LTIツールを登録する"));
        let tool_form = |csrf: &str, login: &str, custom: &str| {
            vec![
                ("csrf".to_owned(), csrf.to_owned()),
                ("name".to_owned(), "ブラウザのLTIドリル".to_owned()),
                ("login_url".to_owned(), login.to_owned()),
                (
                    "launch_url".to_owned(),
                    "https://lti.example/launch".to_owned(),
                ),
                ("jwks_url".to_owned(), "https://lti.example/jwks".to_owned()),
                ("public_key_pem".to_owned(), String::new()),
                (
                    "deep_linking_url".to_owned(),
                    "https://lti.example/dl".to_owned(),
                ),
                ("redirect_uris".to_owned(), String::new()),
                ("audience".to_owned(), "all".to_owned()),
                ("subject".to_owned(), "pairwise".to_owned()),
                ("send_name".to_owned(), "on".to_owned()),
                ("custom".to_owned(), custom.to_owned()),
                ("schools".to_owned(), "sch-minami, sch-kita".to_owned()),
            ]
        };
        let post_tool = |b: &mut Browser<'_>, f: Vec<(String, String)>| {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post("/t/demo/console/lti", &f)
        };
        let good = "https://lti.example/login";
        assert_eq!(post_tool(&mut admin, tool_form("", good, "")).status, 403);
        let r = post_tool(&mut admin, tool_form(&csrf, "http://lti.example/login", ""));
        assert_eq!(r.status, 400, "{label}");
        assert!(r.body.contains("login_url"), "{label}: {}", r.body);
        let r = post_tool(&mut admin, tool_form(&csrf, good, "unit"));
        assert_eq!(r.status, 400, "{label}");
        assert!(r.body.contains("名前=値"), "{label}: {}", r.body);
        let r = post_tool(&mut admin, tool_form(&csrf, good, "unit=5\r\nlevel=easy"));
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        for item in [
            "client_id",
            "deployment_id (sch-minami)",
            "deployment_id (sch-kita)",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
        ] {
            assert!(
                r.body.contains(&format!("<td>{item}</td>")),
                "{label}: {item}: {}",
                r.body
            );
        }
        let tool_id = r
            .body
            .split("<td>client_id</td><td><code>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_owned();
        let listed = admin.get("/t/demo/console/lti");
        assert!(listed.body.contains("ブラウザのLTIドリル") && listed.body.contains(&tool_id));
        assert_eq!(teacher.get("/t/demo/console/lti").status, 403, "{label}");
        assert_eq!(
            post_tool(&mut teacher, tool_form(&csrf_t, good, "")).status,
            403,
            "{label}"
        );
        assert_eq!(school.get("/t/demo/console/lti").status, 403, "{label}");

        // Changing the tool (as `lti tool set`): the form holds what is set (the key fields
        // empty: kept); a bad field is named and nothing changes; an emptied deep linking URL
        // is removed; audited with before and after; tenant admins only.
        let edit = format!("/t/demo/console/lti/{tool_id}");
        assert!(listed.body.contains(&format!("href=\"{edit}\"")), "{label}");
        let page = admin.get(&edit);
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(
            page.body.contains("value=\"ブラウザのLTIドリル\"")
                && page.body.contains("value=\"https://lti.example/dl\"")
                && page.body.contains("level=easy\nunit=5</textarea>")
                && page
                    .body
                    .contains("name=\"send_name\" value=\"on\" checked")
                && page.body.contains("<option value=\"all\" selected>")
                && page.body.contains("https://lti.example/jwks")
                && page
                    .body
                    .contains("id=\"jwks_url\" name=\"jwks_url\" type=\"text\" value=\"\""),
            "{label}: {}",
            page.body
        );
        let edit_form = |csrf: &str, launch: &str, dl: &str| {
            vec![
                ("csrf".to_owned(), csrf.to_owned()),
                ("name".to_owned(), "改名したLTIドリル".to_owned()),
                ("login_url".to_owned(), good.to_owned()),
                ("launch_url".to_owned(), launch.to_owned()),
                ("jwks_url".to_owned(), String::new()),
                ("public_key_pem".to_owned(), String::new()),
                ("deep_linking_url".to_owned(), dl.to_owned()),
                (
                    "redirect_uris".to_owned(),
                    "https://lti.example/cb2".to_owned(),
                ),
                ("audience".to_owned(), "teachers".to_owned()),
                ("subject".to_owned(), "pairwise".to_owned()),
                ("send_email".to_owned(), "on".to_owned()),
                ("custom".to_owned(), "unit=6".to_owned()),
            ]
        };
        let post_edit = |b: &mut Browser<'_>, f: Vec<(String, String)>| {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post(&edit, &f)
        };
        let launch = "https://lti.example/launch2";
        assert_eq!(post_edit(&mut admin, edit_form("", launch, "")).status, 403);
        let r = post_edit(&mut admin, edit_form(&csrf, "ftp://lti.example/launch", ""));
        assert_eq!(r.status, 400, "{label}");
        assert!(r.body.contains("launch_url"), "{label}: {}", r.body);
        assert!(
            r.body.contains("value=\"改名したLTIドリル\"")
                && r.body.contains("value=\"ftp://lti.example/launch\""),
            "{label}: the form comes back as typed: {}",
            r.body
        );
        assert!(
            admin
                .get(&edit)
                .body
                .contains("value=\"ブラウザのLTIドリル\""),
            "{label}: nothing saved"
        );
        assert_eq!(
            post_edit(&mut teacher, edit_form(&csrf_t, launch, "")).status,
            403,
            "{label}"
        );
        assert_eq!(
            post_edit(&mut school, edit_form(&csrf_s, launch, "")).status,
            403,
            "{label}"
        );
        assert_eq!(teacher.get(&edit).status, 403, "{label}");
        let r = post_edit(&mut admin, edit_form(&csrf, launch, ""));
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let page = admin.get(&location(&r));
        assert!(
            page.body.contains("保存しました")
                && page.body.contains("value=\"改名したLTIドリル\"")
                && page.body.contains(&format!("value=\"{launch}\""))
                && page.body.contains(
                    "id=\"deep_linking_url\" name=\"deep_linking_url\" type=\"text\" value=\"\""
                )
                && page.body.contains("unit=6</textarea>")
                && page
                    .body
                    .contains("name=\"send_email\" value=\"on\" checked")
                && !page
                    .body
                    .contains("name=\"send_name\" value=\"on\" checked")
                && page.body.contains("<option value=\"teachers\" selected>")
                && page.body.contains("https://lti.example/jwks"),
            "{label}: {}",
            page.body
        );
        let tools = env
            .run(&[
                "lti", "tool", "list", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let tools: serde_json::Value = serde_json::from_str(&tools.stdout).expect("tools JSON");
        let tool = tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["client_id"] == tool_id.as_str())
            .unwrap();
        assert_eq!(
            tool["redirect_uris"],
            serde_json::json!([launch, "https://lti.example/cb2"]),
            "{label}: the launch URL is a redirect URI, the old deep linking URL is not"
        );
        assert_eq!(
            tool["jwks_url"], "https://lti.example/jwks",
            "{label}: kept"
        );
        assert_eq!(tool["deep_linking_url"], serde_json::Value::Null);
        let r = admin.get("/t/demo/console/audit?action=lti.tool.update");
        assert!(
            r.body.contains(&format!("app:{tool_id}")) && r.body.contains("改名したLTIドリル"),
            "{label}: {}",
            r.body
        );

        // Dynamic Registration from the console: a link to the tool's registration page with
        // our configuration and a one-time token; a bad URL is named; audited; admins only.
        let start = |b: &mut Browser<'_>, csrf: &str, url: &str| {
            b.post(
                "/t/demo/console/lti/registrations",
                &[("csrf", csrf), ("registration_url", url)],
            )
        };
        assert!(admin
            .get("/t/demo/console/lti")
            .body
            .contains("action=\"/t/demo/console/lti/registrations\""));
        assert_eq!(
            start(&mut admin, "", "https://tool.example/reg").status,
            403
        );
        let r = start(&mut admin, &csrf, "tool.example/reg");
        assert_eq!(r.status, 400, "{label}");
        assert!(r.body.contains("registration_url"), "{label}: {}", r.body);
        assert_eq!(
            start(&mut school, &csrf_s, "https://tool.example/reg").status,
            403,
            "{label}"
        );
        assert_eq!(
            start(&mut teacher, &csrf_t, "https://tool.example/reg").status,
            403,
            "{label}"
        );
        let r = start(&mut admin, &csrf, "https://tool.example/reg");
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        let href = r
            .body
            .split("id=\"open-registration\" href=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .replace("&amp;", "&");
        let token = href.split("registration_token=").nth(1).unwrap_or_default();
        assert!(
            href.starts_with("https://tool.example/reg?openid_configuration=")
                && href.contains("%2Ft%2Fdemo%2Flti%2Fopenid-configuration&")
                && token.len() >= 32,
            "{label}: {href}"
        );
        assert!(r
            .body
            .contains("target=\"_blank\" rel=\"noopener noreferrer\""));
        let r = admin.get("/t/demo/console/audit?action=lti.registration.start");
        assert!(r.body.contains("url:https://tool.example/reg"), "{label}");

        assert_eq!(
            school
                .post(
                    &format!("/t/demo/console/lti/{tool_id}/remove"),
                    &[("csrf", &csrf_s)]
                )
                .status,
            403,
            "{label}"
        );
        let r = admin.post(
            &format!("/t/demo/console/lti/{tool_id}/remove"),
            &[("csrf", &csrf)],
        );
        assert_eq!(r.status, 303, "{label}");
        let listed = admin.get(&location(&r));
        assert!(
            !listed.body.contains(&tool_id) && listed.body.contains("削除しました"),
            "{label}"
        );
        let r = admin.get("/t/demo/console/audit?action=lti.tool.");
        assert!(
            r.body.contains("lti.tool.create") && r.body.contains("lti.tool.remove"),
            "{label}"
        );

        // The MFA half of the security policy (what `tenant security set` controls): a bad
        // field comes back named and marked, as typed; the command line's rules apply; the
        // change is audited; a school admin and a teacher are refused.
        let page = admin.get("/t/demo/console/security");
        assert!(
            page.body.contains("name=\"school_networks\"")
                && page.body.contains("id=\"second_factor_max_age\" name=\"second_factor_max_age\" type=\"text\" inputmode=\"decimal\" value=\"480\""),
            "{label}: {}",
            page.body
        );
        let mfa_form = |csrf: &str, networks: &str, offsite: &str| {
            vec![
                ("csrf".to_owned(), csrf.to_owned()),
                ("second_factor_max_age".to_owned(), "240".to_owned()),
                ("offsite_max_age".to_owned(), offsite.to_owned()),
                ("totp".to_owned(), "on".to_owned()),
                ("staff_passkeys".to_owned(), "on".to_owned()),
                ("attestation".to_owned(), "none".to_owned()),
                ("aaguids".to_owned(), String::new()),
                ("uv_learning".to_owned(), "preferred".to_owned()),
                ("uv_school_affairs".to_owned(), "required".to_owned()),
                ("school_networks".to_owned(), networks.to_owned()),
                ("risk".to_owned(), "step-up".to_owned()),
                ("risk_step_up_threshold".to_owned(), "45".to_owned()),
                ("risk_deny_threshold".to_owned(), "100".to_owned()),
                ("school_hours".to_owned(), "07:30-18:00".to_owned()),
                ("shared_device".to_owned(), "on".to_owned()),
                ("shared_device_idle".to_owned(), "10".to_owned()),
                ("lesson_period_ends".to_owned(), "10:35, 11:25".to_owned()),
                ("shared_device_networks".to_owned(), String::new()),
            ]
        };
        let post_mfa = |b: &mut Browser<'_>, f: Vec<(String, String)>| {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post("/t/demo/console/security/mfa", &f)
        };
        let nets = "10.20.0.0/16\r\n192.168.1.0/24";
        assert_eq!(post_mfa(&mut admin, mfa_form("", nets, "")).status, 403);
        let r = post_mfa(&mut admin, mfa_form(&csrf, "10.20.0.0/33", ""));
        assert_eq!(r.status, 400, "{label}: {}", r.body);
        assert!(
            r.body.contains("学校のネットワーク")
                && r.body.contains("「10.20.0.0/33」")
                && r.body.contains("id=\"school_networks\" name=\"school_networks\" rows=\"3\" aria-invalid=\"true\""),
            "{label}: the field is named and marked: {}",
            r.body
        );
        // In English too (`?lang=en`): the labels and the field's message.
        let page = admin.get("/t/demo/console/security?lang=en");
        assert!(
            page.body.contains("<html lang=\"en\">")
                && page.body.contains("School networks (CIDR, one per line"),
            "{label}"
        );
        let f = mfa_form(&csrf, "10.20.0.0/33", "");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = admin.post("/t/demo/console/security/mfa?lang=en", &f);
        assert_eq!(r.status, 400, "{label}");
        assert!(
            r.body.contains("\"10.20.0.0/33\" is not an address block")
                || r.body
                    .contains("&quot;10.20.0.0/33&quot; is not an address block"),
            "{label}: {}",
            r.body
        );
        assert!(admin
            .get("/t/demo/console/lti?lang=en")
            .body
            .contains("Register an LTI tool"));
        let r = post_mfa(&mut admin, mfa_form(&csrf, "", "15"));
        assert_eq!(r.status, 400, "{label}");
        assert!(
            r.body.contains("offsite-max-age needs school-networks"),
            "{}",
            r.body
        );
        let r = post_mfa(&mut admin, mfa_form(&csrf, nets, "15"));
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let page = admin.get("/t/demo/console/security?done=mfa");
        assert!(
            page.body.contains("10.20.0.0/16\n192.168.1.0/24")
                && page.body.contains("10:35, 11:25"),
            "{label}"
        );
        let shown = env
            .run(&[
                "tenant", "security", "show", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let shown: serde_json::Value = serde_json::from_str(&shown.stdout).expect("policy JSON");
        assert_eq!(
            shown["second-factor-max-age-secs"], 14400,
            "{label}: {shown}"
        );
        assert_eq!(shown["offsite-max-age-secs"], 900);
        assert_eq!(shown["totp-enabled"], true);
        assert_eq!(shown["user-verification-school-affairs"], "required");
        assert_eq!(shown["risk"]["mode"], "step-up");
        assert_eq!(shown["risk"]["step-up-threshold"], 45);
        assert_eq!(shown["risk"]["weights"]["new-device"], 30, "kept as it was");
        assert_eq!(shown["shared-device"]["enabled"], true);
        assert_eq!(
            shown["shared-device"]["period-ends"],
            serde_json::json!(["10:35", "11:25"])
        );
        let r = admin.get("/t/demo/console/audit?action=tenant.security.set");
        assert!(
            r.body.contains("user:demo/usr-minami-t03") && r.body.contains("&quot;before&quot;"),
            "{label}"
        );
        assert_eq!(
            school.get("/t/demo/console/security").status,
            403,
            "{label}"
        );
        assert_eq!(
            post_mfa(&mut school, mfa_form(&csrf_s, nets, "")).status,
            403,
            "{label}: a school admin may not"
        );
        assert_eq!(
            post_mfa(&mut teacher, mfa_form(&csrf_t, nets, "")).status,
            403,
            "{label}: a teacher may not"
        );
    }
}

/// The risk engine lets every sign-in in (so each browser becomes a known device): step-up
/// mode with thresholds no sign-in reaches.
fn remember_every_device(env: &Env) {
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
}

/// The device ids (forget forms) on a `me` page.
fn device_ids(page: &Resp) -> Vec<String> {
    page.body
        .split("name=\"id\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// `me`: a pupil sees the devices they signed in from (this one marked, with its user agent),
/// forgets one (audited), and cannot forget another person's; a teacher removes one of their
/// own keys only after a fresh second factor.
#[tokio::test]
async fn the_me_page_lists_and_forgets_devices_and_removes_an_own_key_on_both_databases() {
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);
        remember_every_device(&env);
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

        // Two browsers of the same pupil, one of a classmate.
        let mut tablet = Browser::new(&node, "demo");
        assert_eq!(tablet.login("minami.s01", "demo1234").status, 303);
        let mut home_pc = Browser::new(&node, "demo");
        assert_eq!(home_pc.login("minami.s01", "demo1234").status, 303);
        let mut other = Browser::new(&node, "demo");
        assert_eq!(other.login("minami.s02", "demo1234").status, 303);

        let page = tablet.get("/t/demo/console/me");
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        let mine = device_ids(&page);
        assert_eq!(mine.len(), 2, "{label}: {}", page.body);
        assert!(
            page.body.contains("わたしの端末")
                && page.body.contains("kakehashi-portal-test")
                && page.body.matches("（この端末）").count() == 1,
            "{label}: {}",
            page.body
        );
        let theirs = device_ids(&other.get("/t/demo/console/me"));
        assert_eq!(theirs.len(), 1, "{label}");
        let csrf = csrf_of(&page);

        // A pupil cannot forget a classmate's device: it is not theirs (404), and stays.
        let r = tablet.post(
            "/t/demo/console/me/devices/forget",
            &[("csrf", &csrf), ("id", &theirs[0])],
        );
        assert_eq!(r.status, 404, "{label}: {}", r.body);
        assert_eq!(
            device_ids(&other.get("/t/demo/console/me")),
            theirs,
            "{label}"
        );
        // Without the CSRF token: refused.
        let r = tablet.post("/t/demo/console/me/devices/forget", &[("id", &mine[0])]);
        assert_eq!(r.status, 403, "{label}");

        // "Not my device": the home PC (not this one) is forgotten.
        let home_id = mine
            .iter()
            .find(|id| {
                !page
                    .body
                    .split(&format!("value=\"{id}\""))
                    .next()
                    .unwrap_or("")
                    .rsplit("<tr>")
                    .next()
                    .unwrap_or("")
                    .contains("（この端末）")
            })
            .expect("the other device")
            .clone();
        let r = tablet.post(
            "/t/demo/console/me/devices/forget",
            &[("csrf", &csrf), ("id", &home_id)],
        );
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let page = tablet.get(&location(&r));
        assert!(page.body.contains("端末を忘れました"), "{label}");
        let left = device_ids(&page);
        assert_eq!(left.len(), 1, "{label}");
        assert_ne!(left[0], home_id, "{label}");
        let mut admin = Browser::new(&node, "demo");
        assert_eq!(admin.login("minami.t03", TEACHER_PW).status, 303);
        let r = admin.get("/t/demo/console/audit?action=console.me.device.forget");
        assert!(
            r.body.contains(&home_id) && r.body.contains("user:demo/usr-minami-s01"),
            "{label}: {}",
            r.body
        );

        // A teacher's own key: listed; removing it needs a fresh second factor.
        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login("minami.t01", TEACHER_PW).status, 303);
        let codes = portal_support::make_backup_codes(&mut teacher);
        common::give_security_key(&env, "demo", "usr-minami-t01", "職員室の鍵").await;
        let page = teacher.get("/t/demo/console/me?lang=en");
        assert!(
            page.body.contains("職員室の鍵")
                && !page.body.contains("name=\"credential\"")
                && page.body.contains("first confirm with a second factor"),
            "{label}: {}",
            page.body
        );
        let csrf_t = csrf_of(&page);
        let key = "test-usr-minami-t01-15";
        let remove = |b: &mut Browser<'_>, csrf: &str, id: &str| {
            b.post(
                "/t/demo/console/me/factors/remove",
                &[("csrf", csrf), ("credential", id)],
            )
        };
        assert_eq!(
            remove(&mut teacher, &csrf_t, key).status,
            403,
            "{label}: not fresh"
        );
        let step_up =
            teacher.get("/t/demo/mfa/verify?lang=ja&return_to=%2Ft%2Fdemo%2Fconsole%2Fme");
        let r = portal_support::use_backup_code(&mut teacher, &step_up, &codes[0]);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        assert!(
            location(&r).contains("/t/demo/console/me"),
            "{}",
            location(&r)
        );
        let page = teacher.get("/t/demo/console/me");
        assert!(
            page.body
                .contains(&format!("name=\"credential\" value=\"{key}\"")),
            "{label}: {}",
            page.body
        );
        assert_eq!(
            remove(&mut teacher, &csrf_t, "test-usr-minami-t02-15").status,
            404,
            "{label}: not theirs"
        );
        let r = remove(&mut teacher, &csrf_t, key);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let page = teacher.get(&location(&r));
        assert!(
            page.body.contains("セキュリティキーを削除しました")
                && !page.body.contains("職員室の鍵"),
            "{label}: {}",
            page.body
        );
        let r = admin.get("/t/demo/console/audit?action=mfa.webauthn.remove");
        assert!(r.body.contains(key), "{label}");
    }
}

/// The operator overview: a tenant admin without the `platform-operator` grant is refused
/// (and has no menu entry); a person holding it sees every tenant's counts, last import and
/// audit chain, and nothing more within their own tenant. The grant is for people only.
#[tokio::test]
async fn the_operator_overview_is_for_the_operator_grant_only_on_both_databases() {
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B市教育委員会"])
            .ok();
        let grant = |user: &str, role: &str| {
            env.run(&[
                "admin",
                "grant",
                "--tenant",
                "demo",
                "--username",
                user,
                "--role",
                role,
            ])
        };
        grant("minami.t03", "tenant-admin").ok();
        grant("kita.t01", "platform-operator").ok();
        env.run(&[
            "admin",
            "grant",
            "--tenant",
            "demo",
            "--client",
            "whatever",
            "--role",
            "platform-operator",
        ])
        .code(1);

        let mut admin = Browser::new(&node, "demo");
        assert_eq!(admin.login("minami.t03", TEACHER_PW).status, 303);
        let r = admin.get("/t/demo/console/operator");
        assert_eq!(r.status, 403, "{label}: a tenant admin without the grant");
        assert!(
            !admin
                .get("/t/demo/console/")
                .body
                .contains("全テナントの概要"),
            "{label}"
        );

        let mut watcher = Browser::new(&node, "demo");
        assert_eq!(watcher.login("kita.t01", TEACHER_PW).status, 303);
        let home = watcher.get("/t/demo/console/");
        assert!(
            home.body
                .contains("/t/demo/console/operator\">全テナントの概要"),
            "{label}: {}",
            home.body
        );
        let r = watcher.get("/t/demo/console/operator");
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert!(
            r.body.contains("<code>city-b</code>")
                && r.body.contains("B市教育委員会")
                && r.body.contains("<code>demo</code>")
                && r.body.matches("正常").count() == 2
                && r.body.contains("まだありません"),
            "{label}: {}",
            r.body
        );
        assert!(!r.body.contains("class=\"pager\""), "{label}: one page");
        // Paged on the server by tenant id: the page after city-b holds demo only.
        let r = watcher.get("/t/demo/console/operator?after=city-b");
        assert_eq!(r.status, 200, "{label}");
        assert!(
            r.body.contains("<code>demo</code>") && !r.body.contains("<code>city-b</code>"),
            "{label}: {}",
            r.body
        );
        let r = watcher.get("/t/demo/console/operator?lang=en");
        assert!(r.body.contains("Audit chain") && r.body.contains("Intact"));
        assert_eq!(
            watcher.get("/t/demo/console/audit").status,
            403,
            "{label}: no reach within the tenant"
        );
        let r = admin.get("/t/demo/console/audit?action=console.operator.read");
        assert!(
            r.body.contains("user:demo/usr-kita-t01") && r.body.contains("tenant:demo"),
            "{label}: {}",
            r.body
        );
    }
}

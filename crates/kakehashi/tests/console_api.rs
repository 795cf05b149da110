//! The admin REST API (`/t/{tenant}/api/v1`, docs/CONSOLE.md), driving the real `kakehashi
//! serve` on SQLite and PostgreSQL: OAuth 2.0 client_credentials tokens with scope `admin`
//! (RFC 6749 4.4) from the tenant's own provider, only for clients with an admin grant;
//! Bearer errors (RFC 6750 3.1); the role boundaries of `console::authz` through HTTP; paging;
//! audited reads; roster import preview, validation report and apply; second factors, the MFA
//! policy, LTI tools and app changes; the OpenAPI document checked against the routes.

mod common;
mod lrs_support;
mod oidc_support;
mod portal_support;

use common::Env;
use lrs_support::{start, Client, Node, Resp};
use oidc_support::{post_form, register, Rp};
use serde_json::Value;

fn token(node: &Node, tenant: &str, rp: &Rp, scope: &str) -> (u16, Value) {
    let secret = rp.secret.clone().expect("confidential client");
    let (r, v) = post_form(
        &node.addr,
        tenant,
        "token",
        Some((&rp.client_id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    );
    (r.status, v)
}

fn admin_token(node: &Node, tenant: &str, rp: &Rp) -> String {
    let (status, v) = token(node, tenant, rp, "admin");
    assert_eq!(status, 200, "{v}");
    v["access_token"].as_str().expect("access_token").to_owned()
}

fn api(node: &Node, tenant: &str, token: Option<&str>) -> Client {
    Client {
        addr: node.addr.clone(),
        tenant: tenant.to_owned(),
        auth: token.map(|t| format!("Bearer {t}")),
        version: None,
    }
}

fn get(c: &Client, path: &str) -> Resp {
    c.get(&format!("/t/{}/api/v1/{path}", c.tenant))
}

fn post(c: &Client, path: &str, content_type: &str, body: &[u8]) -> Resp {
    c.send(
        "POST",
        &format!("/t/{}/api/v1/{path}", c.tenant),
        &[("Content-Type", content_type)],
        body,
    )
}

/// Every item of a paged list, following `next` (cursor parameter `cursor`).
fn all_pages(c: &Client, path: &str, cursor: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    for _ in 0..100 {
        let p = match &next {
            Some(n) => format!("{path}{sep}limit=7&{cursor}={}", lrs_support::enc(n)),
            None => format!("{path}{sep}limit=7"),
        };
        let r = get(c, &p);
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        let v = r.json();
        let page = v["items"].as_array().expect("items");
        assert!(page.len() <= 7);
        items.extend(page.iter().cloned());
        match v["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => return items,
        }
    }
    panic!("{path}: paging did not end");
}

fn usernames(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|p| p["username"].as_str().expect("username").to_owned())
        .collect()
}

fn grant(env: &Env, args: &[&str]) {
    let mut all = vec!["admin", "grant"];
    all.extend_from_slice(args);
    env.run(&all).ok();
}

/// The demo roster with one pupil renamed (an update) or one enrollment of nobody (invalid).
fn package(env: &Env, name: &str, change: fn(&mut kakehashi_oneroster::Roster)) -> Vec<u8> {
    let mut roster = kakehashi_oneroster::generate::small_demo();
    change(&mut roster);
    let path = env.path(name);
    kakehashi_oneroster::write_zip(&roster, &path).expect("write zip");
    std::fs::read(&path).expect("read zip")
}

fn set_field(rec: &mut kakehashi_oneroster::Record, name: &str, value: &str) {
    let f = rec
        .fields
        .iter_mut()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    f.1 = value.to_owned();
}

#[tokio::test]
async fn the_admin_api_enforces_roles_pages_and_audits_on_both_databases() {
    use kakehashi_oneroster::Entity;
    for env in Env::both().await {
        let label = env.label();
        let node = start_demo(&env);
        // A second tenant with the same roster (same ids, other people).
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B市"])
            .ok();
        let dir = common::demo_package(&env.path("pkg"));
        env.run(&[
            "oneroster",
            "import",
            "--tenant",
            "city-b",
            dir.to_str().unwrap(),
        ])
        .ok();

        let admin = register(&env, "demo", "教委の連携", "https://boe.example/cb", &[]);
        let school = register(&env, "demo", "みなみ小の連携", "https://m.example/cb", &[]);
        let plain = register(&env, "demo", "ドリル", "https://drill.example/cb", &[]);
        let b_admin = register(&env, "city-b", "B市の連携", "https://b.example/cb", &[]);

        // RFC 6749 3.3/5.2: `admin` is refused (invalid_scope) to a client without a grant.
        let (status, v) = token(&node, "demo", &admin, "admin");
        assert_eq!(
            (status, v["error"].as_str()),
            (400, Some("invalid_scope")),
            "{label}"
        );

        grant(
            &env,
            &[
                "--tenant",
                "demo",
                "--client",
                &admin.client_id,
                "--role",
                "tenant-admin",
            ],
        );
        grant(
            &env,
            &[
                "--tenant",
                "demo",
                "--client",
                &school.client_id,
                "--role",
                "school-admin",
                "--school",
                "sch-minami",
            ],
        );
        grant(
            &env,
            &[
                "--tenant",
                "city-b",
                "--client",
                &b_admin.client_id,
                "--role",
                "tenant-admin",
            ],
        );
        let listed = env
            .run(&["admin", "list", "--tenant", "demo", "--format", "json"])
            .ok();
        let listed: Value = serde_json::from_str(&listed.stdout).expect("grants JSON");
        assert_eq!(
            listed.as_array().map(Vec::len),
            Some(2),
            "{label}: {listed}"
        );
        // A grant for a school that is not in the roster is refused (exit 1).
        env.run(&[
            "admin",
            "grant",
            "--tenant",
            "demo",
            "--client",
            &plain.client_id,
            "--role",
            "school-admin",
            "--school",
            "sch-nowhere",
        ])
        .code(1);

        let t_admin = admin_token(&node, "demo", &admin);
        let t_school = admin_token(&node, "demo", &school);
        let t_b = admin_token(&node, "city-b", &b_admin);
        let (status, v) = token(&node, "demo", &plain, "roster");
        assert_eq!(status, 200, "{v}");
        let t_plain = v["access_token"].as_str().unwrap().to_owned();

        // RFC 6750 3.1: no token → 401 with the challenge; a token without `admin` → 403;
        // a token of another tenant is unknown here → 401. Errors are JSON.
        let r = get(&api(&node, "demo", None), "people");
        assert_eq!(r.status, 401, "{label}");
        assert!(r
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")));
        assert_eq!(r.json()["error"], "invalid_token");
        let r = get(&api(&node, "demo", Some(&t_plain)), "people");
        assert_eq!(
            (r.status, r.json()["error"].clone()),
            (403, Value::from("forbidden")),
            "{label}"
        );
        let r = get(&api(&node, "demo", Some(&t_b)), "people");
        assert_eq!(r.status, 401, "{label}: city-b's admin cannot reach demo");
        let r = get(&api(&node, "city-b", Some(&t_admin)), "people");
        assert_eq!(r.status, 401, "{label}: demo's admin cannot reach city-b");

        // Paging: every person exactly once, by username.
        let a = api(&node, "demo", Some(&t_admin));
        let everyone = usernames(&all_pages(&a, "people", "after"));
        assert_eq!(everyone.len(), 46, "{label}");
        let mut sorted = everyone.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, everyone, "{label}: ordered, no repeats");
        let r = get(&a, "people?limit=zero");
        assert_eq!(
            (r.status, r.json()["error"].clone()),
            (400, Value::from("invalid_request"))
        );

        // The school admin: みなみ小 only.
        let s = api(&node, "demo", Some(&t_school));
        let theirs = usernames(&all_pages(&s, "people", "after"));
        assert_eq!(theirs.len(), 23, "{label}");
        assert!(theirs.iter().all(|u| u.starts_with("minami.")), "{label}");
        assert_eq!(get(&s, "people/usr-kita-s01").status, 404, "{label}");
        assert_eq!(
            get(&s, "classes/cls-kita-5-1/pupils").status,
            404,
            "{label}"
        );
        assert_eq!(get(&s, "audit").status, 403, "{label}");
        assert_eq!(get(&s, "roster/imports").status, 403, "{label}");
        let r = get(&s, "classes/cls-minami-5-1/pupils");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(10));

        // A person's record, audited as a read by this client.
        let r = get(&a, "people/usr-minami-s01");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let rec = r.json();
        assert_eq!(rec["person"]["username"], "minami.s01");
        assert!(rec["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["class_title"] == "5年1組" && m["school_name"] == "デモ市立みなみ小学校"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        // Temporary password (the policy applies) and unlock.
        let r = post(
            &a,
            "people/usr-minami-s01/password",
            "application/json",
            br#"{"password":"ab"}"#,
        );
        assert_eq!(r.status, 400, "{label}: {}", r.text());
        let r = post(
            &a,
            "people/usr-minami-s01/password",
            "application/json",
            br#"{"password":"sakura22"}"#,
        );
        assert_eq!(r.status, 204, "{label}: {}", r.text());
        let r = post(&a, "people/usr-minami-s01/unlock", "application/json", b"");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(
            post(&s, "people/usr-kita-s01/unlock", "application/json", b"").status,
            404
        );

        // Who viewed or changed minami.s01: this client, three times.
        let who = all_pages(&a, "people/usr-minami-s01/audit", "before");
        let actions: Vec<(String, String)> = who
            .iter()
            .map(|e| {
                (
                    e["actor"].as_str().unwrap().to_owned(),
                    e["action"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let me = format!("client:{}", admin.client_id);
        for action in ["console.person.view", "user.password.set", "portal.unlock"] {
            assert!(
                actions.contains(&(me.clone(), action.to_owned())),
                "{label}: {action} in {actions:?}"
            );
        }
        // The audit log: filter, CSV, verify.
        let views = all_pages(&a, "audit?action=console.", "before");
        assert!(views
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("console.")));
        assert!(
            views.iter().any(|e| e["action"] == "console.people.search"),
            "{label}"
        );
        let r = get(&a, "audit/export.csv?action=console.person.view");
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/csv"));
        let csv = r.text();
        assert!(
            csv.starts_with("\u{FEFF}seq,at,actor,action,target,details,hash\r\n"),
            "{csv}"
        );
        assert!(csv.contains("user:usr-minami-s01"), "{csv}");
        let r = get(&a, "audit/verify");
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["first_break"], Value::Null, "{label}");

        // Roster import: preview (nothing written), a validation report, then apply.
        let renamed = package(&env, "renamed.zip", |r| {
            let users = r.tables.get_mut(&Entity::Users).unwrap();
            let u = users
                .iter_mut()
                .find(|u| u.sourced_id == "usr-minami-s03")
                .unwrap();
            set_field(u, "givenName", "改名");
        });
        let r = post(
            &a,
            "roster/imports?preview=true&name=renamed.zip",
            "application/zip",
            &renamed,
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let v = r.json();
        assert_eq!(v["dry_run"], true);
        assert_eq!(v["entities"]["users"]["updated"], 1, "{v}");
        assert_eq!(
            v["changes"]["users"]["updated"][0],
            serde_json::json!(["usr-minami-s03", "minami.s03"]),
            "{v}"
        );
        let r = get(&a, "people/usr-minami-s03");
        assert_ne!(
            r.json()["person"]["given_name"],
            "改名",
            "{label}: a preview writes nothing"
        );
        let broken = package(&env, "broken.zip", |r| {
            let enr = r.tables.get_mut(&Entity::Enrollments).unwrap();
            let mut bad = enr[0].clone();
            bad.sourced_id = "enr-bad".into();
            set_field(&mut bad, "userSourcedId", "usr-nobody");
            enr.push(bad);
        });
        let r = post(&a, "roster/imports", "application/zip", &broken);
        assert_eq!(r.status, 422, "{label}: {}", r.text());
        let v = r.json();
        assert_eq!(v["error"], "invalid_roster");
        let d = &v["report"]["diagnostics"][0];
        assert_eq!(d["file"], "enrollments.csv", "{v}");
        assert!(
            d["line"].as_u64().unwrap() > 1 && d["column"].as_u64().unwrap() > 0,
            "{v}"
        );
        assert_eq!(d["field"], "userSourcedId", "{v}");
        assert!(d["rule"].as_str().is_some_and(|r| !r.is_empty()) && d["message"].is_string());
        let r = post(
            &a,
            "roster/imports?name=renamed.zip",
            "application/zip",
            &renamed,
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(
            get(&a, "people/usr-minami-s03").json()["person"]["given_name"],
            "改名"
        );
        let history = all_pages(&a, "roster/imports", "before");
        assert_eq!(
            history.len(),
            2,
            "{label}: the demo seeding and this import: {history:?}"
        );
        assert_eq!(history[0]["actor"], Value::from(me.clone()));
        assert_eq!(history[0]["source"], "renamed.zip");

        // Apps, paged.
        let apps = all_pages(&a, "apps", "after");
        assert_eq!(
            apps.len(),
            4,
            "{label}: the demo RP and the three registered here: {apps:?}"
        );

        // Registering and removing apps with the command line's options.
        let r = post(
            &a,
            "apps",
            "application/json",
            r#"{"name":"API登録ドリル","protocol":"oidc","security_class":"learning",
                 "audience":"students","redirect_uris":["https://new.example/cb"],
                 "release":["kana"],"token_format":"jwt",
                 "backchannel_logout_uri":"https://new.example/backchannel-logout"}"#
                .as_bytes(),
        );
        assert_eq!(r.status, 201, "{label}: {}", r.text());
        let reg = r.json();
        assert!(
            reg["client_secret"].is_string() && reg["oidc"]["access_token_format"] == "jwt",
            "{reg}"
        );
        assert_eq!(
            reg["oidc"]["backchannel_logout_uri"], "https://new.example/backchannel-logout",
            "{reg}"
        );
        // Back-Channel Logout 1.0 section 2.2 and our rule: https, or http on this machine.
        let r = post(
            &a,
            "apps",
            "application/json",
            br#"{"name":"x","protocol":"oidc","security_class":"learning",
                 "redirect_uris":["https://x.example/cb"],
                 "backchannel_logout_uri":"http://x.example/logout"}"#,
        );
        assert_eq!(r.status, 400, "{label}: {}", r.text());
        assert!(r.text().contains("back-channel logout URI"), "{}", r.text());
        let new_id = reg["id"].as_str().unwrap().to_owned();
        let r = post(
            &a,
            "apps",
            "application/json",
            r#"{"name":"校務SP","protocol":"saml","security_class":"school-affairs",
                 "saml_acs_url":"https://koumu.example/acs","saml_entity_id":"https://koumu.example/sp"}"#
                .as_bytes(),
        );
        assert_eq!(r.status, 201, "{label}: {}", r.text());
        assert!(r.json()["idp_metadata_url"].is_string());
        let r = post(
            &a,
            "apps",
            "application/json",
            br#"{"name":"x","protocol":"ftp","security_class":"learning"}"#,
        );
        assert_eq!(
            (r.status, r.json()["error"].clone()),
            (400, Value::from("invalid_request"))
        );
        let r = post(
            &a,
            "apps",
            "application/json",
            br#"{"name":"x","protocol":"oidc","security_class":"learning","colour":"red"}"#,
        );
        assert_eq!(r.status, 400, "{label}: unknown fields are refused");
        let r = post(
            &s,
            "apps",
            "application/json",
            br#"{"name":"x","protocol":"oidc","security_class":"learning"}"#,
        );
        assert_eq!(r.status, 403);
        let del = |c: &Client, id: &str| {
            c.send(
                "DELETE",
                &format!("/t/{}/api/v1/apps/{id}", c.tenant),
                &[],
                b"",
            )
        };
        assert_eq!(del(&s, &new_id).status, 403);
        assert_eq!(del(&a, &new_id).status, 204, "{label}");
        assert_eq!(del(&a, &new_id).status, 404, "{label}");

        // QR sign-in cards through the API: a class's cards, reissue, revoke; a staff member
        // gets none; the school admin cannot reach another school's class.
        let r = post(&a, "classes/cls-minami-5-2/cards", "application/json", b"");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let issued = r.json();
        assert_eq!(issued["items"].as_array().map(Vec::len), Some(10));
        let url = issued["items"][0]["url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with(&format!("{}/t/demo/card/", node.url)),
            "{url}"
        );
        assert_eq!(
            post(&s, "classes/cls-kita-5-2/cards", "application/json", b"").status,
            404
        );
        let r = post(&a, "people/usr-minami-t01/card", "application/json", b"");
        assert_eq!(r.status, 400, "{label}: cards are for pupils only");
        let pupil_id = issued["items"][0]["person"]["sourced_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = post(
            &a,
            &format!("people/{pupil_id}/card"),
            "application/json",
            b"",
        );
        assert_eq!(r.status, 200);
        assert_ne!(r.json()["url"], Value::from(url.clone()));
        let r = post(
            &a,
            &format!("people/{pupil_id}/card/revoke"),
            "application/json",
            b"",
        );
        assert_eq!(r.json()["revoked"], true);

        // The security policy: defaults (docs/PORTAL.md), bounds, audited change.
        let r = get(&a, "security-policy");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let mut policy = r.json();
        assert_eq!(policy["staff_idle_secs"], 1800);
        assert_eq!(policy["pupil_lockout_threshold"], 10);
        policy["pupil_lockout_threshold"] = Value::from(2);
        let put = |c: &Client, v: &Value| {
            c.send(
                "PUT",
                &format!("/t/{}/api/v1/security-policy", c.tenant),
                &[("Content-Type", "application/json")],
                v.to_string().as_bytes(),
            )
        };
        let r = put(&a, &policy);
        assert_eq!(
            (r.status, r.json()["error"].clone()),
            (400, Value::from("invalid_request"))
        );
        policy["pupil_lockout_threshold"] = Value::from(5);
        policy["pupil_idle_secs"] = Value::from(2700);
        assert_eq!(
            put(&s, &policy).status,
            403,
            "{label}: a school admin may not"
        );
        let r = put(&a, &policy);
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(get(&a, "security-policy").json()["pupil_idle_secs"], 2700);
        let changes = all_pages(&a, "audit?action=console.security.set", "before");
        assert_eq!(changes.len(), 1, "{label}");
        assert!(changes[0]["details"]
            .as_str()
            .unwrap()
            .contains("\"before\""));

        // Taking the grant away stops live tokens at once.
        env.run(&[
            "admin",
            "revoke",
            "--tenant",
            "demo",
            "--client",
            &admin.client_id,
            "--role",
            "tenant-admin",
        ])
        .ok();
        assert_eq!(get(&a, "people").status, 403, "{label}");
        let (status, _) = token(&node, "demo", &admin, "admin");
        assert_eq!(status, 400, "{label}");
    }
}

/// Second factors, the MFA policy, LTI tools and app changes through the API on SQLite and
/// PostgreSQL: what a tenant admin may do, what a school admin may not, errors naming the
/// field, the command line seeing the same state, audited.
#[tokio::test]
async fn the_admin_api_manages_factors_policy_lti_tools_and_app_changes_on_both_databases() {
    for env in Env::both().await {
        let label = env.label();
        let node = start_demo(&env);
        let admin = register(&env, "demo", "教委の連携", "https://boe.example/cb", &[]);
        let school = register(&env, "demo", "みなみ小の連携", "https://m.example/cb", &[]);
        grant(
            &env,
            &[
                "--tenant",
                "demo",
                "--client",
                &admin.client_id,
                "--role",
                "tenant-admin",
            ],
        );
        grant(
            &env,
            &[
                "--tenant",
                "demo",
                "--client",
                &school.client_id,
                "--role",
                "school-admin",
                "--school",
                "sch-minami",
            ],
        );
        let a = api(&node, "demo", Some(&admin_token(&node, "demo", &admin)));
        let s = api(&node, "demo", Some(&admin_token(&node, "demo", &school)));
        let me = format!("client:{}", admin.client_id);

        // Second factors: a teacher's key and backup codes, listed and reset (with a reason)
        // by the tenant admin; a school admin reaches the people of their school who hold no
        // admin grant, nobody of another school.
        let mut teacher = portal_support::Browser::new(&node, "demo");
        assert_eq!(teacher.login("minami.t01", "demo-teacher-2026").status, 303);
        let page = teacher.get("/t/demo/mfa");
        let csrf = page.hidden("csrf").expect("csrf");
        let r = teacher.post("/t/demo/mfa/backup-codes", &[("csrf", &csrf)]);
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        // (After the codes: adding a factor once one exists needs a fresh second factor.)
        common::give_security_key(&env, "demo", "usr-minami-t01", "職員室の鍵").await;
        let r = get(&a, "people/usr-minami-t01/factors");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let f = r.json();
        assert_eq!(f["credentials"][0]["name"], "職員室の鍵", "{f}");
        assert_eq!(f["credentials"][0]["kind"], "security-key");
        assert_eq!(
            f["credentials"][0]["lastUsedAt"],
            "2026-04-02T09:30:00.000Z"
        );
        assert_eq!(f["backupCodesLeft"], 10, "{f}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(
            get(&s, "people/usr-minami-t01/factors").status,
            200,
            "{label}"
        );
        assert_eq!(
            get(&s, "people/usr-kita-t01/factors").status,
            404,
            "{label}"
        );
        grant(
            &env,
            &[
                "--tenant",
                "demo",
                "--username",
                "minami.t02",
                "--role",
                "school-admin",
                "--school",
                "sch-minami",
            ],
        );
        assert_eq!(
            get(&s, "people/usr-minami-t02/factors").status,
            403,
            "{label}: another admin's factors are not a school admin's to see"
        );
        // The operator overview is a console page for people with the platform-operator
        // grant: there is no API route for it, whatever the client's role.
        assert_eq!(get(&a, "operator").status, 404, "{label}");

        // One key of a person (the spare one is lost): same rule as the reset, with a reason
        // as a query parameter; a school admin reaches nobody of another school.
        common::give_security_key(&env, "demo", "usr-minami-t01", "予備の鍵").await;
        common::give_security_key(&env, "demo", "usr-kita-t01", "北小の鍵").await;
        let remove = |c: &Client, id: &str, key: &str, reason: &str| {
            c.send(
                "DELETE",
                &format!(
                    "/t/demo/api/v1/people/{id}/factors/{key}?reason={}",
                    portal_support::enc(reason)
                ),
                &[],
                b"",
            )
        };
        assert_eq!(
            remove(&s, "usr-kita-t01", "test-usr-kita-t01-12", "紛失").status,
            404,
            "{label}: a school admin cannot remove a key outside their schools"
        );
        assert_eq!(
            remove(&s, "usr-minami-t02", "x", "紛失").status,
            403,
            "{label}: nor another admin's"
        );
        assert_eq!(
            remove(&a, "usr-minami-t01", "test-usr-minami-t01-12", " ").status,
            400,
            "{label}: a reason is required"
        );
        assert_eq!(
            remove(&a, "usr-minami-t01", "test-usr-kita-t01-12", "紛失").status,
            404,
            "{label}: not this person's key"
        );
        let r = remove(
            &s,
            "usr-minami-t01",
            "test-usr-minami-t01-12",
            "予備の鍵を紛失",
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert!(r.json()["sessionsDowngraded"].is_u64(), "{}", r.text());
        let f = get(&a, "people/usr-minami-t01/factors").json();
        assert_eq!(f["credentials"].as_array().map(Vec::len), Some(1), "{f}");
        assert_eq!(f["credentials"][0]["name"], "職員室の鍵", "{f}");
        assert_eq!(f["backupCodesLeft"], 10, "{label}: the other factors stay");
        let f = get(&a, "people/usr-kita-t01/factors").json();
        assert_eq!(f["credentials"].as_array().map(Vec::len), Some(1), "{f}");
        let about = all_pages(&a, "people/usr-minami-t01/audit", "before");
        let row = about
            .iter()
            .find(|e| e["action"] == "mfa.webauthn.remove")
            .unwrap_or_else(|| panic!("{label}: no mfa.webauthn.remove in {about:?}"));
        assert_eq!(
            row["actor"],
            Value::from(format!("client:{}", school.client_id))
        );
        assert!(row["details"].as_str().unwrap().contains("予備の鍵を紛失"));

        let reset = |c: &Client, id: &str, body: &[u8]| {
            post(
                c,
                &format!("people/{id}/factors/reset"),
                "application/json",
                body,
            )
        };
        assert_eq!(
            reset(&a, "usr-minami-t01", br#"{"reason":"  "}"#).status,
            400
        );
        assert_eq!(reset(&a, "usr-minami-t01", b"reason=lost").status, 400);
        assert_eq!(
            reset(&s, "usr-kita-t01", br#"{"reason":"x"}"#).status,
            404,
            "{label}"
        );
        assert_eq!(
            reset(&s, "usr-minami-t02", br#"{"reason":"x"}"#).status,
            403,
            "{label}"
        );
        let r = reset(
            &a,
            "usr-minami-t01",
            "{\"reason\":\"鍵を紛失（4月8日 電話で本人確認）\"}".as_bytes(),
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let done = r.json();
        assert_eq!(
            (
                done["credentialsRemoved"].clone(),
                done["backupCodesRemoved"].clone()
            ),
            (Value::from(1), Value::from(10)),
            "{done}"
        );
        let f = get(&a, "people/usr-minami-t01/factors").json();
        assert_eq!(
            (
                f["credentials"].as_array().map(Vec::len),
                f["backupCodesLeft"].clone()
            ),
            (Some(0), Value::from(0)),
            "{label}: {f}"
        );
        let about = all_pages(&a, "people/usr-minami-t01/audit", "before");
        let reset_row = about
            .iter()
            .find(|e| e["action"] == "mfa.reset")
            .unwrap_or_else(|| panic!("{label}: no mfa.reset in {about:?}"));
        assert_eq!(
            reset_row["actor"],
            Value::from(format!("client:{}", admin.client_id))
        );
        assert!(reset_row["details"].as_str().unwrap().contains("鍵を紛失"));
        assert!(about
            .iter()
            .any(|e| e["action"] == "console.person.factors"));

        // The MFA policy (docs/MFA.md): the JSON of `tenant security show`, replaced whole,
        // errors naming the field, the command line's rules, audited with before and after.
        let r = get(&a, "security-policy/mfa");
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let mut mfa = r.json();
        assert_eq!(mfa["second-factor-max-age-secs"], 28800, "{mfa}");
        assert_eq!(mfa["totp-enabled"], false);
        let put_mfa = |c: &Client, v: &Value| {
            c.send(
                "PUT",
                &format!("/t/{}/api/v1/security-policy/mfa", c.tenant),
                &[("Content-Type", "application/json")],
                v.to_string().as_bytes(),
            )
        };
        let refused = |r: Resp| -> String {
            assert_eq!(r.status, 400, "{}", r.text());
            assert_eq!(r.json()["error"], "invalid_request");
            r.json()["message"].as_str().unwrap().to_owned()
        };
        let mut bad = mfa.clone();
        bad["risk"]["mode"] = Value::from("sometimes");
        let m = refused(put_mfa(&a, &bad));
        assert!(m.starts_with("risk.mode: "), "{label}: {m}");
        let mut bad = mfa.clone();
        bad["school-networks"] = serde_json::json!(["10.20.0.0/33"]);
        let m = refused(put_mfa(&a, &bad));
        assert!(
            m.starts_with("school-networks: ") && m.contains("10.20.0.0/33"),
            "{m}"
        );
        let mut bad = mfa.clone();
        bad.as_object_mut().unwrap().remove("totp-enabled");
        assert!(refused(put_mfa(&a, &bad)).contains("missing field totp-enabled"));
        let mut bad = mfa.clone();
        bad["shared-device"]["colour"] = Value::from("red");
        assert_eq!(
            refused(put_mfa(&a, &bad)),
            "unknown field shared-device.colour"
        );
        // The command line's rules: an off-site window needs school networks.
        let mut bad = mfa.clone();
        bad["offsite-max-age-secs"] = Value::from(900);
        assert!(
            refused(put_mfa(&a, &bad)).contains("offsite-max-age"),
            "{label}"
        );
        mfa["school-networks"] = serde_json::json!(["10.20.0.0/16", "2001:db8::/32"]);
        mfa["offsite-max-age-secs"] = Value::from(900);
        mfa["totp-enabled"] = Value::from(true);
        mfa["aaguid-allow-list"] = serde_json::json!(["cb69481e-8ff7-4039-93ec-0a2729a154a8"]);
        mfa["user-verification-school-affairs"] = Value::from("required");
        mfa["risk"]["mode"] = Value::from("step-up");
        mfa["risk"]["step-up-threshold"] = Value::from(40);
        mfa["shared-device"]["enabled"] = Value::from(true);
        mfa["shared-device"]["period-ends"] = serde_json::json!(["10:35", "11:25"]);
        assert_eq!(
            put_mfa(&s, &mfa).status,
            403,
            "{label}: a school admin may not"
        );
        assert_eq!(get(&s, "security-policy/mfa").status, 403, "{label}");
        let r = put_mfa(&a, &mfa);
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(get(&a, "security-policy/mfa").json(), mfa, "{label}");
        // The command line reads the same policy.
        let shown = env
            .run(&[
                "tenant", "security", "show", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let shown: Value = serde_json::from_str(&shown.stdout).expect("policy JSON");
        assert_eq!(shown, mfa, "{label}");
        let changes = all_pages(&a, "audit?action=tenant.security.set", "before");
        assert_eq!(changes.len(), 1, "{label}");
        assert_eq!(changes[0]["actor"], Value::from(me.clone()));
        let details: Value = serde_json::from_str(changes[0]["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["before"]["totp-enabled"], false, "{details}");
        assert_eq!(details["after"]["totp-enabled"], true, "{details}");

        // LTI 1.3 tools: registered with `lti tool add`'s options (a JWKS URL or a PEM key),
        // the answer names what the tool configures; listed, removed; tenant admins only.
        let post_json = |c: &Client, path: &str, v: &Value| {
            post(c, path, "application/json", v.to_string().as_bytes())
        };
        let drill = serde_json::json!({
            "name": "デジタルドリル", "login_url": "https://tool.example/login",
            "launch_url": "https://tool.example/launch", "jwks_url": "https://tool.example/jwks",
            "deep_linking_url": "https://tool.example/dl", "redirect_uris": ["https://tool.example/cb2"],
            "audience": "students", "send_name": true, "custom": {"unit": "5"},
            "schools": ["sch-minami"]
        });
        let r = post_json(&a, "lti/tools", &drill);
        assert_eq!(r.status, 201, "{label}: {}", r.text());
        let reg = r.json();
        let tool_id = reg["client_id"].as_str().unwrap().to_owned();
        assert_eq!(
            reg["issuer"],
            Value::from(format!("{}/t/demo", node.url)),
            "{reg}"
        );
        assert_eq!(
            reg["deployments"][0]["school_sourced_id"], "sch-minami",
            "{reg}"
        );
        assert!(reg["deployment_id"].is_string() && reg["token_endpoint"].is_string());
        assert!(reg["authorization_endpoint"].is_string() && reg["jwks_uri"].is_string());
        let refused_because = |v: Value| -> String {
            let r = post_json(&a, "lti/tools", &v);
            assert_eq!(r.status, 400, "{label}: {}", r.text());
            r.json()["message"].as_str().unwrap().to_owned()
        };
        let mut bad = drill.clone();
        bad.as_object_mut().unwrap().remove("jwks_url");
        let m = refused_because(bad);
        assert!(
            m.contains("jwks_url") && m.contains("public_key_pem"),
            "{m}"
        );
        let mut bad = drill.clone();
        bad["login_url"] = Value::from("http://tool.example/login");
        assert!(refused_because(bad).starts_with("login_url "), "{label}");
        let mut bad = drill.clone();
        bad["schools"] = serde_json::json!(["sch-nowhere"]);
        assert!(refused_because(bad).starts_with("schools: "), "{label}");
        let mut bad = drill.clone();
        bad["colour"] = Value::from("red");
        assert!(refused_because(bad).contains("colour"), "{label}");
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pem = String::from_utf8(rsa.public_key_to_pem().unwrap()).unwrap();
        let r = post_json(
            &a,
            "lti/tools",
            &serde_json::json!({"name": "鍵で登録", "login_url": "https://k.example/login",
                                "launch_url": "https://k.example/launch", "public_key_pem": pem}),
        );
        assert_eq!(r.status, 201, "{label}: {}", r.text());
        let pem_tool = r.json()["client_id"].as_str().unwrap().to_owned();
        assert_eq!(get(&s, "lti/tools").status, 403, "{label}: school admin");
        assert_eq!(post_json(&s, "lti/tools", &drill).status, 403, "{label}");
        let tools = all_pages(&a, "lti/tools", "after");
        assert_eq!(tools.len(), 2, "{label}: {tools:?}");
        let listed = tools
            .iter()
            .find(|t| t["client_id"] == tool_id.as_str())
            .unwrap();
        assert_eq!(listed["deep_linking_url"], "https://tool.example/dl");
        assert_eq!(
            listed["redirect_uris"],
            serde_json::json!([
                "https://tool.example/launch",
                "https://tool.example/dl",
                "https://tool.example/cb2"
            ])
        );
        let cli = env
            .run(&[
                "lti", "tool", "list", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let cli: Value = serde_json::from_str(&cli.stdout).expect("tools JSON");
        assert_eq!(cli.as_array().map(Vec::len), Some(2), "{label}: {cli}");
        let del_tool = |c: &Client, id: &str| {
            c.send(
                "DELETE",
                &format!("/t/{}/api/v1/lti/tools/{id}", c.tenant),
                &[],
                b"",
            )
        };
        assert_eq!(del_tool(&s, &pem_tool).status, 403, "{label}");
        assert_eq!(del_tool(&a, &pem_tool).status, 204, "{label}");
        assert_eq!(del_tool(&a, &pem_tool).status, 404, "{label}");
        assert_eq!(all_pages(&a, "lti/tools", "after").len(), 1);
        let created = all_pages(&a, "audit?action=lti.tool.", "before");
        assert_eq!(
            created.len(),
            3,
            "{label}: two created, one removed: {created:?}"
        );
        assert!(created.iter().all(|e| e["actor"] == me.as_str()));

        // Changing a tool (PATCH lti/tools/{id}, as `lti tool set`): what is given changes,
        // the rest is kept; the registration's rules, the field named; audited with before
        // and after; tenant admins only.
        let patch_tool = |c: &Client, id: &str, body: &str| {
            c.send(
                "PATCH",
                &format!("/t/{}/api/v1/lti/tools/{id}", c.tenant),
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
        };
        let r = get(&a, &format!("lti/tools/{tool_id}"));
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(r.json()["name"], "デジタルドリル");
        assert_eq!(get(&s, &format!("lti/tools/{tool_id}")).status, 403);
        assert_eq!(get(&a, "lti/tools/no-such-tool").status, 404);
        let refused = |body: &str| -> String {
            let r = patch_tool(&a, &tool_id, body);
            assert_eq!(r.status, 400, "{label}: {body}: {}", r.text());
            r.json()["message"].as_str().unwrap().to_owned()
        };
        assert!(
            refused(r#"{"launch_url":"http://tool.example/launch"}"#).starts_with("launch_url ")
        );
        assert!(refused(r#"{"redirect_uris":["tool.example/cb"]}"#).starts_with("redirect_uris "));
        assert!(refused(r#"{"audience":"parents"}"#).starts_with("audience: "));
        let both =
            serde_json::json!({"jwks_url": "https://tool.example/jwks2", "public_key_pem": pem});
        let m = refused(&both.to_string());
        assert!(
            m.contains("jwks_url") && m.contains("public_key_pem"),
            "{m}"
        );
        assert!(
            refused(r#"{"schools":["sch-kita"]}"#).contains("schools"),
            "{label}"
        );
        assert!(
            refused(r#"{"name":""}"#).starts_with("name must not be empty"),
            "{label}"
        );
        assert_eq!(
            patch_tool(&a, "no-such-tool", r#"{"name":"x"}"#).status,
            404
        );
        assert_eq!(
            patch_tool(&s, &tool_id, r#"{"name":"x"}"#).status,
            403,
            "{label}: a school admin may not"
        );
        let r = patch_tool(
            &a,
            &tool_id,
            r#"{"name":"ドリル改","audience":"teachers","send_name":false,"send_email":true,
                "deep_linking_url":"","redirect_uris":["https://tool.example/cb3"],
                "custom":{"unit":"6","lang":"ja"},"subject":"user-master-identifier"}"#,
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let t = r.json();
        assert_eq!(t["name"], "ドリル改", "{t}");
        assert_eq!(t["audience"], "teachers");
        assert_eq!(t["subject_type"], "user-master-identifier");
        assert_eq!(
            (t["send_name"].clone(), t["send_email"].clone()),
            (Value::from(false), Value::from(true))
        );
        assert_eq!(t["deep_linking_url"], Value::Null);
        assert_eq!(t["jwks_url"], "https://tool.example/jwks", "kept");
        assert_eq!(t["login_url"], "https://tool.example/login", "kept");
        assert_eq!(
            t["redirect_uris"],
            serde_json::json!(["https://tool.example/launch", "https://tool.example/cb3"])
        );
        assert_eq!(t["custom"], r#"{"lang":"ja","unit":"6"}"#);
        assert_eq!(
            t["deployments"][0]["school_sourced_id"], "sch-minami",
            "kept"
        );
        let updates = all_pages(
            &a,
            &format!("audit?action=lti.tool.update&target=app%3A{tool_id}"),
            "before",
        );
        assert_eq!(updates.len(), 1, "{label}: refusals write nothing");
        assert_eq!(updates[0]["actor"], Value::from(me.clone()));
        let details: Value = serde_json::from_str(updates[0]["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["before"]["name"], "デジタルドリル", "{details}");
        assert_eq!(details["before"]["sendName"], true);
        assert_eq!(details["after"]["sendEmail"], true);
        assert_eq!(
            details["before"]["deepLinkingUrl"],
            "https://tool.example/dl"
        );

        // Dynamic Registration started through the API (as `lti tool register`).
        let r = post_json(
            &a,
            "lti/registrations",
            &serde_json::json!({"registration_url": "https://tool.example/register"}),
        );
        assert_eq!(r.status, 201, "{label}: {}", r.text());
        let started = r.json();
        let url = started["url"].as_str().unwrap();
        assert!(
            url.starts_with("https://tool.example/register?openid_configuration=")
                && url.contains("&registration_token="),
            "{started}"
        );
        assert_eq!(started["expiresIn"], 3600);
        let r = post_json(
            &a,
            "lti/registrations",
            &serde_json::json!({"registration_url": "ftp://tool.example/register"}),
        );
        assert_eq!(r.status, 400, "{label}");
        assert!(r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("registration_url"));
        assert_eq!(
            post_json(
                &s,
                "lti/registrations",
                &serde_json::json!({"registration_url": "https://tool.example/register"})
            )
            .status,
            403
        );
        assert_eq!(
            all_pages(&a, "audit?action=lti.registration.start", "before").len(),
            1,
            "{label}"
        );

        // Changing an app (PATCH apps/{id}, as `app set`): audience, security class, redirect
        // URIs and released claims; the registration's rules hold; the OpenID Provider
        // follows; audited with before and after.
        let r = post(
            &a,
            "apps",
            "application/json",
            r#"{"name":"編集するアプリ","protocol":"oidc","security_class":"learning",
                 "audience":"students","redirect_uris":["https://e.example/cb"],"release":["kana"]}"#
                .as_bytes(),
        );
        assert_eq!(r.status, 201, "{label}: {}", r.text());
        let app_id = r.json()["id"].as_str().unwrap().to_owned();
        let patch = |c: &Client, id: &str, body: &str| {
            c.send(
                "PATCH",
                &format!("/t/{}/api/v1/apps/{id}", c.tenant),
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
        };
        let authorize = |redirect: &str| {
            api(&node, "demo", None).get(&format!(
                "/t/demo/authorize?response_type=code&scope=openid&client_id={app_id}&redirect_uri={}&state=s&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
                lrs_support::enc(redirect)
            ))
        };
        // Used once before the change, so the provider holds the client in its cache.
        assert_eq!(authorize("https://e.example/cb").status, 303, "{label}");
        let r = patch(&a, &app_id, r#"{"security_class":"school-affairs"}"#);
        assert_eq!(r.status, 400, "{label}: {}", r.text());
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .starts_with("audience: "),
            "{}",
            r.text()
        );
        let r = patch(&a, &app_id, r#"{"redirect_uris":["http://e.example/cb"]}"#);
        assert_eq!(r.status, 400);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .starts_with("redirect_uris: "),
            "{}",
            r.text()
        );
        let r = patch(&a, &app_id, r#"{"release":["shoe_size"]}"#);
        assert!(
            r.status == 400
                && r.json()["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("release: ")
        );
        assert_eq!(patch(&a, &app_id, r#"{"colour":"red"}"#).status, 400);
        assert_eq!(
            patch(&a, "no-such-app", r#"{"audience":"all"}"#).status,
            404
        );
        assert_eq!(
            patch(&s, &app_id, r#"{"audience":"all"}"#).status,
            403,
            "{label}: a school admin may not"
        );
        let r = patch(
            &a,
            &app_id,
            r#"{"security_class":"school-affairs","audience":"teachers",
                "redirect_uris":["https://e.example/cb2","https://e.example/cb3"],
                "release":["name","roster"]}"#,
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let app = r.json();
        assert_eq!(app["security_class"], "school-affairs", "{app}");
        assert_eq!(app["audience"], "teachers");
        assert_eq!(
            app["redirect_uris"],
            serde_json::json!(["https://e.example/cb2", "https://e.example/cb3"])
        );
        assert_eq!(
            app["oidc"]["release_claims"],
            serde_json::json!(["name", "roster"])
        );
        // The OpenID Provider follows at once (this node's 5 s client cache is dropped): the
        // old redirect URI is no longer trusted.
        assert_eq!(authorize("https://e.example/cb").status, 400, "{label}");
        assert_eq!(authorize("https://e.example/cb2").status, 303, "{label}");
        let changes = all_pages(
            &a,
            &format!("audit?action=app.update&target=app%3A{app_id}"),
            "before",
        );
        assert_eq!(changes.len(), 1, "{label}");
        let details: Value = serde_json::from_str(changes[0]["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["before"]["audience"], "students", "{details}");
        assert_eq!(
            details["after"]["release"],
            serde_json::json!(["name", "roster"])
        );
        // The command line: `app set`, the same rules.
        let set = env
            .run(&[
                "app",
                "set",
                "--tenant",
                "demo",
                "--id",
                &app_id,
                "--audience",
                "staff",
                "--release",
                "none",
                "--format",
                "json",
            ])
            .ok();
        let set: Value = serde_json::from_str(&set.stdout).expect("app JSON");
        assert_eq!(set["audience"], "staff", "{set}");
        assert_eq!(set["oidc"]["release_claims"], serde_json::json!([]));
        env.run(&[
            "app",
            "set",
            "--tenant",
            "demo",
            "--id",
            &app_id,
            "--audience",
            "students",
        ])
        .code(1);
    }
}

/// `PATCH apps/{id}` and `app set` with the rest of `app add`'s changeable options: name,
/// icon, OIDC token authentication (a switch to private_key_jwt forgets the secret), token
/// format, ID token algorithm, post-logout redirect URIs, launch URL, xAPI scopes; a SAML SP's
/// ACS URL, entity id, metadata, signing, NameID and attributes. Each refusal names its field
/// and writes nothing; the change is audited with before and after.
#[tokio::test]
async fn every_changeable_app_setting_is_changed_through_the_api_on_both_databases() {
    use base64::Engine;
    for env in Env::both().await {
        let label = env.label();
        let node = start_demo(&env);
        let admin = register(&env, "demo", "教委の連携", "https://boe.example/cb", &[]);
        grant(
            &env,
            &[
                "--tenant",
                "demo",
                "--client",
                &admin.client_id,
                "--role",
                "tenant-admin",
            ],
        );
        let a = api(&node, "demo", Some(&admin_token(&node, "demo", &admin)));
        let patch = |id: &str, body: Value| {
            a.send(
                "PATCH",
                &format!("/t/demo/api/v1/apps/{id}"),
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            )
        };
        let refused = |id: &str, body: Value, field: &str| {
            let r = patch(id, body.clone());
            assert_eq!(r.status, 400, "{label}: {body}: {}", r.text());
            let m = r.json()["message"].as_str().unwrap().to_owned();
            assert!(m.starts_with(&format!("{field}: ")), "{label}: {body}: {m}");
        };

        // OIDC: a confidential client that takes xAPI client_credentials tokens.
        let rp = register(
            &env,
            "demo",
            "学習記録アプリ",
            "https://x.example/cb",
            &["--xapi-scopes", "statements/write"],
        );
        let id = rp.client_id.clone();
        assert_eq!(
            token(&node, "demo", &rp, "statements/write").0,
            200,
            "{label}"
        );
        for (body, field) in [
            (serde_json::json!({"name": " "}), "name"),
            (
                serde_json::json!({"token_format": "paseto"}),
                "token_format",
            ),
            (serde_json::json!({"id_token_alg": "HS256"}), "id_token_alg"),
            (
                serde_json::json!({"launch_url": "http://x.example/"}),
                "launch_url",
            ),
            (
                serde_json::json!({"post_logout_redirect_uris": ["x.example/bye"]}),
                "post_logout_redirect_uris",
            ),
            (
                serde_json::json!({"xapi_scopes": ["statements/everything"]}),
                "xapi_scopes",
            ),
            (
                serde_json::json!({"token_auth_method": "none"}),
                "token_auth_method",
            ),
            (
                serde_json::json!({"token_auth_method": "private_key_jwt"}),
                "jwks",
            ),
            (serde_json::json!({"jwks": {"keys": []}}), "jwks"),
            (
                serde_json::json!({"icon_base64": "not base64!"}),
                "icon_base64",
            ),
            (
                serde_json::json!({"icon_base64": base64::engine::general_purpose::STANDARD.encode(b"<svg/>")}),
                "icon",
            ),
            (serde_json::json!({"saml_sign": "both"}), "saml_sign"),
            (
                serde_json::json!({"saml_acs_url": "https://x.example/acs"}),
                "saml_metadata",
            ),
        ] {
            refused(&id, body, field);
        }
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"rest of a tiny image"].concat();
        let r = patch(
            &id,
            serde_json::json!({
                "name": "学習記録アプリ（新）", "token_format": "jwt", "id_token_alg": "ES256",
                "launch_url": "https://x.example/start",
                "post_logout_redirect_uris": ["https://x.example/bye"],
                "xapi_scopes": ["statements/write", "state"],
                "token_auth_method": "client_secret_post",
                "icon_base64": base64::engine::general_purpose::STANDARD.encode(&png),
            }),
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let app = r.json();
        assert_eq!(app["name"], "学習記録アプリ（新）", "{app}");
        assert_eq!(app["icon_type"], "image/png");
        let o = &app["oidc"];
        assert_eq!(o["access_token_format"], "jwt", "{o}");
        assert_eq!(o["id_token_alg"], "ES256");
        assert_eq!(o["launch_url"], "https://x.example/start");
        assert_eq!(
            o["post_logout_redirect_uris"],
            serde_json::json!(["https://x.example/bye"])
        );
        assert_eq!(
            o["xapi_scopes"],
            serde_json::json!(["statements/write", "state"])
        );
        assert_eq!(o["token_auth_method"], "client_secret_post");
        assert_eq!(o["release_claims"], serde_json::json!([]), "kept");
        // Switching to private_key_jwt: the client's keys; the secret stops working at once,
        // and a client without a secret cannot switch back.
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwks = serde_json::json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
            "n": b64(rsa.n().to_vec()), "e": b64(rsa.e().to_vec())}]});
        let r = patch(
            &id,
            serde_json::json!({"token_auth_method": "private_key_jwt", "jwks": jwks}),
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        assert_eq!(r.json()["oidc"]["token_auth_method"], "private_key_jwt");
        assert_eq!(
            token(&node, "demo", &rp, "statements/write").0,
            401,
            "{label}"
        );
        refused(
            &id,
            serde_json::json!({"token_auth_method": "client_secret_basic"}),
            "token_auth_method",
        );
        let changes = all_pages(
            &a,
            &format!("audit?action=app.update&target=app%3A{id}"),
            "before",
        );
        assert_eq!(
            changes.len(),
            2,
            "{label}: refusals write nothing: {changes:?}"
        );
        let first: Value = serde_json::from_str(changes[1]["details"].as_str().unwrap()).unwrap();
        assert_eq!(first["before"]["name"], "学習記録アプリ", "{first}");
        assert_eq!(first["after"]["accessTokenFormat"], "jwt");
        assert_eq!(first["before"]["iconType"], Value::Null);
        let second: Value = serde_json::from_str(changes[0]["details"].as_str().unwrap()).unwrap();
        assert_eq!(second["before"]["clientSecret"], true, "{second}");
        assert_eq!(second["after"]["clientSecret"], false);
        assert_eq!(second["after"]["clientJwks"], true);

        // The command line: `app set`, the same service.
        let set = env
            .run(&[
                "app",
                "set",
                "--tenant",
                "demo",
                "--id",
                &id,
                "--name",
                "記録アプリ",
                "--launch-url",
                "",
                "--token-format",
                "opaque",
                "--xapi-scopes",
                "none",
                "--no-icon",
                "--format",
                "json",
            ])
            .ok();
        let set: Value = serde_json::from_str(&set.stdout).expect("app JSON");
        assert_eq!(set["name"], "記録アプリ", "{set}");
        assert_eq!(set["icon_type"], Value::Null);
        assert_eq!(set["oidc"]["launch_url"], Value::Null);
        assert_eq!(set["oidc"]["access_token_format"], "opaque");
        assert_eq!(set["oidc"]["xapi_scopes"], serde_json::json!([]));
        let r = env
            .run(&[
                "app",
                "set",
                "--tenant",
                "demo",
                "--id",
                &id,
                "--id-token-alg",
                "none",
            ])
            .code(1);
        assert!(r.stderr.contains("id_token_alg"), "{}", r.stderr);

        // SAML: the ACS URL alone (the entity id kept), signing, NameID, attributes; another
        // SP's entity id is refused; OIDC settings are not a SAML app's.
        let saml_app = |name: &str, entity: &str| {
            let r = a.send(
                "POST",
                "/t/demo/api/v1/apps",
                &[("Content-Type", "application/json")],
                serde_json::json!({"name": name, "protocol": "saml", "security_class": "learning",
                    "saml_acs_url": "https://sp.example/acs", "saml_entity_id": entity})
                .to_string()
                .as_bytes(),
            );
            assert_eq!(r.status, 201, "{label}: {}", r.text());
            r.json()["id"].as_str().unwrap().to_owned()
        };
        let sp = saml_app("教材SP", "https://sp.example/a");
        saml_app("別のSP", "https://sp.example/b");
        for (body, field) in [
            (serde_json::json!({"saml_sign": "envelope"}), "saml_sign"),
            (serde_json::json!({"saml_name_id": "email"}), "saml_name_id"),
            (
                serde_json::json!({"saml_attributes": ["shoeSize"]}),
                "saml_attributes",
            ),
            (
                serde_json::json!({"saml_acs_url": "http://sp.example/acs"}),
                "saml_metadata",
            ),
            (serde_json::json!({"token_format": "jwt"}), "token_format"),
            (
                serde_json::json!({"saml_metadata": "<nope/>"}),
                "saml_metadata",
            ),
        ] {
            refused(&sp, body, field);
        }
        let r = patch(
            &sp,
            serde_json::json!({"saml_entity_id": "https://sp.example/b"}),
        );
        assert_eq!(r.status, 400, "{label}: {}", r.text());
        assert!(r.text().contains("already registered"), "{}", r.text());
        let r = patch(
            &sp,
            serde_json::json!({"saml_acs_url": "https://sp.example/v2/acs", "saml_sign": "assertion",
                "saml_name_id": "username", "saml_attributes": ["uid", "displayName"],
                "saml_require_signed_requests": true}),
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let app = r.json();
        assert_eq!(app["saml_acs_url"], "https://sp.example/v2/acs", "{app}");
        assert_eq!(app["saml_entity_id"], "https://sp.example/a", "kept");
        assert_eq!(app["saml"]["sign"], "assertion");
        assert_eq!(app["saml"]["name_id"], "username");
        assert_eq!(
            app["saml"]["attributes"],
            serde_json::json!(["uid", "displayName"])
        );
        assert_eq!(app["saml"]["require_signed_requests"], true);
        // The command line sees the same settings.
        let listed = env
            .run(&["app", "list", "--tenant", "demo", "--format", "json"])
            .ok();
        let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
        let mine = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == sp.as_str())
            .unwrap();
        assert_eq!(mine["saml"]["name_id"], "username", "{label}: {mine}");
        env.run(&["audit", "verify"]).ok();
    }
}

fn start_demo(env: &Env) -> Node {
    common::node::start(env, &["--demo"])
}

/// The OpenAPI document lists exactly the routes of `server::api` and each documented
/// operation exists (answers 401 without a token, not 404/405).
#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let env = Env::sqlite().await;
    let node = start(&env);
    env.run(&["tenant", "add", "--id", "city-a", "--name", "A市"])
        .ok();
    let anon = api(&node, "city-a", None);
    let r = get(&anon, "openapi.json");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["servers"][0]["url"],
        Value::from(format!("{}/t/city-a/api/v1", node.url))
    );
    let paths = doc["paths"].as_object().expect("paths");
    // The routes as the server declares them.
    let source = include_str!("../../server/src/api/mod.rs");
    let mut routed: Vec<String> = source
        .split(".route(")
        .skip(1)
        .filter_map(|s| s.trim_start().strip_prefix('"'))
        .filter_map(|s| s.split('"').next())
        .map(|p| p.trim_start_matches("/t/{tenant}/api/v1").to_owned())
        .collect();
    routed.sort();
    let mut documented: Vec<String> = paths.keys().cloned().collect();
    documented.sort();
    assert_eq!(routed, documented);
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{path} {method}");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
            let concrete = path.replace("{id}", "x").replace("{credential}", "k");
            let r = anon.send(
                &method.to_uppercase(),
                &format!("/t/city-a/api/v1{concrete}"),
                &[],
                b"",
            );
            let expected = if path == "/openapi.json" { 200 } else { 401 };
            assert_eq!(r.status, expected, "{method} {path}: {}", r.text());
        }
    }
    assert_eq!(get(&anon, "nothing-here").status, 404);
    assert_eq!(
        get(&api(&node, "no-such-tenant", None), "openapi.json").status,
        404
    );
}

//! Interop: PyPI `pysaml2` (pinned in scripts/test) as the service provider against the real
//! `kakehashi serve`, on SQLite and PostgreSQL. pysaml2 builds the AuthnRequests (HTTP-Redirect
//! and HTTP-POST, signed or not) and parses our Responses, checking every signature with
//! Debian's xmlsec1; this test plays the browser over plain HTTP (the portal login form, the
//! auto-POST page). The driver is tests/interop/saml_sp.py. Missing python, pysaml2 or
//! xmlsec1 is a failure with a message saying how to install them, never a skip.

#![allow(unused_imports)] // portal_support re-exports what other test binaries use

mod common;
mod portal_support;
mod saml_support;

use std::path::Path;

use common::Env;
use portal_support::*;
use saml_support::*;
use serde_json::Value;

/// One pysaml2 SP: its working directory (keys, config, metadata) and our app id.
struct PySp {
    dir: String,
    app_id: String,
    entity_id: String,
}

#[allow(clippy::too_many_arguments)]
fn py_sp(
    py: &Path,
    env: &Env,
    name: &str,
    tag: &str,
    idp_metadata: &Path,
    sp_flags: &[&str],
    app_flags: &[&str],
) -> PySp {
    let dir = env.path(&format!("pysaml2-{tag}"));
    let dir = dir.to_str().expect("utf-8 path").to_owned();
    let entity_id = format!("https://{tag}.sp.example.jp/saml2");
    // The ACS is never contacted: the browser's POST is read here and handed to pysaml2.
    let acs = format!("http://127.0.0.1:9/{tag}/acs");
    let mut args = vec![
        "setup",
        "--dir",
        &dir,
        "--entity-id",
        &entity_id,
        "--acs",
        &acs,
        "--idp-metadata",
        idp_metadata.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(sp_flags);
    let (ok, v) = sp_driver(py, &args);
    assert!(ok, "pysaml2 setup: {v}");
    let md = std::fs::read_to_string(v["metadata"].as_str().expect("metadata path"))
        .expect("read SP metadata");
    let app_id = register(env, name, &md, app_flags);
    PySp {
        dir,
        app_id,
        entity_id,
    }
}

/// pysaml2 builds an AuthnRequest: (request id, path on our server, POST fields if any).
fn sp_request(
    py: &Path,
    sp: &PySp,
    args: &[&str],
) -> (String, String, Option<Vec<(String, String)>>) {
    let mut a = vec!["request", "--dir", &sp.dir];
    a.extend_from_slice(args);
    let (ok, v) = sp_driver(py, &a);
    assert!(ok, "pysaml2 request: {v}");
    let url = v["url"].as_str().expect("url").to_owned();
    let path = format!(
        "/{}",
        url.splitn(4, '/').nth(3).expect("a path on our server")
    );
    let fields = v["fields"].as_object().map(|o| {
        o.iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    });
    (v["id"].as_str().expect("id").to_owned(), path, fields)
}

/// pysaml2 parses the Response the browser was asked to POST.
fn sp_parse(py: &Path, sp: &PySp, page: &Resp, request_id: Option<&str>) -> (bool, Value) {
    let field = saml_response_field(page);
    let mut a = vec!["response", "--dir", &sp.dir, "--saml-response", &field];
    match request_id {
        Some(id) => a.extend_from_slice(&["--request-id", id]),
        None => a.push("--unsolicited"),
    }
    sp_driver(py, &a)
}

/// pysaml2's query-signed LogoutRequest for the session it parsed in `login` (what
/// `sp_parse` printed): `{"id", "url"}`.
fn sp_logout(py: &Path, sp: &PySp, login: &Value, relay_state: &str) -> Value {
    let si = |k: &str| login[k].as_str().unwrap_or_default().to_owned();
    let (ok, lo) = sp_driver(
        py,
        &[
            "logout",
            "--dir",
            &sp.dir,
            "--name-id",
            &si("name_id"),
            "--name-id-format",
            &si("name_id_format"),
            "--name-qualifier",
            &si("name_qualifier"),
            "--sp-name-qualifier",
            &si("sp_name_qualifier"),
            "--session-index",
            &si("session_index"),
            "--relay-state",
            relay_state,
        ],
    );
    assert!(ok, "pysaml2 logout: {lo}");
    lo
}

fn idp_metadata_file(env: &Env, node: &Node) -> std::path::PathBuf {
    let md = request(&node.addr, "GET", "/t/demo/saml/metadata", "", None);
    assert_eq!(md.status, 200, "{}", md.body);
    let path = env.path("idp-metadata.xml");
    std::fs::write(&path, &md.body).expect("write IdP metadata");
    path
}

const ALL_ATTRIBUTES: &str =
    "uid,displayName,sn,givenName,kanaFamilyName,kanaGivenName,role,school,classes";

#[tokio::test]
async fn pysaml2_sp_initiated_redirect_signed_response_and_assertion_persistent_nameid_and_attributes(
) {
    let py = interop_python();
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let idp_md = idp_metadata_file(&env, &node);
        let sp = py_sp(
            &py,
            &env,
            "デジタルドリル",
            "drill",
            &idp_md,
            &["--want-response-signed", "--want-assertions-signed"],
            &[
                "--security-class",
                "learning",
                "--saml-attributes",
                ALL_ATTRIBUTES,
            ],
        );
        let idp_entity = format!("{}/t/demo/saml/metadata", node.url);

        // The pupil 𠮷田 (a character outside the BMP) through HTTP-Redirect.
        let mut pupil = Browser::new(&node, "demo");
        let (id, path, _) = sp_request(
            &py,
            &sp,
            &["--binding", "redirect", "--relay-state", "/drill/7"],
        );
        let sso = pupil.get(&path);
        let page = login_and_resume(&mut pupil, &sso, PUPIL, PUPIL_PASSWORD);
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert_eq!(page.hidden("RelayState").as_deref(), Some("/drill/7"));
        let (ok, got) = sp_parse(&py, &sp, &page, Some(&id));
        assert!(ok, "{label}: pysaml2 refused our Response: {got}");
        assert_eq!(got["issuer"], idp_entity.as_str());
        assert_eq!(got["in_response_to"], id.as_str());
        assert_eq!(
            got["name_id_format"],
            "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
        );
        assert_eq!(got["name_qualifier"], idp_entity.as_str());
        assert_eq!(got["sp_name_qualifier"], sp.entity_id.as_str());
        assert_eq!(got["response_signed"], true, "{got}");
        assert_eq!(got["assertion_signed"], true, "{got}");
        assert_eq!(
            got["authn_context"],
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        );
        assert_eq!(got["audience"][0], sp.entity_id.as_str());
        let ava = &got["ava"];
        assert_eq!(ava["sn"][0], "𠮷田", "{label}: {ava}");
        assert_eq!(ava["uid"][0], PUPIL);
        assert!(ava["displayName"][0]
            .as_str()
            .is_some_and(|d| d.starts_with("𠮷田 ")));
        assert_eq!(
            ava["https://schemas.kakehashi.jp/person/kanaFamilyName"][0],
            "ヨシダ"
        );
        assert_eq!(
            ava["https://schemas.kakehashi.jp/roster/role"][0],
            "student"
        );
        assert!(
            ava["https://schemas.kakehashi.jp/roster/classes"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "{ava}"
        );
        let pupil_name_id = got["name_id"].as_str().expect("NameID").to_owned();
        let pupil_login = got.clone();

        // The same pupil again: the persistent NameID does not change (Core 8.3.7).
        let (id2, path, _) = sp_request(&py, &sp, &["--binding", "redirect"]);
        let page = pupil.get(&path);
        let (ok, again) = sp_parse(&py, &sp, &page, Some(&id2));
        assert!(ok, "{again}");
        assert_eq!(again["name_id"], pupil_name_id.as_str());

        // IdP-initiated from the launcher (Profiles 4.1.5): the teacher's tile.
        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let home = teacher.get("/t/demo/");
        assert!(
            home.body.contains(&format!("/t/demo/launch/{}", sp.app_id)),
            "{label}: the launcher links the SP"
        );
        let page = teacher.get(&format!("/t/demo/launch/{}", sp.app_id));
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        let (ok, got) = sp_parse(&py, &sp, &page, None);
        assert!(
            ok,
            "{label}: pysaml2 refused the unsolicited Response: {got}"
        );
        assert_eq!(got["in_response_to"], Value::Null);
        assert_eq!(got["ava"]["uid"][0], TEACHER);
        assert_eq!(
            got["ava"]["https://schemas.kakehashi.jp/roster/role"][0],
            "teacher"
        );
        assert_ne!(
            got["name_id"],
            pupil_name_id.as_str(),
            "one NameID per user"
        );

        let actions = audit_actions(&env).await;
        let sso: Vec<_> = actions.iter().filter(|(a, _)| a == "saml.sso").collect();
        assert_eq!(sso.len(), 3, "{label}: {actions:?}");
        assert!(sso[0].1.contains("\"initiated\":\"idp\""), "{:?}", sso[0]);

        // Single Logout (Profiles 4.4): pysaml2 signs a LogoutRequest for the pupil's first
        // session; the portal session ends and pysaml2 accepts our LogoutResponse.
        let lo = sp_logout(&py, &sp, &pupil_login, "bye");
        let url = lo["url"].as_str().expect("url");
        let path = format!("/{}", url.splitn(4, '/').nth(3).expect("a path"));
        let cookie = pupil.cookie();
        assert_eq!(
            request(&node.addr, "GET", "/t/demo/", &cookie, None).status,
            200
        );
        let r = pupil.get(&path);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let loc = r.header("location").unwrap_or_default().to_owned();
        let query = loc.split_once('?').map(|(_, q)| q).expect("a query");
        let (ok, parsed) = sp_driver(
            &py,
            &["logout-response", "--dir", &sp.dir, "--query", query],
        );
        assert!(ok, "{label}: pysaml2 refused our LogoutResponse: {parsed}");
        assert_eq!(
            parsed["status"],
            "urn:oasis:names:tc:SAML:2.0:status:Success"
        );
        assert_eq!(parsed["in_response_to"], lo["id"]);
        assert_eq!(parsed["relay_state"], "bye");
        assert_eq!(parsed["signed_query"], true);
        let home = request(&node.addr, "GET", "/t/demo/", &cookie, None);
        assert_eq!(
            home.status, 303,
            "{label}: the pupil's portal session ended"
        );

        // IdP-initiated Single Logout (Profiles 4.4.3.3): the teacher signs out of the
        // portal; the browser carries our signed LogoutRequest to pysaml2's SLO service,
        // pysaml2 checks it and answers with its signed LogoutResponse, and the journey ends
        // on the portal's "signed out" page.
        let home = teacher.get("/t/demo/");
        let csrf = home.hidden("csrf").expect("logout form");
        let r = teacher.post("/t/demo/logout", &[("csrf", &csrf)]);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let next = r.header("location").unwrap_or_default().to_owned();
        assert!(
            next.starts_with("/t/demo/saml/slo/next?journey="),
            "{label}: {next}"
        );
        let r = teacher.get(&next);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let to_sp = r.header("location").unwrap_or_default().to_owned();
        let (sp_slo, query) = to_sp.split_once('?').expect("a query");
        assert!(sp_slo.ends_with("/slo"), "{label}: {to_sp}");
        let (ok, lreq) = sp_driver(&py, &["logout-request", "--dir", &sp.dir, "--query", query]);
        assert!(ok, "{label}: pysaml2 refused our LogoutRequest: {lreq}");
        assert_eq!(lreq["issuer"], idp_entity.as_str());
        assert_eq!(
            lreq["name_id"], got["name_id"],
            "{label}: the NameID issued to the SP"
        );
        assert_eq!(
            lreq["session_index"][0], got["session_index"],
            "{label}: {lreq}"
        );
        let url = lreq["url"].as_str().expect("LogoutResponse URL");
        let path = format!("/{}", url.splitn(4, '/').nth(3).expect("a path"));
        let r = teacher.get(&path);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        assert!(
            r.header("location")
                .unwrap_or_default()
                .contains("logged_out=1"),
            "{label}: {:?}",
            r.header("location")
        );
        // The same LogoutResponse again is not taken (the journey is over).
        assert_eq!(teacher.get(&path).status, 400, "{label}");
        let actions = audit_actions(&env).await;
        let done: Vec<_> = actions
            .iter()
            .filter(|(a, _)| a == "saml.slo.propagated")
            .collect();
        assert_eq!(done.len(), 1, "{label}: {actions:?}");
        assert!(done[0].1.contains("status:Success"), "{:?}", done[0]);
    }
}

#[tokio::test]
async fn pysaml2_sp_initiated_post_with_signed_requests_signed_assertion_and_username_nameid() {
    let py = interop_python();
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let idp_md = idp_metadata_file(&env, &node);
        // pysaml2 signs its AuthnRequests and says so in its metadata (AuthnRequestsSigned).
        let sp = py_sp(
            &py,
            &env,
            "学習記録ビューア",
            "viewer",
            &idp_md,
            &["--sign-requests", "--want-assertions-signed"],
            &[
                "--security-class",
                "learning",
                "--audience",
                "staff",
                "--saml-sign",
                "assertion",
                "--saml-name-id",
                "username",
                "--saml-attributes",
                "displayName",
            ],
        );
        let md = std::fs::read_to_string(format!("{}/sp-metadata.xml", sp.dir)).expect("md");
        assert!(md.contains("AuthnRequestsSigned=\"true\""), "{md}");

        let mut b = Browser::new(&node, "demo");
        let (id, path, fields) =
            sp_request(&py, &sp, &["--binding", "post", "--relay-state", "rs-1"]);
        let fields = fields.expect("POST fields");
        assert!(path.ends_with("/t/demo/saml/sso"), "{path}");
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sso = b.post(&path, &form);
        let page = login_and_resume(&mut b, &sso, TEACHER, TEACHER_PASSWORD);
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        let (ok, got) = sp_parse(&py, &sp, &page, Some(&id));
        assert!(ok, "{label}: pysaml2 refused our Response: {got}");
        assert_eq!(got["name_id"], TEACHER);
        assert_eq!(
            got["name_id_format"],
            "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
        );
        assert_eq!(got["assertion_signed"], true, "{got}");
        assert_eq!(got["response_signed"], false, "only the assertion, as set");
        assert_eq!(got["ava"]["displayName"][0], "鈴木 芽依");
        assert!(
            got["ava"].get("uid").is_none(),
            "only what the SP is released"
        );

        // The signed POST request replayed: refused (one use per ID).
        let again = b.post(&path, &form);
        assert_eq!(again.status, 400, "{label}: {}", again.body);

        // pysaml2's signed HTTP-Redirect request (query signature, Bindings 3.4.4.1).
        let (id, path, _) = sp_request(&py, &sp, &["--binding", "redirect"]);
        assert!(path.contains("&Signature="), "{path}");
        let page = b.get(&path);
        let (ok, got) = sp_parse(&py, &sp, &page, Some(&id));
        assert!(ok, "{label}: {got}");
        assert_eq!(got["name_id"], TEACHER);
    }
}

#[tokio::test]
async fn pysaml2_response_signed_only_and_passive_request_without_session_gets_no_passive() {
    let py = interop_python();
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let idp_md = idp_metadata_file(&env, &node);
        let sp = py_sp(
            &py,
            &env,
            "校外学習予約",
            "booking",
            &idp_md,
            &["--want-response-signed"],
            &["--security-class", "learning", "--saml-sign", "response"],
        );
        // Core 3.4.1 IsPassive with no session: pysaml2 sees the NoPassive status.
        let mut b = Browser::new(&node, "demo");
        let (id, path, _) = sp_request(&py, &sp, &["--binding", "redirect", "--is-passive"]);
        let page = b.get(&path);
        let (ok, got) = sp_parse(&py, &sp, &page, Some(&id));
        assert!(!ok, "{label}: {got}");
        assert!(
            got["error_class"]
                .as_str()
                .is_some_and(|c| c.contains("NoPassive")),
            "{label}: {got}"
        );

        let (id, path, _) = sp_request(&py, &sp, &["--binding", "redirect"]);
        let sso = b.get(&path);
        let page = login_and_resume(&mut b, &sso, TEACHER, TEACHER_PASSWORD);
        let (ok, got) = sp_parse(&py, &sp, &page, Some(&id));
        assert!(ok, "{label}: {got}");
        assert_eq!(got["response_signed"], true, "{got}");
        assert_eq!(got["assertion_signed"], false, "only the response, as set");

        // RequestedAuthnContext asking for multi-factor (SAML Core 3.3.2.2.1): not a downgrade
        // but the step-up page; after the second factor pysaml2 gets a Response whose
        // AuthnContextClassRef is REFEDS MFA.
        let (id, path, _) = sp_request(
            &py,
            &sp,
            &[
                "--binding",
                "redirect",
                "--authn-context",
                "https://refeds.org/profile/mfa",
                "--comparison",
                "minimum",
            ],
        );
        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&path);
        assert_eq!(step_up.status, 403, "{label}: {}", step_up.body);
        let back = use_backup_code(&mut b, &step_up, &codes[0]);
        assert_eq!(back.status, 303, "{label}: {}", back.body);
        let page = b.get(back.header("location").expect("back to the request"));
        let (ok, got) = sp_parse(&py, &sp, &page, Some(&id));
        assert!(ok, "{label}: {got}");
        assert!(
            got.to_string().contains("https://refeds.org/profile/mfa"),
            "{label}: pysaml2 sees the MFA class: {got}"
        );
    }
}

/// The `action` of the auto-POST form on a page.
fn form_action(page: &Resp) -> String {
    let start = page.body.find("action=\"").expect("a form") + "action=\"".len();
    let end = page.body[start..].find('"').expect("quoted") + start;
    page.body[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn pysaml2_sp_initiated_logout_with_a_post_binding_requester_tells_the_other_sps_first() {
    let py = interop_python();
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let idp_md = idp_metadata_file(&env, &node);
        // The requester takes its LogoutResponse by HTTP-POST only (its metadata's
        // SingleLogoutService); the other SP by HTTP-Redirect.
        let requester = py_sp(
            &py,
            &env,
            "校務ポータル (POST SLO)",
            "postslo",
            &idp_md,
            &["--slo-binding", "post"],
            &["--security-class", "learning"],
        );
        let md = std::fs::read_to_string(format!("{}/sp-metadata.xml", requester.dir)).unwrap();
        let slo_element = md
            .split("SingleLogoutService")
            .nth(1)
            .and_then(|e| e.split('>').next())
            .unwrap_or_default();
        assert!(
            slo_element.contains("bindings:HTTP-POST") && !slo_element.contains("HTTP-Redirect"),
            "{label}: {md}"
        );
        let other = py_sp(
            &py,
            &env,
            "デジタル教材",
            "other",
            &idp_md,
            &[],
            &["--security-class", "learning"],
        );
        let idp_entity = format!("{}/t/demo/saml/metadata", node.url);

        // One portal session signed in to both SPs.
        let mut b = Browser::new(&node, "demo");
        let (id, path, _) = sp_request(&py, &requester, &["--binding", "redirect"]);
        let sso = b.get(&path);
        let page = login_and_resume(&mut b, &sso, TEACHER, TEACHER_PASSWORD);
        let (ok, at_requester) = sp_parse(&py, &requester, &page, Some(&id));
        assert!(ok, "{label}: {at_requester}");
        let (id, path, _) = sp_request(&py, &other, &["--binding", "redirect"]);
        let page = b.get(&path);
        let (ok, at_other) = sp_parse(&py, &other, &page, Some(&id));
        assert!(ok, "{label}: {at_other}");
        let cookie = b.cookie();

        // The requester's signed LogoutRequest (Profiles 4.4.3.1).
        let lo = sp_logout(&py, &requester, &at_requester, "bye");
        let url = lo["url"].as_str().expect("url");
        let r = b.get(&format!("/{}", url.splitn(4, '/').nth(3).expect("a path")));
        // Profiles 4.4.3.2: the IdP tells the other session participants first.
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let next = r.header("location").unwrap_or_default().to_owned();
        assert!(
            next.starts_with("/t/demo/saml/slo/next?journey="),
            "{label}: the other SP is told before the requester is answered: {next}"
        );
        assert_eq!(
            request(&node.addr, "GET", "/t/demo/", &cookie, None).status,
            303,
            "{label}: the portal session has ended"
        );
        let r = b.get(&next);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let to_other = r.header("location").unwrap_or_default().to_owned();
        let (slo, query) = to_other.split_once('?').expect("a query");
        assert_eq!(slo, "http://127.0.0.1:9/other/slo", "{label}");
        let (ok, lreq) = sp_driver(
            &py,
            &["logout-request", "--dir", &other.dir, "--query", query],
        );
        assert!(ok, "{label}: pysaml2 refused our LogoutRequest: {lreq}");
        assert_eq!(lreq["name_id"], at_other["name_id"], "{label}");
        assert_eq!(lreq["session_index"][0], at_other["session_index"]);

        // The other SP's LogoutResponse ends the journey with the requester's answer: the
        // auto-posted form (Bindings 3.5.4) under the strict CSP, to its POST endpoint.
        let url = lreq["url"].as_str().expect("LogoutResponse URL");
        let page = b.get(&format!("/{}", url.splitn(4, '/').nth(3).expect("a path")));
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert_eq!(
            form_action(&page),
            "http://127.0.0.1:9/postslo/slo",
            "{label}"
        );
        assert_eq!(page.hidden("RelayState").as_deref(), Some("bye"), "{label}");
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{label}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{label}: {csp}");
        assert!(
            csp.contains("form-action http://127.0.0.1:9"),
            "{label}: {csp}"
        );
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("a script nonce");
        assert!(
            page.body.contains(&format!("<script nonce=\"{nonce}\">")),
            "{label}: the only script is the one the CSP names"
        );
        // pysaml2 checks the enveloped signature against our metadata, the Destination (its
        // POST endpoint), InResponseTo and the status (Profiles 4.4.4.2, Core 3.7.3.2).
        let field = saml_response_field(&page);
        let (ok, parsed) = sp_driver(
            &py,
            &[
                "logout-response",
                "--dir",
                &requester.dir,
                "--saml-response",
                &field,
                "--relay-state",
                "bye",
            ],
        );
        assert!(
            ok,
            "{label}: pysaml2 refused our POSTed LogoutResponse: {parsed}"
        );
        assert_eq!(
            parsed["status"],
            "urn:oasis:names:tc:SAML:2.0:status:Success"
        );
        assert_eq!(parsed["in_response_to"], lo["id"], "{label}");
        assert_eq!(parsed["issuer"], idp_entity.as_str());
        assert_eq!(parsed["signed_xml"], true);

        // The journey is over: the same LogoutResponse again is not taken, and no second
        // answer is POSTed.
        let again = b.get(&format!("/{}", url.splitn(4, '/').nth(3).unwrap()));
        assert_eq!(again.status, 400, "{label}: {}", again.body);
        let actions = audit_actions(&env).await;
        let done: Vec<_> = actions
            .iter()
            .filter(|(a, _)| a == "saml.slo.propagated")
            .collect();
        assert_eq!(done.len(), 1, "{label}: {actions:?}");
        assert!(done[0].1.contains(&other.app_id), "{:?}", done[0]);
        assert!(done[0].1.contains("status:Success"), "{:?}", done[0]);
        assert!(
            !done[0].1.contains(&requester.app_id),
            "{label}: the requester is answered, not asked: {:?}",
            done[0]
        );
    }
}

//! The LTI platform's refusals, through the real `kakehashi serve` on SQLite and PostgreSQL,
//! with PyPI PyLTI1p3 as the tool where a real tool's request is the starting point. Tool
//! libraries are lenient judges of a platform (PyLTI1p3 does not mark a nonce used), so each
//! rule is pinned here with the section it comes from.

#![allow(unused_imports)] // portal_support re-exports what other test binaries use

mod common;
mod js_support;
mod lti_support;
mod portal_support;

use common::Env;
use lti_support::*;
use portal_support::*;
use serde_json::{json, Value};

const DL_DATA: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/data";
const NRPS_SCOPE: &str =
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";
const SCORE_SCOPE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";

struct Setup {
    node: Node,
    client_id: String,
    deployment_id: String,
    issuer: String,
}

fn setup(env: &Env, tag: &str) -> (Setup, Tool) {
    let node = start(env, &["--demo"]);
    let tool = Tool::start(env, tag);
    let reg = tool.register(env, &node, TENANT, &[]);
    let s = Setup {
        client_id: reg["client_id"].as_str().unwrap().to_owned(),
        deployment_id: reg["deployment_id"].as_str().unwrap().to_owned(),
        issuer: reg["issuer"].as_str().unwrap().to_owned(),
        node,
    };
    (s, tool)
}

/// The auth URL the tool builds for a tile launch (the launch is started, not finished).
fn tool_auth_url(s: &Setup, tool: &mut Tool, b: &mut Browser<'_>) -> String {
    let r = b.get(&format!("/t/{TENANT}/launch/{}", s.client_id));
    assert_eq!(r.status, 303, "{}", r.body);
    let login = r.header("location").unwrap().to_owned();
    login_to_auth(tool, &login)
}

#[tokio::test]
async fn oidc_core_3_1_2_1_a_nonce_and_a_message_hint_are_used_once() {
    for env in Env::both().await {
        let (s, mut tool) = setup(&env, "nonce");
        let node_url = s.node.url.clone();
        let mut b = Browser::new(&s.node, TENANT);
        b.login(PUPIL, PUPIL_PASSWORD);
        let first = tool_auth_url(&s, &mut tool, &mut b);
        let ok = b.get(&path_of(&first));
        assert!(ok.hidden("id_token").is_some(), "{}", ok.body);
        // The same request again: its lti_message_hint was used.
        let replay = b.get(&path_of(&first));
        assert!(
            replay.hidden("id_token").is_none(),
            "{}: {}",
            env.label(),
            replay.body
        );
        assert_eq!(replay.hidden("error").as_deref(), Some("invalid_request"));
        assert!(
            replay.hidden("state").is_some(),
            "state is passed back with an error"
        );
        // A fresh launch carrying the first request's nonce: refused.
        let second = tool_auth_url(&s, &mut tool, &mut b);
        let nonce = query_param(&first, "nonce").unwrap();
        let replayed = with_param(&second, "nonce", &enc(&nonce));
        let r = b.get(&path_of(&replayed));
        assert!(
            r.hidden("id_token").is_none(),
            "{}: {}",
            env.label(),
            r.body
        );
        assert!(
            r.hidden("error_description").unwrap().contains("nonce"),
            "{}",
            r.body
        );
        // Security Framework 5.1.1.2: response_mode=form_post and prompt=none are required.
        let third = tool_auth_url(&s, &mut tool, &mut b);
        let r = b.get(&path_of(&with_param(&third, "prompt", "login")));
        assert_eq!(
            r.hidden("error").as_deref(),
            Some("invalid_request"),
            "{}",
            r.body
        );
        // Without a portal session (prompt=none): login_required, never a login page.
        let mut stranger = Browser::new(&s.node, TENANT);
        let r = stranger.get(&path_of(&third));
        assert_eq!(
            r.hidden("error").as_deref(),
            Some("login_required"),
            "{}",
            r.body
        );
        let _ = node_url;
    }
}

#[tokio::test]
async fn oidc_core_3_1_2_6_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    for env in Env::both().await {
        let (s, mut tool) = setup(&env, "redirect");
        let mut b = Browser::new(&s.node, TENANT);
        b.login(PUPIL, PUPIL_PASSWORD);
        let auth = tool_auth_url(&s, &mut tool, &mut b);
        let evil = with_param(&auth, "redirect_uri", &enc("http://127.0.0.1:9/evil"));
        let r = b.get(&path_of(&evil));
        assert_eq!(r.status, 400, "{}: {}", env.label(), r.body);
        assert!(r.hidden("id_token").is_none() && r.header("location").is_none());
        assert!(
            !r.body.contains("action=\"http://127.0.0.1:9"),
            "{}",
            r.body
        );
        assert!(r.body.contains("redirect_uri"), "{}", r.body);
        // The hint was not spent by the refused request: the real one still works.
        let ok = b.get(&path_of(&auth));
        assert!(ok.hidden("id_token").is_some(), "{}", ok.body);
    }
}

/// Starts a deep linking launch as the teacher and returns our id_token's claims.
fn deep_link_request(s: &Setup, tool: &mut Tool, b: &mut Browser<'_>) -> Value {
    let start = format!(
        "/t/{TENANT}/lti/tools/{}/deep-link?class={CLASS}",
        s.client_id
    );
    let r = b.get(&start);
    assert_eq!(r.status, 303, "{}", r.body);
    let login = r.header("location").unwrap().to_owned();
    let auth = login_to_auth(tool, &login);
    let page = b.get(&path_of(&auth));
    jwt_claims(&page.hidden("id_token").expect("id_token"))
}

fn dl_response(s: &Setup, data: &str, nonce: &str) -> Value {
    json!({
        "iss": s.client_id, "aud": s.issuer, "iat": now(), "exp": now() + 300, "nonce": nonce,
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": s.deployment_id,
        DL_DATA: data,
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
            {"type": "ltiResourceLink", "title": "テスト教材"}
        ]
    })
}

#[tokio::test]
async fn dl_4_5_wrong_aud_expired_foreign_deployment_and_bad_signature_are_refused() {
    for env in Env::both().await {
        let (s, mut tool) = setup(&env, "dl");
        let mut b = Browser::new(&s.node, TENANT);
        b.login(TEACHER, TEACHER_PASSWORD);
        let claims = deep_link_request(&s, &mut tool, &mut b);
        let data = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
            ["data"]
            .as_str()
            .expect("data")
            .to_owned();
        let ret = format!("/t/{TENANT}/lti/deep-link-return");
        let post = |b: &mut Browser<'_>, jwt: &str| b.post(&ret, &[("JWT", jwt)]);
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "wrong aud",
                {
                    let mut c = dl_response(&s, &data, "n-aud");
                    c["aud"] = json!("https://other-platform.example/t/demo");
                    c
                },
                "aud",
            ),
            (
                "expired",
                {
                    let mut c = dl_response(&s, &data, "n-exp");
                    c["iat"] = json!(now() - 900);
                    c["exp"] = json!(now() - 600);
                    c
                },
                "expired",
            ),
            (
                "another tenant's deployment",
                {
                    let mut c = dl_response(&s, &data, "n-dep");
                    c["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] =
                        json!("deployment-of-another-tenant");
                    c
                },
                "deployment_id",
            ),
        ];
        for (what, c, says) in cases {
            let r = post(&mut b, &sign_as_tool(&tool, &c));
            assert_eq!(r.status, 400, "{} {what}: {}", env.label(), r.body);
            assert!(r.body.contains(says), "{what}: {}", r.body);
        }
        // Signed by another key: refused.
        let other = kakehashi_oidc::SigningKey::generate(kakehashi_oidc::Algorithm::RS256).unwrap();
        let forged = other
            .sign_json(Some("JWT"), &dl_response(&s, &data, "n-forged"))
            .unwrap();
        assert_eq!(post(&mut b, &forged).status, 400);
        // None of these spent the request: the good response is taken, once.
        let good = sign_as_tool(&tool, &dl_response(&s, &data, "n-good"));
        let r = post(&mut b, &good);
        assert_eq!(r.status, 200, "{}: {}", env.label(), r.body);
        assert!(r.body.contains("テスト教材"));
        assert_eq!(post(&mut b, &good).status, 400);
        // A second request answered with the first response's nonce: refused.
        let claims = deep_link_request(&s, &mut tool, &mut b);
        let data2 = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
            ["data"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = post(
            &mut b,
            &sign_as_tool(&tool, &dl_response(&s, &data2, "n-good")),
        );
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("nonce"), "{}", r.body);
    }
}

fn assertion(s: &Setup, tool: &Tool, aud: &str, exp: i64, jti: &str) -> String {
    sign_as_tool(
        tool,
        &json!({"iss": s.client_id, "sub": s.client_id, "aud": aud, "iat": now(), "exp": exp, "jti": jti}),
    )
}

fn token_request(s: &Setup, client_assertion: &str, scope: &str) -> (u16, Value) {
    let r = request(
        &s.node.addr,
        "POST",
        &format!("/t/{TENANT}/lti/token"),
        "",
        Some(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", client_assertion),
            ("scope", scope),
        ]),
    );
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(Value::Null),
    )
}

fn bearer_get(addr: &str, path: &str, token: &str) -> Resp {
    bearer_send(addr, "GET", path, token, None)
}

/// A request with a bearer token and, optionally, a JSON body of the given media type.
fn bearer_send(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<(&str, &Value)>,
) -> Resp {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    let (head, payload) = match body {
        Some((media, v)) => {
            let text = v.to_string();
            (
                format!(
                    "Content-Type: {media}\r\nContent-Length: {}\r\n",
                    text.len()
                ),
                text,
            )
        }
        None => (String::new(), String::new()),
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{head}Connection: close\r\n\r\n{payload}"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn rfc7523_client_assertions_wrong_aud_expired_or_replayed_are_refused_and_scopes_hold() {
    for env in Env::both().await {
        let (s, tool) = setup(&env, "token");
        let endpoint = format!("{}/lti/token", s.issuer);
        let (st, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() + 60, "j1"),
            NRPS_SCOPE,
        );
        assert_eq!(st, 200, "{}: {v}", env.label());
        let nrps_token = v["access_token"].as_str().unwrap().to_owned();
        // RFC 7523 3 / OIDC Core 9: a jti is used once.
        let (st, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() + 60, "j1"),
            NRPS_SCOPE,
        );
        assert_eq!(
            (st, v["error"].as_str()),
            (401, Some("invalid_client")),
            "{v}"
        );
        let (st, v) = token_request(
            &s,
            &assertion(
                &s,
                &tool,
                "https://elsewhere.example/token",
                now() + 60,
                "j2",
            ),
            NRPS_SCOPE,
        );
        assert_eq!(
            (st, v["error"].as_str()),
            (401, Some("invalid_client")),
            "{v}"
        );
        let (st, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() - 120, "j3"),
            NRPS_SCOPE,
        );
        assert_eq!(
            (st, v["error"].as_str()),
            (401, Some("invalid_client")),
            "{v}"
        );
        let (st, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() + 60, "j4"),
            "openid",
        );
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_scope")),
            "{v}"
        );
        // The token reaches NRPS; a score-only token does not (403); none at all is 401.
        let members = format!("/t/{TENANT}/lti/contexts/{CLASS}/memberships?role=Learner&limit=4");
        let r = bearer_get(&s.node.addr, &members, &nrps_token);
        assert_eq!(r.status, 200, "{}", r.body);
        let page: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(page["members"].as_array().unwrap().len(), 4);
        let (_, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() + 60, "j5"),
            SCORE_SCOPE,
        );
        let score_token = v["access_token"].as_str().unwrap();
        assert_eq!(bearer_get(&s.node.addr, &members, score_token).status, 403);
        assert_eq!(bearer_get(&s.node.addr, &members, "nope").status, 401);
    }
}

#[tokio::test]
async fn another_tenants_tool_deployment_or_token_reaches_nothing_here() {
    for env in Env::both().await {
        let (s, tool) = setup(&env, "tenants");
        env.run(&["tenant", "add", "--id", "other", "--name", "他市教育委員会"])
            .ok();
        // Tenant `other`'s auth endpoint does not know demo's tool: an error page.
        let mut b = Browser::new(&s.node, TENANT);
        b.login(PUPIL, PUPIL_PASSWORD);
        let q = format!(
            "/t/other/lti/auth?scope=openid&response_type=id_token&response_mode=form_post&prompt=none&client_id={}&redirect_uri={}&login_hint=x&lti_message_hint=y&nonce=n&state=s",
            s.client_id,
            enc(&format!("{}/launch", tool.base))
        );
        let r = request(&s.node.addr, "GET", &q, &b.cookie(), None);
        assert_eq!(r.status, 400, "{}: {}", env.label(), r.body);
        assert!(r.hidden("id_token").is_none());
        // demo's token at `other`'s services: 401.
        let endpoint = format!("{}/lti/token", s.issuer);
        let (_, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() + 60, "k1"),
            NRPS_SCOPE,
        );
        let token = v["access_token"].as_str().unwrap();
        let r = bearer_get(
            &s.node.addr,
            &format!("/t/other/lti/contexts/{CLASS}/memberships"),
            token,
        );
        assert_eq!(r.status, 401, "{}", r.body);
        // A tool deployed for another school only: no launch for this school's pupil.
        let mut narrow = Tool::start(&env, "narrow");
        let reg = narrow.register(&env, &s.node, TENANT, &["--school", "sch-elsewhere"]);
        let r = b.get(&format!(
            "/t/{TENANT}/launch/{}",
            reg["client_id"].as_str().unwrap()
        ));
        assert_eq!(r.status, 403, "{}", r.body);
        let _ = &mut narrow;
    }
}

#[tokio::test]
async fn ags_3_4_a_score_and_its_xapi_statement_are_stored_together_or_not_at_all() {
    for env in Env::both().await {
        let label = env.label();
        let (s, tool) = setup(&env, "ags");
        let endpoint = format!("{}/lti/token", s.issuer);
        let scopes = format!(
            "{NRPS_SCOPE} {SCORE_SCOPE} https://purl.imsglobal.org/spec/lti-ags/scope/lineitem \
             https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
        );
        let (st, v) = token_request(
            &s,
            &assertion(&s, &tool, &endpoint, now() + 60, "ags-1"),
            &scopes,
        );
        assert_eq!(st, 200, "{label}: {v}");
        let token = v["access_token"].as_str().unwrap().to_owned();
        let members = format!("/t/{TENANT}/lti/contexts/{CLASS}/memberships?role=Learner&limit=1");
        let page: Value =
            serde_json::from_str(&bearer_get(&s.node.addr, &members, &token).body).unwrap();
        let user_id = page["members"][0]["user_id"]
            .as_str()
            .expect("a learner")
            .to_owned();
        let created = bearer_send(
            &s.node.addr,
            "POST",
            &format!("/t/{TENANT}/lti/contexts/{CLASS}/lineitems"),
            &token,
            Some((
                "application/vnd.ims.lis.v2.lineitem+json",
                &json!({"scoreMaximum": 10, "label": "小テスト𠮷"}),
            )),
        );
        assert_eq!(created.status, 201, "{label}: {}", created.body);
        let item: Value = serde_json::from_str(&created.body).unwrap();
        let scores = format!("{}/scores", path_of(item["id"].as_str().unwrap()));
        let score = |given: f64, timestamp: &str| {
            json!({"userId": user_id, "scoreGiven": given, "scoreMaximum": 10,
                   "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                   "timestamp": timestamp})
        };
        let post = |body: &Value| {
            bearer_send(
                &s.node.addr,
                "POST",
                &scores,
                &token,
                Some(("application/vnd.ims.lis.v1.score+json", body)),
            )
        };
        let scored = || statements_with_verb(&env, "http://adlnet.gov/expapi/verbs/scored");

        // AGS 2.0 §3.4.1: the timestamp is an ISO 8601 date-time; a bad one is a 400 naming
        // it, and neither the score nor a statement is kept.
        let bad = post(&score(7.0, "yesterday"));
        assert_eq!(bad.status, 400, "{label}: {}", bad.body);
        assert!(bad.body.contains("timestamp"), "{}", bad.body);
        assert!(scored().await.is_empty(), "{label}");

        let ok = post(&score(7.0, "2026-12-06T09:00:00.000+09:00"));
        assert!(ok.status == 200 || ok.status == 204, "{label}: {}", ok.body);
        let st = scored().await;
        assert_eq!(st.len(), 1, "{label}");
        assert_eq!(st[0]["result"]["score"]["max"], 10.0);
        assert_eq!(st[0]["object"]["definition"]["name"]["ja-JP"], "小テスト𠮷");

        // Extra credit (scoreGiven above scoreMaximum, allowed by AGS) still makes a valid
        // statement: xAPI Data 2.4.5.1.1 keeps raw within max, so max is left out.
        let extra = post(&score(12.0, "2026-12-06T10:00:00.000+09:00"));
        assert!(
            extra.status == 200 || extra.status == 204,
            "{label}: {}",
            extra.body
        );
        let st = scored().await;
        assert_eq!(st.len(), 2, "{label}: {st:?}");
        let newest = st
            .iter()
            .find(|x| x["result"]["score"]["raw"] == 12.0)
            .expect("the extra-credit statement");
        assert!(newest["result"]["score"].get("max").is_none(), "{newest}");
        assert_eq!(newest["result"]["score"]["scaled"], 1.0);

        // An older score than the stored one is not taken (AGS 2.0 §3.4.2 timestamps), and
        // so records no statement either.
        let stale = post(&score(3.0, "2026-12-06T08:00:00.000+09:00"));
        assert!(
            stale.status == 200 || stale.status == 204,
            "{label}: {}",
            stale.body
        );
        assert_eq!(scored().await.len(), 2, "{label}");

        // AGS 2.0 §3.2.5: `limit` pages the line items, the next page in a Link header.
        let items = format!("/t/{TENANT}/lti/contexts/{CLASS}/lineitems");
        for n in 2..=3 {
            let r = bearer_send(
                &s.node.addr,
                "POST",
                &items,
                &token,
                Some((
                    "application/vnd.ims.lis.v2.lineitem+json",
                    &json!({"scoreMaximum": 5, "label": format!("小テスト {n}")}),
                )),
            );
            assert_eq!(r.status, 201, "{label}: {}", r.body);
        }
        let first = bearer_get(&s.node.addr, &format!("{items}?limit=2"), &token);
        assert_eq!(first.status, 200, "{label}: {}", first.body);
        let page: Vec<Value> = serde_json::from_str(&first.body).unwrap();
        assert_eq!(page.len(), 2, "{label}");
        let link = first.header("link").expect("a Link header").to_owned();
        assert!(link.ends_with("; rel=\"next\""), "{link}");
        let next = link.trim_start_matches('<').split('>').next().unwrap();
        assert!(next.contains("limit=2&page=1"), "{next}");
        let second = bearer_get(&s.node.addr, &path_of(next), &token);
        let rest: Vec<Value> = serde_json::from_str(&second.body).unwrap();
        assert_eq!(rest.len(), 1, "{label}");
        assert!(second.header("link").is_none(), "{label}: the last page");
        let mut labels: Vec<String> = page
            .iter()
            .chain(rest.iter())
            .map(|i| i["label"].as_str().unwrap().to_owned())
            .collect();
        labels.sort();
        assert_eq!(
            labels,
            ["小テスト 2", "小テスト 3", "小テスト𠮷"],
            "{label}"
        );
        // Results page alike (§3.3.4): one learner scored, so one page, no Link.
        let results = bearer_get(
            &s.node.addr,
            &format!("{}?limit=1", scores.replace("/scores", "/results")),
            &token,
        );
        assert_eq!(results.status, 200, "{label}: {}", results.body);
        let list: Vec<Value> = serde_json::from_str(&results.body).unwrap();
        assert_eq!(list.len(), 1, "{label}");
        assert_eq!(list[0]["resultScore"], 12.0, "{label}: {}", results.body);
        assert!(results.header("link").is_none(), "{label}");
    }
}

#[tokio::test]
async fn a_tile_asks_a_teacher_of_several_classes_which_one_and_refuses_a_class_not_theirs() {
    // LTI Core 1.3 §5.4.1 (context): the context of a tile launch is the class the launch is
    // for. A teacher of two classes chooses; a pupil opens their homeroom (学級) directly; a
    // class that is not the user's is refused.
    for env in Env::both().await {
        let label = env.label();
        let (s, mut tool) = setup(&env, "choose");
        let tile = format!("/t/{TENANT}/launch/{}", s.client_id);

        let mut teacher = Browser::new(&s.node, TENANT);
        assert_eq!(teacher.login("minami.t03", TEACHER_PASSWORD).status, 303);
        let page = teacher.get(&tile);
        assert_eq!(page.status, 200, "{label}: {}", page.body);
        assert!(
            page.body.contains("どのクラスで開きますか"),
            "{}",
            page.body
        );
        let choice = format!("{tile}?class=cls-minami-5-sansu");
        assert!(
            page.body.contains(&format!("{choice}&amp;lang=ja")),
            "{label}: {}",
            page.body
        );
        assert!(page.body.contains("cls-minami-5-kokugo"), "{}", page.body);
        let l = launch(&mut teacher, &mut tool, &choice);
        let claims = jwt_claims(&l.auth.hidden("id_token").expect("id_token"));
        assert_eq!(
            claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"], "cls-minami-5-sansu",
            "{label}"
        );
        let other = teacher.get(&format!("{tile}?class=cls-minami-5-1"));
        assert_eq!(other.status, 403, "{label}: not their class");

        // A pupil (homeroom + two subject classes) goes straight to the homeroom.
        let mut pupil = Browser::new(&s.node, TENANT);
        assert_eq!(pupil.login(PUPIL, PUPIL_PASSWORD).status, 303);
        let l = launch(&mut pupil, &mut tool, &tile);
        let claims = jwt_claims(&l.auth.hidden("id_token").expect("id_token"));
        assert_eq!(
            claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"], CLASS,
            "{label}"
        );
    }
}

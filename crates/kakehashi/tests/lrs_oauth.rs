//! OAuth 2.0 bearer tokens at the LRS, driving the real `kakehashi serve` on SQLite and
//! PostgreSQL: client_credentials tokens with xAPI scopes (Communication 4.2.s2) from the
//! tenant's OpenID Provider, the client's authority on stored statements (Communication
//! 4.1.s4.b1, Data 2.4.9), scope enforcement per resource (403), revocation (RFC 7009) and
//! tenant isolation (401), with HTTP Basic credentials working beside them.

mod common;
mod lrs_support;
mod oidc_support;
mod portal_support;

use common::Env;
use lrs_support::{enc, start, tenant_with_credential, Client, Node};
use oidc_support::{post_form, register, Rp};
use serde_json::{json, Value};

const AGENT: &str = r#"{"objectType":"Agent","account":{"homePage":"https://portal.example.jp","name":"7c0f6b4e"}}"#;

fn statement(learner: &str, activity: &str, title: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "account": {"homePage": "https://portal.example.jp", "name": learner}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ja": "完了した"}},
        "object": {"objectType": "Activity", "id": activity,
            "definition": {"name": {"ja": title}}}
    })
}

/// A client_credentials token for `rp` with `scope` (none: no `scope` parameter).
fn token(node: &Node, tenant: &str, rp: &Rp, scope: Option<&str>) -> String {
    let secret = rp.secret.clone().expect("confidential client");
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let (r, v) = post_form(
        &node.addr,
        tenant,
        "token",
        Some((&rp.client_id, &secret)),
        &form,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// An LRS client sending `Authorization: Bearer TOKEN`.
fn bearer(node: &Node, tenant: &str, token: &str) -> Client {
    Client {
        addr: node.addr.clone(),
        tenant: tenant.to_owned(),
        auth: Some(format!("Bearer {token}")),
        version: Some("1.0.3".into()),
    }
}

fn ids_of(page: &Value) -> Vec<String> {
    page["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn comm_4_2_bearer_tokens_with_xapi_scopes_on_both_databases() {
    for env in Env::both().await {
        let label = env.label();
        let (key, secret) = tenant_with_credential(&env, "city-a", false);
        tenant_with_credential(&env, "city-b", false);
        let writer = register(
            &env,
            "city-a",
            "算数ドリル",
            "https://drill.example/cb",
            &["--xapi-scopes", "statements/write,statements/read/mine"],
        );
        let reader = register(
            &env,
            "city-a",
            "分析",
            "https://bi.example/cb",
            &["--xapi-scopes", "statements/read,state"],
        );
        let plain = register(
            &env,
            "city-a",
            "既定",
            "https://default.example/cb",
            &["--xapi-scopes", "statements/write,statements/read/mine"],
        );
        let unlisted = register(&env, "city-a", "未登録", "https://none.example/cb", &[]);
        let jwt = register(
            &env,
            "city-a",
            "JWTツール",
            "https://jwt.example/cb",
            &["--token-format", "jwt", "--xapi-scopes", "all"],
        );
        let other = register(
            &env,
            "city-b",
            "他市",
            "https://b.example/cb",
            &["--xapi-scopes", "all"],
        );
        let node = start(&env);
        let issuer = format!("{}/t/city-a", node.url);
        let basic = Client::new(&node, "city-a", &key, &secret);

        // The token endpoint grants the xAPI scopes; unknown ones stay invalid_scope.
        let ws = writer.secret.clone().unwrap();
        let (r, v) = post_form(
            &node.addr,
            "city-a",
            "token",
            Some((&writer.client_id, &ws)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "statements/write statements/read/mine"),
            ],
        );
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert_eq!(v["scope"], "statements/write statements/read/mine");
        let w_token = v["access_token"].as_str().unwrap().to_owned();
        let (r, v) = post_form(
            &node.addr,
            "city-a",
            "token",
            Some((&writer.client_id, &ws)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "statements/delete"),
            ],
        );
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_scope"))
        );
        // RFC 6749 5.2 invalid_scope: an xAPI scope the app is not registered for.
        let (r, v) = post_form(
            &node.addr,
            "city-a",
            "token",
            Some((&writer.client_id, &ws)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "statements/read"),
            ],
        );
        assert_eq!(
            (r.status, v["error"].as_str()),
            (400, Some("invalid_scope")),
            "{label}: {v}"
        );
        assert!(v["error_description"]
            .as_str()
            .unwrap()
            .contains("not registered"));

        // statements/write stores; the authority is the client's Agent (Comm 4.1.s4.b1).
        let w = bearer(&node, "city-a", &w_token);
        let r = w.post_json(
            "statements",
            &statement("learner-1", "https://drill.example.jp/a/1", "分数"),
        );
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let mine = r.json()[0].as_str().unwrap().to_owned();
        let got = basic.get(&format!("statements?statementId={mine}"));
        assert_eq!(got.status, 200, "{}", got.text());
        assert_eq!(
            got.json()["authority"],
            json!({"objectType": "Agent", "name": "算数ドリル",
                   "account": {"homePage": issuer, "name": writer.client_id}})
        );

        // HTTP Basic still works, with its own authority.
        let r = basic.post_json(
            "statements",
            &statement("learner-2", "https://drill.example.jp/a/2", "小数"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let theirs = r.json()[0].as_str().unwrap().to_owned();
        let got = basic.get(&format!("statements?statementId={theirs}"));
        assert_eq!(got.json()["authority"]["account"]["name"], key.as_str());

        // statements/read/mine: only the client's own statements, in lists and by id.
        let page = w.get("statements");
        assert_eq!(page.status, 200, "{}", page.text());
        assert_eq!(ids_of(&page.json()), vec![mine.clone()]);
        let page = w.get(&format!(
            "statements?activity={}",
            enc("https://drill.example.jp/a/2")
        ));
        assert_eq!(ids_of(&page.json()), Vec::<String>::new());
        assert_eq!(w.get(&format!("statements?statementId={mine}")).status, 200);
        assert_eq!(
            w.get(&format!("statements?statementId={theirs}")).status,
            404
        );

        // statements/read reads everything but may not write (403 naming the scope).
        let rd = bearer(
            &node,
            "city-a",
            &token(&node, "city-a", &reader, Some("statements/read")),
        );
        let page = rd.get("statements");
        assert_eq!(page.status, 200);
        let mut all = ids_of(&page.json());
        all.sort();
        let mut want = vec![mine.clone(), theirs.clone()];
        want.sort();
        assert_eq!(all, want, "{label}");
        let r = rd.post_json(
            "statements",
            &statement("learner-3", "https://drill.example.jp/a/3", "図形"),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("statements/write"),
            "{}",
            r.text()
        );
        assert!(r
            .header("WWW-Authenticate")
            .unwrap_or("")
            .contains("insufficient_scope"));
        // ... nor touch State, Profiles or the Activities resource.
        let state = format!(
            "activities/state?activityId={}&agent={}&stateId=bookmark",
            enc("https://drill.example.jp/a/1"),
            enc(AGENT)
        );
        let r = rd.get(&state);
        assert_eq!(r.status, 403);
        assert!(r.text().contains("state"), "{}", r.text());
        let r = rd.get(&format!(
            "activities?activityId={}",
            enc("https://drill.example.jp/a/1")
        ));
        assert_eq!(r.status, 403);
        assert!(r.text().contains("all/read"), "{}", r.text());

        // `state` reads and writes State documents.
        let st = bearer(
            &node,
            "city-a",
            &token(&node, "city-a", &reader, Some("state")),
        );
        let r = st.put_json(&state, &json!({"page": 3}));
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(st.get(&state).json(), json!({"page": 3}));
        assert_eq!(
            st.get(&format!(
                "activities/profile?activityId={}&profileId=p",
                enc("https://drill.example.jp/a/1")
            ))
            .status,
            403
        );

        // A JWT access token with `all`: writes, reads everything, and (with `define`
        // implied) updates canonical Activity definitions; `statements/write` alone does not.
        let all_token = token(&node, "city-a", &jwt, Some("all"));
        assert_eq!(all_token.split('.').count(), 3, "a JWT");
        let a = bearer(&node, "city-a", &all_token);
        let r = a.post_json(
            "statements",
            &statement("learner-4", "https://drill.example.jp/a/4", "時計"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let by_jwt = r.json()[0].as_str().unwrap().to_owned();
        let got = a.get(&format!("statements?statementId={by_jwt}"));
        assert_eq!(
            got.json()["authority"]["account"],
            json!({"homePage": issuer, "name": jwt.client_id})
        );
        assert_eq!(ids_of(&a.get("statements").json()).len(), 3);
        let activity = |id: &str| {
            a.get(&format!("activities?activityId={}", enc(id)))
                .json()
                .get("definition")
                .cloned()
        };
        assert_eq!(
            activity("https://drill.example.jp/a/4"),
            Some(json!({"name": {"ja": "時計"}}))
        );
        let r = w.post_json(
            "statements",
            &statement("learner-1", "https://drill.example.jp/a/5", "未定義"),
        );
        assert_eq!(r.status, 200);
        assert_eq!(activity("https://drill.example.jp/a/5"), None, "{label}");

        // RFC 6749 3.3: without a scope the app's registered scopes are granted (for this app
        // statements/write and statements/read/mine, Communication 4.2.s6.b2's default): it
        // writes and reads its own.
        let d = bearer(&node, "city-a", &token(&node, "city-a", &plain, None));
        let r = d.post_json(
            "statements",
            &statement("learner-5", "https://drill.example.jp/a/6", "既定"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let default_id = r.json()[0].as_str().unwrap().to_owned();
        assert_eq!(ids_of(&d.get("statements").json()), vec![default_id]);
        // A token with only the roster scope gets nothing from the LRS.
        let ro = bearer(
            &node,
            "city-a",
            &token(&node, "city-a", &reader, Some("roster")),
        );
        assert_eq!(ro.get("statements").status, 403);
        // Privacy by default: an app registered without xAPI scopes reaches nothing, even
        // with a token that has no scope at all.
        let none = bearer(&node, "city-a", &token(&node, "city-a", &unlisted, None));
        assert_eq!(none.get("statements").status, 403, "{label}");
        let r = none.post_json(
            "statements",
            &statement("learner-9", "https://drill.example.jp/a/9", "なし"),
        );
        assert_eq!(r.status, 403, "{label}: {}", r.text());

        // RFC 7009: a revoked token is refused (401, invalid_token).
        let (r, _) = post_form(
            &node.addr,
            "city-a",
            "revoke",
            Some((&writer.client_id, &ws)),
            &[("token", &w_token)],
        );
        assert_eq!(r.status, 200);
        let r = w.post_json(
            "statements",
            &statement("learner-1", "https://drill.example.jp/a/1", "分数"),
        );
        assert_eq!(r.status, 401, "{label}: {}", r.text());
        assert!(r
            .header("WWW-Authenticate")
            .unwrap_or("")
            .contains("invalid_token"));
        assert_eq!(w.get("statements").status, 401);

        // Tenant B's token is unknown at tenant A (and works at B).
        let b_token = token(&node, "city-b", &other, Some("all"));
        assert_eq!(
            bearer(&node, "city-a", &b_token).get("statements").status,
            401
        );
        let at_b = bearer(&node, "city-b", &b_token).get("statements");
        assert_eq!(at_b.status, 200, "{}", at_b.text());
        assert_eq!(ids_of(&at_b.json()), Vec::<String>::new());
        // An unknown token and a missing Authorization header are 401.
        assert_eq!(
            bearer(&node, "city-a", "nope").get("statements").status,
            401
        );
        let mut none = basic.clone();
        none.auth = None;
        assert_eq!(none.get("statements").status, 401);
    }
}

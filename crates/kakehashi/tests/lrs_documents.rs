//! The LRS document resources over HTTP on SQLite and PostgreSQL: State, Activity Profile
//! and Agent Profile (Communication 2.3, 2.6, 2.7), ETag concurrency (Communication 3.1),
//! JSON merge on POST, and the Activities and Agents resources.

mod common;
mod lrs_support;

use common::Env;
use lrs_support::{enc, start, tenant_with_credential, Client};
use serde_json::json;

const AGENT: &str = r#"{"objectType":"Agent","account":{"homePage":"https://portal.example.jp","name":"7c0f6b4e"}}"#;

#[tokio::test]
async fn documents_etags_merge_and_preconditions_on_both_databases() {
    for env in Env::both().await {
        let (key, secret) = tenant_with_credential(&env, "city-a", false);
        let node = start(&env);
        let c = Client::new(&node, "city-a", &key, &secret);
        let label = env.label();
        let state = format!(
            "activities/state?activityId={}&agent={}&stateId=bookmark",
            enc("https://drill.example.jp/a/1"),
            enc(AGENT)
        );
        // PUT then GET: the content, its type and a quoted SHA-1 ETag.
        let r = c.put_json(&state, &json!({"page": 3, "メモ": "分数"}));
        assert_eq!(r.status, 204, "{label}: {}", r.text());
        let got = c.get(&state);
        assert_eq!(got.status, 200);
        assert_eq!(got.json(), json!({"page": 3, "メモ": "分数"}));
        let tag = got.header("ETag").expect("etag").to_owned();
        assert_eq!(tag.len(), 42, "{tag}");
        assert!(got.header("Last-Modified").is_some());
        // POST merges JSON objects.
        let r = c.post_json(&state, &json!({"page": 4, "done": true}));
        assert_eq!(r.status, 204);
        assert_eq!(
            c.get(&state).json(),
            json!({"page": 4, "メモ": "分数", "done": true})
        );
        // If-Match with a stale tag: 412; with the current one: 204.
        let stale = c.send(
            "PUT",
            &state,
            &[("Content-Type", "application/json"), ("If-Match", &tag)],
            b"{}",
        );
        assert_eq!(stale.status, 412);
        let now = c.get(&state).header("ETag").unwrap().to_owned();
        let ok = c.send(
            "PUT",
            &state,
            &[("Content-Type", "application/json"), ("If-Match", &now)],
            b"{\"x\":1}",
        );
        assert_eq!(ok.status, 204);
        // The ids of the set, then DELETE.
        let list = format!(
            "activities/state?activityId={}&agent={}",
            enc("https://drill.example.jp/a/1"),
            enc(AGENT)
        );
        assert_eq!(c.get(&list).json(), json!(["bookmark"]));
        assert_eq!(c.send("DELETE", &state, &[], b"").status, 204);
        assert_eq!(c.get(&state).status, 404);

        // Profiles: PUT needs a precondition header (400 new, 409 existing).
        let profile = format!("agents/profile?agent={}&profileId=prefs", enc(AGENT));
        assert_eq!(c.put_json(&profile, &json!({"lang": "ja"})).status, 400);
        let r = c.send(
            "PUT",
            &profile,
            &[("Content-Type", "application/json"), ("If-None-Match", "*")],
            b"{\"lang\":\"ja\"}",
        );
        assert_eq!(r.status, 204);
        assert_eq!(c.put_json(&profile, &json!({"lang": "en"})).status, 409);
        assert_eq!(
            c.send(
                "PUT",
                &profile,
                &[("Content-Type", "application/json"), ("If-None-Match", "*")],
                b"{}"
            )
            .status,
            412
        );
        assert_eq!(c.get(&profile).json(), json!({"lang": "ja"}));
        // Missing required parameters are 400 naming them.
        let r = c.get("activities/state?stateId=x");
        assert_eq!(r.status, 400);
        assert!(r.text().contains("query.activityId"), "{}", r.text());

        // Activities: the canonical definition from statements; Agents: the Person object.
        let s = json!({"actor": serde_json::from_str::<serde_json::Value>(AGENT).unwrap(),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "https://drill.example.jp/a/9", "definition": {"name": {"ja": "漢字"}}}});
        assert_eq!(c.post_json("statements", &s).status, 200);
        let a = c
            .get(&format!(
                "activities?activityId={}",
                enc("https://drill.example.jp/a/9")
            ))
            .json();
        assert_eq!(a["definition"]["name"]["ja"], "漢字");
        let p = c.get(&format!("agents?agent={}", enc(AGENT))).json();
        assert_eq!(p["objectType"], "Person");
        assert_eq!(p["account"][0]["name"], "7c0f6b4e");
    }
}

//! The xAPI LRS over HTTP, driving the real `kakehashi serve` on SQLite and PostgreSQL:
//! statements (Communication 2.1; Data 2.3), headers (Communication 3.3), authentication and
//! tenant isolation (Communication 4), Japanese data kept exactly.

mod common;
mod lrs_support;

use common::Env;
use lrs_support::{enc, start, tenant_with_credential, Client};
use serde_json::{json, Value};

const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

fn statement(id: Option<&str>, learner: &str, verb: &str, activity: &str) -> Value {
    let mut s = json!({
        "actor": {"objectType": "Agent", "account": {"homePage": "https://portal.example.jp", "name": learner}},
        "verb": {"id": verb, "display": {"ja": "完了した", "en-US": "completed"}},
        "object": {"objectType": "Activity", "id": activity,
            "definition": {"name": {"ja": "算数ドリル 分数のたし算", "en": "Fractions drill"}}},
        "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7", "language": "ja-JP"}
    });
    if let Some(id) = id {
        s["id"] = json!(id);
    }
    s
}

#[tokio::test]
async fn statements_store_query_void_and_conflict_on_both_databases() {
    for env in Env::both().await {
        let (key, secret) = tenant_with_credential(&env, "city-a", false);
        let node = start(&env);
        let c = Client::new(&node, "city-a", &key, &secret);
        let label = env.label();

        // About needs neither credentials nor a version header (Communication 2.8).
        let about = c.with_version(None).get("about");
        assert_eq!(about.status, 200, "{label}");
        let versions = about.json()["version"].clone();
        assert!(versions.as_array().unwrap().contains(&json!("2.0.0")));
        assert!(versions.as_array().unwrap().contains(&json!("1.0.3")));

        // The version header is required and answered (Communication 3.3).
        let r = c.with_version(None).get("statements");
        assert_eq!(r.status, 400, "{label}: {}", r.text());
        assert!(
            r.text().contains("X-Experience-API-Version"),
            "{}",
            r.text()
        );
        assert_eq!(c.with_version(Some("0.95")).get("statements").status, 400);
        let r = c.with_version(Some("2.0.0")).get("statements");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-Experience-API-Version"), Some("2.0.0"));
        assert!(r.header("X-Experience-API-Consistent-Through").is_some());

        // POST a single statement: ids back, stored exactly (ja maps, account actor).
        let s1 = statement(
            None,
            "7c0f6b4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
            "http://adlnet.gov/expapi/verbs/completed",
            "https://drill.example.jp/a/1",
        );
        let r = c.post_json("statements", &s1);
        assert_eq!(r.status, 200, "{label}: {}", r.text());
        let id1 = r.json()[0].as_str().unwrap().to_owned();
        let got = c.get(&format!("statements?statementId={id1}"));
        assert_eq!(got.status, 200);
        assert!(got.header("Last-Modified").is_some());
        let g = got.json();
        assert_eq!(
            g["object"]["definition"]["name"]["ja"],
            "算数ドリル 分数のたし算"
        );
        assert_eq!(g["verb"]["display"]["ja"], "完了した");
        assert_eq!(
            g["actor"]["account"]["name"],
            "7c0f6b4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
        );
        assert_eq!(g["authority"]["account"]["name"], key.as_str());
        assert!(g["stored"].is_string() && g["timestamp"].is_string() && g["version"] == "1.0.0");

        // PUT: 204; the same again is a no-op; a different statement with that id is 409.
        let id2 = "11111111-2222-4333-8444-555555555555";
        let s2 = statement(
            Some(id2),
            "learner-2",
            "http://adlnet.gov/expapi/verbs/attempted",
            "https://drill.example.jp/a/2",
        );
        assert_eq!(
            c.put_json(&format!("statements?statementId={id2}"), &s2)
                .status,
            204
        );
        assert_eq!(
            c.put_json(&format!("statements?statementId={id2}"), &s2)
                .status,
            204
        );
        let mut other = s2.clone();
        other["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/passed");
        assert_eq!(
            c.put_json(&format!("statements?statementId={id2}"), &other)
                .status,
            409
        );
        assert_eq!(c.post_json("statements", &json!([other])).status, 409);
        // PUT without statementId, or with a different id in the body: 400.
        assert_eq!(c.put_json("statements", &s2).status, 400);

        // A batch is all or nothing: one bad statement and none is stored.
        let good = statement(
            Some("22222222-2222-4333-8444-555555555555"),
            "learner-3",
            "http://adlnet.gov/expapi/verbs/completed",
            "https://drill.example.jp/a/3",
        );
        let mut bad = statement(
            None,
            "learner-3",
            "http://adlnet.gov/expapi/verbs/completed",
            "https://drill.example.jp/a/3",
        );
        bad["actor"] = json!({"mbox": "not-an-email"});
        let r = c.post_json("statements", &json!([good, bad]));
        assert_eq!(r.status, 400);
        assert!(r.text().contains("statements[1].actor"), "{}", r.text());
        assert_eq!(
            c.get("statements?statementId=22222222-2222-4333-8444-555555555555")
                .status,
            404
        );
        // Bad query parameters are 400 naming the parameter, never 500.
        let r = c.get("statements?since=yesterday");
        assert_eq!(r.status, 400);
        assert!(r.text().contains("query.since"), "{}", r.text());
        assert_eq!(c.get("statements?StatementId=x").status, 400);

        // Filters: agent (account), verb, activity, registration.
        let agent =
            enc(r#"{"account":{"homePage":"https://portal.example.jp","name":"learner-2"}}"#);
        let r = c.get(&format!("statements?agent={agent}")).json();
        assert_eq!(r["statements"].as_array().unwrap().len(), 1, "{label}: {r}");
        assert_eq!(r["statements"][0]["id"], id2);
        let r = c
            .get(&format!(
                "statements?verb={}",
                enc("http://adlnet.gov/expapi/verbs/completed")
            ))
            .json();
        assert_eq!(r["statements"].as_array().unwrap().len(), 1);
        let r = c
            .get(&format!(
                "statements?activity={}",
                enc("https://drill.example.jp/a/2")
            ))
            .json();
        assert_eq!(r["statements"][0]["id"], id2);
        let r = c
            .get("statements?registration=ec531277-b57b-4c15-8d91-d292c5b2b8f7")
            .json();
        assert_eq!(r["statements"].as_array().unwrap().len(), 2);

        // Voiding: the target disappears from lists and statementId, stays at voidedStatementId.
        let void = json!({"actor": {"mbox": "mailto:teacher@example.jp"}, "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": id2}});
        let r = c.post_json("statements", &void);
        assert_eq!(r.status, 200, "{}", r.text());
        let void_id = r.json()[0].as_str().unwrap().to_owned();
        assert_eq!(c.get(&format!("statements?statementId={id2}")).status, 404);
        assert_eq!(
            c.get(&format!("statements?voidedStatementId={id2}")).status,
            200
        );
        // The voiding statement meets its target's filters (Communication 2.1.4).
        let r = c.get(&format!("statements?agent={agent}")).json();
        assert_eq!(r["statements"].as_array().unwrap().len(), 1);
        assert_eq!(r["statements"][0]["id"], void_id.as_str());
        // A voiding statement cannot be voided.
        let again = json!({"actor": {"mbox": "mailto:teacher@example.jp"}, "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": void_id}});
        assert_eq!(c.post_json("statements", &again).status, 400);

        // Paging: limit=1 with `more` walks every statement exactly once, newest first.
        let batch: Vec<Value> = (0..5)
            .map(|i| {
                statement(
                    None,
                    &format!("p{i}"),
                    "http://adlnet.gov/expapi/verbs/answered",
                    "https://drill.example.jp/q",
                )
            })
            .collect();
        let ids: Vec<String> = c
            .post_json("statements", &json!(batch))
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let mut seen = Vec::new();
        let mut next = format!(
            "statements?verb={}&limit=2",
            enc("http://adlnet.gov/expapi/verbs/answered")
        );
        loop {
            let page = c.get(&next).json();
            for s in page["statements"].as_array().unwrap() {
                seen.push(s["id"].as_str().unwrap().to_owned());
            }
            // Something stored meanwhile does not disturb the walk.
            c.post_json(
                "statements",
                &statement(
                    None,
                    "late",
                    "http://adlnet.gov/expapi/verbs/answered",
                    "https://drill.example.jp/q",
                ),
            );
            match page["more"].as_str() {
                Some(m) if !m.is_empty() => next = m.to_owned(),
                _ => break,
            }
        }
        let mut expected = ids.clone();
        expected.reverse();
        assert_eq!(seen, expected, "{label}");
        let asc = c
            .get(&format!(
                "statements?verb={}&ascending=true&limit=1",
                enc("http://adlnet.gov/expapi/verbs/answered")
            ))
            .json();
        assert_eq!(asc["statements"][0]["id"], ids[0].as_str());

        // No or wrong credentials: 401. Read-only credentials cannot write: 403.
        let mut anon = c.clone();
        anon.auth = None;
        assert_eq!(anon.get("statements").status, 401);
        let mut wrong = c.clone();
        wrong.auth = Some("Basic Zm9vOmJhcg==".into());
        assert_eq!(wrong.get("statements").status, 401);
    }
}

#[tokio::test]
async fn a_tenants_credential_sees_nothing_of_another_tenant() {
    for env in Env::both().await {
        let (ka, sa) = tenant_with_credential(&env, "city-a", false);
        let (kb, sb) = tenant_with_credential(&env, "city-b", true);
        let node = start(&env);
        let a = Client::new(&node, "city-a", &ka, &sa);
        let r = a.post_json(
            "statements",
            &statement(
                None,
                "x",
                "http://adlnet.gov/expapi/verbs/completed",
                "https://drill.example.jp/a/1",
            ),
        );
        assert_eq!(r.status, 200);
        let id = r.json()[0].as_str().unwrap().to_owned();
        // A's credential on B's endpoint: 401.
        let a_on_b = Client::new(&node, "city-b", &ka, &sa);
        assert_eq!(a_on_b.get("statements").status, 401, "{}", env.label());
        // B's own (read-only) credential sees none of A's statements, and cannot write.
        let b = Client::new(&node, "city-b", &kb, &sb);
        assert_eq!(b.get(&format!("statements?statementId={id}")).status, 404);
        assert_eq!(b.get("statements").json()["statements"], json!([]));
        assert_eq!(
            b.post_json(
                "statements",
                &statement(
                    None,
                    "x",
                    "http://adlnet.gov/expapi/verbs/completed",
                    "https://x.example.jp/1"
                )
            )
            .status,
            403
        );
    }
}

/// Communication 2.1.3 format=canonical: Activities come with the LRS's canonical definition
/// (merged from every statement that defined them, Communication 2.5), reduced to the
/// language the caller prefers; `exact` keeps what was sent.
#[tokio::test]
async fn comm_2_1_3_canonical_format_uses_the_canonical_activity_definition() {
    for env in Env::both().await {
        let (k, s) = tenant_with_credential(&env, "city-a", false);
        let node = start(&env);
        let c = Client::new(&node, "city-a", &k, &s);
        let activity = "https://drill.example.jp/math/fractions";
        let first = statement(
            None,
            "p1",
            "http://adlnet.gov/expapi/verbs/completed",
            activity,
        );
        let r = c.post_json("statements", &first);
        assert_eq!(r.status, 200, "{}", r.text());
        let first_id = r.json()[0].as_str().unwrap().to_owned();
        // A later statement renames the Activity in Japanese only.
        let mut second = statement(
            None,
            "p2",
            "http://adlnet.gov/expapi/verbs/completed",
            activity,
        );
        second["object"]["definition"] = json!({"name": {"ja": "分数のたし算 (改訂)"}});
        assert_eq!(c.post_json("statements", &second).status, 200);

        let get = |format: &str, lang: &str| -> Value {
            let r = c.send(
                "GET",
                &format!("statements?statementId={first_id}&format={format}"),
                &[("Accept-Language", lang)],
                b"",
            );
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()
        };
        let ja = get("canonical", "ja-JP, en;q=0.5");
        assert_eq!(
            ja["object"]["definition"]["name"],
            json!({"ja": "分数のたし算 (改訂)"}),
            "{}",
            env.label()
        );
        let en = get("canonical", "en");
        assert_eq!(
            en["object"]["definition"]["name"],
            json!({"en": "Fractions drill"})
        );
        let exact = get("exact", "ja");
        assert_eq!(
            exact["object"]["definition"]["name"],
            json!({"ja": "算数ドリル 分数のたし算", "en": "Fractions drill"})
        );
        // Lists too.
        let r = c.send(
            "GET",
            "statements?format=canonical",
            &[("Accept-Language", "ja")],
            b"",
        );
        for st in r.json()["statements"].as_array().unwrap() {
            assert_eq!(
                st["object"]["definition"]["name"],
                json!({"ja": "分数のたし算 (改訂)"})
            );
        }
    }
}

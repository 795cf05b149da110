//! Learning records joined to the roster (issue 6, "Japan"): statements whose actor is an
//! `account` agent with the pupil's userMasterIdentifier at the tenant's portal are matched to
//! the pupils of a class for `kakehashi lrs class-report`; other agents and voided statements
//! are not; the read is audited. SQLite and PostgreSQL.

mod common;
mod lrs_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{demo_package, Env};
use lrs_support::{start, Client};
use serde_json::json;

/// (class sourcedId, its pupils' (username, userMasterIdentifier)) of the first class of the
/// package with at least two pupils.
fn a_class_of(pkg: &Path) -> (String, Vec<(String, String)>) {
    let read = |name: &str| -> Vec<BTreeMap<String, String>> {
        let mut r = csv::Reader::from_path(pkg.join(name)).expect(name);
        let headers = r.headers().unwrap().clone();
        r.records()
            .map(|row| {
                let row = row.unwrap();
                headers
                    .iter()
                    .map(str::to_owned)
                    .zip(row.iter().map(str::to_owned))
                    .collect()
            })
            .collect()
    };
    let users: BTreeMap<String, (String, String)> = read("users.csv")
        .into_iter()
        .map(|u| {
            (
                u["sourcedId"].clone(),
                (u["username"].clone(), u["userMasterIdentifier"].clone()),
            )
        })
        .collect();
    let mut classes: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for e in read("enrollments.csv")
        .into_iter()
        .filter(|e| e["role"] == "student")
    {
        if let Some(u) = users.get(&e["userSourcedId"]) {
            classes
                .entry(e["classSourcedId"].clone())
                .or_default()
                .insert(u.clone());
        }
    }
    let (class, pupils) = classes
        .into_iter()
        .find(|(_, p)| p.len() >= 2)
        .expect("a class with two pupils");
    (class, pupils.into_iter().collect())
}

fn statement(home_page: &str, name: &str, score: f64) -> serde_json::Value {
    json!({
        "actor": {"objectType": "Agent", "account": {"homePage": home_page, "name": name}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                 "display": {"en-US": "completed", "ja-JP": "完了した"}},
        "object": {"id": "https://drill.example.jp/math/5/fractions",
                   "definition": {"name": {"ja-JP": "分数のたし算", "en-US": "Adding fractions"}}},
        "result": {"score": {"scaled": score}, "success": true, "completion": true}
    })
}

#[tokio::test]
async fn a_class_report_joins_pupils_to_their_statements() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        let (class, pupils) = a_class_of(&pkg);
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A市"])
            .ok();
        env.run(&[
            "oneroster",
            "import",
            "--tenant",
            "city-a",
            pkg.to_str().unwrap(),
        ])
        .ok();
        let (key, secret) = {
            let out = env
                .run(&[
                    "lrs",
                    "credential",
                    "add",
                    "--tenant",
                    "city-a",
                    "--name",
                    "ドリル",
                    "--format",
                    "json",
                ])
                .ok();
            let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
            (
                v["key"].as_str().unwrap().to_owned(),
                v["secret"].as_str().unwrap().to_owned(),
            )
        };
        let node = start(&env);
        let lrs = Client::new(&node, "city-a", &key, &secret);
        let portal = format!("{}/t/city-a", node.url);
        let (first, second) = (&pupils[0], &pupils[1]);
        // The first pupil: two statements (homePage with and without the slash) and one that
        // is voided afterwards; the second: one. Someone outside the roster: one.
        for (hp, score) in [(portal.clone(), 0.5), (format!("{portal}/"), 0.9)] {
            let r = lrs.post_json("statements", &statement(&hp, &first.1, score));
            assert_eq!(r.status, 200, "{}", r.text());
        }
        let r = lrs.post_json("statements", &statement(&portal, &first.1, 0.1));
        let voided_id = r.json()[0].as_str().unwrap().to_owned();
        let r = lrs.post_json(
            "statements",
            &json!({
                "actor": {"account": {"homePage": portal, "name": "teacher-tool"}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
                "object": {"objectType": "StatementRef", "id": voided_id}
            }),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let r = lrs.post_json("statements", &statement(&portal, &second.1, 1.0));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = lrs.post_json(
            "statements",
            &statement("https://other.example/", &second.1, 0.0),
        );
        assert_eq!(r.status, 200, "{}", r.text());

        let out = env
            .run(&[
                "lrs",
                "class-report",
                "--tenant",
                "city-a",
                "--class",
                &class,
                "--public-url",
                &node.url,
                "--format",
                "json",
            ])
            .ok();
        let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("report JSON");
        let count = |username: &str| {
            report["pupils"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["username"] == username)
                .map(|p| p["statements"].as_i64().unwrap())
        };
        assert_eq!(count(&first.0), Some(2), "{}: {report:#}", env.label());
        assert_eq!(count(&second.0), Some(1), "{}: {report:#}", env.label());
        assert_eq!(report["pupils"].as_array().unwrap().len(), pupils.len());
        let recent = report["recent"].as_array().unwrap();
        assert_eq!(recent.len(), 3, "{}: {report:#}", env.label());
        // Newest first, Japanese displays, the other homePage's statement not there.
        assert_eq!(recent[0]["username"], second.0.as_str());
        assert_eq!(recent[0]["score_scaled"], 1.0);
        assert_eq!(recent[0]["verb_display"], "完了した");
        assert_eq!(recent[0]["activity_name"], "分数のたし算");
        assert_eq!(recent[1]["score_scaled"], 0.9);
        assert_eq!(recent[2]["score_scaled"], 0.5);

        // An unknown class is an error naming it.
        let r = env
            .run(&[
                "lrs",
                "class-report",
                "--tenant",
                "city-a",
                "--class",
                "no-such-class",
            ])
            .code(1);
        assert!(r.stderr.contains("no-such-class"), "{}", r.stderr);

        // The read is in the audit log, and the chain holds.
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .unwrap();
        let tenant = kakehashi_store::TenantId::parse("city-a").unwrap();
        let recent = kakehashi_store::audit::recent(&store, Some(&tenant), 5)
            .await
            .unwrap();
        assert!(
            recent.iter().any(
                |e| e.action == "lrs.class_report.read" && e.target == format!("class:{class}")
            ),
            "{}: {recent:?}",
            env.label()
        );
        env.run(&["audit", "verify"]).ok();
    }
}

//! Interop: npm ltijs 5.9.9 (pinned in tests/js/package-lock.json; ltijs-sequelize on the test
//! PostgreSQL through the pure-JS `pg`) as a second LTI 1.3 tool against the real
//! `kakehashi serve`, on SQLite and PostgreSQL: a teacher's deep link, a pupil's launch of
//! the linked content, NRPS and an AGS score, each validated or called by ltijs itself.

#![allow(unused_imports)] // portal_support re-exports what other test binaries use

mod common;
mod js_support;
mod lti_support;
mod portal_support;

use common::Env;
use lti_support::*;
use portal_support::*;
use serde_json::Value;

const CLAIM: &str = "https://purl.imsglobal.org/spec/lti/claim/";

#[tokio::test]
async fn ltijs_deep_links_launches_and_calls_nrps_and_ags() {
    for env in Env::both().await {
        let pg = LtijsDb::create().await;
        let node = start(&env, &["--demo"]);
        let mut tool = Tool::start_ltijs(&pg);
        let reg = tool.register_ltijs(&env, &node, TENANT);
        let client_id = reg["client_id"].as_str().unwrap().to_owned();

        // Deep Linking: ltijs builds the response, the browser posts it back to us.
        let mut teacher = Browser::new(&node, TENANT);
        teacher.login(TEACHER, TEACHER_PASSWORD);
        let dl = launch(
            &mut teacher,
            &mut tool,
            &format!("/t/{TENANT}/lti/tools/{client_id}/deep-link?class={CLASS}"),
        );
        assert_eq!(
            dl.tool.status,
            200,
            "{}: ltijs: {}",
            env.label(),
            dl.tool.body
        );
        let jwt = dl
            .tool
            .hidden("JWT")
            .unwrap_or_else(|| panic!("no JWT: {}", dl.tool.body));
        let added = teacher.post(&path_of(&form_action(&dl.tool)), &[("JWT", &jwt)]);
        assert_eq!(added.status, 200, "{}: {}", env.label(), added.body);
        assert!(added.body.contains("ltijs の図形ドリル"), "{}", added.body);

        // The pupil launches the linked content; ltijs validates and calls the services.
        let mut pupil = Browser::new(&node, TENANT);
        pupil.login(PUPIL, PUPIL_PASSWORD);
        let page = pupil.get(&format!("/t/{TENANT}/"));
        let start_path = page
            .body
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("/lti/links/"))
            .expect("the linked content on the pupil's launcher")
            .replace("&amp;", "&");
        let l = launch(&mut pupil, &mut tool, &start_path);
        assert_eq!(
            l.tool.status,
            200,
            "{}: ltijs: {}",
            env.label(),
            l.tool.body
        );
        let v: Value = serde_json::from_str(&l.tool.body)
            .unwrap_or_else(|_| panic!("ltijs answered: {}", l.tool.body));
        assert_eq!(v["errors"], serde_json::json!([]), "{}: {v}", env.label());
        let sub = v["claims"]["user"]
            .as_str()
            .expect("ltijs's user")
            .to_owned();
        assert_eq!(query_param(&l.login_url, "login_hint").unwrap(), sub);
        assert_eq!(v["context"]["context"]["id"], CLASS, "{v}");
        assert_eq!(v["context"]["custom"]["unit"], "shapes", "{v}");
        let members = v["members"].as_array().expect("members");
        assert_eq!(members.len(), 11);
        assert!(members.iter().any(|m| m["user_id"] == sub.as_str()));
        let scores = v["scores"].as_array().expect("scores");
        assert_eq!(scores.len(), 1, "{v}");
        assert_eq!(scores[0]["userId"], sub.as_str());
        assert_eq!(scores[0]["resultScore"], 80.0);
        let _ = CLAIM;
        drop(tool);
        pg.drop_database().await;
    }
}

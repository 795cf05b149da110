//! Interop: PyPI PyLTI1p3 (pinned in scripts/test) as the LTI 1.3 tool against the real
//! `kakehashi serve`, on SQLite and PostgreSQL. The tool (tests/interop/lti_tool.py) is a
//! real HTTP server on 127.0.0.1: it validates our login initiation and id_token (signature
//! against our JWKS by kid, state, nonce, registration, deployment, message claims), builds
//! its Deep Linking response, and calls our token endpoint (private_key_jwt), NRPS and AGS.
//! This test plays the browser over plain HTTP and judges what each side saw.

#![allow(unused_imports)] // portal_support re-exports what other test binaries use

mod common;
mod js_support;
mod lti_support;
mod portal_support;

use common::Env;
use lti_support::*;
use portal_support::*;
use serde_json::Value;

const LEARNER: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const INSTRUCTOR: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const CLAIM: &str = "https://purl.imsglobal.org/spec/lti/claim/";

/// The tool's JSON answer to a resource link launch.
fn tool_json(l: &Launched) -> Value {
    assert_eq!(
        l.tool.status, 200,
        "the tool refused the launch: {}",
        l.tool.body
    );
    let v: Value = serde_json::from_str(&l.tool.body).expect("tool JSON");
    assert_eq!(v["ok"], true, "{v}");
    v
}

#[tokio::test]
async fn a_teacher_deep_links_content_and_a_pupil_launches_it_with_nrps_and_ags() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let mut tool = Tool::start(&env, "main");
        let reg = tool.register(&env, &node, TENANT, &[]);
        let client_id = reg["client_id"].as_str().expect("client_id").to_owned();
        let deployment_id = reg["deployment_id"]
            .as_str()
            .expect("deployment")
            .to_owned();
        assert_eq!(reg["issuer"], format!("{}/t/{TENANT}", node.url));
        assert_eq!(reg["jwks_uri"], format!("{}/t/{TENANT}/jwks", node.url));

        // The teacher adds content to the class from the tool (Deep Linking 2.0).
        let mut teacher = Browser::new(&node, TENANT);
        assert_eq!(teacher.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let launcher = teacher.get(&format!("/t/{TENANT}/"));
        let add = format!("/t/{TENANT}/lti/tools/{client_id}/deep-link?class={CLASS}");
        assert!(
            launcher.body.contains(&add.replace('&', "&amp;")),
            "{}: the teacher's launcher offers adding content: {}",
            env.label(),
            launcher.body
        );
        let dl = launch(&mut teacher, &mut tool, &add);
        // Security Framework 5.1.1.1: every login initiation parameter.
        for p in [
            "iss",
            "login_hint",
            "target_link_uri",
            "lti_message_hint",
            "client_id",
            "lti_deployment_id",
        ] {
            assert!(
                query_param(&dl.login_url, p).is_some(),
                "{p}: {}",
                dl.login_url
            );
        }
        assert_eq!(
            query_param(&dl.login_url, "lti_deployment_id").unwrap(),
            deployment_id
        );
        // The id_token the tool accepted: a deep linking request in the class.
        let token = dl.auth.hidden("id_token").unwrap();
        let claims = jwt_claims(&token);
        assert_eq!(
            claims[format!("{CLAIM}message_type")],
            "LtiDeepLinkingRequest"
        );
        let settings =
            &claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"];
        assert_eq!(
            settings["deep_link_return_url"],
            format!("{}/t/{TENANT}/lti/deep-link-return", node.url)
        );
        assert!(claims[format!("{CLAIM}roles")]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == INSTRUCTOR));
        // PyLTI1p3 answered with its auto-submitting form; the browser posts it to us.
        assert_eq!(dl.tool.status, 200, "{}", dl.tool.body);
        let jwt = dl
            .tool
            .hidden("JWT")
            .expect("the tool's deep linking response");
        let ret = form_action(&dl.tool);
        let added = teacher.post(&path_of(&ret), &[("JWT", &jwt)]);
        assert_eq!(added.status, 200, "{}: {}", env.label(), added.body);
        assert!(added.body.contains("分数のドリル") && added.body.contains("漢字の書き取り"));
        // The same response again: refused (its data was answered already).
        let again = teacher.post(&path_of(&ret), &[("JWT", &jwt)]);
        assert_eq!(again.status, 400, "{}", again.body);

        // A pupil of the class sees the links and launches one (new window).
        let mut pupil = Browser::new(&node, TENANT);
        assert_eq!(pupil.login(PUPIL, PUPIL_PASSWORD).status, 303);
        let page = pupil.get(&format!("/t/{TENANT}/"));
        let start = page
            .body
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("/lti/links/"))
            .unwrap_or_else(|| panic!("no class material on the pupil's launcher: {}", page.body))
            .replace("&amp;", "&");
        assert!(
            !page.body.contains("deep-link?class"),
            "pupils cannot add content"
        );
        let l = launch(&mut pupil, &mut tool, &start);
        let v = tool_json(&l);
        let c = &v["claims"];
        assert_eq!(c[format!("{CLAIM}message_type")], "LtiResourceLinkRequest");
        assert_eq!(c[format!("{CLAIM}version")], "1.3.0");
        assert_eq!(c[format!("{CLAIM}deployment_id")], deployment_id.as_str());
        assert_eq!(c[format!("{CLAIM}context")]["id"], CLASS);
        let custom = &c[format!("{CLAIM}custom")];
        assert_eq!(custom["unit"], "fractions");
        // LTI Core 1.3 §5.4.6: variables substituted; names not released stay variables.
        assert_eq!(custom["learner"], c["sub"], "{custom}");
        assert_eq!(custom["class_title"], c[format!("{CLAIM}context")]["title"]);
        assert!(
            custom["roles"]
                .as_str()
                .unwrap()
                .contains("membership#Learner"),
            "{custom}"
        );
        assert_eq!(custom["learner_name"], "$Person.name.full");
        assert_eq!(
            c[format!("{CLAIM}launch_presentation")]["document_target"],
            "window"
        );
        assert!(c[format!("{CLAIM}target_link_uri")]
            .as_str()
            .unwrap()
            .ends_with("/launch?item=fractions"));
        assert!(c[format!("{CLAIM}roles")]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == LEARNER));
        // Privacy by default: a pairwise sub, no name or e-mail, never the sourcedId.
        let sub = c["sub"].as_str().unwrap().to_owned();
        assert_eq!(query_param(&l.login_url, "login_hint").unwrap(), sub);
        assert!(!sub.contains("usr-minami"), "{sub}");
        assert!(c.get("name").is_none() && c.get("email").is_none(), "{c}");
        // Security Framework 5.1.2 / our notes: aud is a string; the header names the kid.
        assert!(c["aud"].is_string());
        assert_eq!(v["errors"], serde_json::json!([]), "{}: {v}", env.label());

        // NRPS 2.0: the class's members, pseudonymous, the pupil among them as a Learner.
        let members = v["members"].as_array().expect("members");
        assert_eq!(members.len(), 11, "{}: {members:?}", env.label());
        let me = members
            .iter()
            .find(|m| m["user_id"] == sub.as_str())
            .expect("the pupil");
        assert!(me["roles"].as_array().unwrap().iter().any(|r| r == LEARNER));
        assert!(members.iter().all(|m| m.get("name").is_none()));
        assert!(members.iter().any(|m| m["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == INSTRUCTOR)));

        // AGS 2.0: a line item made by the tool, 7/10 for the pupil, read back as a result.
        let grades = v["grades"].as_array().expect("grades");
        assert_eq!(grades.len(), 1, "{grades:?}");
        assert_eq!(grades[0]["userId"], sub.as_str());
        assert_eq!(grades[0]["resultScore"], 7.0);
        assert_eq!(grades[0]["resultMaximum"], 10.0);
        // The deep-linked line item and the tool's own are both listed.
        let labels: Vec<&str> = v["lineitems"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["label"].as_str())
            .collect();
        assert!(
            labels.contains(&"分数のドリル") && labels.contains(&"小テスト 1"),
            "{labels:?}"
        );
        // Each score is also an xAPI statement in the tenant's LRS.
        let statements = statements_with_verb(&env, "http://adlnet.gov/expapi/verbs/scored").await;
        assert_eq!(statements.len(), 1, "{}", env.label());
        assert_eq!(statements[0]["result"]["score"]["raw"], 7.0);
        assert_eq!(statements[0]["result"]["score"]["max"], 10.0);

        // The tile launches too (the tool's launch URL, in the pupil's first class).
        let tile = launch(
            &mut pupil,
            &mut tool,
            &format!("/t/{TENANT}/launch/{client_id}"),
        );
        let v = tool_json(&tile);
        assert!(v["claims"][format!("{CLAIM}resource_link")]["id"]
            .as_str()
            .unwrap()
            .starts_with("tile-"));
    }
}

#[tokio::test]
async fn names_and_email_are_sent_only_when_the_registration_allows_and_umi_as_sub() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    let mut tool = Tool::start(&env, "named");
    let reg = tool.register(
        &env,
        &node,
        TENANT,
        &["--send-name", "--subject", "user-master-identifier"],
    );
    let client_id = reg["client_id"].as_str().unwrap();
    let mut pupil = Browser::new(&node, TENANT);
    pupil.login(PUPIL, PUPIL_PASSWORD);
    let l = launch(
        &mut pupil,
        &mut tool,
        &format!("/t/{TENANT}/launch/{client_id}"),
    );
    let v = tool_json(&l);
    let c = &v["claims"];
    assert!(c["name"].as_str().is_some_and(|n| !n.is_empty()), "{c}");
    assert!(c.get("email").is_none(), "e-mail was not allowed: {c}");
    // The national kits' userMasterIdentifier: a UUID.
    let sub = c["sub"].as_str().unwrap();
    assert_eq!(sub.len(), 36, "{sub}");
    assert!(v["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.get("name").is_some()));
}

/// A tool changed after registration (`lti tool set`) is what the next launch carries, as
/// PyLTI1p3 validates it: names sent once allowed, the new custom parameters (LTI Core 1.3
/// §5.4.6), and the audience narrowed to teachers keeps the pupil out.
#[tokio::test]
async fn a_changed_tool_is_what_the_next_launch_carries() {
    let env = Env::sqlite().await;
    let node = start(&env, &["--demo"]);
    let mut tool = Tool::start(&env, "changed");
    let reg = tool.register(&env, &node, TENANT, &["--custom", "unit=5"]);
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    let tile = format!("/t/{TENANT}/launch/{client_id}");
    let mut pupil = Browser::new(&node, TENANT);
    pupil.login(PUPIL, PUPIL_PASSWORD);
    let custom = "https://purl.imsglobal.org/spec/lti/claim/custom";
    let set = |change: &[&str]| {
        let mut args = vec!["lti", "tool", "set", "--tenant", TENANT, "--id", &client_id];
        args.extend_from_slice(change);
        env.run(&args).ok();
    };
    let c = tool_json(&launch(&mut pupil, &mut tool, &tile))["claims"].clone();
    assert!(c.get("name").is_none(), "names not allowed yet: {c}");
    assert_eq!(c[custom]["unit"], "5", "{c}");
    set(&[
        "--send-name",
        "true",
        "--custom",
        "unit=6",
        "--custom",
        "lang=ja",
    ]);
    let c = tool_json(&launch(&mut pupil, &mut tool, &tile))["claims"].clone();
    assert!(c["name"].as_str().is_some_and(|n| !n.is_empty()), "{c}");
    assert_eq!(c[custom]["unit"], "6", "{c}");
    assert_eq!(c[custom]["lang"], "ja", "{c}");
    set(&["--audience", "teachers"]);
    let r = pupil.get(&tile);
    assert_ne!(r.status, 303, "a pupil no longer launches it: {}", r.body);
}

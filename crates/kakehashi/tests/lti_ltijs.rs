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

#[tokio::test]
async fn lti_dynamic_registration_1_0_registers_ltijs_which_then_launches() {
    for env in Env::both().await {
        let pg = LtijsDb::create().await;
        let node = start(&env, &["--demo"]);
        let mut tool = Tool::start_ltijs_dynreg(&pg);
        // The administrator starts it from the tool's registration URL.
        let run = env
            .run(&[
                "lti",
                "tool",
                "register",
                "--tenant",
                TENANT,
                "--registration-url",
                &format!("{}/register", tool.base),
                "--public-url",
                &node.url,
                "--format",
                "json",
            ])
            .ok();
        let url = serde_json::from_str::<Value>(&run.stdout).unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            query_param(&url, "openid_configuration").unwrap(),
            format!("{}/t/{TENANT}/lti/openid-configuration", node.url)
        );
        let token = query_param(&url, "registration_token").unwrap();
        // The administrator's browser opens it; ltijs reads our configuration and registers.
        let r = tool.send("GET", &url, None);
        assert_eq!(r.status, 200, "{}: ltijs: {}", env.label(), r.body);
        assert!(r.body.contains("org.imsglobal.lti.close"), "{}", r.body);
        let list = env
            .run(&[
                "lti", "tool", "list", "--tenant", TENANT, "--format", "json",
            ])
            .ok();
        let tools: Value = serde_json::from_str(&list.stdout).unwrap();
        let t = &tools.as_array().unwrap()[0];
        assert_eq!(t["name"], "ltijs 動的登録");
        assert_eq!(t["login_url"], format!("{}/login", tool.base));
        assert_eq!(t["jwks_url"], format!("{}/keys", tool.base));
        let client_id = t["client_id"].as_str().unwrap().to_owned();
        // The token was used once: a second registration with it is refused (401).
        let mut s = std::net::TcpStream::connect(&node.addr).unwrap();
        {
            use std::io::Write;
            let body = serde_json::json!({
                "application_type": "web", "response_types": ["id_token"],
                "grant_types": ["implicit", "client_credentials"],
                "initiate_login_uri": format!("{}/login", tool.base),
                "redirect_uris": [format!("{}/", tool.base)],
                "jwks_uri": format!("{}/keys", tool.base),
                "token_endpoint_auth_method": "private_key_jwt",
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                    "domain": "127.0.0.1", "target_link_uri": format!("{}/", tool.base)
                }
            })
            .to_string();
            write!(
                s,
                "POST /t/{TENANT}/lti/register HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
        let mut raw = String::new();
        std::io::Read::read_to_string(&mut s, &mut raw).unwrap();
        assert!(raw.starts_with("HTTP/1.1 401"), "{raw}");
        // The registered tool launches for a pupil (the tile), validated by ltijs.
        let mut pupil = Browser::new(&node, TENANT);
        pupil.login(PUPIL, PUPIL_PASSWORD);
        let l = launch(
            &mut pupil,
            &mut tool,
            &format!("/t/{TENANT}/launch/{client_id}"),
        );
        assert_eq!(
            l.tool.status,
            200,
            "{}: ltijs: {}",
            env.label(),
            l.tool.body
        );
        let v: Value = serde_json::from_str(&l.tool.body).unwrap();
        assert_eq!(v["errors"], serde_json::json!([]), "{v}");
        drop(tool);
        pg.drop_database().await;
    }
}

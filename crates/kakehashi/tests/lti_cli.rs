//! `kakehashi lti tool add|list|set|remove` on SQLite and PostgreSQL: what the tool's
//! administrator is given, per-school deployments, key sources, changes, refusals, audit.

mod common;

use common::Env;
use serde_json::Value;

fn add(env: &Env, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "lti",
        "tool",
        "add",
        "--tenant",
        "demo",
        "--name",
        "デジタル教科書",
        "--login-url",
        "https://textbook.example.jp/lti/login",
        "--launch-url",
        "https://textbook.example.jp/lti/launch",
        "--public-url",
        "https://portal.example.jp",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[tokio::test]
async fn tools_are_added_listed_and_removed_with_their_deployments() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "demo", "--name", "デモ市"])
            .ok();
        let r = add(&env, &["--jwks-url", "https://textbook.example.jp/jwks"]).ok();
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        for k in [
            "client_id",
            "deployment_id",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
        ] {
            assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {v}");
        }
        assert_eq!(v["issuer"], "https://portal.example.jp/t/demo");
        assert_eq!(
            v["authorization_endpoint"],
            "https://portal.example.jp/t/demo/lti/auth"
        );
        assert_eq!(
            v["token_endpoint"],
            "https://portal.example.jp/t/demo/lti/token"
        );
        assert_eq!(v["jwks_uri"], "https://portal.example.jp/t/demo/jwks");
        let id = v["client_id"].as_str().unwrap().to_owned();

        // One deployment per school (学校コード), from an RSA public key file.
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pem = env.path("tool.pem");
        std::fs::write(&pem, rsa.public_key_to_pem().unwrap()).unwrap();
        let r = add(
            &env,
            &[
                "--public-key",
                pem.to_str().unwrap(),
                "--school",
                "sch-minami",
                "--school",
                "sch-kita",
            ],
        )
        .ok();
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["deployments"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v["deployments"][0]["school_sourced_id"], "sch-minami");

        let list = env
            .run(&[
                "lti", "tool", "list", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let l: Value = serde_json::from_str(&list.stdout).unwrap();
        assert_eq!(l.as_array().unwrap().len(), 2, "{}", env.label());
        // The catalog lists them as LTI apps (the launcher shows them).
        let apps = env
            .run(&["app", "list", "--tenant", "demo", "--format", "json"])
            .ok();
        assert_eq!(apps.stdout.matches("\"protocol\": \"lti\"").count(), 2);

        env.run(&["lti", "tool", "remove", "--tenant", "demo", "--id", &id])
            .ok();
        let list = env
            .run(&[
                "lti", "tool", "list", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let l: Value = serde_json::from_str(&list.stdout).unwrap();
        assert_eq!(l.as_array().unwrap().len(), 1);
        env.run(&["lti", "tool", "remove", "--tenant", "demo", "--id", &id])
            .code(1);
    }
}

#[tokio::test]
async fn bad_registrations_are_refused_with_a_message() {
    let env = Env::sqlite().await;
    env.run(&["tenant", "add", "--id", "demo", "--name", "デモ市"])
        .ok();
    // No key source.
    let r = add(&env, &[]).code(1);
    assert!(r.stderr.contains("--jwks-url"), "{}", r.stderr);
    // http outside this machine.
    let r = add(&env, &["--jwks-url", "http://textbook.example.jp/jwks"]).code(1);
    assert!(r.stderr.contains("https"), "{}", r.stderr);
    // Not a PEM key.
    let junk = env.path("junk.pem");
    std::fs::write(&junk, "not a key").unwrap();
    let r = add(&env, &["--public-key", junk.to_str().unwrap()]).code(1);
    assert!(r.stderr.contains("PEM"), "{}", r.stderr);
    // Unknown tenant.
    let r = env
        .run(&[
            "lti",
            "tool",
            "add",
            "--tenant",
            "nowhere",
            "--name",
            "x",
            "--login-url",
            "https://t.example/l",
            "--launch-url",
            "https://t.example/x",
            "--jwks-url",
            "https://t.example/j",
        ])
        .code(1);
    assert!(r.stderr.contains("nowhere"), "{}", r.stderr);
}

fn set(env: &Env, id: &str, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "lti", "tool", "set", "--tenant", "demo", "--id", id, "--format", "json",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[tokio::test]
async fn a_tool_is_changed_with_the_registrations_rules_and_audited_with_before_and_after() {
    for env in Env::both().await {
        let label = env.label();
        env.run(&["tenant", "add", "--id", "demo", "--name", "デモ市"])
            .ok();
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pem = env.path("tool.pem");
        std::fs::write(&pem, rsa.public_key_to_pem().unwrap()).unwrap();
        let r = add(
            &env,
            &[
                "--public-key",
                pem.to_str().unwrap(),
                "--deep-linking-url",
                "https://textbook.example.jp/lti/dl",
                "--redirect-uri",
                "https://textbook.example.jp/lti/cb",
                "--send-name",
                "--custom",
                "unit=5",
                "--school",
                "sch-minami",
            ],
        )
        .ok();
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let id = v["client_id"].as_str().unwrap().to_owned();
        let deployment = v["deployment_id"].clone();

        // Only what is given changes: the name and the audience; the PEM key, deep linking
        // URL, redirect URIs, custom parameters and the school's deployment are kept.
        let r = set(
            &env,
            &id,
            &["--name", "新しい教科書", "--audience", "students"],
        )
        .ok();
        let t: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(t["name"], "新しい教科書", "{label}: {t}");
        assert_eq!(t["audience"], "students");
        assert_eq!(t["jwks_url"], Value::Null);
        assert_eq!(t["send_name"], true);
        assert_eq!(t["custom"], r#"{"unit":"5"}"#);
        assert_eq!(t["deployments"][0]["deployment_id"], deployment);
        assert_eq!(
            t["redirect_uris"],
            serde_json::json!([
                "https://textbook.example.jp/lti/launch",
                "https://textbook.example.jp/lti/dl",
                "https://textbook.example.jp/lti/cb"
            ])
        );
        // A new launch URL becomes the first redirect URI, the deep linking URL goes, the key
        // becomes a JWKS URL, names are no longer sent, the custom parameters are replaced.
        let r = set(
            &env,
            &id,
            &[
                "--launch-url",
                "https://textbook.example.jp/lti/v2/launch",
                "--deep-linking-url",
                "",
                "--jwks-url",
                "https://textbook.example.jp/jwks",
                "--send-name",
                "false",
                "--custom",
                "unit=6",
                "--custom",
                "lang=ja",
            ],
        )
        .ok();
        let t: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            t["redirect_uris"],
            serde_json::json!([
                "https://textbook.example.jp/lti/v2/launch",
                "https://textbook.example.jp/lti/cb"
            ]),
            "{label}: {t}"
        );
        assert_eq!(t["deep_linking_url"], Value::Null);
        assert_eq!(t["jwks_url"], "https://textbook.example.jp/jwks");
        assert_eq!(t["send_name"], false);
        assert_eq!(t["custom"], r#"{"lang":"ja","unit":"6"}"#);

        // The registration's rules, the flag named; nothing changes.
        let r = set(
            &env,
            &id,
            &["--login-url", "http://textbook.example.jp/login"],
        )
        .code(1);
        assert!(r.stderr.contains("--login-url"), "{label}: {}", r.stderr);
        let r = set(&env, &id, &["--name", " "]).code(1);
        assert!(
            r.stderr.contains("--name must not be empty"),
            "{}",
            r.stderr
        );
        let r = set(&env, &id, &["--audience", "parents"]).code(1);
        assert!(r.stderr.contains("--audience"), "{}", r.stderr);
        let r = set(&env, &id, &["--custom", "unit"]).code(1);
        assert!(r.stderr.contains("NAME=VALUE"), "{}", r.stderr);
        set(&env, "no-such-tool", &["--name", "x"]).code(1);
        // clap refuses two key sources at once.
        set(
            &env,
            &id,
            &[
                "--jwks-url",
                "https://a.example/jwks",
                "--public-key",
                pem.to_str().unwrap(),
            ],
        )
        .code(2);
        let list = env
            .run(&[
                "lti", "tool", "list", "--tenant", "demo", "--format", "json",
            ])
            .ok();
        let l: Value = serde_json::from_str(&list.stdout).unwrap();
        assert_eq!(l[0]["login_url"], "https://textbook.example.jp/lti/login");
        assert_eq!(l[0]["name"], "新しい教科書");

        // Back to a PEM key: the JWKS URL goes.
        let r = set(&env, &id, &["--public-key", pem.to_str().unwrap()]).ok();
        let t: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(t["jwks_url"], Value::Null, "{label}: {t}");

        // Audited with before and after, in the tamper-evident chain.
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .unwrap();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT actor, details FROM audit_log WHERE action = 'lti.tool.update' ORDER BY seq",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        store.close().await;
        assert_eq!(rows.len(), 3, "{label}: {rows:?}");
        let first: Value = serde_json::from_str(&rows[0].1).unwrap();
        assert_eq!(first["before"]["name"], "デジタル教科書", "{first}");
        assert_eq!(first["after"]["name"], "新しい教科書");
        assert_eq!(first["before"]["audience"], "all");
        assert!(first["after"]["publicKeyKid"].is_string(), "{first}");
        let second: Value = serde_json::from_str(&rows[1].1).unwrap();
        assert_eq!(
            second["after"]["jwksUrl"],
            "https://textbook.example.jp/jwks"
        );
        assert_eq!(second["after"]["publicKeyKid"], Value::Null);
        assert_eq!(
            second["before"]["deepLinkingUrl"],
            "https://textbook.example.jp/lti/dl"
        );
        env.run(&["audit", "verify"]).ok();
    }
}

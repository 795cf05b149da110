//! `kakehashi lti tool add|list|remove` on SQLite and PostgreSQL: what the tool's
//! administrator is given, per-school deployments, key sources, refusals, audit.

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

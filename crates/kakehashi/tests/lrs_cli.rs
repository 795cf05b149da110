//! `kakehashi lrs credential add|list|remove` on SQLite and PostgreSQL: the endpoint, key and
//! secret printed once, secrets stored hashed, every change audited.

mod common;
mod lrs_support;

use common::Env;

#[tokio::test]
async fn credentials_are_added_listed_removed_and_audited() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A市教育委員会"])
            .ok();
        let out = env
            .run(&[
                "lrs",
                "credential",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "算数ドリル",
                "--read-only",
                "--format",
                "json",
                "--public-url",
                "https://portal.example.jp/",
            ])
            .ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(
            v["endpoint"],
            "https://portal.example.jp/t/city-a/xapi/",
            "{}",
            env.label()
        );
        let key = v["key"].as_str().unwrap().to_owned();
        let secret = v["secret"].as_str().unwrap().to_owned();
        assert!(secret.len() >= 32);
        let listed = env
            .run(&["lrs", "credential", "list", "--tenant", "city-a"])
            .ok();
        assert!(
            listed.stdout.contains(&key) && listed.stdout.contains("read-only"),
            "{}",
            listed.stdout
        );
        assert!(
            !listed.stdout.contains(&secret),
            "a secret never prints again"
        );
        let json = env
            .run(&[
                "lrs",
                "credential",
                "list",
                "--tenant",
                "city-a",
                "--format",
                "json",
            ])
            .ok();
        assert!(!json.stdout.contains(&secret) && !json.stdout.contains("secret_hash"));
        // The secret is not in the database in plain text.
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .unwrap();
        let hits: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM lrs_credentials WHERE secret_hash = $1")
                .bind(&secret)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(hits, 0);
        store.close().await;
        env.run(&[
            "lrs",
            "credential",
            "remove",
            "--tenant",
            "city-a",
            "--key",
            &key,
        ])
        .ok();
        env.run(&[
            "lrs",
            "credential",
            "remove",
            "--tenant",
            "city-a",
            "--key",
            &key,
        ])
        .code(1);
        let listed = env
            .run(&["lrs", "credential", "list", "--tenant", "city-a"])
            .ok();
        assert!(!listed.stdout.contains(&key));
        // Unknown tenant: exit 1 with a message.
        let r = env
            .run(&[
                "lrs",
                "credential",
                "add",
                "--tenant",
                "nowhere",
                "--name",
                "x",
            ])
            .code(1);
        assert!(r.stderr.contains("nowhere"), "{}", r.stderr);
        let verified = env.run(&["audit", "verify"]).ok();
        assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
    }
}

/// Communication 3.3.s3.b7: a request without `X-Experience-API-Version` gets 400, and the
/// answer's own version header names the line the LRS speaks to that tool. The 1.0.3 and 2.0
/// lines expect different values there, so a credential can be registered for a line.
#[tokio::test]
async fn a_credential_registered_for_1_0_3_is_answered_in_1_0_3_without_a_version_header() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-v", "--name", "V市"])
            .ok();
        let add = |extra: &[&str]| {
            let mut args = vec![
                "lrs",
                "credential",
                "add",
                "--tenant",
                "city-v",
                "--name",
                "tool",
                "--format",
                "json",
            ];
            args.extend_from_slice(extra);
            let v: serde_json::Value =
                serde_json::from_str(&env.run(&args).ok().stdout).expect("JSON");
            (
                v["key"].as_str().unwrap().to_owned(),
                v["secret"].as_str().unwrap().to_owned(),
                v["xapi_version"].clone(),
            )
        };
        let (old_key, old_secret, line) = add(&["--xapi-version", "1.0.3"]);
        assert_eq!(line, "1.0.3", "{}", env.label());
        let (new_key, new_secret, line) = add(&[]);
        assert!(line.is_null());
        let bad = env.run(&[
            "lrs",
            "credential",
            "add",
            "--tenant",
            "city-v",
            "--name",
            "x",
            "--xapi-version",
            "0.95",
        ]);
        assert_ne!(bad.code, 0, "an unknown version line is refused");

        let node = lrs_support::start(&env);
        let get = |key: &str, secret: &str, version: Option<&str>| {
            let r = lrs_support::Client::new(&node, "city-v", key, secret)
                .with_version(version)
                .get("statements");
            (
                r.status,
                r.header("X-Experience-API-Version").map(str::to_owned),
            )
        };
        for (key, secret, want) in [
            (&old_key, &old_secret, "1.0.3"),
            (&new_key, &new_secret, "2.0.0"),
        ] {
            let (status, version) = get(key, secret, None);
            assert_eq!(
                (status, version.as_deref()),
                (400, Some(want)),
                "{}",
                env.label()
            );
            // A request that names its version is answered in that line, whatever the
            // credential says.
            let (status, version) = get(key, secret, Some("2.0.0"));
            assert_eq!((status, version.as_deref()), (200, Some("2.0.0")));
            let (status, version) = get(key, secret, Some("1.0.3"));
            assert_eq!((status, version.as_deref()), (200, Some("1.0.3")));
        }
    }
}

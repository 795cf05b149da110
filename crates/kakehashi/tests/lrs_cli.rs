//! `kakehashi lrs credential add|list|remove` on SQLite and PostgreSQL: the endpoint, key and
//! secret printed once, secrets stored hashed, every change audited.

mod common;

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

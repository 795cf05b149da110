//! `kakehashi tenant …` and `kakehashi audit verify`, on SQLite and PostgreSQL.

mod common;

use common::Env;

#[tokio::test]
async fn tenant_add_and_list() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A市教育委員会"])
            .ok();
        env.run(&[
            "tenant",
            "add",
            "--id",
            "city-b",
            "--name",
            "𠮷野町教育委員会",
        ])
        .ok();
        let listed = env.run(&["tenant", "list"]).ok();
        assert!(
            listed.stdout.contains("city-a\tA市教育委員会"),
            "{}",
            env.label()
        );
        assert!(
            listed.stdout.contains("city-b\t𠮷野町教育委員会"),
            "{}",
            env.label()
        );
        let json = env.run(&["tenant", "list", "--format", "json"]).ok();
        let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(v[1]["name"], "𠮷野町教育委員会");
        // An existing id is refused with exit 1, an invalid one is a usage error (2).
        let dup = env
            .run(&["tenant", "add", "--id", "city-a", "--name", "again"])
            .code(1);
        assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
        let bad = env
            .run(&["tenant", "add", "--id", "City_A", "--name", "x"])
            .code(2);
        assert!(bad.stderr.contains("invalid tenant id"), "{}", bad.stderr);
    }
}

#[tokio::test]
async fn first_start_creates_a_private_master_key() {
    for env in Env::both().await {
        env.run(&["tenant", "list"]).ok();
        let key = env.data_dir().join("master.key");
        let meta = std::fs::metadata(&key).expect("master key exists");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{}", env.label());
        }
        let _ = meta;
    }
}

#[tokio::test]
async fn audit_verify_names_the_tampered_row() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B"])
            .ok();
        let ok = env.run(&["audit", "verify"]).ok();
        assert!(ok.stdout.contains("intact"), "{}", ok.stdout);
        // Tamper with the platform chain's second row (the creation of city-b).
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .unwrap();
        sqlx::raw_sql(
            "UPDATE audit_log SET details = '{\"name\":\"forged\"}' WHERE chain = '' AND seq = 2",
        )
        .execute(store.pool())
        .await
        .unwrap();
        store.close().await;
        let broken = env.run(&["audit", "verify"]).code(1);
        assert!(
            broken.stdout.contains("chain platform, row 2") && broken.stdout.contains("edited"),
            "{}: {}",
            env.label(),
            broken.stdout
        );
    }
}

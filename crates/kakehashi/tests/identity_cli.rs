//! `kakehashi user set-password` and `kakehashi app add|list|remove`, on SQLite and PostgreSQL.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{demo_package, Env, Run};

fn set_password(env: &Env, tenant: &str, username: &str, password: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    cmd.args([
        "user",
        "set-password",
        "--tenant",
        tenant,
        "--username",
        username,
        "--password-stdin",
    ])
    .env("KAKEHASHI_DATA_DIR", env.data_dir())
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if env.label() == "postgresql" {
        cmd.env("KAKEHASHI_DATABASE_URL", &env.db.url);
    } else {
        cmd.env_remove("KAKEHASHI_DATABASE_URL");
    }
    let mut child = cmd.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    Run::from(child.wait_with_output().expect("wait"))
}

async fn password_hash(env: &Env, tenant: &str, username: &str) -> Option<String> {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .unwrap();
    let t = kakehashi_store::TenantId::parse(tenant).unwrap();
    let user = kakehashi_store::roster::find_user_by_username(&store, &t, username)
        .await
        .unwrap()
        .expect("user exists");
    let h = kakehashi_store::identity::password_hash(&store, &t, &user.sourced_id)
        .await
        .unwrap();
    store.close().await;
    h
}

fn with_demo(env: &Env) {
    let pkg = demo_package(&env.path("pkg"));
    env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
        .ok();
    env.run(&[
        "oneroster",
        "import",
        "--tenant",
        "city-a",
        pkg.to_str().unwrap(),
    ])
    .ok();
}

#[tokio::test]
async fn set_password_stores_only_an_argon2id_hash_and_is_audited() {
    for env in Env::both().await {
        with_demo(&env);
        set_password(&env, "city-a", "minami.t01", "先生のパスワード2026").ok();
        let h = password_hash(&env, "city-a", "minami.t01")
            .await
            .expect("hash stored");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(kakehashi_core::passwords::verify(
            "先生のパスワード2026",
            &h
        ));
        let audit = env.run(&["audit", "verify", "--format", "json"]).ok();
        assert!(
            audit.stdout.contains("\"first_break\": null"),
            "{}",
            audit.stdout
        );
        // Policy and unknown users are the operator's errors (exit 1) with a clear message.
        let short = set_password(&env, "city-a", "minami.t01", "short").code(1);
        assert!(short.stderr.contains("at least 8"), "{}", short.stderr);
        set_password(&env, "city-a", "minami.s01", "ねこ12").ok();
        let ghost = set_password(&env, "city-a", "nobody", "whatever-long").code(1);
        assert!(ghost.stderr.contains("no active user"), "{}", ghost.stderr);
        // Another tenant's user is not reachable.
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B"])
            .ok();
        set_password(&env, "city-b", "minami.t01", "whatever-long").code(1);
    }
}

#[tokio::test]
async fn passwords_in_an_imported_roster_become_argon2id_hashes() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        let users = std::fs::read_to_string(pkg.join("users.csv")).unwrap();
        let mut lines: Vec<String> = users.lines().map(str::to_owned).collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let (pw, un) = (
            header.iter().position(|h| *h == "password").unwrap(),
            header.iter().position(|h| *h == "username").unwrap(),
        );
        // The demo rows have no quoted fields, so a plain split is exact here.
        let mut fields: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
        let username = fields[un].clone();
        fields[pw] = "はじめの-Pass1".into();
        lines[1] = fields.join(",");
        std::fs::write(pkg.join("users.csv"), lines.join("\r\n") + "\r\n").unwrap();
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&[
            "oneroster",
            "import",
            "--tenant",
            "city-a",
            pkg.to_str().unwrap(),
        ])
        .ok();
        let h = password_hash(&env, "city-a", &username)
            .await
            .expect("hash stored");
        assert!(
            kakehashi_core::passwords::verify("はじめの-Pass1", &h),
            "{}",
            env.label()
        );
    }
}

#[tokio::test]
async fn app_catalog_add_list_remove() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B"])
            .ok();
        let added = env
            .run(&[
                "app",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "算数ドリル",
                "--protocol",
                "oidc",
                "--security-class",
                "learning",
                "--redirect-uri",
                "https://drill.example/cb",
                "--public-url",
                "https://portal.example.jp",
                "--format",
                "json",
            ])
            .ok();
        let reg: serde_json::Value = serde_json::from_str(&added.stdout).unwrap();
        assert_eq!(reg["issuer"], "https://portal.example.jp/t/city-a");
        assert_eq!(reg["audience"], "all");
        let client_id = reg["client_id"].as_str().unwrap().to_owned();
        assert!(reg["client_secret"].as_str().unwrap().len() >= 43);
        assert!(
            reg.get("client_secret_hash").is_none(),
            "the hash is never printed"
        );

        let public = env
            .run(&[
                "app",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "デジタル教科書",
                "--protocol",
                "oidc",
                "--security-class",
                "learning",
                "--public",
                "--redirect-uri",
                "http://127.0.0.1:5173/cb",
                "--subject",
                "user-master-identifier",
                "--format",
                "json",
            ])
            .ok();
        let reg: serde_json::Value = serde_json::from_str(&public.stdout).unwrap();
        assert!(reg.get("client_secret").is_none());
        assert_eq!(reg["subject_type"], "user-master-identifier");

        let saml = env
            .run(&[
                "app",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "校務支援",
                "--protocol",
                "saml",
                "--security-class",
                "school-affairs",
                "--saml-entity-id",
                "https://c4th.example/sp",
                "--saml-acs-url",
                "https://c4th.example/acs",
                "--format",
                "json",
            ])
            .ok();
        let reg: serde_json::Value = serde_json::from_str(&saml.stdout).unwrap();
        assert_eq!(reg["audience"], "staff");
        assert!(reg["idp_metadata_url"]
            .as_str()
            .unwrap()
            .ends_with("/t/city-a/saml/metadata"));
        // The same SP twice, students on a school-affairs app, plain http: refused (exit 1).
        let dup = env
            .run(&[
                "app",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "again",
                "--protocol",
                "saml",
                "--security-class",
                "school-affairs",
                "--saml-entity-id",
                "https://c4th.example/sp",
                "--saml-acs-url",
                "https://c4th.example/acs",
            ])
            .code(1);
        assert!(dup.stderr.contains("already registered"), "{}", dup.stderr);
        env.run(&[
            "app",
            "add",
            "--tenant",
            "city-a",
            "--name",
            "x",
            "--protocol",
            "oidc",
            "--security-class",
            "school-affairs",
            "--audience",
            "students",
            "--redirect-uri",
            "https://x.example/cb",
        ])
        .code(1);
        let http = env
            .run(&[
                "app",
                "add",
                "--tenant",
                "city-a",
                "--name",
                "x",
                "--protocol",
                "oidc",
                "--security-class",
                "learning",
                "--redirect-uri",
                "http://x.example/cb",
            ])
            .code(1);
        assert!(http.stderr.contains("use https"), "{}", http.stderr);

        let listed = env.run(&["app", "list", "--tenant", "city-a"]).ok();
        assert_eq!(listed.stdout.lines().count(), 3, "{}", listed.stdout);
        assert!(listed.stdout.contains("算数ドリル\toidc\tlearning\tall"));
        let other = env.run(&["app", "list", "--tenant", "city-b"]).ok();
        assert_eq!(other.stdout, "", "tenant B sees none of tenant A's apps");
        env.run(&["app", "remove", "--tenant", "city-b", "--id", &client_id])
            .code(1);
        env.run(&["app", "remove", "--tenant", "city-a", "--id", &client_id])
            .ok();
        let listed = env.run(&["app", "list", "--tenant", "city-a"]).ok();
        assert_eq!(listed.stdout.lines().count(), 2, "{}", listed.stdout);
        env.run(&["audit", "verify"]).ok();
    }
}

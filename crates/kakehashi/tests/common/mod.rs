//! Drives the real `kakehashi` binary against a database of its own on each backend.

#![allow(dead_code)]

pub mod node;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kakehashi_store::testing::TestDb;

/// A data directory and a database (SQLite in the data dir, or a fresh PostgreSQL schema).
pub struct Env {
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn both() -> Vec<Env> {
        let mut v = Vec::new();
        for db in TestDb::both().await {
            v.push(Env {
                db,
                dir: tempfile::tempdir().expect("temp dir"),
            });
        }
        v
    }

    /// SQLite only: for tests about what a browser or a peer sees, where the backend is not
    /// the subject (the same behaviour is proven on both backends elsewhere).
    pub async fn sqlite() -> Env {
        Env {
            db: TestDb::sqlite().await,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn label(&self) -> &'static str {
        self.db.label
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `kakehashi ARGS` with this environment's data dir and database.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
        cmd.args(args).env("KAKEHASHI_DATA_DIR", self.data_dir());
        if self.db.label == "postgresql" {
            cmd.env("KAKEHASHI_DATABASE_URL", &self.db.url);
        } else {
            cmd.env_remove("KAKEHASHI_DATABASE_URL");
        }
        Run::from(cmd.output().expect("run kakehashi"))
    }

    /// Runs `kakehashi ARGS` with `input` on its standard input (`--password-stdin`).
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        use std::process::Stdio;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
        cmd.args(args)
            .env("KAKEHASHI_DATA_DIR", self.data_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.db.label == "postgresql" {
            cmd.env("KAKEHASHI_DATABASE_URL", &self.db.url);
        } else {
            cmd.env_remove("KAKEHASHI_DATABASE_URL");
        }
        let mut child = cmd.spawn().expect("spawn kakehashi");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        Run::from(child.wait_with_output().expect("wait for kakehashi"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The database URL the binary uses here.
    pub fn database_url(&self) -> String {
        if self.db.label == "postgresql" {
            self.db.url.clone()
        } else {
            kakehashi_store::Store::sqlite_url(&self.data_dir())
        }
    }
}

/// Runs `kakehashi ARGS` with no database environment at all.
pub fn run_plain(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(args)
        .env_remove("KAKEHASHI_DATABASE_URL")
        .env_remove("KAKEHASHI_DATA_DIR")
        .output()
        .expect("run kakehashi");
    Run::from(out)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Every file under `dir` with its bytes, sorted by name.
pub fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read file"),
            )
        })
        .collect();
    v.sort();
    v
}

/// Writes the generated demo roster as a package directory.
pub fn demo_package(at: &Path) -> PathBuf {
    let roster = kakehashi_oneroster::generate::small_demo();
    kakehashi_oneroster::write_dir(&roster, at).expect("write demo package");
    at.to_owned()
}

/// Stores a WebAuthn credential row for `user` as a registration leaves it (name, kind, last
/// use), for tests of what the console lists and resets; registering a real key in a browser
/// is `browser_mfa.rs`'s subject.
pub async fn give_security_key(env: &Env, tenant: &str, user: &str, name: &str) {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open the test database");
    let tenant = kakehashi_store::TenantId::parse(tenant).expect("tenant id");
    let mut tx = store.begin().await.expect("begin");
    kakehashi_store::mfa::insert_credential(
        &mut tx,
        &tenant,
        &kakehashi_store::mfa::CredentialRow {
            credential_id: format!("test-{user}-{}", name.len()),
            user_sourced_id: user.to_owned(),
            name: name.to_owned(),
            kind: "security-key".into(),
            aaguid: "00000000-0000-0000-0000-000000000000".into(),
            attestation: "none".into(),
            user_verified: false,
            discoverable: false,
            credential: "{}".into(),
            created_at: "2026-04-01T08:00:00.000Z".into(),
            last_used_at: Some("2026-04-02T09:30:00.000Z".into()),
        },
    )
    .await
    .expect("insert credential");
    tx.commit().await.expect("commit");
    store.close().await;
}

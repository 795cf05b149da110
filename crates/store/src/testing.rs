//! Test support: a fresh, isolated store on each backend. Tests run the same code on SQLite
//! and PostgreSQL; PostgreSQL being unreachable is a test failure, never a skip.

use sqlx::Connection;

use crate::Store;

/// The PostgreSQL server the tests use (CI: trust auth on 127.0.0.1:5432, database `test`).
pub fn postgres_base_url() -> String {
    std::env::var("KAKEHASHI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database the test owns: a temporary SQLite file, or a fresh PostgreSQL schema that is
/// dropped when the value is dropped.
pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        TestDb {
            url: Store::sqlite_url(dir.path()),
            label: "sqlite",
            _dir: Some(dir),
            schema: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let base = postgres_base_url();
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&base)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {base}: {e}\n\
                 The tests run on SQLite and PostgreSQL and never skip. Start it with\n  \
                 pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
                 or point KAKEHASHI_TEST_POSTGRES_URL at a server with trust auth."
                )
            });
        let schema = format!("kh_t_{}", uuid_like());
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("create test schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        TestDb {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
            label: "postgresql",
            _dir: None,
            schema: Some(schema),
        }
    }

    /// Both backends, for a test that runs the same steps on each.
    pub async fn both() -> [TestDb; 2] {
        [TestDb::sqlite().await, TestDb::postgres().await]
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("open {} store: {e}", self.label))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            let base = postgres_base_url();
            // Drop on a thread of its own: Drop may run inside or outside a runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async move {
                        if let Ok(mut conn) = sqlx::AnyConnection::connect(&base).await {
                            let _ =
                                sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                                    .execute(&mut conn)
                                    .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

//! Kakehashi's persistence: one schema and one code path for SQLite (embedded default) and
//! PostgreSQL (several nodes behind a load balancer).
//!
//! Everything goes through sqlx's `Any` driver with `$N` placeholders, which both backends
//! accept, and portable SQL (see `migrations/`). Every function that reads or writes tenant
//! data takes the [`TenantId`]: the tenant boundary is in every query.
//!
//! Modules own one aggregate each: [`tenants`], [`roster`], [`audit`], [`identity`]
//! (passwords and the application catalog), [`saml`] (the SAML IdP).

pub mod audit;
pub mod console;
pub mod group;
pub mod identity;
pub mod keys;
pub mod lrs;
pub mod lti;
pub mod mfa;
mod migrate;
pub mod oauth;
pub mod people_search;
pub mod roster;
pub mod saml;
pub mod sessions;
pub mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
mod time_fmt;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Transaction};

pub use time_fmt::{now_rfc3339, now_rfc3339_of};

/// The connection the store's functions write through (a [`Tx`] or a group-commit batch's),
/// for callers above the store that pass one along.
pub type Conn = AnyConnection;

/// A write transaction. On SQLite it is `BEGIN IMMEDIATE` so that two writers queue instead of
/// failing half-way, and it holds the process's one SQLite writer slot (see [`Store::begin`]);
/// on PostgreSQL an ordinary transaction. Derefs to the sqlx transaction, so `&mut tx` is a
/// connection for the store's functions.
pub struct Tx {
    inner: Transaction<'static, sqlx::Any>,
    // Released when the transaction ends (commit, rollback or drop), after the connection
    // has gone back to the pool.
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.rollback().await
    }

    /// The sqlx transaction, for a caller that ends it; on SQLite the writer slot is then
    /// released at once, so only the store's own code that holds the slot otherwise uses it.
    pub(crate) fn into_inner(self) -> Transaction<'static, sqlx::Any> {
        self.inner
    }
}

impl std::ops::Deref for Tx {
    type Target = Transaction<'static, sqlx::Any>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// How long a writer waits for SQLite's writer slot before giving up (as `busy_timeout`).
const SQLITE_WRITER_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
    #[error("the database holds schema version {found}, newer than this Kakehashi ({known}); upgrade Kakehashi")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("unsupported database URL {0:?}: use postgres://… or leave it empty for SQLite in the data directory")]
    UnsupportedUrl(String),
    #[error("corrupt data in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        })
    }
}

/// A tenant id (one per board of education): `[a-z0-9-]{1,40}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

#[derive(Debug, thiserror::Error)]
#[error("invalid tenant id {0:?}: use 1 to 40 characters from a-z, 0-9 and '-'")]
pub struct InvalidTenantId(pub String);

impl TenantId {
    pub fn parse(s: &str) -> Result<Self, InvalidTenantId> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(TenantId(s.to_owned()))
        } else {
            Err(InvalidTenantId(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant id in column `column` of a row of `table` (an invalid one is corruption).
    pub(crate) fn from_row(
        r: &sqlx::any::AnyRow,
        table: &'static str,
        column: &str,
    ) -> Result<Self> {
        use sqlx::Row;
        let id: String = r.try_get(column)?;
        TenantId::parse(&id).map_err(|e| StoreError::Corrupt {
            table,
            detail: e.to_string(),
        })
    }
}

impl FromStr for TenantId {
    type Err = InvalidTenantId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TenantId::parse(s)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The connection pool and the backend it talks to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's single writer, taken by [`Store::begin`] before a connection is.
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Group commit of small writes ([`group`]).
    committer: group::Committer,
    /// Portal secrets read so far: written once and never changed, so read once per process
    /// ([`sessions::secret`]).
    secrets: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// When each housekeeping job last ran in this process ([`Store::due`]).
    housekeeping:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
}

impl Store {
    /// The SQLite URL for the embedded database in `data_dir`.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kakehashi.db").display()
        )
    }

    /// Connects and brings the schema up to date (migrations are idempotent and, on
    /// PostgreSQL, serialised between nodes starting at once).
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        migrate::run(&store).await?;
        Ok(store)
    }

    async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30))
            // A pooled SQLite connection is a file handle in this process: it cannot have been
            // dropped by a server or a network, so pinging it before each use (sqlx's default,
            // a round trip to the connection's worker thread) would only double the cost of
            // every read. A PostgreSQL connection can; it is still checked.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers go on during an import; busy_timeout makes a second
                        // writer wait rather than fail; a 64 MiB page cache keeps a large import
                        // transaction from spilling to the WAL page by page. Multi-row
                        // upserts inside a transaction keep a statement journal (to undo one
                        // failed statement); in memory it costs a page copy, in a temp file
                        // a write syscall per page (a fifth of a large import's time).
                        // Checkpoints are the store's background task (`group`), not the
                        // committing request's: a commit checkpoints inline only when the WAL
                        // has grown past 20,000 pages (80 MB) because that task fell behind.
                        use sqlx::Executor;
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
                             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
                             PRAGMA wal_autocheckpoint = 20000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let sqlite_writer = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let committer = group::Committer::start(pool.clone(), backend, sqlite_writer.clone());
        Ok(Store {
            pool,
            backend,
            sqlite_writer,
            committer,
            secrets: Default::default(),
            housekeeping: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True when housekeeping job `key` (deleting expired rows, say) has not run in this
    /// process for `every`, and marks it run: a request that does housekeeping on its way
    /// does it now and then, not on every call.
    pub fn due(&self, key: &str, every: Duration) -> bool {
        let mut last = self.housekeeping.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        match last.get(key) {
            Some(at) if now.saturating_duration_since(*at) < every => false,
            _ => {
                last.insert(key.to_owned(), now);
                true
            }
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction (see [`Tx`]).
    ///
    /// SQLite allows one writer at a time. Writers of this process queue on an async mutex
    /// (first come, first served) *before* they take a pool connection, so a transaction that
    /// reads through the pool while it holds the writer slot always finds a free connection:
    /// with every connection parked in `BEGIN IMMEDIATE` behind SQLite's lock, the holder
    /// would wait for a connection that none of them can give back (a deadlock until the
    /// acquire timeout). Other processes (a CLI import beside the server) still queue through
    /// SQLite's `busy_timeout`.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let writer = tokio::time::timeout(
                    SQLITE_WRITER_WAIT,
                    self.sqlite_writer.clone().lock_owned(),
                )
                .await
                .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))?;
                Tx {
                    inner: self.begin_uncancellable(Some("BEGIN IMMEDIATE")).await?,
                    _writer: Some(writer),
                }
            }
            Backend::Postgres => Tx {
                inner: self.begin_uncancellable(None).await?,
                _writer: None,
            },
        })
    }

    /// Opens a transaction in a task of its own. A request whose client goes away is
    /// cancelled at its next `.await`; cancelled inside `BEGIN`, the driver may already have
    /// begun the transaction on a connection that then goes back to the pool still holding
    /// SQLite's write lock, and every later writer fails with "database is locked" (seen in
    /// bench/oidc when the load tool stopped mid-request). In its own task the `BEGIN`
    /// always completes; if nobody waits for it any more, the finished transaction is
    /// dropped there and rolled back like any other.
    async fn begin_uncancellable(
        &self,
        statement: Option<&'static str>,
    ) -> Result<Transaction<'static, sqlx::Any>> {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            match statement {
                Some(s) => pool.begin_with(s).await,
                None => pool.begin().await,
            }
        })
        .await
        .map_err(|e| StoreError::Database(sqlx::Error::Io(std::io::Error::other(e))))?
        .map_err(StoreError::from)
    }

    /// Refreshes the query planner's statistics of `tables` after a bulk change (a roster
    /// import). PostgreSQL plans by them, and with none (a fresh table that autovacuum has
    /// not analysed yet) it estimates one row everywhere and may pick nested loops that read
    /// a 500,000-user table once per member (measured: 32 s for a school admin's people
    /// search, 25 ms after `ANALYZE`). SQLite's queries are written for a planner without
    /// statistics (join order fixed with `CROSS JOIN`) and are left so: nothing to do there.
    pub async fn analyze(&self, tables: &[&str]) -> Result<()> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        for t in tables {
            debug_assert!(t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            sqlx::query(&format!("ANALYZE {t}"))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// `true` when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Takes a transaction-scoped lock named by `key` on PostgreSQL (SQLite's `BEGIN IMMEDIATE`
/// already serialises writers). Used where a read-then-write must not interleave between nodes.
pub(crate) async fn lock_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &str,
) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
    }
    Ok(())
}

//! Group commit: small independent writes from concurrent requests share one transaction.
//!
//! SQLite has one writer. A request that writes a token row and its audit row in a
//! transaction of its own pays for `BEGIN IMMEDIATE`, a read of the audit chain's head, an
//! update of it and `COMMIT`, one after another behind every other writer; at a few thousand
//! requests a second that fixed cost, not the rows, is the limit. With [`Store::group_write`]
//! a request hands its write (a [`WriteFn`] and its data) to the store's one committer task
//! and waits: the committer takes every write queued at that moment (up to [`MAX_BATCH`]),
//! runs them one after another in one transaction, keeps each audit chain's head in memory
//! between them (one read and one update of `audit_heads` per chain per batch, and the chain
//! stays exactly what single appends would have made), commits once, and only then answers
//! each request.
//!
//! Atomicity is per request, as if each had its own transaction: if any write of a batch
//! fails (or the commit does), the batch is rolled back and every write in it is run again
//! alone, so a bad write fails only its own request and the others still commit. Writes are
//! therefore re-runnable closures (`Fn`), not one-shot ones. A write may run statements in
//! the batch's transaction and answer with what it found ([`Store::group_write_returning`]):
//! the token endpoint consumes a code that way and learns whether it was fresh or a replay.
//!
//! [`Store::group_write`]: crate::Store::group_write
//! [`Store::group_write_returning`]: crate::Store::group_write_returning
//!
//! Rows that nothing in the batch reads back (audit rows, new tokens, codes, sessions, launch
//! hints) are not inserted one statement each: [`Batch::insert_later`] queues them, and when
//! the batch ends they go in, with the audit heads it moved, in one query of multi-row INSERTs
//! (SQLite: one round trip to the connection's worker thread; PostgreSQL: a few statements of
//! fixed chunk sizes). A batch of 30 token requests is then four round trips (BEGIN, the audit
//! head, the flush, COMMIT), not ninety. Before a batch starts the committer yields a few
//! times so that requests already runnable join it (`GATHER_YIELDS`).
//!
//! The committer keeps one connection for itself (its page cache stays warm: SQLite drops a
//! connection's cache when another connection has written), and a background task checkpoints
//! the WAL every tenth of a second, so no request pays for a checkpoint.
//!
//! On PostgreSQL several writers proceed at once (and several nodes share the database), so
//! every write gets a transaction of its own and the same code runs in it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, AnyPool, Arguments, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{self, Entry, Event};
use crate::{Backend, Result, StoreError, TenantId};

/// The most writes one batch takes: bounds the time the last of them waits for the commit.
pub const MAX_BATCH: usize = 256;

/// How many times the committer lets the runtime's other ready tasks run (and queue their
/// writes) before it starts a batch. A commit writes every page the batch touched to the WAL
/// whether the batch holds one write or thirty, so a fuller batch is cheaper per write; like
/// PostgreSQL's `commit_delay`, but waiting for tasks, not for time: a yield costs
/// microseconds, and with nothing else ready it returns at once. Measured on bench/oidc's
/// client_credentials load (32 connections, one core): batches of ~14 writes became ~30,
/// worker round trips per token halved.
const GATHER_YIELDS: usize = 3;

/// A boxed future borrowing the batch.
pub type WriteFuture<'a, T = ()> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// How a request's data is written: called with the batch's transaction; may be called again
/// (in a transaction of its own) when another write of its batch failed. What it returns (of
/// its last run, the one that committed) is the request's answer.
pub type WriteFn<D, T = ()> = for<'a, 'c> fn(&'a D, &'a mut Batch<'c>) -> WriteFuture<'a, T>;

/// One request's queued write: its data, how to write it, and where its answer goes.
trait Job: Send + Sync {
    /// Runs the write in `batch`, keeping what it returned for [`Job::answer`].
    fn run<'a, 'c>(&'a self, batch: &'a mut Batch<'c>) -> WriteFuture<'a>;
    /// Answers the request: the kept value if its transaction committed, else the error.
    fn answer(self: Box<Self>, committed: Result<()>);
}

struct DataJob<D, T> {
    data: D,
    write: WriteFn<D, T>,
    /// The value of the last run (taken when the request is answered).
    out: std::sync::Mutex<Option<T>>,
    reply: Option<oneshot::Sender<Result<T>>>,
}

impl<D: Send + Sync, T: Send + 'static> Job for DataJob<D, T> {
    fn run<'a, 'c>(&'a self, batch: &'a mut Batch<'c>) -> WriteFuture<'a> {
        Box::pin(async move {
            let value = (self.write)(&self.data, batch).await?;
            if let Ok(mut out) = self.out.lock() {
                *out = Some(value);
            }
            Ok(())
        })
    }

    fn answer(mut self: Box<Self>, committed: Result<()>) {
        let answer = committed.and_then(|()| {
            self.out
                .get_mut()
                .ok()
                .and_then(Option::take)
                .ok_or_else(closed)
        });
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(answer);
        }
    }
}

/// The transaction a batch of writes runs in, with the audit chains' heads it has moved.
pub struct Batch<'c> {
    tx: sqlx::Transaction<'c, sqlx::Any>,
    backend: Backend,
    heads: HashMap<String, Head>,
    /// Rows queued by [`Batch::insert_later`], per statement head, in first-queued order.
    later: Vec<LaterRows>,
}

/// A value of a row queued with [`Batch::insert_later`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(Some(s.to_owned()))
    }
}
impl From<&String> for Cell {
    fn from(s: &String) -> Cell {
        Cell::Text(Some(s.clone()))
    }
}
impl From<&Option<String>> for Cell {
    fn from(s: &Option<String>) -> Cell {
        Cell::Text(s.clone())
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Cell {
        Cell::Int(Some(i))
    }
}
impl From<Option<i64>> for Cell {
    fn from(i: Option<i64>) -> Cell {
        Cell::Int(i)
    }
}

/// The rows queued for one `INSERT INTO table (columns) VALUES`.
struct LaterRows {
    head: &'static str,
    width: usize,
    cells: Vec<Cell>,
}

/// Rows per multi-row INSERT, largest first: any count is a sum of these with few statements,
/// and each size's SQL text is the same every time (cached when prepared).
const LATER_CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

struct Head {
    seq: i64,
    hash: String,
    /// The head as stored when the batch read it (`None`: the chain had no row).
    stored_seq: Option<i64>,
}

impl<'c> Batch<'c> {
    /// The batch's connection, for the store's insert functions.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn new(tx: sqlx::Transaction<'c, sqlx::Any>, backend: Backend) -> Batch<'c> {
        Batch {
            tx,
            backend,
            heads: HashMap::new(),
            later: Vec::new(),
        }
    }

    /// Queues a row for `head` (`INSERT INTO table (c1, c2, …)`, the same text for every row
    /// of that table) to be inserted when the batch ends, before it commits. Only for rows
    /// that nothing in the batch reads back; a failing row fails the batch, and every write
    /// is then run again alone, so it fails only its own request.
    pub fn insert_later(&mut self, head: &'static str, row: Vec<Cell>) {
        match self.later.iter_mut().find(|l| std::ptr::eq(l.head, head)) {
            Some(l) => {
                debug_assert_eq!(l.width, row.len(), "{head}");
                l.cells.extend(row);
            }
            None => self.later.push(LaterRows {
                head,
                width: row.len(),
                cells: row,
            }),
        }
    }

    /// Inserts the rows queued so far now, for a write that is about to read or update rows
    /// that an earlier write of the batch queued (e.g. revoking a token family whose tokens
    /// another request of the batch has just issued).
    pub async fn insert_queued_now(&mut self) -> Result<()> {
        self.insert_queued().await
    }

    /// Inserts the queued rows with a few multi-row statements.
    async fn insert_queued(&mut self) -> Result<()> {
        for rows in std::mem::take(&mut self.later) {
            insert_chunked(&mut self.tx, rows.head, "", rows.width, rows.cells).await?;
        }
        Ok(())
    }

    /// Appends `event` to the tenant's audit chain in this batch (see [`audit::append`]; the
    /// rows and hashes are the same, the head is written once when the batch ends).
    pub async fn audit(
        &mut self,
        tenant: Option<&TenantId>,
        at: &str,
        event: &Event,
    ) -> Result<Entry> {
        let chain = audit::chain_of(tenant).to_owned();
        if !self.heads.contains_key(&chain) {
            let (seq, hash) = audit::read_head(&mut self.tx, self.backend, tenant).await?;
            self.heads.insert(
                chain.clone(),
                Head {
                    seq: seq.unwrap_or(0),
                    hash,
                    stored_seq: seq,
                },
            );
        }
        let head = self.heads.get_mut(&chain).expect("inserted above");
        let entry = audit::entry(&chain, head.seq + 1, at, event, &head.hash);
        head.seq = entry.seq;
        head.hash = entry.hash.clone();
        self.insert_later(audit::INSERT_HEAD, audit::cells(&entry));
        Ok(entry)
    }

    async fn finish(mut self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            self.flush_sqlite().await?;
        } else {
            self.flush_each().await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// SQLite: every queued row and every moved head in one query, one round trip to the
    /// connection's worker thread (sqlx-sqlite runs a query's statements one after another
    /// and binds `?` in order across them). Each table's rows are one multi-row INSERT of
    /// exactly that many rows, so the query's text depends on the batch's shape (which
    /// tables, how many rows, which heads): a batch size seen before finds its statements
    /// prepared in the connection's cache. The round trip (waking the worker and being woken
    /// back) costs more than the inserts themselves at a few rows each.
    async fn flush_sqlite(&mut self) -> Result<()> {
        let mut sql = String::new();
        let mut args = AnyArguments::default();
        for rows in std::mem::take(&mut self.later) {
            let n = rows.cells.len() / rows.width.max(1);
            let mut cells = rows.cells.into_iter();
            values(
                &mut sql, &mut args, rows.head, rows.width, n, true, &mut cells,
            )?;
            sql.push_str(";\n");
        }
        for (chain, head) in std::mem::take(&mut self.heads) {
            if head.stored_seq != Some(head.seq) {
                sql.push_str(audit::head_sql_sqlite(head.stored_seq.is_some()));
                let cells = audit::head_cells(&chain, head.seq, &head.hash);
                add_args(&mut args, &mut cells.into_iter())?;
            }
        }
        if !sql.is_empty() {
            sqlx::query_with(&sql, args).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// PostgreSQL (one write per transaction): the queued rows with multi-row INSERTs, then
    /// the heads.
    async fn flush_each(&mut self) -> Result<()> {
        self.insert_queued().await?;
        for (chain, head) in std::mem::take(&mut self.heads) {
            if head.stored_seq != Some(head.seq) {
                audit::write_head(
                    &mut self.tx,
                    &chain,
                    head.seq,
                    &head.hash,
                    head.stored_seq.is_some(),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Appends `head VALUES (…), (…)` for `n` rows of `width` cells taken from `cells` to `sql`,
/// and their arguments to `args`. SQLite gets anonymous `?` (sqlx-sqlite looks `$N` up by
/// name on every execution, and binds `?` in order across the statements of one query),
/// PostgreSQL `$N`.
pub(crate) fn values(
    sql: &mut String,
    args: &mut AnyArguments<'static>,
    head: &str,
    width: usize,
    n: usize,
    positional: bool,
    cells: &mut impl Iterator<Item = Cell>,
) -> Result<()> {
    use std::fmt::Write;
    sql.reserve(head.len() + 8 + n * width * 5);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for i in 0..n {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for j in 0..width {
            if j > 0 {
                sql.push_str(", ");
            }
            if positional {
                sql.push('?');
            } else {
                let _ = write!(sql, "${}", i * width + j + 1);
            }
            let cell = cells.next().expect("whole rows");
            add_args(args, &mut std::iter::once(cell))?;
        }
        sql.push(')');
    }
    Ok(())
}

/// Adds every cell of `cells` to `args`, in order.
pub(crate) fn add_args(
    args: &mut AnyArguments<'static>,
    cells: &mut impl Iterator<Item = Cell>,
) -> Result<()> {
    for cell in cells {
        let added = match cell {
            Cell::Text(t) => args.add(t),
            Cell::Int(i) => args.add(i),
        };
        added.map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))?;
    }
    Ok(())
}

/// Inserts one row now (`head` and `row` as for [`Batch::insert_later`]).
pub(crate) async fn insert_one(conn: &mut AnyConnection, head: &str, row: Vec<Cell>) -> Result<()> {
    insert_rows(conn, head, vec![row]).await
}

/// Inserts rows of the same width now, with as few statements as [`insert_chunked`] makes.
pub(crate) async fn insert_rows(
    conn: &mut AnyConnection,
    head: &str,
    rows: Vec<Vec<Cell>>,
) -> Result<()> {
    let width = rows.first().map_or(0, Vec::len);
    insert_chunked(conn, head, "", width, rows.into_iter().flatten().collect()).await
}

/// Inserts `cells` as rows of `width` with `head VALUES (…), … tail` statements of
/// [`LATER_CHUNKS`] rows each (largest first): few round trips, and few distinct statement
/// texts, so each connection prepares them once and finds them in its statement cache (a
/// text per row count would be parsed again on every request).
pub(crate) async fn insert_chunked(
    conn: &mut AnyConnection,
    head: &str,
    tail: &str,
    width: usize,
    cells: Vec<Cell>,
) -> Result<()> {
    if width == 0 {
        return Ok(());
    }
    let positional = conn.backend_name() == "SQLite";
    let mut left = cells.len() / width;
    let mut cells = cells.into_iter();
    while left > 0 {
        let n = *LATER_CHUNKS
            .iter()
            .find(|&&c| c <= left)
            .expect("1 is a chunk size");
        let mut sql = String::new();
        let mut args = AnyArguments::default();
        values(&mut sql, &mut args, head, width, n, positional, &mut cells)?;
        sql.push_str(tail);
        sqlx::query_with(&sql, args).execute(&mut *conn).await?;
        left -= n;
    }
    Ok(())
}

type Queued = Box<dyn Job>;

/// The committer's end of the queue (SQLite) or nothing (PostgreSQL).
#[derive(Clone, Debug)]
pub(crate) struct Committer {
    queue: Option<mpsc::UnboundedSender<Queued>>,
    stats: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    transactions: AtomicU64,
    writes: AtomicU64,
}

/// How many writes went through [`crate::Store::group_write`] and in how many transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupStats {
    pub transactions: u64,
    pub writes: u64,
}

impl Committer {
    /// Starts the committer task for SQLite. It ends when the last `Store` clone is gone.
    pub(crate) fn start(
        pool: AnyPool,
        backend: Backend,
        writer: Arc<tokio::sync::Mutex<()>>,
    ) -> Committer {
        let stats = Arc::new(Counters::default());
        if backend != Backend::Sqlite {
            return Committer { queue: None, stats };
        }
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(checkpoints(pool.clone(), Arc::downgrade(&stats)));
        tokio::spawn(run(pool, writer, rx, stats.clone()));
        Committer {
            queue: Some(tx),
            stats,
        }
    }
}

impl crate::Store {
    /// Writes `data` with `write` in a transaction, possibly shared with other requests'
    /// writes (see the module documentation), and returns once that transaction has
    /// committed. `write` is a plain function (or a closure capturing nothing): everything it
    /// writes is in `data`.
    pub async fn group_write<D: Send + Sync + 'static>(
        &self,
        data: D,
        write: WriteFn<D>,
    ) -> Result<()> {
        self.group_write_returning(data, write).await
    }

    /// [`crate::Store::group_write`] for a write that answers with a value (what it found while
    /// writing, e.g. whether a row it consumed was still there): the value of the run that
    /// committed.
    pub async fn group_write_returning<D: Send + Sync + 'static, T: Send + 'static>(
        &self,
        data: D,
        write: WriteFn<D, T>,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(DataJob {
            data,
            write,
            out: std::sync::Mutex::new(None),
            reply: Some(reply),
        });
        match &self.committer.queue {
            Some(queue) => {
                queue.send(job).map_err(|_| closed())?;
            }
            None => {
                let tx = self.begin().await?;
                let result = run_alone(tx.into_inner(), self.backend, job.as_ref()).await;
                self.committer
                    .stats
                    .transactions
                    .fetch_add(1, Ordering::Relaxed);
                self.committer.stats.writes.fetch_add(1, Ordering::Relaxed);
                job.answer(result);
            }
        }
        answer.await.map_err(|_| closed())?
    }

    /// Writes and transactions of [`crate::Store::group_write`] since the store was opened.
    pub fn group_stats(&self) -> GroupStats {
        let s = &self.committer.stats;
        GroupStats {
            transactions: s.transactions.load(Ordering::Relaxed),
            writes: s.writes.load(Ordering::Relaxed),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn run_alone(
    tx: sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    job: &dyn Job,
) -> Result<()> {
    let mut batch = Batch::new(tx, backend);
    job.run(&mut batch).await?;
    batch.finish().await
}

/// The committer's own connection, kept from batch to batch: SQLite drops a connection's page
/// cache when another connection has written, so a committer that took whichever pooled
/// connection was idle re-read the tables' pages from the file on every batch. Taken again
/// from the pool after an error (the connection may be broken).
async fn own_connection<'p>(
    pool: &AnyPool,
    conn: &'p mut Option<sqlx::pool::PoolConnection<sqlx::Any>>,
) -> Result<&'p mut AnyConnection> {
    if conn.is_none() {
        let mut c = pool.acquire().await?;
        // A small page cache: at the end of every transaction SQLite walks the cache's hash
        // table (`pcache1Truncate`), which on a long-lived connection with the pool's 64 MiB
        // cost more than the pages it kept from being re-read.
        sqlx::query("PRAGMA cache_size = -8192")
            .execute(&mut *c)
            .await?;
        *conn = Some(c);
    }
    Ok(conn.as_mut().expect("set above"))
}

/// How often the WAL is checkpointed into the database file: often enough that each
/// checkpoint is short (a long one stalls the commits behind it on a busy core), seldom
/// enough that a page many commits wrote is copied once.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Checkpoints the WAL in the background, off the committing requests' path (the connections
/// checkpoint inline only past `wal_autocheckpoint`, see `Store::connect`). PASSIVE: it copies
/// what no reader still needs and never blocks writers; a page written by many commits since
/// the last checkpoint is copied once. Ends with the store (`alive` is the committer's).
async fn checkpoints(pool: AnyPool, alive: std::sync::Weak<Counters>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 || pool.is_closed() {
            return;
        }
        // A failure (the pool closing, a busy database) is retried at the next tick.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_all(&pool)
            .await;
    }
}

async fn run(
    pool: AnyPool,
    writer: Arc<tokio::sync::Mutex<()>>,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    stats: Arc<Counters>,
) {
    let mut queued: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    let mut conn = None;
    while rx.recv_many(&mut queued, MAX_BATCH).await > 0 {
        // Requests that are already runnable reach the queue before the batch starts.
        for _ in 0..GATHER_YIELDS {
            tokio::task::yield_now().await;
            while queued.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(q) => queued.push(q),
                    Err(_) => break,
                }
            }
        }
        // The same writer slot as `Store::begin`: batches and ordinary transactions take turns.
        let slot = writer.lock().await;
        let outcome = async {
            let c = own_connection(&pool, &mut conn).await?;
            let tx = c.begin_with("BEGIN IMMEDIATE").await?;
            let mut batch = Batch::new(tx, Backend::Sqlite);
            for job in &queued {
                job.run(&mut batch).await?;
            }
            batch.finish().await
        }
        .await;
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats
            .writes
            .fetch_add(queued.len() as u64, Ordering::Relaxed);
        match outcome {
            Ok(()) => {
                for job in queued.drain(..) {
                    job.answer(Ok(()));
                }
            }
            Err(e) if queued.len() == 1 => {
                queued.pop().expect("one write").answer(Err(e));
            }
            Err(_) => {
                // Someone's write failed (the batch was rolled back when its transaction
                // dropped): each write again in a transaction of its own.
                for job in queued.drain(..) {
                    let result = match own_connection(&pool, &mut conn).await {
                        Ok(c) => match c.begin_with("BEGIN IMMEDIATE").await {
                            Ok(tx) => run_alone(tx, Backend::Sqlite, job.as_ref()).await,
                            Err(e) => Err(e.into()),
                        },
                        Err(e) => Err(e),
                    };
                    job.answer(result);
                }
            }
        }
        drop(slot);
    }
}

//! Group commit: small independent writes from concurrent requests share one transaction.
//!
//! SQLite has one writer. A request that writes a token row and its audit row in a
//! transaction of its own pays for `BEGIN IMMEDIATE`, a read of the audit chain's head, an
//! update of it and `COMMIT`, one after another behind every other writer; at a few thousand
//! requests a second that fixed cost, not the rows, is the limit. With [`Store::group_write`]
//! a request hands its write (a [`GroupWrite`]) to the store's one committer task and waits:
//! the committer takes every write queued at that moment (up to [`MAX_BATCH`]), runs them one
//! after another in one transaction, keeps each audit chain's head in memory between them
//! (one read and one update of `audit_heads` per chain per batch, and the chain stays exactly
//! what single appends would have made), commits once, and only then answers each request.
//!
//! Atomicity is per request, as if each had its own transaction: if any write of a batch
//! fails (or the commit does), the batch is rolled back and every write in it is run again
//! alone, so a bad write fails only its own request and the others still commit. Writes are
//! therefore re-runnable closures (`Fn`), not one-shot ones.
//!
//! On PostgreSQL several writers proceed at once (and several nodes share the database), so
//! every write gets a transaction of its own and the same code runs in it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{self, Entry, Event};
use crate::{Backend, Result, StoreError, TenantId};

/// The most writes one batch takes: bounds the time the last of them waits for the commit.
pub const MAX_BATCH: usize = 256;

/// A boxed future borrowing the batch.
pub type WriteFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// How a request's data is written: called with the batch's transaction; may be called again
/// (in a transaction of its own) when another write of its batch failed.
pub type WriteFn<D> = for<'a> fn(&'a D, &'a mut Batch) -> WriteFuture<'a>;

/// One request's queued write: its data and how to write it.
trait Job: Send + Sync {
    fn run<'a>(&'a self, batch: &'a mut Batch) -> WriteFuture<'a>;
}

struct DataJob<D> {
    data: D,
    write: WriteFn<D>,
}

impl<D: Send + Sync> Job for DataJob<D> {
    fn run<'a>(&'a self, batch: &'a mut Batch) -> WriteFuture<'a> {
        (self.write)(&self.data, batch)
    }
}

/// The transaction a batch of writes runs in, with the audit chains' heads it has moved.
pub struct Batch {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    heads: HashMap<String, Head>,
}

struct Head {
    seq: i64,
    hash: String,
    /// The head as stored when the batch read it (`None`: the chain had no row).
    stored_seq: Option<i64>,
}

impl Batch {
    /// The batch's connection, for the store's insert functions.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
        let entry =
            audit::insert_row(&mut self.tx, &chain, head.seq + 1, at, event, &head.hash).await?;
        head.seq = entry.seq;
        head.hash = entry.hash.clone();
        Ok(entry)
    }

    async fn finish(mut self) -> Result<()> {
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
        self.tx.commit().await?;
        Ok(())
    }
}

type Queued = (Box<dyn Job>, oneshot::Sender<Result<()>>);

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
        let job: Box<dyn Job> = Box::new(DataJob { data, write });
        match &self.committer.queue {
            Some(queue) => {
                let (reply, answer) = oneshot::channel();
                queue.send((job, reply)).map_err(|_| closed())?;
                answer.await.map_err(|_| closed())?
            }
            None => {
                let tx = self.begin().await?;
                let result = run_alone(tx.into_inner(), self.backend, job.as_ref()).await;
                self.committer
                    .stats
                    .transactions
                    .fetch_add(1, Ordering::Relaxed);
                self.committer.stats.writes.fetch_add(1, Ordering::Relaxed);
                result
            }
        }
    }

    /// Writes and transactions of [`Store::group_write`] since the store was opened.
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
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    job: &dyn Job,
) -> Result<()> {
    let mut batch = Batch {
        tx,
        backend,
        heads: HashMap::new(),
    };
    job.run(&mut batch).await?;
    batch.finish().await
}

async fn run(
    pool: AnyPool,
    writer: Arc<tokio::sync::Mutex<()>>,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    stats: Arc<Counters>,
) {
    let mut queued: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut queued, MAX_BATCH).await > 0 {
        // The same writer slot as `Store::begin`: batches and ordinary transactions take turns.
        let slot = writer.lock().await;
        let outcome = async {
            let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut batch = Batch {
                tx,
                backend: Backend::Sqlite,
                heads: HashMap::new(),
            };
            for (job, _) in &queued {
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
                for (_, reply) in queued.drain(..) {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) if queued.len() == 1 => {
                let (_, reply) = queued.pop().expect("one write");
                let _ = reply.send(Err(e));
            }
            Err(_) => {
                // Someone's write failed (the batch was rolled back when its transaction
                // dropped): each write again in a transaction of its own.
                for (job, reply) in queued.drain(..) {
                    let result = match pool.begin_with("BEGIN IMMEDIATE").await {
                        Ok(tx) => run_alone(tx, Backend::Sqlite, job.as_ref()).await,
                        Err(e) => Err(e.into()),
                    };
                    let _ = reply.send(result);
                }
            }
        }
        drop(slot);
    }
}

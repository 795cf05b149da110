//! The audit log: append-only, one SHA-256 hash chain per tenant (chain `""` for platform
//! events such as creating a tenant).
//!
//! Each row's hash commits to its chain, sequence number, time, actor, action, target, details
//! and the previous row's hash, so editing a row, removing one or swapping two breaks the chain
//! at that row; `audit_heads` keeps the last row of each chain so that cutting off the tail is
//! detected too. Appends happen inside the caller's transaction: the audit row commits or rolls
//! back with the change it records.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{lock_for_update, Backend, Result, Store, TenantId};

/// The `prev_hash` of the first row of every chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to what.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub actor: String,
    pub action: String,
    pub target: String,
    /// Structured details (counts, reasons), stored as JSON.
    pub details: serde_json::Value,
}

/// A stored row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub chain: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain a tenant's events go to; `None` is the platform chain.
pub fn chain_of(tenant: Option<&TenantId>) -> &str {
    tenant.map_or("", TenantId::as_str)
}

fn row_hash(
    chain: &str,
    seq: i64,
    at: &str,
    e: (&str, &str, &str, &str),
    prev_hash: &str,
) -> String {
    let (actor, action, target, details) = e;
    // A JSON array is an unambiguous encoding of the fields (no separator games): compact
    // JSON of `[chain, seq, at, actor, action, target, details, prev_hash]`, written straight
    // into the hash (a tuple serialises to the same bytes as a `serde_json::Value` array,
    // without building one; pinned by a test below, since stored chains depend on it).
    let mut w = HashWriter(Sha256::new());
    let fields = (chain, seq, at, actor, action, target, details, prev_hash);
    // Writing into a hash cannot fail, and strings and integers always serialise.
    let _ = serde_json::to_writer(&mut w, &fields);
    hex::encode(w.0.finalize())
}

/// An `io::Write` that feeds a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends `event` to the tenant's chain within the caller's transaction. On SQLite the audit
/// row and the moved head go in one query: one round trip to the connection's worker thread,
/// not two (sqlx-sqlite binds `?` in order across a query's statements).
pub async fn append(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    tenant: Option<&TenantId>,
    at: &str,
    event: &Event,
) -> Result<Entry> {
    let chain = chain_of(tenant);
    let (stored_seq, prev_hash) = read_head(conn, backend, tenant).await?;
    if backend == Backend::Sqlite {
        use crate::group::{add_args, values};
        let e = entry(chain, stored_seq.unwrap_or(0) + 1, at, event, &prev_hash);
        let mut sql = String::new();
        let mut args = sqlx::any::AnyArguments::default();
        let row = cells(&e);
        let width = row.len();
        values(
            &mut sql,
            &mut args,
            INSERT_HEAD,
            width,
            1,
            true,
            &mut row.into_iter(),
        )?;
        sql.push_str(";\n");
        sql.push_str(head_sql_sqlite(stored_seq.is_some()));
        add_args(
            &mut args,
            &mut head_cells(chain, e.seq, &e.hash).into_iter(),
        )?;
        sqlx::query_with(&sql, args).execute(&mut *conn).await?;
        return Ok(e);
    }
    let entry = insert_row(
        conn,
        chain,
        stored_seq.unwrap_or(0) + 1,
        at,
        event,
        &prev_hash,
    )
    .await?;
    write_head(conn, chain, entry.seq, &entry.hash, stored_seq.is_some()).await?;
    Ok(entry)
}

/// The chain's head (`None` and [`GENESIS`] for an empty chain), locked until the caller's
/// transaction ends (PostgreSQL; SQLite's writer already is alone).
pub(crate) async fn read_head(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    tenant: Option<&TenantId>,
) -> Result<(Option<i64>, String)> {
    let chain = chain_of(tenant);
    lock_for_update(conn, backend, &format!("audit:{chain}")).await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match head {
        Some(r) => (
            Some(r.try_get::<i64, _>("seq")?),
            r.try_get::<String, _>("hash")?,
        ),
        None => (None, GENESIS.to_owned()),
    })
}

/// Row `seq` of `chain` after the row whose hash is `prev_hash`, with its hash.
pub(crate) fn entry(chain: &str, seq: i64, at: &str, event: &Event, prev_hash: &str) -> Entry {
    let details = event.details.to_string();
    let hash = row_hash(
        chain,
        seq,
        at,
        (&event.actor, &event.action, &event.target, &details),
        prev_hash,
    );
    Entry {
        chain: chain.to_owned(),
        seq,
        at: at.to_owned(),
        actor: event.actor.clone(),
        action: event.action.clone(),
        target: event.target.clone(),
        details,
        prev_hash: prev_hash.to_owned(),
        hash,
    }
}

/// The INSERT of an audit row, without its VALUES (see [`cells`]).
pub(crate) const INSERT_HEAD: &str =
    "INSERT INTO audit_log (chain, seq, at, actor, action, target, details, prev_hash, hash)";

/// SQLite, for a query of several statements (`?` bound in order): the statement that moves
/// a chain's head (`exists`) or starts it, taking [`head_cells`].
pub(crate) fn head_sql_sqlite(exists: bool) -> &'static str {
    if exists {
        "UPDATE audit_heads SET seq = ?, hash = ? WHERE chain = ?;\n"
    } else {
        "INSERT INTO audit_heads (seq, hash, chain) VALUES (?, ?, ?);\n"
    }
}

/// The arguments of [`head_sql_sqlite`] (in the order [`write_head`] binds its own).
pub(crate) fn head_cells(chain: &str, seq: i64, hash: &str) -> Vec<crate::group::Cell> {
    vec![seq.into(), hash.into(), chain.into()]
}

/// An entry's values in [`INSERT_HEAD`]'s order.
pub(crate) fn cells(e: &Entry) -> Vec<crate::group::Cell> {
    vec![
        (&e.chain).into(),
        e.seq.into(),
        (&e.at).into(),
        (&e.actor).into(),
        (&e.action).into(),
        (&e.target).into(),
        (&e.details).into(),
        (&e.prev_hash).into(),
        (&e.hash).into(),
    ]
}

/// Inserts row `seq` of `chain` after the row whose hash is `prev_hash`.
pub(crate) async fn insert_row(
    conn: &mut sqlx::AnyConnection,
    chain: &str,
    seq: i64,
    at: &str,
    event: &Event,
    prev_hash: &str,
) -> Result<Entry> {
    let e = entry(chain, seq, at, event, prev_hash);
    crate::group::insert_one(conn, INSERT_HEAD, cells(&e)).await?;
    Ok(e)
}

/// Moves the chain's head to row `seq` (`exists`: the chain had a head row already).
pub(crate) async fn write_head(
    conn: &mut sqlx::AnyConnection,
    chain: &str,
    seq: i64,
    hash: &str,
    exists: bool,
) -> Result<()> {
    let sql = if exists {
        "UPDATE audit_heads SET seq = $1, hash = $2 WHERE chain = $3"
    } else {
        "INSERT INTO audit_heads (seq, hash, chain) VALUES ($1, $2, $3)"
    };
    sqlx::query(sql)
        .bind(seq)
        .bind(hash)
        .bind(chain)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The first place where a chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Break {
    pub chain: String,
    /// The sequence number of the first row that is not what the chain says it should be.
    pub seq: i64,
    pub problem: String,
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub chains: u64,
    pub rows: u64,
    pub first_break: Option<Break>,
}

/// Walks every chain from its first row and recomputes every hash.
pub async fn verify(store: &Store) -> Result<Verification> {
    let heads = sqlx::query("SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
        .fetch_all(store.pool())
        .await?;
    let mut chains: Vec<(String, Option<(i64, String)>)> = heads
        .iter()
        .map(|r| -> Result<_> {
            Ok((
                r.try_get("chain")?,
                Some((r.try_get("seq")?, r.try_get("hash")?)),
            ))
        })
        .collect::<Result<_>>()?;
    // Chains that have rows but lost their head are broken too.
    let logged: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT chain FROM audit_log ORDER BY chain")
            .fetch_all(store.pool())
            .await?;
    for c in logged {
        if !chains.iter().any(|(k, _)| *k == c) {
            chains.push((c, None));
        }
    }
    let mut v = Verification {
        chains: chains.len() as u64,
        rows: 0,
        first_break: None,
    };
    for (chain, head) in chains {
        let (rows, brk) = verify_chain(store, &chain, head).await?;
        v.rows += rows;
        if brk.is_some() && v.first_break.is_none() {
            v.first_break = brk;
        }
    }
    Ok(v)
}

/// Walks one tenant's chain (the console's "verify" button; a tenant admin sees their own).
pub async fn verify_tenant(store: &Store, tenant: &TenantId) -> Result<Verification> {
    let chain = chain_of(Some(tenant));
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(store.pool())
        .await?
        .map(|r| -> Result<(i64, String)> { Ok((r.try_get("seq")?, r.try_get("hash")?)) })
        .transpose()?;
    let (rows, first_break) = verify_chain(store, chain, head).await?;
    Ok(Verification {
        chains: 1,
        rows,
        first_break,
    })
}

async fn verify_chain(
    store: &Store,
    chain: &str,
    head: Option<(i64, String)>,
) -> Result<(u64, Option<Break>)> {
    let fail = |seq: i64, problem: String| Break {
        chain: chain.to_owned(),
        seq,
        problem,
    };
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_owned();
    let mut rows = 0u64;
    let mut last_seq = 0i64;
    let page = 1000i64;
    loop {
        let batch = sqlx::query(
            "SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log
             WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(chain)
        .bind(last_seq)
        .bind(page)
        .fetch_all(store.pool())
        .await?;
        for r in &batch {
            let seq: i64 = r.try_get("seq")?;
            let stored_prev: String = r.try_get("prev_hash")?;
            let stored_hash: String = r.try_get("hash")?;
            let details: String = r.try_get("details")?;
            let (at, actor, action, target): (String, String, String, String) = (
                r.try_get("at")?,
                r.try_get("actor")?,
                r.try_get("action")?,
                r.try_get("target")?,
            );
            rows += 1;
            last_seq = seq;
            if seq != expected_seq {
                return Ok((
                    rows,
                    Some(fail(
                        expected_seq,
                        format!("row {expected_seq} is missing (the next row present is {seq})"),
                    )),
                ));
            }
            if stored_prev != prev_hash {
                return Ok((
                    rows,
                    Some(fail(
                        seq,
                        "its prev_hash does not match the previous row: rows were removed or reordered"
                            .to_owned(),
                    )),
                ));
            }
            let recomputed = row_hash(
                chain,
                seq,
                &at,
                (&actor, &action, &target, &details),
                &stored_prev,
            );
            if recomputed != stored_hash {
                return Ok((
                    rows,
                    Some(fail(
                        seq,
                        "its contents do not match its hash: the row was edited".to_owned(),
                    )),
                ));
            }
            prev_hash = stored_hash;
            expected_seq += 1;
        }
        if (batch.len() as i64) < page {
            break;
        }
    }
    match head {
        None => Ok((
            rows,
            Some(fail(last_seq, "the chain's head record is missing".to_owned())),
        )),
        Some((head_seq, head_hash)) if head_seq != last_seq || head_hash != prev_hash => Ok((
            rows,
            Some(fail(
                last_seq + 1,
                format!(
                    "the chain ends at row {last_seq} but its head says {head_seq}: rows at the end were removed"
                ),
            )),
        )),
        Some(_) => Ok((rows, None)),
    }
}

/// The details (JSON) of the newest entry of `tenant`'s chain with this action and target
/// (index `audit_log_target`).
pub async fn newest_details(
    store: &Store,
    tenant: &TenantId,
    action: &str,
    target: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE chain = $1 AND target = $2 AND action = $3
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(chain_of(Some(tenant)))
    .bind(target)
    .bind(action)
    .fetch_optional(store.pool())
    .await?)
}

/// The most recent entries of a chain, newest first (for operators and tests).
pub async fn recent(store: &Store, tenant: Option<&TenantId>, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT chain, seq, at, actor, action, target, details, prev_hash, hash FROM audit_log
         WHERE chain = $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(chain_of(tenant))
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                chain: r.try_get("chain")?,
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                details: r.try_get("details")?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chains already stored were hashed over `serde_json::json!([...]).to_string()`: the
    /// streamed encoding must give the very same bytes, escapes and all.
    #[test]
    fn the_row_hash_is_that_of_the_json_array_of_the_fields() {
        let odd = "𠮷野家\u{0}\"quote\"\\ \n\t\u{7f}\u{2028}é";
        for (chain, seq, details) in [
            ("", 1_i64, "{}"),
            ("city-a", i64::MAX, r#"{"reason":"bad \"x\"","n":3}"#),
            (odd, -5, odd),
        ] {
            let e = (odd, "oidc.token.issue", "app:𠮷", details);
            let old = serde_json::json!([
                chain,
                seq,
                "2026-12-07T00:00:00.000Z",
                e.0,
                e.1,
                e.2,
                e.3,
                GENESIS
            ]);
            assert_eq!(
                row_hash(chain, seq, "2026-12-07T00:00:00.000Z", e, GENESIS),
                hex::encode(Sha256::digest(old.to_string().as_bytes()))
            );
        }
    }
}

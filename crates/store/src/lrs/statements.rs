//! `xapi_statements`, `xapi_statement_keys`, `xapi_counters`, `xapi_activities` and
//! `xapi_attachments`: statements as stored JSON plus the keys the GET filters look up
//! (Communication 2.1.3).

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::{Result, Store, TenantId};

/// One statement to insert. `body` is the stored JSON text.
#[derive(Clone, Debug)]
pub struct StatementRow {
    pub seq: i64,
    pub id: String,
    pub body: String,
    pub actor: Option<String>,
    pub verb_id: String,
    pub activity_id: Option<String>,
    pub registration: Option<String>,
    pub voids: Option<String>,
    pub stored: String,
}

/// A filter key: `kind` is one of `a`, `ra`, `v`, `o`, `ro`, `r` (see the migration), or `au`:
/// the IFI key of the statement's authority (for `statements/read/mine`; never copied to a
/// statement that refers to this one, see [`keys_of`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyFilter {
    pub kind: &'static str,
    pub value: String,
}

/// A list query; all filters combine with AND; voided statements are never returned.
#[derive(Clone, Debug, Default)]
pub struct StatementQuery {
    pub keys: Vec<KeyFilter>,
    /// Inclusive bounds on `seq`.
    pub min_seq: i64,
    pub max_seq: i64,
    pub ascending: bool,
    pub limit: i64,
}

/// Reserves `n` consecutive sequence numbers for the tenant and returns the first. Taking
/// the counter row serialises the tenant's writers until the transaction ends.
pub async fn reserve_seqs(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    n: i64,
) -> Result<i64> {
    loop {
        let row = sqlx::query(
            "UPDATE xapi_counters SET next_seq = next_seq + $2 WHERE tenant_id = $1 RETURNING next_seq",
        )
        .bind(tenant.as_str())
        .bind(n)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row {
            let next: i64 = r.try_get("next_seq")?;
            return Ok(next - n);
        }
        sqlx::query(
            "INSERT INTO xapi_counters (tenant_id, next_seq) VALUES ($1, 1) ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .execute(&mut *conn)
        .await?;
    }
}

/// `(id, body, voided)` of the given ids that the tenant holds.
pub async fn find_by_ids(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    ids: &[String],
) -> Result<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id, body, voided FROM xapi_statements WHERE tenant_id = $1 AND id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(tenant.as_str());
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push((
                r.try_get("id")?,
                r.try_get("body")?,
                r.try_get::<i64, _>("voided")? != 0,
            ));
        }
    }
    Ok(out)
}

/// Inserts a statement and its filter keys.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    row: &StatementRow,
    keys: &[KeyFilter],
) -> Result<()> {
    insert_many(conn, tenant, &[(row.clone(), keys.to_vec())]).await
}

/// Inserts statements and their filter keys with a few multi-row INSERTs (a batch of 100
/// statements is a handful of round trips to the database, not two hundred; the statement
/// texts are few, so they stay prepared: `group::insert_chunked`).
pub async fn insert_many(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    rows: &[(StatementRow, Vec<KeyFilter>)],
) -> Result<()> {
    use crate::group::{insert_chunked, Cell};
    let mut cells: Vec<Cell> = Vec::with_capacity(rows.len() * 11);
    for (row, _) in rows {
        cells.extend([
            tenant.as_str().into(),
            row.seq.into(),
            (&row.id).into(),
            (&row.body).into(),
            (&row.actor).into(),
            (&row.verb_id).into(),
            (&row.activity_id).into(),
            (&row.registration).into(),
            0i64.into(),
            (&row.voids).into(),
            (&row.stored).into(),
        ]);
    }
    insert_chunked(
        conn,
        "INSERT INTO xapi_statements (tenant_id, seq, id, body, actor, verb_id, activity_id,
             registration, voided, voids, stored)",
        "",
        11,
        cells,
    )
    .await?;
    let mut keys: Vec<Cell> = Vec::new();
    for (row, ks) in rows {
        for k in ks {
            keys.extend([
                tenant.as_str().into(),
                k.kind.into(),
                (&k.value).into(),
                row.seq.into(),
            ]);
        }
    }
    insert_chunked(
        conn,
        "INSERT INTO xapi_statement_keys (tenant_id, kind, value, seq)",
        " ON CONFLICT DO NOTHING",
        4,
        keys,
    )
    .await
}

/// Marks the statement `id` voided (Data 2.3.2).
pub async fn mark_voided(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    id: &str,
) -> Result<()> {
    sqlx::query("UPDATE xapi_statements SET voided = 1 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The filter keys of statement `id` (for a statement that targets it).
pub async fn keys_of(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    id: &str,
) -> Result<Vec<KeyFilter>> {
    let rows = sqlx::query(
        "SELECT k.kind, k.value FROM xapi_statement_keys k
         JOIN xapi_statements s ON s.tenant_id = k.tenant_id AND s.seq = k.seq
         WHERE s.tenant_id = $1 AND s.id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let kind = match kind.as_str() {
            "a" => "a",
            "ra" => "ra",
            "v" => "v",
            "o" => "o",
            "ro" => "ro",
            "r" => "r",
            _ => continue,
        };
        out.push(KeyFilter {
            kind,
            value: r.try_get("value")?,
        });
    }
    Ok(out)
}

/// `(body, voided)` of one statement.
pub async fn get(store: &Store, tenant: &TenantId, id: &str) -> Result<Option<(String, bool)>> {
    let row =
        sqlx::query("SELECT body, voided FROM xapi_statements WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    row.map(|r| Ok((r.try_get("body")?, r.try_get::<i64, _>("voided")? != 0)))
        .transpose()
}

/// The highest sequence number the tenant has used (0 when none).
pub async fn max_seq(store: &Store, tenant: &TenantId) -> Result<i64> {
    let row = sqlx::query("SELECT next_seq FROM xapi_counters WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_optional(store.pool())
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("next_seq")? - 1,
        None => 0,
    })
}

/// The first `seq` stored strictly after `stored` (`since`), or `None`.
pub async fn first_seq_after(
    store: &Store,
    tenant: &TenantId,
    stored: &str,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT seq FROM xapi_statements WHERE tenant_id = $1 AND stored > $2
         ORDER BY stored, seq LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(stored)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| r.try_get::<i64, _>("seq").map_err(Into::into))
        .transpose()
}

/// The last `seq` stored at or before `stored` (`until`), or `None`.
pub async fn last_seq_until(store: &Store, tenant: &TenantId, stored: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT seq FROM xapi_statements WHERE tenant_id = $1 AND stored <= $2
         ORDER BY stored DESC, seq DESC LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(stored)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| r.try_get::<i64, _>("seq").map_err(Into::into))
        .transpose()
}

/// `(seq, body)` of the statements matching `q`, in `seq` order (descending unless
/// `ascending`), at most `q.limit`.
pub async fn query(
    store: &Store,
    tenant: &TenantId,
    q: &StatementQuery,
) -> Result<Vec<(i64, String)>> {
    // The first key filter drives the scan through its (tenant, kind, value, seq) index;
    // the others are EXISTS probes on the same primary key.
    let mut sql = String::from("SELECT s.seq, s.body FROM xapi_statements s");
    let mut n = 4;
    let order_col = if q.keys.is_empty() { "s.seq" } else { "k0.seq" };
    if !q.keys.is_empty() {
        sql.push_str(
            " JOIN xapi_statement_keys k0 ON k0.tenant_id = s.tenant_id AND k0.seq = s.seq",
        );
    }
    sql.push_str(&format!(
        " WHERE s.tenant_id = $1 AND s.voided = 0 AND {order_col} >= $2 AND {order_col} <= $3"
    ));
    for (i, _) in q.keys.iter().enumerate() {
        if i == 0 {
            sql.push_str(&format!(
                " AND k0.tenant_id = $1 AND k0.kind = ${} AND k0.value = ${}",
                n,
                n + 1
            ));
        } else {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM xapi_statement_keys k{i} WHERE k{i}.tenant_id = $1 \
                 AND k{i}.kind = ${} AND k{i}.value = ${} AND k{i}.seq = s.seq)",
                n,
                n + 1
            ));
        }
        n += 2;
    }
    let dir = if q.ascending { "ASC" } else { "DESC" };
    sql.push_str(&format!(" ORDER BY {order_col} {dir} LIMIT ${n}"));
    let mut query: Query<'_, Any, AnyArguments<'_>> = sqlx::query(&sql)
        .bind(tenant.as_str())
        .bind(q.min_seq)
        .bind(q.max_seq);
    for k in &q.keys {
        query = query.bind(k.kind).bind(&k.value);
    }
    let rows = query.bind(q.limit).fetch_all(store.pool()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("seq")?, r.try_get("body")?)))
        .collect()
}

/// The stored definition of an Activity (JSON text).
pub async fn activity(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<String>> {
    let row =
        sqlx::query("SELECT definition FROM xapi_activities WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| r.try_get("definition").map_err(Into::into))
        .transpose()
}

/// `(id, definition)` of those of `ids` the tenant holds a canonical definition for.
pub async fn activities(
    store: &Store,
    tenant: &TenantId,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id, definition FROM xapi_activities WHERE tenant_id = $1 AND id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(tenant.as_str());
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(store.pool()).await? {
            out.push((r.try_get("id")?, r.try_get("definition")?));
        }
    }
    Ok(out)
}

/// Writes the canonical definition of an Activity.
pub async fn put_activity(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    id: &str,
    definition: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO xapi_activities (tenant_id, id, definition) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, id) DO UPDATE SET definition = excluded.definition",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(definition)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stores an attachment body (base64) once per SHA-2.
pub async fn put_attachment(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    sha2: &str,
    content_type: &str,
    content_b64: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO xapi_attachments (tenant_id, sha2, content_type, content) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, sha2) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(sha2)
    .bind(content_type)
    .bind(content_b64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `(content_type, content_b64)` of an attachment.
pub async fn attachment(
    store: &Store,
    tenant: &TenantId,
    sha2: &str,
) -> Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT content_type, content FROM xapi_attachments WHERE tenant_id = $1 AND sha2 = $2",
    )
    .bind(tenant.as_str())
    .bind(sha2)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| Ok((r.try_get("content_type")?, r.try_get("content")?)))
        .transpose()
}

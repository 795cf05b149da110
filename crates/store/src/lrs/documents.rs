//! `xapi_documents`: State, Activity Profile and Agent Profile documents
//! (Communication 2.3, 2.6, 2.7). Content is base64 text; absent key parts are `''`.

use sqlx::Row;

use crate::{Result, Store, TenantId};

/// Which document set, and the keys within it (without the document id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocKey {
    /// `state`, `activity_profile` or `agent_profile`.
    pub kind: &'static str,
    pub activity_id: String,
    /// The agent's IFI key.
    pub agent: String,
    pub registration: String,
}

/// A stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub doc_id: String,
    pub content_b64: String,
    pub content_type: String,
    pub etag: String,
    pub updated: String,
}

const WHERE_SET: &str =
    "tenant_id = $1 AND kind = $2 AND activity_id = $3 AND agent = $4 AND registration = $5";

/// One document.
pub async fn get(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    key: &DocKey,
    doc_id: &str,
) -> Result<Option<Document>> {
    let row = sqlx::query(&format!(
        "SELECT doc_id, content, content_type, etag, updated FROM xapi_documents
         WHERE {WHERE_SET} AND doc_id = $6"
    ))
    .bind(tenant.as_str())
    .bind(key.kind)
    .bind(&key.activity_id)
    .bind(&key.agent)
    .bind(&key.registration)
    .bind(doc_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Document {
            doc_id: r.try_get("doc_id")?,
            content_b64: r.try_get("content")?,
            content_type: r.try_get("content_type")?,
            etag: r.try_get("etag")?,
            updated: r.try_get("updated")?,
        })
    })
    .transpose()
}

/// Creates or replaces a document.
pub async fn put(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    key: &DocKey,
    doc: &Document,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO xapi_documents (tenant_id, kind, activity_id, agent, registration, doc_id,
             content, content_type, etag, updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (tenant_id, kind, activity_id, agent, registration, doc_id) DO UPDATE SET
             content = excluded.content, content_type = excluded.content_type,
             etag = excluded.etag, updated = excluded.updated",
    )
    .bind(tenant.as_str())
    .bind(key.kind)
    .bind(&key.activity_id)
    .bind(&key.agent)
    .bind(&key.registration)
    .bind(&doc.doc_id)
    .bind(&doc.content_b64)
    .bind(&doc.content_type)
    .bind(&doc.etag)
    .bind(&doc.updated)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes one document (`Some(id)`) or every document of the set (`None`, State only).
pub async fn delete(
    conn: &mut sqlx::AnyConnection,
    tenant: &TenantId,
    key: &DocKey,
    doc_id: Option<&str>,
) -> Result<u64> {
    let sql = match doc_id {
        Some(_) => format!("DELETE FROM xapi_documents WHERE {WHERE_SET} AND doc_id = $6"),
        None => format!("DELETE FROM xapi_documents WHERE {WHERE_SET}"),
    };
    let mut q = sqlx::query(&sql)
        .bind(tenant.as_str())
        .bind(key.kind)
        .bind(&key.activity_id)
        .bind(&key.agent)
        .bind(&key.registration);
    if let Some(id) = doc_id {
        q = q.bind(id);
    }
    Ok(q.execute(&mut *conn).await?.rows_affected())
}

/// The ids of the set's documents updated strictly after `since` (all when `None`).
pub async fn ids(
    store: &Store,
    tenant: &TenantId,
    key: &DocKey,
    since: Option<&str>,
) -> Result<Vec<String>> {
    let rows = sqlx::query(&format!(
        "SELECT doc_id FROM xapi_documents WHERE {WHERE_SET} AND updated > $6 ORDER BY doc_id"
    ))
    .bind(tenant.as_str())
    .bind(key.kind)
    .bind(&key.activity_id)
    .bind(&key.agent)
    .bind(&key.registration)
    .bind(since.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("doc_id").map_err(Into::into))
        .collect()
}

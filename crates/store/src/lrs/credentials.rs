//! `lrs_credentials`: the HTTP Basic credentials learning tools use (Communication 4.1).

use sqlx::Row;

use crate::{Result, Store, TenantId};

/// A stored credential. `secret_hash` is the SHA-256 hex of the secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Credential {
    pub tenant: TenantId,
    pub key: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub name: String,
    pub read_only: bool,
    pub created_at: String,
    /// `1.0.3` or `2.0.0`: the xAPI line the credential's tool speaks; `None` = the latest.
    pub version_line: Option<String>,
}

/// Inserts a credential inside the caller's transaction.
pub async fn insert(conn: &mut sqlx::AnyConnection, c: &Credential) -> Result<()> {
    sqlx::query(
        "INSERT INTO lrs_credentials
             (tenant_id, api_key, secret_hash, name, read_only, created_at, version_line)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.tenant.as_str())
    .bind(&c.key)
    .bind(&c.secret_hash)
    .bind(&c.name)
    .bind(i64::from(c.read_only))
    .bind(&c.created_at)
    .bind(c.version_line.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a credential; `false` when the tenant has no such key.
pub async fn remove(conn: &mut sqlx::AnyConnection, tenant: &TenantId, key: &str) -> Result<bool> {
    let n = sqlx::query("DELETE FROM lrs_credentials WHERE tenant_id = $1 AND api_key = $2")
        .bind(tenant.as_str())
        .bind(key)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n > 0)
}

const COLUMNS: &str = "tenant_id, api_key, secret_hash, name, read_only, created_at, version_line";

/// The credential `key` of `tenant`, if any.
pub async fn get(store: &Store, tenant: &TenantId, key: &str) -> Result<Option<Credential>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lrs_credentials WHERE tenant_id = $1 AND api_key = $2"
    ))
    .bind(tenant.as_str())
    .bind(key)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| from_row(tenant, &r)).transpose()
}

/// The tenant's credentials, oldest first.
pub async fn list(store: &Store, tenant: &TenantId) -> Result<Vec<Credential>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lrs_credentials WHERE tenant_id = $1 ORDER BY created_at, api_key"
    ))
    .bind(tenant.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| from_row(tenant, r)).collect()
}

fn from_row(tenant: &TenantId, r: &sqlx::any::AnyRow) -> Result<Credential> {
    Ok(Credential {
        tenant: tenant.clone(),
        key: r.try_get("api_key")?,
        secret_hash: r.try_get("secret_hash")?,
        name: r.try_get("name")?,
        read_only: r.try_get::<i64, _>("read_only")? != 0,
        created_at: r.try_get("created_at")?,
        version_line: r.try_get("version_line")?,
    })
}

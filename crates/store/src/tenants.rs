//! Tenants: one per board of education. Everything else a tenant owns hangs off its id.

use sqlx::Row;

use crate::{Result, Store, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: String,
}

/// Inserts a tenant inside the caller's transaction. `Ok(false)` if the id is taken.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    id: &TenantId,
    name: &str,
    at: &str,
) -> Result<bool> {
    // ON CONFLICT: two nodes creating the same tenant at once must not fail the second.
    let inserted = sqlx::query(
        "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn get(store: &Store, id: &TenantId) -> Result<Option<Tenant>> {
    let row = sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn list(store: &Store) -> Result<Vec<Tenant>> {
    let rows = sqlx::query("SELECT id, name, created_at FROM tenants ORDER BY id")
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// At most `limit` tenants with an id after `after`, in id order (a page of the operator's
/// overview).
pub async fn list_after(store: &Store, after: &str, limit: i64) -> Result<Vec<Tenant>> {
    let rows =
        sqlx::query("SELECT id, name, created_at FROM tenants WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(store.pool())
            .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: TenantId::from_row(r, "tenants", "id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

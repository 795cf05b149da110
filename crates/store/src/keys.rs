//! Platform settings and the tenants' signing keys as stored (private keys sealed by the
//! caller; this module never sees them in clear).

use sqlx::{AnyConnection, Row};

use crate::{lock_for_update, Backend, Result, Store, TenantId};

/// Reads a platform setting.
pub async fn setting(store: &Store, name: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Stores a setting unless one of that name exists; returns the value in force (ours, or the
/// one another node wrote first).
pub async fn setting_or_insert(store: &Store, name: &str, value: &str) -> Result<String> {
    if let Some(v) = setting(store, name).await? {
        return Ok(v);
    }
    let mut tx = store.begin().await?;
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    tx.commit().await?;
    Ok(v.unwrap_or_else(|| value.to_owned()))
}

/// A signing key row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    /// `next`, `current` or `retired`.
    pub state: String,
    pub published_at: i64,
    pub retired_until: Option<i64>,
    pub private_key_sealed: String,
    pub public_jwk: String,
    pub created_at: String,
}

/// Serialises key changes of one tenant across nodes (inside the caller's transaction).
pub async fn lock_tenant_keys(
    conn: &mut AnyConnection,
    backend: Backend,
    tenant: &TenantId,
) -> Result<()> {
    lock_for_update(conn, backend, &format!("keys:{tenant}")).await
}

pub async fn load(conn: &mut AnyConnection, tenant: &TenantId) -> Result<Vec<KeyRow>> {
    let rows = sqlx::query(
        "SELECT kid, alg, state, published_at, retired_until, private_key_sealed, public_jwk, created_at
         FROM signing_keys WHERE tenant_id = $1 ORDER BY published_at, kid",
    )
    .bind(tenant.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyRow {
                kid: r.try_get("kid")?,
                alg: r.try_get("alg")?,
                state: r.try_get("state")?,
                published_at: r.try_get("published_at")?,
                retired_until: r.try_get("retired_until")?,
                private_key_sealed: r.try_get("private_key_sealed")?,
                public_jwk: r.try_get("public_jwk")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The public JWKs of the keys published at `now` (next, current, retired until later).
pub async fn published_jwks(store: &Store, tenant: &TenantId, now: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT public_jwk FROM signing_keys
         WHERE tenant_id = $1 AND (state <> 'retired' OR retired_until > $2)
         ORDER BY published_at, kid",
    )
    .bind(tenant.as_str())
    .bind(now)
    .fetch_all(store.pool())
    .await?)
}

pub async fn insert(conn: &mut AnyConnection, tenant: &TenantId, k: &KeyRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (tenant_id, kid, alg, state, published_at, retired_until,
            private_key_sealed, public_jwk, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant.as_str())
    .bind(&k.kid)
    .bind(&k.alg)
    .bind(&k.state)
    .bind(k.published_at)
    .bind(k.retired_until)
    .bind(&k.private_key_sealed)
    .bind(&k.public_jwk)
    .bind(&k.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_state(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    kid: &str,
    state: &str,
    retired_until: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE signing_keys SET state = $1, retired_until = $2 WHERE tenant_id = $3 AND kid = $4",
    )
    .bind(state)
    .bind(retired_until)
    .bind(tenant.as_str())
    .bind(kid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

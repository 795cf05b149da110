//! Passwords and the application catalog of a tenant.

use sqlx::{AnyConnection, Row};

use crate::{Result, Store, TenantId};

/// Sets (or replaces) a user's password hash.
pub async fn set_password_hash(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    hash: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO credentials (tenant_id, user_sourced_id, password_hash, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, user_sourced_id)
         DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(hash)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn password_hash(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT password_hash FROM credentials WHERE tenant_id = $1 AND user_sourced_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_optional(store.pool())
    .await?)
}

/// An application as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub protocol: String,
    pub security_class: String,
    pub audience: String,
    pub public_client: bool,
    #[serde(skip)]
    pub client_secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub saml_entity_id: Option<String>,
    pub saml_acs_url: Option<String>,
    #[serde(skip)]
    pub saml_metadata: Option<String>,
    pub subject_type: String,
    pub icon_type: Option<String>,
    #[serde(skip)]
    pub icon_base64: Option<String>,
    pub created_at: String,
}

/// Inserts an application. `Ok(false)` when its SAML entity id is already registered.
pub async fn insert_app(conn: &mut AnyConnection, tenant: &TenantId, app: &AppRow) -> Result<bool> {
    if let Some(entity) = &app.saml_entity_id {
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM apps WHERE tenant_id = $1 AND saml_entity_id = $2",
        )
        .bind(tenant.as_str())
        .bind(entity)
        .fetch_one(&mut *conn)
        .await?;
        if taken > 0 {
            return Ok(false);
        }
    }
    sqlx::query(
        "INSERT INTO apps (tenant_id, id, name, protocol, security_class, audience, public_client,
            client_secret_hash, redirect_uris, saml_entity_id, saml_acs_url, saml_metadata,
            subject_type, icon_type, icon_base64, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(tenant.as_str())
    .bind(&app.id)
    .bind(&app.name)
    .bind(&app.protocol)
    .bind(&app.security_class)
    .bind(&app.audience)
    .bind(app.public_client as i64)
    .bind(&app.client_secret_hash)
    .bind(serde_json::to_string(&app.redirect_uris).unwrap_or_else(|_| "[]".to_owned()))
    .bind(&app.saml_entity_id)
    .bind(&app.saml_acs_url)
    .bind(&app.saml_metadata)
    .bind(&app.subject_type)
    .bind(&app.icon_type)
    .bind(&app.icon_base64)
    .bind(&app.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

const APP_COLUMNS: &str = "id, name, protocol, security_class, audience, public_client,
    client_secret_hash, redirect_uris, saml_entity_id, saml_acs_url, saml_metadata, subject_type,
    icon_type, icon_base64, created_at";

pub async fn list_apps(store: &Store, tenant: &TenantId) -> Result<Vec<AppRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 ORDER BY name, id"
    ))
    .bind(tenant.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(app_from_row).collect()
}

pub async fn get_app(store: &Store, tenant: &TenantId, id: &str) -> Result<Option<AppRow>> {
    let row = sqlx::query(&format!(
        "SELECT {APP_COLUMNS} FROM apps WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| app_from_row(&r)).transpose()
}

/// Changes who may use an application and where it may send users back: its audience,
/// security class and redirect URIs. `Ok(false)` if there was none with that id.
pub async fn update_app_access(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
    audience: &str,
    security_class: &str,
    redirect_uris: &[String],
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE apps SET audience = $1, security_class = $2, redirect_uris = $3
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(audience)
    .bind(security_class)
    .bind(serde_json::to_string(redirect_uris).unwrap_or_else(|_| "[]".to_owned()))
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Writes an application's changeable columns (name, security class, audience, redirect
/// URIs, SAML entity id, ACS URL and metadata, subject type, icon) from `app`; its protocol,
/// client type, secret and creation time stay. `Ok(false)` if there was none with that id.
pub async fn update_app(conn: &mut AnyConnection, tenant: &TenantId, app: &AppRow) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE apps SET name = $1, security_class = $2, audience = $3, redirect_uris = $4,
            saml_entity_id = $5, saml_acs_url = $6, saml_metadata = $7, subject_type = $8,
            icon_type = $9, icon_base64 = $10
         WHERE tenant_id = $11 AND id = $12",
    )
    .bind(&app.name)
    .bind(&app.security_class)
    .bind(&app.audience)
    .bind(serde_json::to_string(&app.redirect_uris).unwrap_or_else(|_| "[]".to_owned()))
    .bind(&app.saml_entity_id)
    .bind(&app.saml_acs_url)
    .bind(&app.saml_metadata)
    .bind(&app.subject_type)
    .bind(&app.icon_type)
    .bind(&app.icon_base64)
    .bind(tenant.as_str())
    .bind(&app.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Forgets a confidential client's secret (it now authenticates with `private_key_jwt`).
pub async fn clear_client_secret(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
) -> Result<bool> {
    let n =
        sqlx::query("UPDATE apps SET client_secret_hash = NULL WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok(n == 1)
}

/// Removes an application; `Ok(false)` if there was none with that id.
pub async fn delete_app(conn: &mut AnyConnection, tenant: &TenantId, id: &str) -> Result<bool> {
    let n = sqlx::query("DELETE FROM apps WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

fn app_from_row(r: &sqlx::any::AnyRow) -> Result<AppRow> {
    let uris: String = r.try_get("redirect_uris")?;
    Ok(AppRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        protocol: r.try_get("protocol")?,
        security_class: r.try_get("security_class")?,
        audience: r.try_get("audience")?,
        public_client: r.try_get::<i64, _>("public_client")? != 0,
        client_secret_hash: r.try_get("client_secret_hash")?,
        redirect_uris: serde_json::from_str(&uris).map_err(|e| crate::StoreError::Corrupt {
            table: "apps",
            detail: format!("redirect_uris: {e}"),
        })?,
        saml_entity_id: r.try_get("saml_entity_id")?,
        saml_acs_url: r.try_get("saml_acs_url")?,
        saml_metadata: r.try_get("saml_metadata")?,
        subject_type: r.try_get("subject_type")?,
        icon_type: r.try_get("icon_type")?,
        icon_base64: r.try_get("icon_base64")?,
        created_at: r.try_get("created_at")?,
    })
}

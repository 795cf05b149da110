//! The tenant's roster as stored: OneRoster rows (`roster_records`) and the typed projections
//! the rest of Kakehashi queries (`users`, `memberships`).
//!
//! This module writes what it is told to write; the import policy (bulk replaces, delta
//! upserts, what counts as changed) lives in `kakehashi-core`.

use std::collections::{HashMap, HashSet};

use kakehashi_oneroster::{Entity, Record, RowStatus};
use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Arguments, Row};

use crate::{Result, Store, StoreError, TenantId};

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's parameter limits.
const BATCH: usize = 500;

/// A OneRoster row as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub sourced_id: String,
    pub status: Option<String>,
    pub date_last_modified: Option<String>,
    /// JSON array of `[header, value]` pairs.
    pub fields: String,
    pub active: bool,
}

impl StoredRecord {
    /// The stored form of a parsed row. `password` never reaches the store in plain text.
    pub fn from_record(r: &Record) -> StoredRecord {
        let fields: Vec<&(String, String)> =
            r.fields.iter().filter(|(k, _)| k != "password").collect();
        StoredRecord {
            sourced_id: r.sourced_id.clone(),
            status: r.status.map(|s| s.as_str().to_owned()),
            date_last_modified: r.date_last_modified.clone(),
            fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".to_owned()),
            active: r.status != Some(RowStatus::ToBeDeleted),
        }
    }

    /// Back to a OneRoster row (line numbers are positions in the export).
    pub fn to_record(&self, line: u64) -> Result<Record> {
        let fields: Vec<(String, String)> =
            serde_json::from_str(&self.fields).map_err(|e| StoreError::Corrupt {
                table: "roster_records",
                detail: format!("fields of {}: {e}", self.sourced_id),
            })?;
        let status = match self.status.as_deref() {
            None => None,
            Some("active") => Some(RowStatus::Active),
            Some("tobedeleted") => Some(RowStatus::ToBeDeleted),
            Some(other) => {
                return Err(StoreError::Corrupt {
                    table: "roster_records",
                    detail: format!("status {other:?} of {}", self.sourced_id),
                })
            }
        };
        Ok(Record {
            line,
            sourced_id: self.sourced_id.clone(),
            status,
            date_last_modified: self.date_last_modified.clone(),
            fields,
        })
    }
}

/// Every stored row of one entity of a tenant, active or not, by sourcedId.
pub async fn load_all(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
) -> Result<HashMap<String, StoredRecord>> {
    let rows = sqlx::query(
        "SELECT sourced_id, status, date_last_modified, fields, active FROM roster_records
         WHERE tenant_id = $1 AND entity = $2",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let rec = stored_from_row(r)?;
            Ok((rec.sourced_id.clone(), rec))
        })
        .collect()
}

fn stored_from_row(r: &sqlx::any::AnyRow) -> Result<StoredRecord> {
    Ok(StoredRecord {
        sourced_id: r.try_get("sourced_id")?,
        status: r.try_get("status")?,
        date_last_modified: r.try_get("date_last_modified")?,
        fields: r.try_get("fields")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

/// The active rows of one entity in export order.
pub async fn active_records(
    store: &Store,
    tenant: &TenantId,
    entity: Entity,
) -> Result<Vec<StoredRecord>> {
    let rows = sqlx::query(
        "SELECT sourced_id, status, date_last_modified, fields, active FROM roster_records
         WHERE tenant_id = $1 AND entity = $2 AND active = 1 ORDER BY position",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(stored_from_row).collect()
}

/// The sourcedIds of the active rows of one entity.
pub async fn active_ids(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
) -> Result<HashSet<String>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT sourced_id FROM roster_records WHERE tenant_id = $1 AND entity = $2 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().collect())
}

/// Counts active rows per entity.
pub async fn count_active(store: &Store, tenant: &TenantId, entity: Entity) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM roster_records WHERE tenant_id = $1 AND entity = $2 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .fetch_one(store.pool())
    .await?)
}

/// The next free export position of an entity (positions only grow, so rows written later
/// export later).
pub async fn next_position(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
) -> Result<i64> {
    let max: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) FROM roster_records WHERE tenant_id = $1 AND entity = $2",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .fetch_one(&mut *conn)
    .await?;
    Ok(max + 1)
}

/// A value bound into a batched statement.
#[derive(Clone, Debug)]
pub enum Value {
    Text(Option<String>),
    Int(i64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(Some(s.to_owned()))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(Some(s))
    }
}
impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Value {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Int(b as i64)
    }
}

/// `INSERT … ON CONFLICT (key) DO UPDATE` of many rows, in batches. Both SQLite (3.24+) and
/// PostgreSQL accept this form with `excluded.`.
async fn upsert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    key: &[&str],
    keep_on_conflict: &[&str],
    rows: impl Iterator<Item = Vec<Value>>,
) -> Result<()> {
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c) && !keep_on_conflict.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    // sqlx-sqlite resolves `$N` parameters by name on every execution; anonymous `?` binds
    // in order and is several times cheaper for these wide statements.
    let positional = conn.backend_name() == "SQLite";
    // Rows are built one batch at a time so that an import never holds a second copy of
    // everything it writes.
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(BATCH).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut args = AnyArguments::default();
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for (j, v) in row.iter().enumerate() {
                n += 1;
                if j > 0 {
                    sql.push_str(", ");
                }
                if positional {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${n}"));
                }
                let bound = match v {
                    Value::Text(t) => args.add(t.clone()),
                    Value::Int(i) => args.add(*i),
                };
                bound.map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))?;
            }
            sql.push(')');
        }
        sql.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            key.join(", "),
            updates.join(", ")
        ));
        sqlx::query_with(&sql, args).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes rows of one entity (insert or replace), giving them consecutive export positions
/// from `first_position` in the order given.
pub async fn write_records(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
    records: &[StoredRecord],
    first_position: i64,
    at: &str,
) -> Result<()> {
    let rows = records.iter().enumerate().map(|(i, r)| {
        vec![
            tenant.as_str().into(),
            entity.file_stem().into(),
            r.sourced_id.as_str().into(),
            r.status.clone().into(),
            r.date_last_modified.clone().into(),
            r.fields.as_str().into(),
            r.active.into(),
            (first_position + i as i64).into(),
            at.into(),
        ]
    });
    upsert_rows(
        conn,
        "roster_records",
        &[
            "tenant_id",
            "entity",
            "sourced_id",
            "status",
            "date_last_modified",
            "fields",
            "active",
            "position",
            "updated_at",
        ],
        &["tenant_id", "entity", "sourced_id"],
        &[],
        rows,
    )
    .await
}

/// Marks rows inactive (they stay, for the audit trail and for a later reactivation).
pub async fn deactivate(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
    sourced_ids: &[String],
    at: &str,
) -> Result<()> {
    for id in sourced_ids {
        sqlx::query(
            "UPDATE roster_records SET active = 0, updated_at = $1
             WHERE tenant_id = $2 AND entity = $3 AND sourced_id = $4",
        )
        .bind(at)
        .bind(tenant.as_str())
        .bind(entity.file_stem())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        match entity {
            Entity::Users => {
                sqlx::query(
                    "UPDATE users SET active = 0, updated_at = $1 WHERE tenant_id = $2 AND sourced_id = $3",
                )
                .bind(at)
                .bind(tenant.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            Entity::Enrollments => {
                sqlx::query(
                    "UPDATE memberships SET active = 0 WHERE tenant_id = $1 AND enrollment_id = $2",
                )
                .bind(tenant.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A person as the portal sees them (projected from users.csv and roles.csv).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UserRow {
    pub sourced_id: String,
    pub username: String,
    pub user_master_identifier: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub kana_given_name: Option<String>,
    pub kana_family_name: Option<String>,
    /// The primary role (OneRoster role vocabulary, e.g. `student`, `teacher`).
    pub role: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub active: bool,
}

pub async fn write_users(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    users: &[UserRow],
    at: &str,
) -> Result<()> {
    let rows = users.iter().map(|u| {
        vec![
            tenant.as_str().into(),
            u.sourced_id.as_str().into(),
            u.username.as_str().into(),
            u.user_master_identifier.clone().into(),
            u.given_name.as_str().into(),
            u.family_name.as_str().into(),
            u.kana_given_name.clone().into(),
            u.kana_family_name.clone().into(),
            u.role.as_str().into(),
            u.email.clone().into(),
            u.enabled.into(),
            u.active.into(),
            at.into(),
        ]
    });
    upsert_rows(
        conn,
        "users",
        &[
            "tenant_id",
            "sourced_id",
            "username",
            "user_master_identifier",
            "given_name",
            "family_name",
            "kana_given_name",
            "kana_family_name",
            "role",
            "email",
            "enabled",
            "active",
            "updated_at",
        ],
        &["tenant_id", "sourced_id"],
        // The role comes from roles.csv (see `set_roles`); a users.csv row does not reset it.
        &["role"],
        rows,
    )
    .await
}

/// Sets the primary role of users already written.
pub async fn set_roles(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    roles: &[(String, String)],
) -> Result<()> {
    for (user, role) in roles {
        sqlx::query("UPDATE users SET role = $1 WHERE tenant_id = $2 AND sourced_id = $3")
            .bind(role)
            .bind(tenant.as_str())
            .bind(user)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn find_user_by_username(
    store: &Store,
    tenant: &TenantId,
    username: &str,
) -> Result<Option<UserRow>> {
    let row = sqlx::query(
        "SELECT sourced_id, username, user_master_identifier, given_name, family_name,
                kana_given_name, kana_family_name, role, email, enabled, active
         FROM users WHERE tenant_id = $1 AND username = $2 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(username)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| user_from_row(&r)).transpose()
}

/// Active users of a tenant, by username, a page at a time.
pub async fn list_users(
    store: &Store,
    tenant: &TenantId,
    after_username: &str,
    limit: i64,
) -> Result<Vec<UserRow>> {
    let rows = sqlx::query(
        "SELECT sourced_id, username, user_master_identifier, given_name, family_name,
                kana_given_name, kana_family_name, role, email, enabled, active
         FROM users WHERE tenant_id = $1 AND active = 1 AND username > $2
         ORDER BY username LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(after_username)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(user_from_row).collect()
}

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        sourced_id: r.try_get("sourced_id")?,
        username: r.try_get("username")?,
        user_master_identifier: r.try_get("user_master_identifier")?,
        given_name: r.try_get("given_name")?,
        family_name: r.try_get("family_name")?,
        kana_given_name: r.try_get("kana_given_name")?,
        kana_family_name: r.try_get("kana_family_name")?,
        role: r.try_get("role")?,
        email: r.try_get("email")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

/// A user's membership of a class (projected from enrollments.csv).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MembershipRow {
    pub enrollment_id: String,
    pub user_sourced_id: String,
    pub class_sourced_id: String,
    pub school_sourced_id: String,
    pub role: String,
    pub active: bool,
}

pub async fn write_memberships(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    rows: &[MembershipRow],
) -> Result<()> {
    let values = rows.iter().map(|m| {
        vec![
            tenant.as_str().into(),
            m.enrollment_id.as_str().into(),
            m.user_sourced_id.as_str().into(),
            m.class_sourced_id.as_str().into(),
            m.school_sourced_id.as_str().into(),
            m.role.as_str().into(),
            m.active.into(),
        ]
    });
    upsert_rows(
        conn,
        "memberships",
        &[
            "tenant_id",
            "enrollment_id",
            "user_sourced_id",
            "class_sourced_id",
            "school_sourced_id",
            "role",
            "active",
        ],
        &["tenant_id", "enrollment_id"],
        &[],
        values,
    )
    .await
}

/// The active memberships of a user.
pub async fn memberships_of(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Vec<MembershipRow>> {
    let rows = sqlx::query(
        "SELECT enrollment_id, user_sourced_id, class_sourced_id, school_sourced_id, role, active
         FROM memberships WHERE tenant_id = $1 AND user_sourced_id = $2 AND active = 1
         ORDER BY class_sourced_id",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MembershipRow {
                enrollment_id: r.try_get("enrollment_id")?,
                user_sourced_id: r.try_get("user_sourced_id")?,
                class_sourced_id: r.try_get("class_sourced_id")?,
                school_sourced_id: r.try_get("school_sourced_id")?,
                role: r.try_get("role")?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

/// Records an import in the history.
pub async fn record_import(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
    at: &str,
    actor: &str,
    source: &str,
    summary: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO roster_imports (id, tenant_id, at, actor, source, summary) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant.as_str())
    .bind(at)
    .bind(actor)
    .bind(source)
    .bind(summary.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

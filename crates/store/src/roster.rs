//! The tenant's roster as stored: OneRoster rows (`roster_records`) and the typed projections
//! the rest of Kakehashi queries (`users`, `memberships`).
//!
//! This module writes what it is told to write; the import policy (bulk replaces, delta
//! upserts, what counts as changed) lives in `kakehashi-core`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use kakehashi_oneroster::{Entity, Record, RowStatus};
use sqlx::any::AnyArguments;
use sqlx::{AnyConnection, Arguments, Row};

use crate::{Result, Store, StoreError, TenantId};

/// Ids per `IN (…)` or `VALUES` list of a batched UPDATE.
const BATCH: usize = 500;

/// Parameters per multi-row INSERT: under SQLite's (32,766) and PostgreSQL's (65,535) limits.
/// Few, large statements matter on SQLite: each one keeps a statement journal of every page
/// it touches, so a page that many rows of one statement touch is copied once, not per batch.
const MAX_PARAMS: usize = 30_000;

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
    /// The stored form of a parsed row of `entity`. `password` never reaches the store in
    /// plain text. Empty values of the entity's canonical columns are left out: the export
    /// writes every canonical column anyway (empty when a row has no value), so they would
    /// only make every row longer. Empty values of other columns are kept, because they make
    /// the export carry the column, in the order first seen.
    pub fn from_record(entity: Entity, r: &Record) -> StoredRecord {
        let canonical = kakehashi_oneroster::header(entity);
        let fields: Vec<&(Cow<'static, str>, String)> = r
            .fields
            .iter()
            .filter(|(k, v)| k != "password" && !(v.is_empty() && canonical.contains(&k.as_ref())))
            .collect();
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
        let fields: Vec<(Cow<'static, str>, String)> =
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

/// A stored row and its export position.
#[derive(Clone, Debug)]
pub struct Positioned {
    pub record: StoredRecord,
    pub position: i64,
}

/// Every stored row of one entity of a tenant, active or not, by sourcedId.
pub async fn load_all(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
) -> Result<HashMap<String, Positioned>> {
    let rows = sqlx::query(
        "SELECT sourced_id, status, date_last_modified, fields, active, position
         FROM roster_records WHERE tenant_id = $1 AND entity = $2",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let record = stored_from_row(r)?;
            let position = r.try_get("position")?;
            Ok((record.sourced_id.clone(), Positioned { record, position }))
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

/// One stored row of an entity (active or not).
pub async fn load_one(
    store: &Store,
    tenant: &TenantId,
    entity: Entity,
    sourced_id: &str,
) -> Result<Option<StoredRecord>> {
    let row = sqlx::query(
        "SELECT sourced_id, status, date_last_modified, fields, active FROM roster_records
         WHERE tenant_id = $1 AND entity = $2 AND sourced_id = $3",
    )
    .bind(tenant.as_str())
    .bind(entity.file_stem())
    .bind(sourced_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| stored_from_row(&r)).transpose()
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

/// A value bound into a batched statement. Text is borrowed from the rows being written so
/// that a batch costs no copy of them on our side.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Text(Option<&'a str>),
    Int(i64),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Value<'a> {
        Value::Text(Some(s))
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Value<'a> {
        Value::Text(Some(s))
    }
}
impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(s: Option<&'a str>) -> Value<'a> {
        Value::Text(s)
    }
}
impl From<i64> for Value<'_> {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Int(b as i64)
    }
}

/// One statement's SQL and arguments, built together so that placeholders and binds cannot
/// drift apart. Every placeholder gets its own argument: SQLite takes anonymous `?` (sqlx-sqlite
/// resolves `$N` by name on every execution, several times slower for wide statements),
/// PostgreSQL `$N`.
struct Batch<'a> {
    sql: String,
    args: AnyArguments<'a>,
    n: usize,
    positional: bool,
}

impl<'a> Batch<'a> {
    fn new(conn: &AnyConnection, sql: &str) -> Batch<'a> {
        Batch::with_placeholders(is_positional(conn), sql)
    }

    fn with_placeholders(positional: bool, sql: &str) -> Batch<'a> {
        Batch {
            sql: sql.to_owned(),
            args: AnyArguments::default(),
            n: 0,
            positional,
        }
    }

    fn push_sql(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// Appends a placeholder for `v`.
    fn bind(&mut self, v: Value<'a>) -> Result<()> {
        use std::fmt::Write;
        self.n += 1;
        if self.positional {
            self.sql.push('?');
        } else {
            let _ = write!(self.sql, "${}", self.n);
        }
        match v {
            Value::Text(t) => self.args.add(t),
            Value::Int(i) => self.args.add(i),
        }
        .map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))
    }

    /// `(v1, v2, …)`
    fn bind_tuple(&mut self, values: impl IntoIterator<Item = Value<'a>>) -> Result<()> {
        self.sql.push('(');
        for (j, v) in values.into_iter().enumerate() {
            if j > 0 {
                self.sql.push_str(", ");
            }
            self.bind(v)?;
        }
        self.sql.push(')');
        Ok(())
    }

    async fn execute(self, conn: &mut AnyConnection) -> Result<()> {
        sqlx::query_with(&self.sql, self.args)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

fn is_positional(conn: &AnyConnection) -> bool {
    conn.backend_name() == "SQLite"
}

/// `INSERT … ON CONFLICT (key) DO UPDATE` of many rows, in batches. Both SQLite (3.24+) and
/// PostgreSQL accept this form with `excluded.`.
async fn upsert_rows<'a, const N: usize>(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str; N],
    key: &[&str],
    keep_on_conflict: &[&str],
    rows: impl Iterator<Item = [Value<'a>; N]>,
) -> Result<()> {
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c) && !keep_on_conflict.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let tail = format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        updates.join(", ")
    );
    // Rows are bound one batch at a time so that an import never holds a second copy of
    // everything it writes.
    let positional = is_positional(conn);
    let mut rows = rows.peekable();
    let mut build = || -> Result<Option<Batch<'a>>> {
        if rows.peek().is_none() {
            return Ok(None);
        }
        let mut batch = Batch::with_placeholders(positional, &head);
        for (i, row) in rows.by_ref().take(MAX_PARAMS / N).enumerate() {
            if i > 0 {
                batch.push_sql(", ");
            }
            batch.bind_tuple(row)?;
        }
        batch.push_sql(&tail);
        Ok(Some(batch))
    };
    let mut next = build()?;
    while let Some(batch) = next {
        // The database works on one batch (sqlx-sqlite in its own thread, PostgreSQL in its
        // server) while this thread binds the next: the first poll of `execute` sends the
        // statement, and statements still run one after the other, in order.
        let (done, built) = tokio::join!(batch.execute(conn), async { build() });
        done?;
        next = built?;
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
        [
            tenant.as_str().into(),
            entity.file_stem().into(),
            r.sourced_id.as_str().into(),
            r.status.as_deref().into(),
            r.date_last_modified.as_deref().into(),
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

/// Marks rows inactive (they stay, for the audit trail and for a later reactivation), with
/// their projections, a batch of ids per statement.
pub async fn deactivate(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    entity: Entity,
    sourced_ids: &[String],
    at: &str,
) -> Result<()> {
    let projection = match entity {
        Entity::Users => Some((
            "UPDATE users SET active = 0, updated_at = ",
            " AND sourced_id IN ",
        )),
        Entity::Enrollments => Some((
            "UPDATE memberships SET active = 0",
            " AND enrollment_id IN ",
        )),
        _ => None,
    };
    for chunk in sourced_ids.chunks(BATCH) {
        let ids = || chunk.iter().map(Value::from);
        let mut b = Batch::new(conn, "UPDATE roster_records SET active = 0, updated_at = ");
        b.bind(at.into())?;
        b.push_sql(" WHERE tenant_id = ");
        b.bind(tenant.as_str().into())?;
        b.push_sql(" AND entity = ");
        b.bind(entity.file_stem().into())?;
        b.push_sql(" AND sourced_id IN ");
        b.bind_tuple(ids())?;
        b.execute(conn).await?;
        if let Some((update, key)) = projection {
            let mut b = Batch::new(conn, update);
            if entity == Entity::Users {
                b.bind(at.into())?;
            }
            b.push_sql(" WHERE tenant_id = ");
            b.bind(tenant.as_str().into())?;
            b.push_sql(key);
            b.bind_tuple(ids())?;
            b.execute(conn).await?;
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
        [
            tenant.as_str().into(),
            u.sourced_id.as_str().into(),
            u.username.as_str().into(),
            u.user_master_identifier.as_deref().into(),
            u.given_name.as_str().into(),
            u.family_name.as_str().into(),
            u.kana_given_name.as_deref().into(),
            u.kana_family_name.as_deref().into(),
            u.role.as_str().into(),
            u.email.as_deref().into(),
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

/// Sets the primary role of users already written. When a user is listed twice the last role
/// wins, as it would with one statement per row. Only users whose role changes are written, a
/// batch per statement: `UPDATE … SET role = CASE sourced_id WHEN … END WHERE sourced_id IN
/// (…)`, which both databases answer from the primary key (PostgreSQL, without statistics on a
/// table filled in the same transaction, would scan the table for a join with a `VALUES` list).
pub async fn set_roles(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    roles: &[(&str, &str)],
) -> Result<()> {
    if roles.is_empty() {
        return Ok(());
    }
    let current: HashMap<String, String> =
        sqlx::query_as("SELECT sourced_id, role FROM users WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(roles.len());
    for (i, (user, _)) in roles.iter().enumerate() {
        last.insert(user, i);
    }
    let changed: Vec<(&str, &str)> = roles
        .iter()
        .enumerate()
        .filter(|(i, (user, role))| {
            last.get(user) == Some(i) && current.get(*user).is_some_and(|r| r != role)
        })
        .map(|(_, r)| *r)
        .collect();
    for chunk in changed.chunks(BATCH) {
        let mut b = Batch::new(conn, "UPDATE users SET role = CASE sourced_id");
        for (user, role) in chunk {
            b.push_sql(" WHEN ");
            b.bind((*user).into())?;
            b.push_sql(" THEN ");
            b.bind((*role).into())?;
        }
        b.push_sql(" ELSE role END WHERE tenant_id = ");
        b.bind(tenant.as_str().into())?;
        b.push_sql(" AND sourced_id IN ");
        b.bind_tuple(chunk.iter().map(|(user, _)| Value::from(*user)))?;
        b.execute(conn).await?;
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

/// [`find_user_by_username`] with the user's stored password hash (PHC string), if any, in
/// one query (a login needs both).
pub async fn find_user_with_password(
    store: &Store,
    tenant: &TenantId,
    username: &str,
) -> Result<Option<(UserRow, Option<String>)>> {
    let row = sqlx::query(
        "SELECT u.sourced_id, u.username, u.user_master_identifier, u.given_name,
                u.family_name, u.kana_given_name, u.kana_family_name, u.role, u.email,
                u.enabled, u.active, c.password_hash
         FROM users u LEFT JOIN credentials c
              ON c.tenant_id = u.tenant_id AND c.user_sourced_id = u.sourced_id
         WHERE u.tenant_id = $1 AND u.username = $2 AND u.active = 1",
    )
    .bind(tenant.as_str())
    .bind(username)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
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

pub(crate) fn user_from_row(r: &sqlx::any::AnyRow) -> Result<UserRow> {
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
        [
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

/// `true` when the tenant holds an active row `sourced_id` of `entity` (a file name without
/// `.csv`, e.g. `classes`).
pub async fn record_is_active(
    store: &Store,
    tenant: &TenantId,
    entity: &str,
    sourced_id: &str,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM roster_records
         WHERE tenant_id = $1 AND entity = $2 AND sourced_id = $3 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(entity)
    .bind(sourced_id)
    .fetch_optional(store.pool())
    .await?
    .is_some())
}

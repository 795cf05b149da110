//! What the web console and the admin REST API read and write beyond the other aggregates
//! (migration `0011_console.sql`): explicit admin grants, the people search, class lists and
//! the audit log searched by filter.
//!
//! Every function takes the tenant; the scoping by role (which school, which classes) is
//! passed in by `kakehashi_core::console::authz`, which decides it.

use sqlx::{AnyConnection, Row};

use crate::audit::Entry;
use crate::roster::UserRow;
use crate::{Result, Store, TenantId};

/// An explicit console role of a person or an API client.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GrantRow {
    /// `user:SOURCEDID` or `client:APP_ID`.
    pub subject: String,
    /// `tenant-admin` or `school-admin`.
    pub role: String,
    /// The school of a `school-admin`; empty for a tenant-wide role.
    pub school_sourced_id: String,
    pub granted_at: String,
    pub granted_by: String,
}

/// Adds a grant; `Ok(false)` when it was already there.
pub async fn insert_grant(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    g: &GrantRow,
) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO admin_grants (tenant_id, subject, role, school_sourced_id, granted_at, granted_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, subject, role, school_sourced_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(&g.subject)
    .bind(&g.role)
    .bind(&g.school_sourced_id)
    .bind(&g.granted_at)
    .bind(&g.granted_by)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes a grant; `Ok(false)` when there was none.
pub async fn delete_grant(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    subject: &str,
    role: &str,
    school: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM admin_grants
         WHERE tenant_id = $1 AND subject = $2 AND role = $3 AND school_sourced_id = $4",
    )
    .bind(tenant.as_str())
    .bind(subject)
    .bind(role)
    .bind(school)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The grants of one subject (`None`: of every subject of the tenant).
pub async fn grants(
    store: &Store,
    tenant: &TenantId,
    subject: Option<&str>,
) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(
        "SELECT subject, role, school_sourced_id, granted_at, granted_by FROM admin_grants
         WHERE tenant_id = $1 AND ($2 = '' OR subject = $2)
         ORDER BY subject, role, school_sourced_id",
    )
    .bind(tenant.as_str())
    .bind(subject.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GrantRow {
                subject: r.try_get("subject")?,
                role: r.try_get("role")?,
                school_sourced_id: r.try_get("school_sourced_id")?,
                granted_at: r.try_get("granted_at")?,
                granted_by: r.try_get("granted_by")?,
            })
        })
        .collect()
}

/// Whether `sourced_id` is an active org of type school in the tenant's roster.
pub async fn school_exists(store: &Store, tenant: &TenantId, sourced_id: &str) -> Result<bool> {
    let fields: Option<String> = sqlx::query_scalar(
        "SELECT fields FROM roster_records
         WHERE tenant_id = $1 AND entity = 'orgs' AND sourced_id = $2 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(sourced_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(fields.is_some_and(|f| field_of(&f, "type").as_deref() == Some("school")))
}

/// The value of column `name` in a stored row's `fields` JSON.
pub fn field_of(fields: &str, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_json::from_str(fields).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The titles of roster rows of `entity` (`classes`, `orgs`) by sourcedId, for display.
pub async fn titles(
    store: &Store,
    tenant: &TenantId,
    entity: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let column = if entity == "orgs" { "name" } else { "title" };
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT sourced_id, fields FROM roster_records
             WHERE tenant_id = $1 AND entity = $2 AND sourced_id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(entity);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(store.pool()).await? {
            let id: String = r.try_get("sourced_id")?;
            let fields: String = r.try_get("fields")?;
            out.push((id, field_of(&fields, column).unwrap_or_default()));
        }
    }
    Ok(out)
}

const USER_COLUMNS: &str = "u.sourced_id, u.username, u.user_master_identifier, u.given_name,
    u.family_name, u.kana_given_name, u.kana_family_name, u.role, u.email, u.enabled, u.active";

/// The text just above every string that starts with `prefix` in code-point order (the last
/// character incremented): `col >= prefix AND col < upper` is a prefix match that an index
/// answers. `None` when no such bound exists (then the range has no upper end).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        // Skip the surrogate gap, which no `char` can hold.
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A person (active or not) by sourcedId.
pub async fn person(store: &Store, tenant: &TenantId, sourced_id: &str) -> Result<Option<UserRow>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.tenant_id = $1 AND u.sourced_id = $2"
    ))
    .bind(tenant.as_str())
    .bind(sourced_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| crate::roster::user_from_row(&r)).transpose()
}

/// The active members of a class with their last portal sign-in (from the audit log).
pub async fn class_members(
    store: &Store,
    tenant: &TenantId,
    class_sourced_id: &str,
) -> Result<Vec<(UserRow, String, Option<String>)>> {
    let rows = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, m.role AS member_role FROM memberships m
         JOIN users u ON u.tenant_id = m.tenant_id AND u.sourced_id = m.user_sourced_id
         WHERE m.tenant_id = $1 AND m.class_sourced_id = $2 AND m.active = 1 AND u.active = 1
         ORDER BY m.role, u.username"
    ))
    .bind(tenant.as_str())
    .bind(class_sourced_id)
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let user = crate::roster::user_from_row(r)?;
        let role: String = r.try_get("member_role")?;
        let last = last_sign_in(store, tenant, &user.sourced_id).await?;
        out.push((user, role, last));
    }
    Ok(out)
}

/// When the person last signed in to the portal (the newest `portal.login` audit row).
pub async fn last_sign_in(store: &Store, tenant: &TenantId, user: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT at FROM audit_log WHERE chain = $1 AND target = $2 AND action = 'portal.login'
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(format!("user:{user}"))
    .fetch_optional(store.pool())
    .await?)
}

/// The class ids a user is a member of with `role` (e.g. the classes a teacher teaches).
pub async fn classes_of(
    store: &Store,
    tenant: &TenantId,
    user: &str,
    roles: &[&str],
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT class_sourced_id, school_sourced_id, role FROM memberships
         WHERE tenant_id = $1 AND user_sourced_id = $2 AND active = 1 ORDER BY class_sourced_id",
    )
    .bind(tenant.as_str())
    .bind(user)
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let role: String = r.try_get("role")?;
        if roles.contains(&role.as_str()) {
            out.push((
                r.try_get("class_sourced_id")?,
                r.try_get("school_sourced_id")?,
            ));
        }
    }
    Ok(out)
}

/// A filter on the audit log of one chain. Empty strings match everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Actions starting with this (e.g. `portal.` or `console.person.view`).
    pub action_prefix: String,
    pub actor: String,
    /// Exactly this target (e.g. `user:usr-minami-s01`).
    pub target: String,
    /// RFC 3339 instants, inclusive from, exclusive to.
    pub from: String,
    pub to: String,
}

/// Audit rows of `chain` matching `filter`, newest first, with `seq` below `before` (0: from
/// the newest), at most `limit`.
pub async fn search_audit(
    store: &Store,
    tenant: &TenantId,
    filter: &AuditFilter,
    before: i64,
    limit: i64,
) -> Result<Vec<Entry>> {
    let upper = if before <= 0 { i64::MAX } else { before };
    let rows = sqlx::query(
        "SELECT chain, seq, at, actor, action, target, details, prev_hash, hash FROM audit_log
         WHERE chain = $1 AND seq < $2
           AND ($3 = '' OR (action >= $3 AND action < $4))
           AND ($5 = '' OR actor = $5)
           AND ($6 = '' OR target = $6)
           AND ($7 = '' OR at >= $7)
           AND ($8 = '' OR at < $8)
         ORDER BY seq DESC LIMIT $9",
    )
    .bind(tenant.as_str())
    .bind(upper)
    .bind(&filter.action_prefix)
    .bind(prefix_upper_bound(&filter.action_prefix).unwrap_or_default())
    .bind(&filter.actor)
    .bind(&filter.target)
    .bind(&filter.from)
    .bind(&filter.to)
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

/// One import of the history: (id, at, actor, source, summary JSON).
pub type ImportHistoryRow = (String, String, String, String, String);

/// The import history of a tenant, newest first.
pub async fn imports(
    store: &Store,
    tenant: &TenantId,
    before_at: &str,
    limit: i64,
) -> Result<Vec<ImportHistoryRow>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, source, summary FROM roster_imports
         WHERE tenant_id = $1 AND ($2 = '' OR at < $2) ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(before_at)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("at")?,
                r.try_get("actor")?,
                r.try_get("source")?,
                r.try_get("summary")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upper_bound_is_just_above_every_extension_of_the_prefix() {
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_upper_bound("たなか").as_deref(), Some("たなが"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(""), None);
        let hi = prefix_upper_bound("minami.s").unwrap();
        assert!("minami.s01".as_bytes() < hi.as_bytes());
        assert!("minami.t01".as_bytes() >= hi.as_bytes());
    }
}

/// A console upload between preview and apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRow {
    pub id: String,
    pub created_at: String,
    pub actor: String,
    pub file_name: String,
    /// The validation report, JSON.
    pub report: String,
    /// The preview's summary, JSON (`None` when the package is invalid).
    pub summary: Option<String>,
    /// The zip, base64 (`None` when invalid or applied).
    pub package: Option<String>,
}

/// Stores an upload and removes those created before `older_than`.
pub async fn insert_upload(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    u: &UploadRow,
    older_than: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM console_uploads WHERE tenant_id = $1 AND created_at < $2")
        .bind(tenant.as_str())
        .bind(older_than)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO console_uploads (tenant_id, id, created_at, actor, file_name, report, summary, package)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_str())
    .bind(&u.id)
    .bind(&u.created_at)
    .bind(&u.actor)
    .bind(&u.file_name)
    .bind(&u.report)
    .bind(&u.summary)
    .bind(&u.package)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn upload(store: &Store, tenant: &TenantId, id: &str) -> Result<Option<UploadRow>> {
    let row = sqlx::query(
        "SELECT id, created_at, actor, file_name, report, summary, package FROM console_uploads
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        Ok(UploadRow {
            id: r.try_get("id")?,
            created_at: r.try_get("created_at")?,
            actor: r.try_get("actor")?,
            file_name: r.try_get("file_name")?,
            report: r.try_get("report")?,
            summary: r.try_get("summary")?,
            package: r.try_get("package")?,
        })
    })
    .transpose()
}

/// Forgets an upload's package once applied; `Ok(false)` when it was already gone (a second
/// click, or another node applied it).
pub async fn take_upload_package(store: &Store, tenant: &TenantId, id: &str) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE console_uploads SET package = NULL
         WHERE tenant_id = $1 AND id = $2 AND package IS NOT NULL",
    )
    .bind(tenant.as_str())
    .bind(id)
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Issues (or replaces) a pupil's sign-in card.
pub async fn replace_card(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user: &str,
    token_hash: &str,
    at: &str,
    by: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_cards (tenant_id, user_sourced_id, token_hash, issued_at, issued_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, user_sourced_id) DO UPDATE SET
            token_hash = excluded.token_hash, issued_at = excluded.issued_at,
            issued_by = excluded.issued_by",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(token_hash)
    .bind(at)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes a pupil's card; `Ok(false)` when they had none.
pub async fn delete_card(conn: &mut AnyConnection, tenant: &TenantId, user: &str) -> Result<bool> {
    let n = sqlx::query("DELETE FROM sign_in_cards WHERE tenant_id = $1 AND user_sourced_id = $2")
        .bind(tenant.as_str())
        .bind(user)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Whose live card has this token hash.
pub async fn card_holder(
    store: &Store,
    tenant: &TenantId,
    token_hash: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT user_sourced_id FROM sign_in_cards WHERE tenant_id = $1 AND token_hash = $2",
    )
    .bind(tenant.as_str())
    .bind(token_hash)
    .fetch_optional(store.pool())
    .await?)
}

/// What the operator overview counts for a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantCounts {
    /// Active people (the roster's users).
    pub users: i64,
    /// Apps of the catalog (OIDC clients and SAML SPs; LTI tools not included).
    pub apps: i64,
    pub lti_tools: i64,
}

/// Counts of one tenant's people, apps and LTI tools.
pub async fn tenant_counts(store: &Store, tenant: &TenantId) -> Result<TenantCounts> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND active = 1) AS users,
                (SELECT COUNT(*) FROM apps WHERE tenant_id = $1 AND protocol <> 'lti') AS apps,
                (SELECT COUNT(*) FROM lti_tools WHERE tenant_id = $1) AS lti_tools",
    )
    .bind(tenant.as_str())
    .fetch_one(store.pool())
    .await?;
    Ok(TenantCounts {
        users: row.try_get("users")?,
        apps: row.try_get("apps")?,
        lti_tools: row.try_get("lti_tools")?,
    })
}

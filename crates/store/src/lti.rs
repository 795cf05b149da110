//! The LTI 1.3 platform's state: tools, deployments, pending launches, the nonce replay
//! cache, resource links placed in classes, AGS line items and scores. Every function takes
//! the tenant.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::roster::UserRow;
use crate::{Result, Store, TenantId};

/// An LTI tool's settings (the rest is its app row).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ToolRow {
    pub app_id: String,
    pub login_url: String,
    pub launch_url: String,
    pub deep_linking_url: Option<String>,
    pub jwks_url: Option<String>,
    #[serde(skip)]
    pub public_jwks: Option<String>,
    pub send_name: bool,
    pub send_email: bool,
    /// Custom parameters (JSON object of strings) sent with every launch.
    pub custom: String,
    pub created_at: String,
}

pub async fn insert_tool(conn: &mut AnyConnection, tenant: &TenantId, t: &ToolRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO lti_tools (tenant_id, app_id, login_url, launch_url, deep_linking_url,
            jwks_url, public_jwks, send_name, send_email, custom, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant.as_str())
    .bind(&t.app_id)
    .bind(&t.login_url)
    .bind(&t.launch_url)
    .bind(&t.deep_linking_url)
    .bind(&t.jwks_url)
    .bind(&t.public_jwks)
    .bind(t.send_name as i64)
    .bind(t.send_email as i64)
    .bind(&t.custom)
    .bind(&t.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a tool's settings (all but its creation time); `Ok(false)` if there was none.
pub async fn update_tool(conn: &mut AnyConnection, tenant: &TenantId, t: &ToolRow) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE lti_tools SET login_url = $1, launch_url = $2, deep_linking_url = $3,
            jwks_url = $4, public_jwks = $5, send_name = $6, send_email = $7, custom = $8
         WHERE tenant_id = $9 AND app_id = $10",
    )
    .bind(&t.login_url)
    .bind(&t.launch_url)
    .bind(&t.deep_linking_url)
    .bind(&t.jwks_url)
    .bind(&t.public_jwks)
    .bind(t.send_name as i64)
    .bind(t.send_email as i64)
    .bind(&t.custom)
    .bind(tenant.as_str())
    .bind(&t.app_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

const TOOL_COLUMNS: &str = "app_id, login_url, launch_url, deep_linking_url, jwks_url,
    public_jwks, send_name, send_email, custom, created_at";

fn tool_from(r: &AnyRow) -> Result<ToolRow> {
    Ok(ToolRow {
        app_id: r.try_get("app_id")?,
        login_url: r.try_get("login_url")?,
        launch_url: r.try_get("launch_url")?,
        deep_linking_url: r.try_get("deep_linking_url")?,
        jwks_url: r.try_get("jwks_url")?,
        public_jwks: r.try_get("public_jwks")?,
        send_name: r.try_get::<i64, _>("send_name")? != 0,
        send_email: r.try_get::<i64, _>("send_email")? != 0,
        custom: r.try_get("custom")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn get_tool(store: &Store, tenant: &TenantId, app_id: &str) -> Result<Option<ToolRow>> {
    let row = sqlx::query(&format!(
        "SELECT {TOOL_COLUMNS} FROM lti_tools WHERE tenant_id = $1 AND app_id = $2"
    ))
    .bind(tenant.as_str())
    .bind(app_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| tool_from(&r)).transpose()
}

pub async fn list_tools(store: &Store, tenant: &TenantId) -> Result<Vec<ToolRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {TOOL_COLUMNS} FROM lti_tools WHERE tenant_id = $1 ORDER BY app_id"
    ))
    .bind(tenant.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(tool_from).collect()
}

/// Removes a tool's LTI rows (its deployments, links, line items and scores stay out of
/// reach with it). `Ok(false)` if there was no such tool.
pub async fn delete_tool(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    app_id: &str,
) -> Result<bool> {
    let n = sqlx::query("DELETE FROM lti_tools WHERE tenant_id = $1 AND app_id = $2")
        .bind(tenant.as_str())
        .bind(app_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    for table in ["lti_deployments", "lti_resource_links"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND app_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(app_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(n == 1)
}

/// A deployment of a tool: tenant-wide (`school_sourced_id` NULL) or for one school.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentRow {
    pub deployment_id: String,
    pub app_id: String,
    pub school_sourced_id: Option<String>,
    pub created_at: String,
}

pub async fn insert_deployment(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    d: &DeploymentRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lti_deployments (tenant_id, deployment_id, app_id, school_sourced_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_str())
    .bind(&d.deployment_id)
    .bind(&d.app_id)
    .bind(&d.school_sourced_id)
    .bind(&d.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn deployment_from(r: &AnyRow) -> Result<DeploymentRow> {
    Ok(DeploymentRow {
        deployment_id: r.try_get("deployment_id")?,
        app_id: r.try_get("app_id")?,
        school_sourced_id: r.try_get("school_sourced_id")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn deployments_of(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
) -> Result<Vec<DeploymentRow>> {
    let rows = sqlx::query(
        "SELECT deployment_id, app_id, school_sourced_id, created_at FROM lti_deployments
         WHERE tenant_id = $1 AND app_id = $2 ORDER BY created_at, deployment_id",
    )
    .bind(tenant.as_str())
    .bind(app_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(deployment_from).collect()
}

/// A launch started by the platform, waiting for the tool's authentication request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchRow {
    pub hint_hash: String,
    pub app_id: String,
    pub deployment_id: String,
    pub user_sourced_id: String,
    pub message_type: String,
    pub class_sourced_id: Option<String>,
    pub resource_link_id: Option<String>,
    pub target_link_uri: String,
    pub expires_at: i64,
}

pub async fn insert_launch(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    l: &LaunchRow,
) -> Result<()> {
    // Old launches go on the way; kept two hours past their expiry, longer than a deep
    // linking session (one hour after the launch) may last.
    sqlx::query("DELETE FROM lti_launches WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(l.expires_at - 7200)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO lti_launches (tenant_id, hint_hash, app_id, deployment_id, user_sourced_id,
            message_type, class_sourced_id, resource_link_id, target_link_uri, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant.as_str())
    .bind(&l.hint_hash)
    .bind(&l.app_id)
    .bind(&l.deployment_id)
    .bind(&l.user_sourced_id)
    .bind(&l.message_type)
    .bind(&l.class_sourced_id)
    .bind(&l.resource_link_id)
    .bind(&l.target_link_uri)
    .bind(l.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes a pending launch once: a single conditional UPDATE, so two nodes cannot both answer
/// one hint. `None` when unknown, expired or already used.
pub async fn consume_launch(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    hint_hash: &str,
    now: i64,
) -> Result<Option<LaunchRow>> {
    let n = sqlx::query(
        "UPDATE lti_launches SET consumed_at = $3
         WHERE tenant_id = $1 AND hint_hash = $2 AND consumed_at IS NULL AND expires_at >= $3",
    )
    .bind(tenant.as_str())
    .bind(hint_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(None);
    }
    launch_row(conn, tenant, hint_hash).await.map(Some)
}

/// Takes the response of a deep linking request once, within `session` seconds of its
/// launch. `None` when unknown, not a deep linking request, too old or already answered.
pub async fn finish_deep_link(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    hint_hash: &str,
    now: i64,
    session: i64,
) -> Result<Option<LaunchRow>> {
    let n = sqlx::query(
        "UPDATE lti_launches SET returned_at = $3
         WHERE tenant_id = $1 AND hint_hash = $2 AND message_type = 'LtiDeepLinkingRequest'
           AND consumed_at IS NOT NULL AND returned_at IS NULL AND consumed_at >= $4",
    )
    .bind(tenant.as_str())
    .bind(hint_hash)
    .bind(now)
    .bind(now - session)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(None);
    }
    launch_row(conn, tenant, hint_hash).await.map(Some)
}

async fn launch_row(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    hint_hash: &str,
) -> Result<LaunchRow> {
    let r = sqlx::query(
        "SELECT hint_hash, app_id, deployment_id, user_sourced_id, message_type,
                class_sourced_id, resource_link_id, target_link_uri, expires_at
         FROM lti_launches WHERE tenant_id = $1 AND hint_hash = $2",
    )
    .bind(tenant.as_str())
    .bind(hint_hash)
    .fetch_one(&mut *conn)
    .await?;
    Ok(LaunchRow {
        hint_hash: r.try_get("hint_hash")?,
        app_id: r.try_get("app_id")?,
        deployment_id: r.try_get("deployment_id")?,
        user_sourced_id: r.try_get("user_sourced_id")?,
        message_type: r.try_get("message_type")?,
        class_sourced_id: r.try_get("class_sourced_id")?,
        resource_link_id: r.try_get("resource_link_id")?,
        target_link_uri: r.try_get("target_link_uri")?,
        expires_at: r.try_get("expires_at")?,
    })
}

/// Records a nonce of a tool; `Ok(false)` when it was already used (a replay). Expired
/// entries of the tenant are dropped on the way.
pub async fn first_nonce_use(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    app_id: &str,
    nonce: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool> {
    sqlx::query("DELETE FROM lti_nonces WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let n = sqlx::query(
        "INSERT INTO lti_nonces (tenant_id, app_id, nonce, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, app_id, nonce) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(app_id)
    .bind(nonce)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A resource link placed in a class.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ResourceLinkRow {
    pub id: String,
    pub app_id: String,
    pub deployment_id: String,
    pub class_sourced_id: String,
    pub title: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub custom: String,
    pub created_by: String,
    pub created_at: String,
}

pub async fn insert_resource_link(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    l: &ResourceLinkRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lti_resource_links (tenant_id, id, app_id, deployment_id, class_sourced_id,
            title, description, url, custom, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant.as_str())
    .bind(&l.id)
    .bind(&l.app_id)
    .bind(&l.deployment_id)
    .bind(&l.class_sourced_id)
    .bind(&l.title)
    .bind(&l.description)
    .bind(&l.url)
    .bind(&l.custom)
    .bind(&l.created_by)
    .bind(&l.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const LINK_COLUMNS: &str = "id, app_id, deployment_id, class_sourced_id, title, description,
    url, custom, created_by, created_at";

fn link_from(r: &AnyRow) -> Result<ResourceLinkRow> {
    Ok(ResourceLinkRow {
        id: r.try_get("id")?,
        app_id: r.try_get("app_id")?,
        deployment_id: r.try_get("deployment_id")?,
        class_sourced_id: r.try_get("class_sourced_id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        url: r.try_get("url")?,
        custom: r.try_get("custom")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn get_resource_link(
    store: &Store,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<ResourceLinkRow>> {
    let r = sqlx::query(&format!(
        "SELECT {LINK_COLUMNS} FROM lti_resource_links WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    r.map(|r| link_from(&r)).transpose()
}

/// The resource links of the given classes, by class then title.
pub async fn resource_links_of_classes(
    store: &Store,
    tenant: &TenantId,
    classes: &[String],
) -> Result<Vec<ResourceLinkRow>> {
    let mut out = Vec::new();
    for class in classes {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM lti_resource_links
             WHERE tenant_id = $1 AND class_sourced_id = $2 ORDER BY title, id"
        ))
        .bind(tenant.as_str())
        .bind(class)
        .fetch_all(store.pool())
        .await?;
        for r in &rows {
            out.push(link_from(r)?);
        }
    }
    Ok(out)
}

/// A member of a class: the user and the enrollment role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassMember {
    pub user: UserRow,
    pub role: String,
}

/// The active, enabled members of a class, ordered by sourcedId; `roles` filters by the
/// enrollment role; `offset` and `limit` page through them.
pub async fn class_members(
    store: &Store,
    tenant: &TenantId,
    class: &str,
    roles: Option<&[&str]>,
    offset: i64,
    limit: i64,
) -> Result<Vec<ClassMember>> {
    let mut sql = String::from(
        "SELECT u.sourced_id, u.username, u.user_master_identifier, u.given_name, u.family_name,
                u.kana_given_name, u.kana_family_name, u.role AS user_role, u.email,
                m.role AS enrollment_role
         FROM memberships m JOIN users u
           ON u.tenant_id = m.tenant_id AND u.sourced_id = m.user_sourced_id
         WHERE m.tenant_id = $1 AND m.class_sourced_id = $2 AND m.active = 1
           AND u.active = 1 AND u.enabled = 1",
    );
    let roles = roles.unwrap_or(&[]);
    for i in 0..roles.len() {
        sql.push_str(if i == 0 { " AND m.role IN (" } else { ", " });
        sql.push_str(&format!("${}", i + 5));
        if i + 1 == roles.len() {
            sql.push(')');
        }
    }
    sql.push_str(" ORDER BY u.sourced_id LIMIT $4 OFFSET $3");
    let mut q = sqlx::query(&sql)
        .bind(tenant.as_str())
        .bind(class)
        .bind(offset)
        .bind(limit);
    for r in roles {
        q = q.bind(*r);
    }
    let rows = q.fetch_all(store.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(ClassMember {
                user: UserRow {
                    sourced_id: r.try_get("sourced_id")?,
                    username: r.try_get("username")?,
                    user_master_identifier: r.try_get("user_master_identifier")?,
                    given_name: r.try_get("given_name")?,
                    family_name: r.try_get("family_name")?,
                    kana_given_name: r.try_get("kana_given_name")?,
                    kana_family_name: r.try_get("kana_family_name")?,
                    role: r.try_get("user_role")?,
                    email: r.try_get("email")?,
                    enabled: true,
                    active: true,
                },
                role: r.try_get("enrollment_role")?,
            })
        })
        .collect()
}

/// The school of a class (from the memberships projection), if it has any member.
pub async fn school_of_class(
    store: &Store,
    tenant: &TenantId,
    class: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT school_sourced_id FROM memberships
         WHERE tenant_id = $1 AND class_sourced_id = $2 ORDER BY enrollment_id LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(class)
    .fetch_optional(store.pool())
    .await?)
}

/// An AGS line item as stored (`score_maximum` as decimal text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineItemRow {
    pub id: String,
    pub app_id: String,
    pub class_sourced_id: String,
    pub label: String,
    pub score_maximum: String,
    pub resource_id: Option<String>,
    pub tag: Option<String>,
    pub resource_link_id: Option<String>,
    pub start_date_time: Option<String>,
    pub end_date_time: Option<String>,
    pub created_at: String,
}

pub async fn insert_line_item(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    l: &LineItemRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lti_line_items (tenant_id, id, app_id, class_sourced_id, label,
            score_maximum, resource_id, tag, resource_link_id, start_date_time, end_date_time,
            created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(tenant.as_str())
    .bind(&l.id)
    .bind(&l.app_id)
    .bind(&l.class_sourced_id)
    .bind(&l.label)
    .bind(&l.score_maximum)
    .bind(&l.resource_id)
    .bind(&l.tag)
    .bind(&l.resource_link_id)
    .bind(&l.start_date_time)
    .bind(&l.end_date_time)
    .bind(&l.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces a line item's fields; `Ok(false)` if it is not this tool's in this class.
pub async fn update_line_item(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    l: &LineItemRow,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE lti_line_items SET label = $5, score_maximum = $6, resource_id = $7, tag = $8,
            resource_link_id = $9, start_date_time = $10, end_date_time = $11
         WHERE tenant_id = $1 AND id = $2 AND app_id = $3 AND class_sourced_id = $4",
    )
    .bind(tenant.as_str())
    .bind(&l.id)
    .bind(&l.app_id)
    .bind(&l.class_sourced_id)
    .bind(&l.label)
    .bind(&l.score_maximum)
    .bind(&l.resource_id)
    .bind(&l.tag)
    .bind(&l.resource_link_id)
    .bind(&l.start_date_time)
    .bind(&l.end_date_time)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Deletes a line item of this tool and class with its scores; `Ok(false)` if none.
pub async fn delete_line_item(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    app_id: &str,
    class: &str,
    id: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM lti_line_items WHERE tenant_id = $1 AND id = $2 AND app_id = $3
           AND class_sourced_id = $4",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(app_id)
    .bind(class)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        sqlx::query("DELETE FROM lti_scores WHERE tenant_id = $1 AND line_item_id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(n == 1)
}

const LINE_ITEM_COLUMNS: &str = "id, app_id, class_sourced_id, label, score_maximum,
    resource_id, tag, resource_link_id, start_date_time, end_date_time, created_at";

fn line_item_from(r: &AnyRow) -> Result<LineItemRow> {
    Ok(LineItemRow {
        id: r.try_get("id")?,
        app_id: r.try_get("app_id")?,
        class_sourced_id: r.try_get("class_sourced_id")?,
        label: r.try_get("label")?,
        score_maximum: r.try_get("score_maximum")?,
        resource_id: r.try_get("resource_id")?,
        tag: r.try_get("tag")?,
        resource_link_id: r.try_get("resource_link_id")?,
        start_date_time: r.try_get("start_date_time")?,
        end_date_time: r.try_get("end_date_time")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The line items of a class: this tool's only when `app_id` is given (AGS 2.0 §3.2.1 lets a
/// tool see only its own), all tools' otherwise (the teacher's view).
pub async fn line_items(
    store: &Store,
    tenant: &TenantId,
    app_id: Option<&str>,
    class: &str,
) -> Result<Vec<LineItemRow>> {
    let rows = match app_id {
        Some(app) => {
            sqlx::query(&format!(
                "SELECT {LINE_ITEM_COLUMNS} FROM lti_line_items
                 WHERE tenant_id = $1 AND app_id = $2 AND class_sourced_id = $3
                 ORDER BY created_at, id"
            ))
            .bind(tenant.as_str())
            .bind(app)
            .bind(class)
            .fetch_all(store.pool())
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {LINE_ITEM_COLUMNS} FROM lti_line_items
                 WHERE tenant_id = $1 AND class_sourced_id = $2 ORDER BY created_at, id"
            ))
            .bind(tenant.as_str())
            .bind(class)
            .fetch_all(store.pool())
            .await?
        }
    };
    rows.iter().map(line_item_from).collect()
}

pub async fn get_line_item(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
    class: &str,
    id: &str,
) -> Result<Option<LineItemRow>> {
    let r = sqlx::query(&format!(
        "SELECT {LINE_ITEM_COLUMNS} FROM lti_line_items
         WHERE tenant_id = $1 AND id = $2 AND app_id = $3 AND class_sourced_id = $4"
    ))
    .bind(tenant.as_str())
    .bind(id)
    .bind(app_id)
    .bind(class)
    .fetch_optional(store.pool())
    .await?;
    r.map(|r| line_item_from(&r)).transpose()
}

/// A user's latest score on a line item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreRow {
    pub line_item_id: String,
    pub user_sourced_id: String,
    /// The `userId` the tool used (its view of the user).
    pub user_id: String,
    pub score_given: Option<String>,
    pub score_maximum: Option<String>,
    pub comment: Option<String>,
    pub activity_progress: String,
    pub grading_progress: String,
    pub timestamp: String,
    pub updated_at: String,
}

/// Stores a score unless a newer one is already there (AGS 2.0 §3.4.7: the platform keeps
/// the latest by `timestamp`; an older one is ignored). `Ok(false)` when ignored.
pub async fn put_score(conn: &mut AnyConnection, tenant: &TenantId, s: &ScoreRow) -> Result<bool> {
    let newer: Option<String> = sqlx::query_scalar(
        "SELECT timestamp FROM lti_scores
         WHERE tenant_id = $1 AND line_item_id = $2 AND user_sourced_id = $3",
    )
    .bind(tenant.as_str())
    .bind(&s.line_item_id)
    .bind(&s.user_sourced_id)
    .fetch_optional(&mut *conn)
    .await?;
    if newer.as_deref().is_some_and(|t| t > s.timestamp.as_str()) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO lti_scores (tenant_id, line_item_id, user_sourced_id, user_id, score_given,
            score_maximum, comment, activity_progress, grading_progress, timestamp, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (tenant_id, line_item_id, user_sourced_id) DO UPDATE SET
            user_id = excluded.user_id, score_given = excluded.score_given,
            score_maximum = excluded.score_maximum, comment = excluded.comment,
            activity_progress = excluded.activity_progress,
            grading_progress = excluded.grading_progress, timestamp = excluded.timestamp,
            updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(&s.line_item_id)
    .bind(&s.user_sourced_id)
    .bind(&s.user_id)
    .bind(&s.score_given)
    .bind(&s.score_maximum)
    .bind(&s.comment)
    .bind(&s.activity_progress)
    .bind(&s.grading_progress)
    .bind(&s.timestamp)
    .bind(&s.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// The scores of a line item, by user.
pub async fn scores(store: &Store, tenant: &TenantId, line_item_id: &str) -> Result<Vec<ScoreRow>> {
    let rows = sqlx::query(
        "SELECT line_item_id, user_sourced_id, user_id, score_given, score_maximum, comment,
                activity_progress, grading_progress, timestamp, updated_at
         FROM lti_scores WHERE tenant_id = $1 AND line_item_id = $2 ORDER BY user_sourced_id",
    )
    .bind(tenant.as_str())
    .bind(line_item_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ScoreRow {
                line_item_id: r.try_get("line_item_id")?,
                user_sourced_id: r.try_get("user_sourced_id")?,
                user_id: r.try_get("user_id")?,
                score_given: r.try_get("score_given")?,
                score_maximum: r.try_get("score_maximum")?,
                comment: r.try_get("comment")?,
                activity_progress: r.try_get("activity_progress")?,
                grading_progress: r.try_get("grading_progress")?,
                timestamp: r.try_get("timestamp")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

/// Records a Dynamic Registration token (its hash).
pub async fn insert_registration_token(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    token_hash: &str,
    created_by: &str,
    expires_at: i64,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO lti_registration_tokens (tenant_id, token_hash, created_by, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_str())
    .bind(token_hash)
    .bind(created_by)
    .bind(expires_at)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Uses a Dynamic Registration token once (a single conditional UPDATE); `Ok(false)` when
/// unknown, expired or used.
pub async fn use_registration_token(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    token_hash: &str,
    now: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE lti_registration_tokens SET used_at = $3
         WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at >= $3",
    )
    .bind(tenant.as_str())
    .bind(token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

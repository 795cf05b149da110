//! The SAML 2.0 IdP's tables (migration `0007_saml.sql`): the tenant's IdP signing key
//! (sealed by the caller), the AuthnRequest replay cache, requests waiting for a login,
//! pairwise NameIDs, SP sessions and the per-SP settings columns of `apps`. Every function
//! takes the [`TenantId`].

use sqlx::{AnyConnection, Row};

use crate::{lock_for_update, Backend, Result, Store, TenantId};

/// The IdP's signing key as stored (the private key sealed; this module never sees it clear).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpKeyRow {
    pub kid: String,
    /// `next`, `current` or `retired`.
    pub state: String,
    /// When it was first published (unix seconds).
    pub published_at: i64,
    /// A retired key stays in the metadata until then (unix seconds).
    pub retired_until: Option<i64>,
    pub private_key_sealed: String,
    pub certificate_pem: String,
    pub created_at: String,
}

/// Serialises the creation of a tenant's IdP key across nodes (inside the caller's transaction).
pub async fn lock_idp_keys(
    conn: &mut AnyConnection,
    backend: Backend,
    tenant: &TenantId,
) -> Result<()> {
    lock_for_update(conn, backend, &format!("saml-keys:{tenant}")).await
}

pub async fn idp_keys(conn: &mut AnyConnection, tenant: &TenantId) -> Result<Vec<IdpKeyRow>> {
    let rows = sqlx::query(
        "SELECT kid, state, published_at, retired_until, private_key_sealed, certificate_pem,
            created_at
         FROM saml_idp_keys WHERE tenant_id = $1 ORDER BY published_at, kid",
    )
    .bind(tenant.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(IdpKeyRow {
                kid: r.try_get("kid")?,
                state: r.try_get("state")?,
                published_at: r.try_get("published_at")?,
                retired_until: r.try_get("retired_until")?,
                private_key_sealed: r.try_get("private_key_sealed")?,
                certificate_pem: r.try_get("certificate_pem")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

pub async fn insert_idp_key(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    k: &IdpKeyRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO saml_idp_keys (tenant_id, kid, state, published_at, retired_until,
            private_key_sealed, certificate_pem, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_str())
    .bind(&k.kid)
    .bind(&k.state)
    .bind(k.published_at)
    .bind(k.retired_until)
    .bind(&k.private_key_sealed)
    .bind(&k.certificate_pem)
    .bind(&k.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Changes the state of an IdP key (rotation).
pub async fn set_idp_key_state(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    kid: &str,
    state: &str,
    retired_until: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE saml_idp_keys SET state = $1, retired_until = $2 WHERE tenant_id = $3 AND kid = $4",
    )
    .bind(state)
    .bind(retired_until)
    .bind(tenant.as_str())
    .bind(kid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records an AuthnRequest ID of an SP until `expires_at` (unix seconds). `Ok(false)` when the
/// ID is already recorded: a replay. Expired IDs of the tenant are dropped first.
pub async fn remember_request_id(
    store: &Store,
    tenant: &TenantId,
    sp_entity_id: &str,
    request_id: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool> {
    sqlx::query("DELETE FROM saml_request_ids WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(now)
        .execute(store.pool())
        .await?;
    let n = sqlx::query(
        "INSERT INTO saml_request_ids (tenant_id, sp_entity_id, request_id, expires_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, sp_entity_id, request_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(sp_entity_id)
    .bind(request_id)
    .bind(expires_at)
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// An accepted AuthnRequest waiting for a login; `request` is the core's JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRow {
    pub id: String,
    pub app_id: String,
    pub request: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_pending(store: &Store, tenant: &TenantId, p: &PendingRow) -> Result<()> {
    sqlx::query("DELETE FROM saml_pending WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(p.created_at)
        .execute(store.pool())
        .await?;
    sqlx::query(
        "INSERT INTO saml_pending (tenant_id, id, app_id, request, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_str())
    .bind(&p.id)
    .bind(&p.app_id)
    .bind(&p.request)
    .bind(p.created_at)
    .bind(p.expires_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The pending request `id`, if it exists and has not expired at `now`.
pub async fn pending(
    store: &Store,
    tenant: &TenantId,
    id: &str,
    now: i64,
) -> Result<Option<PendingRow>> {
    let row = sqlx::query(
        "SELECT id, app_id, request, created_at, expires_at FROM saml_pending
         WHERE tenant_id = $1 AND id = $2 AND expires_at >= $3",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        Ok(PendingRow {
            id: r.try_get("id")?,
            app_id: r.try_get("app_id")?,
            request: r.try_get("request")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// Removes a pending request; `Ok(false)` when it was already gone (answered by another tab
/// or node): each request gets one answer.
pub async fn take_pending(conn: &mut AnyConnection, tenant: &TenantId, id: &str) -> Result<bool> {
    let n = sqlx::query("DELETE FROM saml_pending WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The persistent NameID of a user at an SP, created from `fresh` on first use.
pub async fn name_id(
    store: &Store,
    tenant: &TenantId,
    sp_entity_id: &str,
    user_sourced_id: &str,
    fresh: &str,
    at: &str,
) -> Result<String> {
    sqlx::query(
        "INSERT INTO saml_name_ids (tenant_id, sp_entity_id, user_sourced_id, name_id, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, sp_entity_id, user_sourced_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(sp_entity_id)
    .bind(user_sourced_id)
    .bind(fresh)
    .bind(at)
    .execute(store.pool())
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT name_id FROM saml_name_ids
         WHERE tenant_id = $1 AND sp_entity_id = $2 AND user_sourced_id = $3",
    )
    .bind(tenant.as_str())
    .bind(sp_entity_id)
    .bind(user_sourced_id)
    .fetch_one(store.pool())
    .await?)
}

/// A Response issued to an SP, for Single Logout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpSessionRow {
    pub session_index: String,
    pub portal_session_hash: String,
    pub app_id: String,
    pub user_sourced_id: String,
    pub name_id: String,
    pub created_at: String,
}

pub async fn insert_sp_session(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    s: &SpSessionRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO saml_sp_sessions (tenant_id, session_index, portal_session_hash, app_id,
            user_sourced_id, name_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_str())
    .bind(&s.session_index)
    .bind(&s.portal_session_hash)
    .bind(&s.app_id)
    .bind(&s.user_sourced_id)
    .bind(&s.name_id)
    .bind(&s.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The SP sessions started from a portal session.
pub async fn sp_sessions_of(
    store: &Store,
    tenant: &TenantId,
    portal_session_hash: &str,
) -> Result<Vec<SpSessionRow>> {
    let rows = sqlx::query(
        "SELECT session_index, portal_session_hash, app_id, user_sourced_id, name_id, created_at
         FROM saml_sp_sessions WHERE tenant_id = $1 AND portal_session_hash = $2
         ORDER BY created_at, session_index",
    )
    .bind(tenant.as_str())
    .bind(portal_session_hash)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SpSessionRow {
                session_index: r.try_get("session_index")?,
                portal_session_hash: r.try_get("portal_session_hash")?,
                app_id: r.try_get("app_id")?,
                user_sourced_id: r.try_get("user_sourced_id")?,
                name_id: r.try_get("name_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The SAML settings columns of an app (defaults from the migration when never set).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SpSettingsRow {
    /// `assertion`, `response` or `both`.
    pub sign: String,
    /// `persistent` or `username`.
    pub name_id: String,
    /// Released attribute names (docs/SAML.md).
    pub attributes: Vec<String>,
    pub require_signed_requests: bool,
}

pub async fn sp_settings(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
) -> Result<Option<SpSettingsRow>> {
    let row = sqlx::query(
        "SELECT saml_sign, saml_name_id, saml_attributes, saml_require_signed_requests
         FROM apps WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(app_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        let attrs: String = r.try_get("saml_attributes")?;
        Ok(SpSettingsRow {
            sign: r.try_get("saml_sign")?,
            name_id: r.try_get("saml_name_id")?,
            attributes: serde_json::from_str(&attrs).map_err(|e| crate::StoreError::Corrupt {
                table: "apps",
                detail: format!("saml_attributes: {e}"),
            })?,
            require_signed_requests: r.try_get::<i64, _>("saml_require_signed_requests")? != 0,
        })
    })
    .transpose()
}

/// Sets an app's SAML settings; `Ok(false)` when there is no such app.
pub async fn set_sp_settings(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    app_id: &str,
    s: &SpSettingsRow,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE apps SET saml_sign = $1, saml_name_id = $2, saml_attributes = $3,
            saml_require_signed_requests = $4
         WHERE tenant_id = $5 AND id = $6",
    )
    .bind(&s.sign)
    .bind(&s.name_id)
    .bind(serde_json::to_string(&s.attributes).unwrap_or_else(|_| "[]".to_owned()))
    .bind(s.require_signed_requests as i64)
    .bind(tenant.as_str())
    .bind(app_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The id of the SAML app registered with `entity_id` in the tenant.
pub async fn app_id_by_entity_id(
    store: &Store,
    tenant: &TenantId,
    entity_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM apps WHERE tenant_id = $1 AND saml_entity_id = $2 AND protocol = 'saml'",
    )
    .bind(tenant.as_str())
    .bind(entity_id)
    .fetch_optional(store.pool())
    .await?)
}

/// The SP sessions of `app_id` for the user with `name_id`, limited to `session_indexes` when
/// any are given (SAML Core 3.7.1: none means all of the principal's sessions at the SP).
pub async fn sp_sessions_for_logout(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
    name_id: &str,
    session_indexes: &[String],
) -> Result<Vec<SpSessionRow>> {
    let rows = sqlx::query(
        "SELECT session_index, portal_session_hash, app_id, user_sourced_id, name_id, created_at
         FROM saml_sp_sessions WHERE tenant_id = $1 AND app_id = $2 AND name_id = $3
         ORDER BY created_at, session_index",
    )
    .bind(tenant.as_str())
    .bind(app_id)
    .bind(name_id)
    .fetch_all(store.pool())
    .await?;
    let all = rows
        .iter()
        .map(|r| {
            Ok(SpSessionRow {
                session_index: r.try_get("session_index")?,
                portal_session_hash: r.try_get("portal_session_hash")?,
                app_id: r.try_get("app_id")?,
                user_sourced_id: r.try_get("user_sourced_id")?,
                name_id: r.try_get("name_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(all
        .into_iter()
        .filter(|s| session_indexes.is_empty() || session_indexes.contains(&s.session_index))
        .collect())
}

/// Forgets every SP session started from a portal session (it has ended).
pub async fn delete_sp_sessions_of(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    portal_session_hash: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM saml_sp_sessions WHERE tenant_id = $1 AND portal_session_hash = $2",
    )
    .bind(tenant.as_str())
    .bind(portal_session_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// An IdP-initiated logout on its way through the SPs (migration 0013).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutJourneyRow {
    pub id: String,
    pub user_sourced_id: String,
    /// JSON list of the SP sessions still to tell.
    pub remaining: String,
    /// The ID of the LogoutRequest sent and awaiting its response, and its app.
    pub awaiting: Option<String>,
    pub awaiting_app: Option<String>,
    /// JSON list of the answers so far.
    pub results: String,
    pub expires_at: i64,
    /// Where the browser goes when every SP was told (migration 0015); none: the login page.
    pub finish_url: Option<String>,
    /// The LogoutResponse the journey ends with, POSTed to the SP that asked for the logout
    /// (migration 0018; JSON, see `kakehashi_core::saml_idp::propagate`); takes precedence
    /// over `finish_url`.
    pub finish_post: Option<String>,
}

pub async fn insert_logout_journey(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    j: &LogoutJourneyRow,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM saml_logout_journeys WHERE tenant_id = $1 AND expires_at <= $2")
        .bind(tenant.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO saml_logout_journeys (tenant_id, id, user_sourced_id, remaining, awaiting,
            awaiting_app, results, expires_at, finish_url, finish_post)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant.as_str())
    .bind(&j.id)
    .bind(&j.user_sourced_id)
    .bind(&j.remaining)
    .bind(&j.awaiting)
    .bind(&j.awaiting_app)
    .bind(&j.results)
    .bind(j.expires_at)
    .bind(&j.finish_url)
    .bind(&j.finish_post)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The journey `id`, if it has not expired.
pub async fn logout_journey(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
    now: i64,
) -> Result<Option<LogoutJourneyRow>> {
    let row = sqlx::query(
        "SELECT id, user_sourced_id, remaining, awaiting, awaiting_app, results, expires_at,
            finish_url, finish_post
         FROM saml_logout_journeys WHERE tenant_id = $1 AND id = $2 AND expires_at > $3",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(LogoutJourneyRow {
            id: r.try_get("id")?,
            user_sourced_id: r.try_get("user_sourced_id")?,
            remaining: r.try_get("remaining")?,
            awaiting: r.try_get("awaiting")?,
            awaiting_app: r.try_get("awaiting_app")?,
            results: r.try_get("results")?,
            expires_at: r.try_get("expires_at")?,
            finish_url: r.try_get("finish_url")?,
            finish_post: r.try_get("finish_post")?,
        })
    })
    .transpose()
}

/// Moves the journey on: what is left, what is awaited, the answers so far. `Ok(false)` when
/// it was no longer awaiting `was_awaiting` (a replayed or crossed response).
pub async fn advance_logout_journey(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    j: &LogoutJourneyRow,
    was_awaiting: Option<&str>,
) -> Result<bool> {
    let sql = if was_awaiting.is_some() {
        "UPDATE saml_logout_journeys SET remaining = $1, awaiting = $2, awaiting_app = $3,
            results = $4 WHERE tenant_id = $5 AND id = $6 AND awaiting = $7"
    } else {
        "UPDATE saml_logout_journeys SET remaining = $1, awaiting = $2, awaiting_app = $3,
            results = $4 WHERE tenant_id = $5 AND id = $6 AND awaiting IS NULL AND $7 = ''"
    };
    let n = sqlx::query(sql)
        .bind(&j.remaining)
        .bind(&j.awaiting)
        .bind(&j.awaiting_app)
        .bind(&j.results)
        .bind(tenant.as_str())
        .bind(&j.id)
        .bind(was_awaiting.unwrap_or(""))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Sets where the browser goes once the journey `id` is over (RP-Initiated Logout's
/// `post_logout_redirect_uri`, already checked against the client's registration).
pub async fn set_logout_journey_finish(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
    finish_url: &str,
) -> Result<()> {
    sqlx::query("UPDATE saml_logout_journeys SET finish_url = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(finish_url)
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete_logout_journey(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM saml_logout_journeys WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

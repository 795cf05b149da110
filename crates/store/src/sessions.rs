//! Portal sessions, per-tenant portal settings and the portal's server-wide secrets.
//!
//! A session row is keyed by the SHA-256 of the cookie's token (never the token itself) and
//! always looked up together with its tenant, so a cookie of tenant A finds nothing in tenant
//! B. [`throttle`] holds the failed-login counters.

pub mod throttle;

use sqlx::{AnyConnection, Row};

use crate::roster::UserRow;
use crate::{Result, Store, TenantId};

/// A session as stored, joined with the user it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_sourced_id: String,
    /// The role the user had at login (decides the timeouts).
    pub role: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub auth_time: String,
    pub idle_timeout_secs: i64,
    pub expires_at: String,
    /// JSON array of authentication method references (RFC 8176), e.g. `["pwd"]`.
    pub amr: String,
    pub acr: String,
    pub csrf_secret: String,
    pub user_agent: String,
    pub ip: String,
    /// When the session last proved a second factor (`None`: never).
    pub second_factor_at: Option<String>,
}

/// Stores a new session.
pub async fn insert(conn: &mut AnyConnection, tenant: &TenantId, s: &SessionRow) -> Result<()> {
    crate::group::insert_one(conn, SESSION_INSERT, session_cells(tenant, s)?).await
}

/// Queues a new session row in a group-commit batch (see
/// [`crate::group::Batch::insert_later`]): nothing in a batch reads a session it creates (its
/// browser has no cookie for it before the batch commits).
pub fn insert_later(
    batch: &mut crate::group::Batch,
    tenant: &TenantId,
    s: &SessionRow,
) -> Result<()> {
    batch.insert_later(SESSION_INSERT, session_cells(tenant, s)?);
    Ok(())
}

const SESSION_INSERT: &str = "INSERT INTO portal_sessions (id_hash, tenant_id, user_sourced_id,
    role, created_at, last_seen_at, auth_time, idle_timeout_secs, expires_at, amr, acr,
    csrf_secret, user_agent, ip, second_factor_at, idle_deadline)";

/// A session's values in [`SESSION_INSERT`]'s order.
fn session_cells(tenant: &TenantId, s: &SessionRow) -> Result<Vec<crate::group::Cell>> {
    Ok(vec![
        (&s.id_hash).into(),
        tenant.as_str().into(),
        (&s.user_sourced_id).into(),
        (&s.role).into(),
        (&s.created_at).into(),
        (&s.last_seen_at).into(),
        (&s.auth_time).into(),
        s.idle_timeout_secs.into(),
        (&s.expires_at).into(),
        (&s.amr).into(),
        (&s.acr).into(),
        (&s.csrf_secret).into(),
        (&s.user_agent).into(),
        (&s.ip).into(),
        (&s.second_factor_at).into(),
        (unix_of(&s.last_seen_at, "last_seen_at")? + s.idle_timeout_secs).into(),
    ])
}

/// The unix time of a stored RFC 3339 instant (`idle_deadline` is kept in seconds so that
/// SQL can add the idle timeout to it on both backends).
fn unix_of(at: &str, column: &'static str) -> Result<i64> {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        // Rounded up: the sweep never ends a session before `expiry` in core would.
        .map(|t| t.unix_timestamp() + i64::from(t.nanosecond() > 0))
        .map_err(|e| crate::StoreError::Corrupt {
            table: "portal_sessions",
            detail: format!("{column} {at:?} is not an RFC 3339 instant: {e}"),
        })
}

/// The session with this token hash in this tenant, with its user, if that user is still
/// active and enabled.
pub async fn find(
    store: &Store,
    tenant: &TenantId,
    id_hash: &str,
) -> Result<Option<(SessionRow, UserRow)>> {
    Ok(find_with_security_policy(store, tenant, id_hash)
        .await?
        .map(|(s, u, _)| (s, u)))
}

/// [`find`], with the tenant's stored security policy (`crate::mfa::policy`) read in the same
/// query: nearly every request that finds a session goes on to decide by that policy.
pub async fn find_with_security_policy(
    store: &Store,
    tenant: &TenantId,
    id_hash: &str,
) -> Result<Option<(SessionRow, UserRow, Option<String>)>> {
    let row = sqlx::query(
        "SELECT s.id_hash, s.user_sourced_id, s.role AS session_role, s.created_at,
                s.last_seen_at, s.auth_time, s.idle_timeout_secs, s.expires_at, s.amr, s.acr,
                s.csrf_secret, s.user_agent, s.ip, s.second_factor_at,
                u.username, u.user_master_identifier, u.given_name, u.family_name,
                u.kana_given_name, u.kana_family_name, u.role, u.email,
                (SELECT p.policy FROM tenant_security_policy p WHERE p.tenant_id = s.tenant_id)
                    AS security_policy
         FROM portal_sessions s
         JOIN users u ON u.tenant_id = s.tenant_id AND u.sourced_id = s.user_sourced_id
         WHERE s.tenant_id = $1 AND s.id_hash = $2 AND u.active = 1 AND u.enabled = 1",
    )
    .bind(tenant.as_str())
    .bind(id_hash)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let session = SessionRow {
        id_hash: r.try_get("id_hash")?,
        user_sourced_id: r.try_get("user_sourced_id")?,
        role: r.try_get("session_role")?,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        auth_time: r.try_get("auth_time")?,
        idle_timeout_secs: r.try_get("idle_timeout_secs")?,
        expires_at: r.try_get("expires_at")?,
        amr: r.try_get("amr")?,
        acr: r.try_get("acr")?,
        csrf_secret: r.try_get("csrf_secret")?,
        user_agent: r.try_get("user_agent")?,
        ip: r.try_get("ip")?,
        second_factor_at: r.try_get("second_factor_at")?,
    };
    let user = UserRow {
        sourced_id: session.user_sourced_id.clone(),
        username: r.try_get("username")?,
        user_master_identifier: r.try_get("user_master_identifier")?,
        given_name: r.try_get("given_name")?,
        family_name: r.try_get("family_name")?,
        kana_given_name: r.try_get("kana_given_name")?,
        kana_family_name: r.try_get("kana_family_name")?,
        role: r.try_get("role")?,
        email: r.try_get("email")?,
        enabled: true,
        active: true,
    };
    Ok(Some((session, user, r.try_get("security_policy")?)))
}

/// Records activity on a session (the idle timeout counts from here).
pub async fn touch(store: &Store, tenant: &TenantId, id_hash: &str, at: &str) -> Result<()> {
    // Every write goes through `Store::begin` (SQLite's writer slot), never the bare pool.
    let mut tx = store.begin().await?;
    sqlx::query(
        "UPDATE portal_sessions SET last_seen_at = $1, idle_deadline = $4 + idle_timeout_secs
         WHERE tenant_id = $2 AND id_hash = $3",
    )
    .bind(at)
    .bind(tenant.as_str())
    .bind(id_hash)
    .bind(unix_of(at, "last_seen_at")?)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a second factor on a session: its new methods (`amr`, JSON array), `acr` and the
/// instant. `Ok(false)` when the session is gone.
pub async fn record_second_factor(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id_hash: &str,
    amr: &str,
    acr: &str,
    at: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE portal_sessions SET amr = $1, acr = $2, second_factor_at = $3, last_seen_at = $3,
            idle_deadline = $6 + idle_timeout_secs
         WHERE tenant_id = $4 AND id_hash = $5",
    )
    .bind(amr)
    .bind(acr)
    .bind(at)
    .bind(tenant.as_str())
    .bind(id_hash)
    .bind(unix_of(at, "second_factor_at")?)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Takes the second factor away from one session (the risk engine saw it misused).
pub async fn forget_second_factor(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id_hash: &str,
    amr: &str,
    acr: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE portal_sessions SET amr = $1, acr = $2, second_factor_at = NULL
         WHERE tenant_id = $3 AND id_hash = $4",
    )
    .bind(amr)
    .bind(acr)
    .bind(tenant.as_str())
    .bind(id_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Takes the second factor away from every session of one user (a factor reset): the
/// sessions go on with the password only. Returns how many sessions were downgraded.
pub async fn forget_second_factor_for_user(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    amr: &str,
    acr: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE portal_sessions SET amr = $1, acr = $2, second_factor_at = NULL
         WHERE tenant_id = $3 AND user_sourced_id = $4",
    )
    .bind(amr)
    .bind(acr)
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Ends every session of one user that was signed in by a second factor alone (a passkey
/// login: `mfa` and no `pwd` in its `amr`). After a factor reset such a session has nothing
/// left that proved who its user is. Returns how many were ended.
pub async fn delete_passwordless_of_user(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM portal_sessions WHERE tenant_id = $1 AND user_sourced_id = $2
            AND amr LIKE '%\"mfa\"%' AND amr NOT LIKE '%\"pwd\"%'
         RETURNING id_hash",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Ends one session; `Ok(false)` when there was none.
pub async fn delete(conn: &mut AnyConnection, tenant: &TenantId, id_hash: &str) -> Result<bool> {
    Ok(delete_returning_user(conn, tenant, id_hash)
        .await?
        .is_some())
}

/// Ends one session and answers its user, `None` when there was none (a login replacing the
/// browser's previous session).
pub async fn delete_returning_user(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id_hash: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "DELETE FROM portal_sessions WHERE tenant_id = $1 AND id_hash = $2
         RETURNING user_sourced_id",
    )
    .bind(tenant.as_str())
    .bind(id_hash)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A session past its idle or absolute timeout, as the expiry sweep finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiredSession {
    pub tenant: TenantId,
    pub id_hash: String,
    pub user_sourced_id: String,
    /// `true`: its absolute lifetime is over; `false`: it was idle too long.
    pub absolute: bool,
}

/// Up to `limit` sessions of any tenant that have timed out at `now` (unix seconds;
/// `now_text` the same instant as stored): idle since `idle_deadline` or past `expires_at`.
pub async fn timed_out(
    store: &Store,
    now: i64,
    now_text: &str,
    limit: i64,
) -> Result<Vec<ExpiredSession>> {
    let rows = sqlx::query(
        "SELECT tenant_id, id_hash, user_sourced_id, expires_at FROM portal_sessions
         WHERE idle_deadline <= $1 OR expires_at <= $2
         ORDER BY id_hash LIMIT $3",
    )
    .bind(now)
    .bind(now_text)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let expires_at: String = r.try_get("expires_at")?;
            Ok(ExpiredSession {
                tenant: TenantId::from_row(r, "portal_sessions", "tenant_id")?,
                id_hash: r.try_get("id_hash")?,
                user_sourced_id: r.try_get("user_sourced_id")?,
                absolute: expires_at.as_str() <= now_text,
            })
        })
        .collect()
}

/// Ends one session if it has still timed out at `now` (see [`timed_out`]): the conditional
/// DELETE is the claim, so of two nodes sweeping the same database (or a sweep and the
/// session's own next request) exactly one ends it. `Ok(false)`: gone or active again.
pub async fn delete_timed_out(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id_hash: &str,
    now: i64,
    now_text: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM portal_sessions WHERE tenant_id = $1 AND id_hash = $2
            AND (idle_deadline <= $3 OR expires_at <= $4)",
    )
    .bind(tenant.as_str())
    .bind(id_hash)
    .bind(now)
    .bind(now_text)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A tenant's portal settings as stored (absent row: the caller's defaults apply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantSettingsRow {
    pub staff_idle_secs: i64,
    pub staff_absolute_secs: i64,
    pub pupil_idle_secs: i64,
    pub pupil_absolute_secs: i64,
    pub pupil_lockout_threshold: i64,
}

pub async fn settings(store: &Store, tenant: &TenantId) -> Result<Option<TenantSettingsRow>> {
    Ok(settings_and_security_policy(store, tenant).await?.0)
}

/// [`settings`] and the tenant's stored security policy (`crate::mfa::policy`) in one query:
/// a login needs both.
pub async fn settings_and_security_policy(
    store: &Store,
    tenant: &TenantId,
) -> Result<(Option<TenantSettingsRow>, Option<String>)> {
    let r = sqlx::query(
        "SELECT s.staff_idle_secs, s.staff_absolute_secs, s.pupil_idle_secs,
                s.pupil_absolute_secs, s.pupil_lockout_threshold,
                (SELECT policy FROM tenant_security_policy WHERE tenant_id = $1) AS policy
         FROM (SELECT 1 AS one) AS one
         LEFT JOIN tenant_settings s ON s.tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_one(store.pool())
    .await?;
    let settings = match r.try_get::<Option<i64>, _>("staff_idle_secs")? {
        None => None,
        Some(staff_idle_secs) => Some(TenantSettingsRow {
            staff_idle_secs,
            staff_absolute_secs: r.try_get("staff_absolute_secs")?,
            pupil_idle_secs: r.try_get("pupil_idle_secs")?,
            pupil_absolute_secs: r.try_get("pupil_absolute_secs")?,
            pupil_lockout_threshold: r.try_get("pupil_lockout_threshold")?,
        }),
    };
    Ok((settings, r.try_get("policy")?))
}

/// Sets (or replaces) a tenant's portal settings.
pub async fn set_settings(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    s: &TenantSettingsRow,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tenant_settings (tenant_id, staff_idle_secs, staff_absolute_secs,
            pupil_idle_secs, pupil_absolute_secs, pupil_lockout_threshold, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id) DO UPDATE SET
            staff_idle_secs = excluded.staff_idle_secs,
            staff_absolute_secs = excluded.staff_absolute_secs,
            pupil_idle_secs = excluded.pupil_idle_secs,
            pupil_absolute_secs = excluded.pupil_absolute_secs,
            pupil_lockout_threshold = excluded.pupil_lockout_threshold,
            updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(s.staff_idle_secs)
    .bind(s.staff_absolute_secs)
    .bind(s.pupil_idle_secs)
    .bind(s.pupil_absolute_secs)
    .bind(s.pupil_lockout_threshold)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The secret named `name`, created from `fresh` on first use. Every node ends up with the
/// same value: the first insert wins and everyone reads it back. A secret never changes once
/// written, so each process reads it once.
pub async fn secret(store: &Store, name: &str, fresh: &str, at: &str) -> Result<String> {
    let known = |s: &Store| {
        s.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    };
    if let Some(s) = known(store) {
        return Ok(s);
    }
    let s = read_or_create_secret(store, name, fresh, at).await?;
    store
        .secrets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name.to_owned(), s.clone());
    Ok(s)
}

async fn read_or_create_secret(store: &Store, name: &str, fresh: &str, at: &str) -> Result<String> {
    let read = "SELECT secret FROM portal_secrets WHERE name = $1";
    // Read first: after the first use this is a plain read, not a write on every login page.
    if let Some(s) = sqlx::query_scalar(read)
        .bind(name)
        .fetch_optional(store.pool())
        .await?
    {
        return Ok(s);
    }
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO portal_secrets (name, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let s = sqlx::query_scalar(read)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    tx.commit().await?;
    Ok(s)
}

/// Moves what hangs off portal session `from` (its OIDC tokens and SAML SP sessions) to
/// session `to`, when a user re-authenticates in the same browser. Returns the rows moved.
pub async fn move_apps(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    from: &str,
    to: &str,
) -> Result<u64> {
    let mut moved = 0;
    for sql in [
        "UPDATE oauth_tokens SET session_hash = $1 WHERE tenant_id = $2 AND session_hash = $3",
        "UPDATE saml_sp_sessions SET portal_session_hash = $1
         WHERE tenant_id = $2 AND portal_session_hash = $3",
    ] {
        moved += sqlx::query(sql)
            .bind(to)
            .bind(tenant.as_str())
            .bind(from)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(moved)
}

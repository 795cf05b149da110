//! The OpenID Provider's state (migration `0006_oauth.sql`): per-app OIDC settings,
//! one-time authorization codes, access and refresh tokens, the `private_key_jwt` replay
//! cache, each tenant's pairwise salt and the Back-Channel Logout Tokens still to deliver
//! (migration `0015_backchannel_logout.sql`).
//!
//! Codes and tokens are looked up by the SHA-256 of their value (the caller hashes), always
//! together with the tenant: a token of tenant A finds nothing in tenant B. The one-time and
//! rotation rules are single conditional UPDATEs, so two nodes racing on the same code or
//! refresh token cannot both win.

use sqlx::{AnyConnection, Row};

use crate::{Result, Store, StoreError, TenantId};

/// The OIDC settings of an app (columns of `apps` added by migration 6).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OidcSettingsRow {
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none`; `None`: the
    /// default for the client type.
    pub token_auth_method: Option<String>,
    /// The client's JWKS (JSON text) for `private_key_jwt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_jwks: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// `opaque` or `jwt`.
    pub access_token_format: String,
    /// `RS256` or `ES256`.
    pub id_token_alg: String,
    /// What the app may receive: `name`, `kana`, `username`, `email`, `roster`.
    pub release_claims: Vec<String>,
    pub launch_url: Option<String>,
    /// The xAPI scopes the app may be granted (client_credentials).
    pub xapi_scopes: Vec<String>,
    /// Where the app takes Back-Channel Logout Tokens (migration 0015).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
}

impl Default for OidcSettingsRow {
    fn default() -> Self {
        OidcSettingsRow {
            token_auth_method: None,
            client_jwks: None,
            post_logout_redirect_uris: Vec::new(),
            access_token_format: "opaque".into(),
            id_token_alg: "RS256".into(),
            release_claims: Vec::new(),
            xapi_scopes: Vec::new(),
            launch_url: None,
            backchannel_logout_uri: None,
        }
    }
}

fn json_list(table: &'static str, column: &str, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        detail: format!("{column}: {e}"),
    })
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

/// Sets an app's OIDC settings (the app row must exist); `Ok(false)` when there is none.
pub async fn set_oidc_settings(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    app_id: &str,
    s: &OidcSettingsRow,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE apps SET token_auth_method = $1, client_jwks = $2, post_logout_redirect_uris = $3,
            access_token_format = $4, id_token_alg = $5, release_claims = $6, launch_url = $7,
            xapi_scopes = $8, backchannel_logout_uri = $9
         WHERE tenant_id = $10 AND id = $11",
    )
    .bind(&s.token_auth_method)
    .bind(&s.client_jwks)
    .bind(to_json(&s.post_logout_redirect_uris))
    .bind(&s.access_token_format)
    .bind(&s.id_token_alg)
    .bind(to_json(&s.release_claims))
    .bind(&s.launch_url)
    .bind(to_json(&s.xapi_scopes))
    .bind(&s.backchannel_logout_uri)
    .bind(tenant.as_str())
    .bind(app_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

const SETTINGS_COLUMNS: &str = "id, token_auth_method, client_jwks, post_logout_redirect_uris,
    access_token_format, id_token_alg, release_claims, launch_url, xapi_scopes,
    backchannel_logout_uri";

fn settings_from_row(r: &sqlx::any::AnyRow) -> Result<(String, OidcSettingsRow)> {
    let plru: String = r.try_get("post_logout_redirect_uris")?;
    let release: String = r.try_get("release_claims")?;
    let xapi: String = r.try_get("xapi_scopes")?;
    Ok((
        r.try_get("id")?,
        OidcSettingsRow {
            token_auth_method: r.try_get("token_auth_method")?,
            client_jwks: r.try_get("client_jwks")?,
            post_logout_redirect_uris: json_list("apps", "post_logout_redirect_uris", &plru)?,
            access_token_format: r.try_get("access_token_format")?,
            id_token_alg: r.try_get("id_token_alg")?,
            release_claims: json_list("apps", "release_claims", &release)?,
            launch_url: r.try_get("launch_url")?,
            xapi_scopes: json_list("apps", "xapi_scopes", &xapi)?,
            backchannel_logout_uri: r.try_get("backchannel_logout_uri")?,
        },
    ))
}

/// One app's OIDC settings.
pub async fn oidc_settings(
    store: &Store,
    tenant: &TenantId,
    app_id: &str,
) -> Result<Option<OidcSettingsRow>> {
    let row = sqlx::query(&format!(
        "SELECT {SETTINGS_COLUMNS} FROM apps WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_str())
    .bind(app_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| settings_from_row(&r).map(|(_, s)| s))
        .transpose()
}

/// The OIDC settings of every app of the tenant, by app id.
pub async fn all_oidc_settings(
    store: &Store,
    tenant: &TenantId,
) -> Result<Vec<(String, OidcSettingsRow)>> {
    let rows = sqlx::query(&format!(
        "SELECT {SETTINGS_COLUMNS} FROM apps WHERE tenant_id = $1 AND protocol = 'oidc' ORDER BY id"
    ))
    .bind(tenant.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(settings_from_row).collect()
}

/// An authorization code as stored (the code itself only as its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRow {
    pub code_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_sourced_id: String,
    pub session_hash: Option<String>,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    /// Space-separated granted scopes.
    pub scopes: String,
    /// The `claims` request parameter (JSON), if any.
    pub claims: Option<String>,
    pub auth_time: i64,
    pub acr: String,
    /// JSON array.
    pub amr: String,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub created_at: String,
}

pub async fn insert_code(conn: &mut AnyConnection, tenant: &TenantId, c: &CodeRow) -> Result<()> {
    crate::group::insert_one(conn, CODE_INSERT, code_cells(tenant, c)).await
}

/// Queues a new code row in a group-commit batch (see [`crate::group::Batch::insert_later`]).
pub fn insert_code_later(batch: &mut crate::group::Batch, tenant: &TenantId, c: &CodeRow) {
    batch.insert_later(CODE_INSERT, code_cells(tenant, c));
}

const CODE_INSERT: &str = "INSERT INTO oauth_codes (tenant_id, code_hash, family_id, client_id,
    user_sourced_id, session_hash, redirect_uri, code_challenge, nonce, scopes, claims,
    auth_time, acr, amr, expires_at, consumed_at, created_at)";

fn code_cells(tenant: &TenantId, c: &CodeRow) -> Vec<crate::group::Cell> {
    vec![
        tenant.as_str().into(),
        (&c.code_hash).into(),
        (&c.family_id).into(),
        (&c.client_id).into(),
        (&c.user_sourced_id).into(),
        (&c.session_hash).into(),
        (&c.redirect_uri).into(),
        (&c.code_challenge).into(),
        (&c.nonce).into(),
        (&c.scopes).into(),
        (&c.claims).into(),
        c.auth_time.into(),
        (&c.acr).into(),
        (&c.amr).into(),
        c.expires_at.into(),
        c.consumed_at.into(),
        (&c.created_at).into(),
    ]
}

/// What presenting a code found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now consumed.
    Redeemed(CodeRow),
    /// The code was already consumed (a replay, RFC 6749 4.1.2).
    Replayed(CodeRow),
    Unknown,
}

/// Consumes a code atomically: exactly one caller ever gets [`CodeRedemption::Redeemed`].
pub async fn redeem_code(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    code_hash: &str,
    now: i64,
) -> Result<CodeRedemption> {
    // The first use consumes and reads the code in one statement (SQLite 3.35+ and
    // PostgreSQL both take RETURNING); only a code already consumed or unknown is read again.
    let redeemed = sqlx::query(&format!(
        "UPDATE oauth_codes SET consumed_at = $1
         WHERE tenant_id = $2 AND code_hash = $3 AND consumed_at IS NULL
         RETURNING {CODE_COLUMNS}"
    ))
    .bind(now)
    .bind(tenant.as_str())
    .bind(code_hash)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = redeemed {
        return Ok(CodeRedemption::Redeemed(code_from_row(&r)?));
    }
    Ok(match code_by_hash(&mut *conn, tenant, code_hash).await? {
        Some(r) => CodeRedemption::Replayed(r),
        None => CodeRedemption::Unknown,
    })
}

/// A code as stored, consumed or not, with its user if that user is still active: what a
/// code exchange reads before it redeems the code, so that the tokens can be made outside the
/// transaction that redeems it (one query for both).
pub async fn find_code_and_user(
    store: &Store,
    tenant: &TenantId,
    code_hash: &str,
) -> Result<Option<(CodeRow, Option<crate::roster::UserRow>)>> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let code: Vec<String> = CODE_COLUMNS
            .split(',')
            .map(|c| format!("c.{}", c.trim()))
            .collect();
        let user: Vec<String> = ACTIVE_USER_COLUMNS
            .split(',')
            .map(|c| format!("u.{0} AS u_{0}", c.trim()))
            .collect();
        format!(
            "SELECT {}, {} FROM oauth_codes c
             LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.sourced_id = c.user_sourced_id
                              AND u.active = 1 AND u.enabled = 1
             WHERE c.tenant_id = $1 AND c.code_hash = $2",
            code.join(", "),
            user.join(", ")
        )
    });
    let Some(r) = sqlx::query(sql)
        .bind(tenant.as_str())
        .bind(code_hash)
        .fetch_optional(store.pool())
        .await?
    else {
        return Ok(None);
    };
    let user = match r.try_get::<Option<String>, _>("u_sourced_id")? {
        Some(_) => Some(active_user_from_row(&r, "u_")?),
        None => None,
    };
    Ok(Some((code_from_row(&r)?, user)))
}

async fn code_by_hash<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Any>,
    tenant: &TenantId,
    code_hash: &str,
) -> Result<Option<CodeRow>> {
    let row = sqlx::query(&format!(
        "SELECT {CODE_COLUMNS} FROM oauth_codes WHERE tenant_id = $1 AND code_hash = $2"
    ))
    .bind(tenant.as_str())
    .bind(code_hash)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(code_from_row).transpose()
}

const CODE_COLUMNS: &str = "code_hash, family_id, client_id, user_sourced_id, session_hash,
    redirect_uri, code_challenge, nonce, scopes, claims, auth_time, acr, amr, expires_at,
    consumed_at, created_at";

fn code_from_row(r: &sqlx::any::AnyRow) -> Result<CodeRow> {
    Ok(CodeRow {
        code_hash: r.try_get("code_hash")?,
        family_id: r.try_get("family_id")?,
        client_id: r.try_get("client_id")?,
        user_sourced_id: r.try_get("user_sourced_id")?,
        session_hash: r.try_get("session_hash")?,
        redirect_uri: r.try_get("redirect_uri")?,
        code_challenge: r.try_get("code_challenge")?,
        nonce: r.try_get("nonce")?,
        scopes: r.try_get("scopes")?,
        claims: r.try_get("claims")?,
        auth_time: r.try_get("auth_time")?,
        acr: r.try_get("acr")?,
        amr: r.try_get("amr")?,
        expires_at: r.try_get("expires_at")?,
        consumed_at: r.try_get("consumed_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// An access or refresh token as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub token_hash: String,
    /// `access` or `refresh`.
    pub kind: String,
    pub family_id: String,
    pub client_id: String,
    pub user_sourced_id: Option<String>,
    pub session_hash: Option<String>,
    /// The `sub` the client sees (pairwise or public; the client_id for client_credentials).
    pub subject: String,
    pub scopes: String,
    pub claims: Option<String>,
    pub auth_time: Option<i64>,
    pub acr: Option<String>,
    pub amr: Option<String>,
    /// The JWT id of a JWT access token.
    pub jti: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_token(conn: &mut AnyConnection, tenant: &TenantId, t: &TokenRow) -> Result<()> {
    crate::group::insert_one(conn, TOKEN_INSERT, token_cells(tenant, t)).await
}

/// Queues a new token row in a group-commit batch (see [`crate::group::Batch::insert_later`]).
pub fn insert_token_later(batch: &mut crate::group::Batch, tenant: &TenantId, t: &TokenRow) {
    batch.insert_later(TOKEN_INSERT, token_cells(tenant, t));
}

const TOKEN_INSERT: &str = "INSERT INTO oauth_tokens (tenant_id, token_hash, kind, family_id,
    client_id, user_sourced_id, session_hash, subject, scopes, claims, auth_time, acr, amr, jti,
    issued_at, expires_at, rotated_at, revoked_at)";

fn token_cells(tenant: &TenantId, t: &TokenRow) -> Vec<crate::group::Cell> {
    vec![
        tenant.as_str().into(),
        (&t.token_hash).into(),
        (&t.kind).into(),
        (&t.family_id).into(),
        (&t.client_id).into(),
        (&t.user_sourced_id).into(),
        (&t.session_hash).into(),
        (&t.subject).into(),
        (&t.scopes).into(),
        (&t.claims).into(),
        t.auth_time.into(),
        (&t.acr).into(),
        (&t.amr).into(),
        (&t.jti).into(),
        t.issued_at.into(),
        t.expires_at.into(),
        t.rotated_at.into(),
        t.revoked_at.into(),
    ]
}

const TOKEN_COLUMNS: &str = "token_hash, kind, family_id, client_id, user_sourced_id,
    session_hash, subject, scopes, claims, auth_time, acr, amr, jti, issued_at, expires_at,
    rotated_at, revoked_at";

fn token_from_row(r: &sqlx::any::AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        token_hash: r.try_get("token_hash")?,
        kind: r.try_get("kind")?,
        family_id: r.try_get("family_id")?,
        client_id: r.try_get("client_id")?,
        user_sourced_id: r.try_get("user_sourced_id")?,
        session_hash: r.try_get("session_hash")?,
        subject: r.try_get("subject")?,
        scopes: r.try_get("scopes")?,
        claims: r.try_get("claims")?,
        auth_time: r.try_get("auth_time")?,
        acr: r.try_get("acr")?,
        amr: r.try_get("amr")?,
        jti: r.try_get("jti")?,
        issued_at: r.try_get("issued_at")?,
        expires_at: r.try_get("expires_at")?,
        rotated_at: r.try_get("rotated_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// The token with this hash in this tenant (whatever its state).
pub async fn find_token(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    token_hash: &str,
) -> Result<Option<TokenRow>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM oauth_tokens WHERE tenant_id = $1 AND token_hash = $2"
    ))
    .bind(tenant.as_str())
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| token_from_row(&r)).transpose()
}

/// What presenting a refresh token found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshRotation {
    /// First use of a live refresh token: it is now rotated (the caller issues the next).
    Rotated(TokenRow),
    /// A refresh token that was already rotated: reuse (RFC 9700 4.14.2).
    Reused(TokenRow),
    /// Unknown, revoked, expired or not a refresh token.
    Invalid,
}

/// Marks a refresh token as used, atomically; exactly one caller gets `Rotated`.
pub async fn rotate_refresh(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    token_hash: &str,
    now: i64,
) -> Result<RefreshRotation> {
    let n = sqlx::query(
        "UPDATE oauth_tokens SET rotated_at = $1
         WHERE tenant_id = $2 AND token_hash = $3 AND kind = 'refresh'
           AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(token_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let Some(row) = find_token(conn, tenant, token_hash).await? else {
        return Ok(RefreshRotation::Invalid);
    };
    Ok(if n == 1 {
        RefreshRotation::Rotated(row)
    } else if row.kind == "refresh" && row.rotated_at.is_some() {
        RefreshRotation::Reused(row)
    } else {
        RefreshRotation::Invalid
    })
}

/// Revokes every live token of a family (a code's grant for a user and all its rotations);
/// returns how many were revoked. Tokens a client holds for itself (no user) have no family
/// beyond themselves and are revoked one by one ([`revoke_token`]); the family index leaves
/// them out (migration 0020), and the query states the index's condition so it is used.
pub async fn revoke_family(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    family_id: &str,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1
         WHERE tenant_id = $2 AND family_id = $3 AND user_sourced_id IS NOT NULL
           AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(family_id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Revokes one token if it belongs to `client_id`; `Ok(false)` otherwise.
pub async fn revoke_token(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    token_hash: &str,
    client_id: &str,
    now: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1
         WHERE tenant_id = $2 AND token_hash = $3 AND client_id = $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(token_hash)
    .bind(client_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Revokes every live token issued from a portal session; returns the client ids that had
/// tokens (the app sessions ended), sorted and unique.
pub async fn revoke_session(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    session_hash: &str,
    now: i64,
) -> Result<Vec<String>> {
    let clients: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT client_id FROM oauth_tokens
         WHERE tenant_id = $1 AND session_hash = $2 AND revoked_at IS NULL ORDER BY client_id",
    )
    .bind(tenant.as_str())
    .bind(session_hash)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1
         WHERE tenant_id = $2 AND session_hash = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant.as_str())
    .bind(session_hash)
    .execute(&mut *conn)
    .await?;
    Ok(clients)
}

/// The apps that received an ID token (a token with scope `openid`) from a portal session
/// and registered a back-channel logout URI, each with the user's `sub` for it: those to
/// send a Logout Token when the session ends (Back-Channel Logout 1.0 section 2.5). Tokens
/// revoked or rotated meanwhile count too: the app may still hold its own session.
pub async fn backchannel_audience(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    session_hash: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT t.client_id, t.subject FROM oauth_tokens t
         JOIN apps a ON a.tenant_id = t.tenant_id AND a.id = t.client_id
         WHERE t.tenant_id = $1 AND t.session_hash = $2 AND t.user_sourced_id IS NOT NULL
           AND a.backchannel_logout_uri IS NOT NULL
           AND (' ' || t.scopes || ' ') LIKE '% openid %'
         ORDER BY t.client_id",
    )
    .bind(tenant.as_str())
    .bind(session_hash)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("client_id")?, r.try_get("subject")?)))
        .collect()
}

/// A Logout Token still to deliver (migration 0015).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackchannelLogoutRow {
    pub tenant: TenantId,
    pub id: String,
    pub client_id: String,
    pub subject: String,
    pub session_hash: String,
    pub user_sourced_id: String,
    pub created_at: i64,
    pub attempts: i64,
}

/// Queues a Logout Token for delivery at once. The id is derived from the session and the
/// client by the caller, so ending one session twice queues one delivery.
pub async fn queue_backchannel_logout(
    conn: &mut AnyConnection,
    row: &BackchannelLogoutRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_backchannel_logouts (tenant_id, id, client_id, subject, session_hash,
            user_sourced_id, created_at, next_attempt_at, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0)
         ON CONFLICT (tenant_id, id) DO NOTHING",
    )
    .bind(row.tenant.as_str())
    .bind(&row.id)
    .bind(&row.client_id)
    .bind(&row.subject)
    .bind(&row.session_hash)
    .bind(&row.user_sourced_id)
    .bind(row.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Up to `limit` Logout Tokens due at `now`, oldest first, of every tenant: delivery is the
/// one job that looks across tenants (each row names its own, and everything done with it is
/// scoped to that tenant).
pub async fn due_backchannel_logouts(
    store: &Store,
    now: i64,
    limit: i64,
) -> Result<Vec<BackchannelLogoutRow>> {
    let rows = sqlx::query(
        "SELECT tenant_id, id, client_id, subject, session_hash, user_sourced_id, created_at,
            attempts
         FROM oidc_backchannel_logouts WHERE next_attempt_at <= $1
         ORDER BY created_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(BackchannelLogoutRow {
                tenant: TenantId::from_row(r, "oidc_backchannel_logouts", "tenant_id")?,
                id: r.try_get("id")?,
                client_id: r.try_get("client_id")?,
                subject: r.try_get("subject")?,
                session_hash: r.try_get("session_hash")?,
                user_sourced_id: r.try_get("user_sourced_id")?,
                created_at: r.try_get("created_at")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// Claims a due Logout Token for one attempt: a conditional UPDATE that pushes its next
/// attempt to `retry_at` and counts the attempt. `Ok(false)` when another node (or task)
/// claimed it first, or it is gone.
pub async fn claim_backchannel_logout(
    store: &Store,
    row: &BackchannelLogoutRow,
    now: i64,
    retry_at: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE oidc_backchannel_logouts SET next_attempt_at = $1, attempts = attempts + 1
         WHERE tenant_id = $2 AND id = $3 AND next_attempt_at <= $4 AND attempts = $5",
    )
    .bind(retry_at)
    .bind(row.tenant.as_str())
    .bind(&row.id)
    .bind(now)
    .bind(row.attempts)
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Forgets a Logout Token (delivered, or given up).
pub async fn delete_backchannel_logout(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM oidc_backchannel_logouts WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records a `private_key_jwt` assertion id; `Ok(false)` when it was already seen (a replay).
/// Expired entries of the tenant are dropped on the way.
pub async fn first_assertion_use(
    store: &Store,
    tenant: &TenantId,
    client_id: &str,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool> {
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM oauth_assertion_jtis WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let n = sqlx::query(
        "INSERT INTO oauth_assertion_jtis (tenant_id, client_id, jti, expires_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, client_id, jti) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(client_id)
    .bind(jti)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n == 1)
}

/// The tenant's pairwise salt, created from `fresh` on first use (the first writer wins on
/// every node).
pub async fn pairwise_salt(
    store: &Store,
    tenant: &TenantId,
    fresh: &str,
    at: &str,
) -> Result<String> {
    // Read first: after the first use this is a plain read, not a write on every request.
    let existing: Option<String> =
        sqlx::query_scalar("SELECT pairwise_salt FROM oauth_tenant_secrets WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(store.pool())
            .await?;
    if let Some(salt) = existing {
        return Ok(salt);
    }
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO oauth_tenant_secrets (tenant_id, pairwise_salt, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(fresh)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let salt =
        sqlx::query_scalar("SELECT pairwise_salt FROM oauth_tenant_secrets WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut **tx)
            .await?;
    tx.commit().await?;
    Ok(salt)
}

/// Deletes the tenant's codes and tokens that expired before `before` (housekeeping).
pub async fn delete_expired(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    before: i64,
) -> Result<u64> {
    let codes = sqlx::query("DELETE FROM oauth_codes WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let tokens = sqlx::query("DELETE FROM oauth_tokens WHERE tenant_id = $1 AND expires_at < $2")
        .bind(tenant.as_str())
        .bind(before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(codes + tokens)
}

/// Roster details for the roster claims: the `fields` JSON of a OneRoster record.
pub async fn roster_fields(
    store: &Store,
    tenant: &TenantId,
    entity: &str,
    sourced_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT fields FROM roster_records
         WHERE tenant_id = $1 AND entity = $2 AND sourced_id = $3 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(entity)
    .bind(sourced_id)
    .fetch_optional(store.pool())
    .await?)
}

/// An active, enabled user by sourcedId (the holder of a code or token).
pub async fn active_user(
    store: &Store,
    tenant: &TenantId,
    sourced_id: &str,
) -> Result<Option<crate::roster::UserRow>> {
    let row = sqlx::query(&format!(
        "SELECT {ACTIVE_USER_COLUMNS}
         FROM users WHERE tenant_id = $1 AND sourced_id = $2 AND active = 1 AND enabled = 1"
    ))
    .bind(tenant.as_str())
    .bind(sourced_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| active_user_from_row(&r, "")).transpose()
}

/// What a token needs of its (active) user.
const ACTIVE_USER_COLUMNS: &str = "sourced_id, username, user_master_identifier, given_name,
    family_name, kana_given_name, kana_family_name, role, email";

/// An active user from `row`, its columns named with `prefix`.
fn active_user_from_row(r: &sqlx::any::AnyRow, prefix: &str) -> Result<crate::roster::UserRow> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(crate::roster::UserRow {
        sourced_id: r.try_get(col("sourced_id").as_str())?,
        username: r.try_get(col("username").as_str())?,
        user_master_identifier: r.try_get(col("user_master_identifier").as_str())?,
        given_name: r.try_get(col("given_name").as_str())?,
        family_name: r.try_get(col("family_name").as_str())?,
        kana_given_name: r.try_get(col("kana_given_name").as_str())?,
        kana_family_name: r.try_get(col("kana_family_name").as_str())?,
        role: r.try_get(col("role").as_str())?,
        email: r.try_get(col("email").as_str())?,
        enabled: true,
        active: true,
    })
}

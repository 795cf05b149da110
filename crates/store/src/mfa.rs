//! Multi-factor authentication rows: the tenant's security policy (JSON, typed in core),
//! WebAuthn credentials, WebAuthn ceremony state between requests, backup codes and known
//! devices. Every query carries the tenant.

use sqlx::{AnyConnection, Row};

use crate::{Result, Store, TenantId};

/// The tenant's security policy as stored (JSON), if the tenant changed the defaults.
pub async fn policy(store: &Store, tenant: &TenantId) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT policy FROM tenant_security_policy WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Sets (or replaces) the tenant's security policy.
pub async fn set_policy(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    policy_json: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tenant_security_policy (tenant_id, policy, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy,
            updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(policy_json)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A registered WebAuthn credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRow {
    /// base64url of the credential id.
    pub credential_id: String,
    pub user_sourced_id: String,
    pub name: String,
    /// `security-key` or `platform`.
    pub kind: String,
    /// The authenticator's AAGUID (hyphenated; all zeros when it gave none).
    pub aaguid: String,
    /// The attestation format it registered with (`packed`, `none`, …).
    pub attestation: String,
    pub user_verified: bool,
    pub discoverable: bool,
    /// webauthn-rs's serialised credential (public key, counter, flags).
    pub credential: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

const CREDENTIAL_COLUMNS: &str = "credential_id, user_sourced_id, name, kind, aaguid, \
     attestation, user_verified, discoverable, credential, created_at, last_used_at";

fn credential_of(r: &sqlx::any::AnyRow) -> Result<CredentialRow> {
    Ok(CredentialRow {
        credential_id: r.try_get("credential_id")?,
        user_sourced_id: r.try_get("user_sourced_id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        aaguid: r.try_get("aaguid")?,
        attestation: r.try_get("attestation")?,
        user_verified: r.try_get::<i64, _>("user_verified")? != 0,
        discoverable: r.try_get::<i64, _>("discoverable")? != 0,
        credential: r.try_get("credential")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// Stores a new credential.
pub async fn insert_credential(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    c: &CredentialRow,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO webauthn_credentials (tenant_id, {CREDENTIAL_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(tenant.as_str())
    .bind(&c.credential_id)
    .bind(&c.user_sourced_id)
    .bind(&c.name)
    .bind(&c.kind)
    .bind(&c.aaguid)
    .bind(&c.attestation)
    .bind(i64::from(c.user_verified))
    .bind(i64::from(c.discoverable))
    .bind(&c.credential)
    .bind(&c.created_at)
    .bind(&c.last_used_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A user's credentials, oldest first.
pub async fn credentials_of(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Vec<CredentialRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM webauthn_credentials
         WHERE tenant_id = $1 AND user_sourced_id = $2 ORDER BY created_at, credential_id"
    ))
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(credential_of).collect()
}

/// The credential with this id in the tenant, whoever holds it (a discoverable login finds
/// the user from the credential).
pub async fn credential_by_id(
    store: &Store,
    tenant: &TenantId,
    credential_id: &str,
) -> Result<Option<CredentialRow>> {
    let row = sqlx::query(&format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM webauthn_credentials
         WHERE tenant_id = $1 AND credential_id = $2"
    ))
    .bind(tenant.as_str())
    .bind(credential_id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(credential_of).transpose()
}

/// Whether any user of the tenant holds this credential id already.
pub async fn credential_exists(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    credential_id: &str,
) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webauthn_credentials WHERE tenant_id = $1 AND credential_id = $2",
    )
    .bind(tenant.as_str())
    .bind(credential_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// After a successful assertion: the new serialised credential (counter) and the last use.
pub async fn credential_used(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    credential_id: &str,
    credential: &str,
    at: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE webauthn_credentials SET credential = $1, last_used_at = $2
         WHERE tenant_id = $3 AND credential_id = $4",
    )
    .bind(credential)
    .bind(at)
    .bind(tenant.as_str())
    .bind(credential_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Renames one of a user's credentials; `Ok(false)` when the user has no such credential.
pub async fn rename_credential(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    credential_id: &str,
    name: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE webauthn_credentials SET name = $1
         WHERE tenant_id = $2 AND user_sourced_id = $3 AND credential_id = $4",
    )
    .bind(name)
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(credential_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes one of a user's credentials; `Ok(false)` when the user has no such credential.
pub async fn delete_credential(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    credential_id: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM webauthn_credentials
         WHERE tenant_id = $1 AND user_sourced_id = $2 AND credential_id = $3",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(credential_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes every factor of a user (credentials and backup codes); returns
/// (credentials removed, unused backup codes removed).
pub async fn delete_all_factors(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<(u64, u64)> {
    let creds = sqlx::query(
        "DELETE FROM webauthn_credentials WHERE tenant_id = $1 AND user_sourced_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let unused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mfa_backup_codes
         WHERE tenant_id = $1 AND user_sourced_id = $2 AND used_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM mfa_backup_codes WHERE tenant_id = $1 AND user_sourced_id = $2")
        .bind(tenant.as_str())
        .bind(user_sourced_id)
        .execute(&mut *conn)
        .await?;
    let totp =
        sqlx::query("DELETE FROM totp_secrets WHERE tenant_id = $1 AND user_sourced_id = $2")
            .bind(tenant.as_str())
            .bind(user_sourced_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok((creds + totp, unused.max(0) as u64))
}

/// Keeps a ceremony's server state until its finish request (replacing an unfinished one of
/// the same kind on the same session).
pub async fn put_ceremony(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    session_hash: &str,
    kind: &str,
    state: &str,
    expires_at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (tenant_id, session_hash, kind, state, expires_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, session_hash, kind) DO UPDATE SET state = excluded.state,
            expires_at = excluded.expires_at",
    )
    .bind(tenant.as_str())
    .bind(session_hash)
    .bind(kind)
    .bind(state)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the tenant's ceremonies that expired before `now` (the passkey login starts one
/// per browser before anyone has signed in, so they must not pile up).
pub async fn delete_expired_ceremonies(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    now: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE tenant_id = $1 AND expires_at < $2")
            .bind(tenant.as_str())
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

/// Takes (reads and deletes) a ceremony's state if it has not expired at `now`. A state is
/// used once: the delete must remove the row read, so two finishes cannot share it.
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    session_hash: &str,
    kind: &str,
    now: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT state, expires_at FROM webauthn_ceremonies
         WHERE tenant_id = $1 AND session_hash = $2 AND kind = $3",
    )
    .bind(tenant.as_str())
    .bind(session_hash)
    .bind(kind)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let state: String = row.try_get("state")?;
    let expires_at: String = row.try_get("expires_at")?;
    let n = sqlx::query(
        "DELETE FROM webauthn_ceremonies
         WHERE tenant_id = $1 AND session_hash = $2 AND kind = $3 AND state = $4",
    )
    .bind(tenant.as_str())
    .bind(session_hash)
    .bind(kind)
    .bind(&state)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((n == 1 && expires_at.as_str() > now).then_some(state))
}

/// Replaces a user's backup codes with new ones (their hashes).
pub async fn replace_backup_codes(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    hashes: &[String],
    at: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM mfa_backup_codes WHERE tenant_id = $1 AND user_sourced_id = $2")
        .bind(tenant.as_str())
        .bind(user_sourced_id)
        .execute(&mut *conn)
        .await?;
    for h in hashes {
        sqlx::query(
            "INSERT INTO mfa_backup_codes (tenant_id, user_sourced_id, code_hash, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.as_str())
        .bind(user_sourced_id)
        .bind(h)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Redeems a backup code: one conditional UPDATE, so a code works once even when two nodes
/// race. `Ok(true)` when this call used it.
pub async fn redeem_backup_code(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    hash: &str,
    at: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE mfa_backup_codes SET used_at = $1
         WHERE tenant_id = $2 AND user_sourced_id = $3 AND code_hash = $4 AND used_at IS NULL",
    )
    .bind(at)
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// How many unused backup codes a user has left.
pub async fn backup_codes_left(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM mfa_backup_codes
         WHERE tenant_id = $1 AND user_sourced_id = $2 AND used_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_one(store.pool())
    .await?)
}

/// Whether the user has signed in from this device before.
pub async fn device_known(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
    device_hash: &str,
) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM known_devices
         WHERE tenant_id = $1 AND user_sourced_id = $2 AND device_hash = $3",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(device_hash)
    .fetch_one(store.pool())
    .await?;
    Ok(n > 0)
}

/// Remembers a device for a user (or refreshes its last sighting and user agent).
pub async fn remember_device(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    device_hash: &str,
    user_agent: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO known_devices (tenant_id, user_sourced_id, device_hash, first_seen_at,
            last_seen_at, user_agent) VALUES ($1, $2, $3, $4, $4, $5)
         ON CONFLICT (tenant_id, user_sourced_id, device_hash)
         DO UPDATE SET last_seen_at = excluded.last_seen_at, user_agent = excluded.user_agent",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(device_hash)
    .bind(at)
    .bind(user_agent)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A device the risk engine knows for a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownDeviceRow {
    /// SHA-256 (hex) of the device cookie's id; the cookie itself is never stored.
    pub device_hash: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub user_agent: Option<String>,
}

/// The devices known for a user, last seen first.
pub async fn devices_of(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Vec<KnownDeviceRow>> {
    let rows = sqlx::query(
        "SELECT device_hash, first_seen_at, last_seen_at, user_agent FROM known_devices
         WHERE tenant_id = $1 AND user_sourced_id = $2
         ORDER BY last_seen_at DESC, device_hash",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KnownDeviceRow {
                device_hash: r.try_get("device_hash")?,
                first_seen_at: r.try_get("first_seen_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                user_agent: r.try_get("user_agent")?,
            })
        })
        .collect()
}

/// Forgets one of a user's devices: the next sign-in from it is a new device again. `false`
/// when the user has no such device (another person's device is never touched: the user is in
/// the query).
pub async fn forget_device(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    device_hash: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM known_devices
         WHERE tenant_id = $1 AND user_sourced_id = $2 AND device_hash = $3",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(device_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A user's TOTP authenticator as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpRow {
    pub secret_sealed: String,
    pub confirmed: bool,
    pub last_step: i64,
}

/// Starts (or restarts) a TOTP enrolment: an unconfirmed secret replacing any other.
pub async fn put_totp(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    secret_sealed: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO totp_secrets (tenant_id, user_sourced_id, secret_sealed, confirmed,
            last_step, created_at) VALUES ($1, $2, $3, 0, 0, $4)
         ON CONFLICT (tenant_id, user_sourced_id) DO UPDATE SET
            secret_sealed = excluded.secret_sealed, confirmed = 0, last_step = 0,
            created_at = excluded.created_at",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .bind(secret_sealed)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The user's TOTP authenticator, if any.
pub async fn totp_of(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Option<TotpRow>> {
    let row = sqlx::query(
        "SELECT secret_sealed, confirmed, last_step FROM totp_secrets
         WHERE tenant_id = $1 AND user_sourced_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        Ok(TotpRow {
            secret_sealed: r.try_get("secret_sealed")?,
            confirmed: r.try_get::<i64, _>("confirmed")? != 0,
            last_step: r.try_get("last_step")?,
        })
    })
    .transpose()
}

/// Accepts time step `step` (and confirms the enrolment): one conditional UPDATE, so a code
/// (a step) is accepted once even when two nodes race. `Ok(true)` when this call took it.
pub async fn use_totp_step(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    user_sourced_id: &str,
    step: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE totp_secrets SET last_step = $1, confirmed = 1
         WHERE tenant_id = $2 AND user_sourced_id = $3 AND last_step < $1",
    )
    .bind(step)
    .bind(tenant.as_str())
    .bind(user_sourced_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

//! What a session has proved, and a user's factors.
//!
//! A session's methods are RFC 8176 authentication method references: `pwd` from the login,
//! then for a second factor the methods it showed — `hwk` (a key held in hardware: a security
//! key or a platform authenticator whose key cannot leave the device), `swk` (a key that may
//! be synced or backed up, WebAuthn's backup-eligible flag), `user` (user presence: a touch),
//! `pin` or `fpt` when the authenticator verified the user (WebAuthn does not say how: `pin`
//! for a security key, `fpt` for a platform authenticator, their usual way), `otp` for a
//! one-time code, and `mfa` whenever more than one factor was used. `acr` becomes
//! `urn:kakehashi:acr:mfa`. The instant of the second factor is kept: step-up compares it with
//! the tenant's freshness window.

use kakehashi_oidc::discovery::{ACR_MFA, ACR_PASSWORD};
use kakehashi_store::roster::find_user_by_username;
use kakehashi_store::{audit, mfa as stored, sessions, Store, StoreError, TenantId};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::network;
use super::policy::SecurityPolicy;
use super::MfaError;
use crate::portal::session::PortalSession;
use crate::{Actor, Clock};

/// Refuses a typed second-factor code while the user's recent wrong codes call for a wait
/// ([`crate::portal::throttle::code_wait`]); such an attempt is neither checked nor counted.
pub(crate) async fn code_attempt_allowed(
    store: &Store,
    session: &PortalSession,
    now: OffsetDateTime,
) -> Result<(), MfaError> {
    let counter = sessions::throttle::get(
        store,
        &session.tenant,
        sessions::throttle::Scope::Code,
        &session.user.sourced_id,
    )
    .await?;
    let wait = crate::portal::throttle::code_wait(crate::portal::login::observed(counter), now);
    if wait > 0 {
        return Err(MfaError::Throttled {
            retry_after_secs: wait,
        });
    }
    Ok(())
}

/// Counts a wrong second-factor code, or forgets the count after a right one (inside the
/// caller's transaction, with the audit row).
pub(crate) async fn count_code(
    tx: &mut kakehashi_store::Tx,
    session: &PortalSession,
    ok: bool,
    now: OffsetDateTime,
) -> Result<(), MfaError> {
    use sessions::throttle::{self as counters, Scope};
    let subject = &session.user.sourced_id;
    if ok {
        counters::clear(tx, &session.tenant, [(Scope::Code, subject.as_str())]).await?;
    } else {
        let at = kakehashi_store::now_rfc3339_of(now);
        let cutoff = kakehashi_store::now_rfc3339_of(now - crate::portal::throttle::WINDOW);
        counters::record_failure(tx, &session.tenant, Scope::Code, subject, &at, &cutoff).await?;
    }
    Ok(())
}

/// A method a second factor showed (RFC 8176 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Hwk,
    Swk,
    User,
    Pin,
    Fpt,
    Otp,
}

impl Method {
    pub fn amr(self) -> &'static str {
        match self {
            Method::Hwk => "hwk",
            Method::Swk => "swk",
            Method::User => "user",
            Method::Pin => "pin",
            Method::Fpt => "fpt",
            Method::Otp => "otp",
        }
    }
}

/// The session's methods after a second factor: `pwd` (if the session had it), the factor's
/// methods, then `mfa`.
pub fn amr_after(previous: &[String], shown: &[Method]) -> Vec<String> {
    let mut amr: Vec<String> = previous.iter().filter(|m| *m == "pwd").cloned().collect();
    for m in shown {
        if !amr.iter().any(|a| a == m.amr()) {
            amr.push(m.amr().to_owned());
        }
    }
    if amr.len() > 1 && !shown.is_empty() {
        amr.push("mfa".to_owned());
    }
    amr
}

pub(crate) fn actor_of(session: &PortalSession) -> String {
    format!("user:{}/{}", session.tenant, session.user.sourced_id)
}

/// Records a second factor on the session (inside the caller's transaction).
pub(crate) async fn record(
    tx: &mut kakehashi_store::Tx,
    _store: &Store,
    session: &PortalSession,
    shown: &[Method],
    at: &str,
) -> Result<Vec<String>, MfaError> {
    let amr = amr_after(&session.amr, shown);
    let json = serde_json::to_string(&amr).unwrap_or_else(|_| "[\"pwd\"]".into());
    sessions::record_second_factor(tx, &session.tenant, &session.id_hash, &json, ACR_MFA, at)
        .await?;
    Ok(amr)
}

/// Whether the session's second factor is fresh enough for the policy now: used within the
/// freshness window, and, when the tenant asks for it, within the shorter off-site window
/// when the session's address is outside the school networks.
pub fn second_factor_fresh(
    second_factor_at: Option<&str>,
    ip: &str,
    policy: &SecurityPolicy,
    now: OffsetDateTime,
) -> bool {
    let Some(at) = second_factor_at.and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok()) else {
        return false;
    };
    let age = now - at;
    let mut max = policy.second_factor_max_age_secs;
    if let Some(offsite) = policy.offsite_max_age_secs {
        if !network::inside(&policy.school_networks, ip) {
            max = max.min(offsite);
        }
    }
    age >= Duration::ZERO - Duration::seconds(5) && age <= Duration::seconds(max)
}

/// A registered credential as its owner (or an administrator) sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub aaguid: String,
    pub user_verified: bool,
    pub discoverable: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&stored::CredentialRow> for CredentialSummary {
    fn from(r: &stored::CredentialRow) -> Self {
        CredentialSummary {
            id: r.credential_id.clone(),
            name: r.name.clone(),
            kind: r.kind.clone(),
            aaguid: r.aaguid.clone(),
            user_verified: r.user_verified,
            discoverable: r.discoverable,
            created_at: r.created_at.clone(),
            last_used_at: r.last_used_at.clone(),
        }
    }
}

/// A user's factors.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Factors {
    pub credentials: Vec<CredentialSummary>,
    pub backup_codes_left: i64,
    /// A confirmed TOTP authenticator app.
    pub totp: bool,
}

impl Factors {
    pub fn any(&self) -> bool {
        !self.credentials.is_empty() || self.backup_codes_left > 0 || self.totp
    }
}

/// The factors of a user.
pub async fn of_user(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Factors, MfaError> {
    let creds = stored::credentials_of(store, tenant, user_sourced_id).await?;
    Ok(Factors {
        credentials: creds.iter().map(CredentialSummary::from).collect(),
        backup_codes_left: stored::backup_codes_left(store, tenant, user_sourced_id).await?,
        totp: stored::totp_of(store, tenant, user_sourced_id)
            .await?
            .is_some_and(|t| t.confirmed),
    })
}

/// The factors of a user named by username (for operators: `kakehashi mfa list`).
pub async fn of_username(
    store: &Store,
    tenant: &TenantId,
    username: &str,
) -> Result<Factors, MfaError> {
    let user = find_user_by_username(store, tenant, username)
        .await?
        .ok_or_else(|| MfaError::UnknownUser {
            tenant: tenant.to_string(),
            username: username.to_owned(),
        })?;
    of_user(store, tenant, &user.sourced_id).await
}

/// Renames one of the session user's credentials (audited).
pub async fn rename(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
    credential_id: &str,
    name: &str,
) -> Result<bool, MfaError> {
    let name = clean_name(name);
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let done = stored::rename_credential(
        &mut tx,
        &session.tenant,
        &session.user.sourced_id,
        credential_id,
        &name,
    )
    .await?;
    if done {
        audit::append(
            &mut tx,
            store.backend(),
            Some(&session.tenant),
            &at,
            &audit::Event {
                actor: actor_of(session),
                action: "mfa.webauthn.rename".into(),
                target: format!("user:{}", session.user.sourced_id),
                details: serde_json::json!({ "credential": credential_id, "name": name }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(done)
}

/// Removes one of the session user's credentials (audited).
pub async fn remove(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
    credential_id: &str,
) -> Result<bool, MfaError> {
    let removed = remove_credential(
        store,
        clock,
        &Actor(actor_of(session)),
        &session.tenant,
        &session.user.sourced_id,
        credential_id,
        None,
    )
    .await?;
    Ok(removed.is_some())
}

/// Removes one credential of a user, audited as `mfa.webauthn.remove` in the same
/// transaction. `reason: Some(…)` is someone else removing it (an administrator: a lost key):
/// the reason goes into the audit row and the user's live sessions lose their second factor
/// too (they may have proved it with that key), as a [`reset`] does. `None`: no such
/// credential of this user; otherwise the number of sessions taken back to password only.
pub async fn remove_credential(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    user_sourced_id: &str,
    credential_id: &str,
    reason: Option<&str>,
) -> Result<Option<u64>, MfaError> {
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !stored::delete_credential(&mut tx, tenant, user_sourced_id, credential_id).await? {
        return Ok(None);
    }
    let mut details = serde_json::json!({ "credential": credential_id });
    let mut downgraded = 0;
    if let Some(reason) = reason {
        let pwd = serde_json::json!(["pwd"]).to_string();
        downgraded = sessions::forget_second_factor_for_user(
            &mut tx,
            tenant,
            user_sourced_id,
            &pwd,
            ACR_PASSWORD,
        )
        .await?;
        details["reason"] = reason.into();
        details["sessionsDowngraded"] = downgraded.into();
    }
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "mfa.webauthn.remove".into(),
            target: format!("user:{user_sourced_id}"),
            details,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(downgraded))
}

/// A credential's name as stored: trimmed, at most 64 characters, never empty.
pub fn clean_name(name: &str) -> String {
    let n: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    if n.is_empty() {
        "セキュリティキー".to_owned()
    } else {
        n
    }
}

/// What [`reset`] removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetDone {
    pub credentials_removed: u64,
    pub backup_codes_removed: u64,
    pub sessions_downgraded: u64,
    /// Sessions signed in with a passkey alone, ended (nothing else proved who the user is).
    pub sessions_ended: u64,
}

/// Recovery: removes every factor of a user (credentials, backup codes) and takes the second
/// factor away from the user's live sessions, so they must register a new factor. Always
/// audited with the reason, which must be given.
pub async fn reset(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    username: &str,
    reason: &str,
) -> Result<ResetDone, MfaError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(MfaError::InvalidPolicy(
            "a reason is required for a factor reset (it goes into the audit log)".into(),
        ));
    }
    let user = find_user_by_username(store, tenant, username)
        .await?
        .ok_or_else(|| MfaError::UnknownUser {
            tenant: tenant.to_string(),
            username: username.to_owned(),
        })?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let (credentials_removed, backup_codes_removed) =
        stored::delete_all_factors(&mut tx, tenant, &user.sourced_id).await?;
    // Sessions signed in with a passkey alone end, with their app sessions: OIDC tokens
    // revoked and back-channel Logout Tokens queued, SAML SP sessions forgotten (no browser
    // is there to walk the SPs).
    let ended = sessions::delete_passwordless_of_user(&mut tx, tenant, &user.sourced_id).await?;
    for h in &ended {
        crate::oauth::logout::end_session_tokens_in(
            &mut tx,
            store,
            clock,
            tenant,
            h,
            &user.sourced_id,
        )
        .await?;
        kakehashi_store::saml::delete_sp_sessions_of(&mut tx, tenant, h).await?;
    }
    let sessions_ended = ended.len() as u64;
    let pwd = serde_json::json!(["pwd"]).to_string();
    let sessions_downgraded = sessions::forget_second_factor_for_user(
        &mut tx,
        tenant,
        &user.sourced_id,
        &pwd,
        ACR_PASSWORD,
    )
    .await?;
    let done = ResetDone {
        credentials_removed,
        backup_codes_removed,
        sessions_downgraded,
        sessions_ended,
    };
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "mfa.reset".into(),
            target: format!("user:{}", user.sourced_id),
            details: serde_json::json!({
                "username": user.username, "reason": reason, "removed": done,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn rfc_8176_methods_after_a_security_key_with_pin() {
        let amr = amr_after(&s(&["pwd"]), &[Method::Hwk, Method::User, Method::Pin]);
        assert_eq!(amr, s(&["pwd", "hwk", "user", "pin", "mfa"]));
    }

    #[test]
    fn a_later_factor_replaces_the_earlier_one() {
        let amr = amr_after(&s(&["pwd", "hwk", "user", "mfa"]), &[Method::Otp]);
        assert_eq!(amr, s(&["pwd", "otp", "mfa"]));
    }

    #[test]
    fn freshness_window_and_offsite_window() {
        let mut p = SecurityPolicy::default();
        let now = datetime!(2026-04-08 12:00:00 UTC);
        let at = "2026-04-08T05:00:00.000Z"; // 7 h ago
        assert!(second_factor_fresh(Some(at), "203.0.113.9", &p, now));
        assert!(!second_factor_fresh(
            Some("2026-04-08T03:59:00.000Z"),
            "203.0.113.9",
            &p,
            now
        ));
        assert!(!second_factor_fresh(None, "10.0.0.1", &p, now));
        p.school_networks = vec!["10.0.0.0/8".parse().unwrap()];
        p.offsite_max_age_secs = Some(900);
        assert!(
            second_factor_fresh(Some(at), "10.1.2.3", &p, now),
            "inside: 8 h"
        );
        assert!(
            !second_factor_fresh(Some(at), "203.0.113.9", &p, now),
            "outside: 15 min"
        );
        assert!(second_factor_fresh(
            Some("2026-04-08T11:50:00.000Z"),
            "203.0.113.9",
            &p,
            now
        ));
    }

    #[test]
    fn credential_names_are_trimmed_and_never_empty() {
        assert_eq!(clean_name("  職員室のPC \n"), "職員室のPC");
        assert_eq!(clean_name(""), "セキュリティキー");
        assert_eq!(clean_name(&"あ".repeat(100)).chars().count(), 64);
    }
}

//! Resuming a portal session from its cookie token, and ending it.
//!
//! A session ends when it has been idle longer than its idle timeout or has lived past its
//! absolute timeout (OWASP Session Management Cheat Sheet, "Session Expiration"); both are
//! checked on the server from the row, never trusted to the cookie's own expiry. Activity is
//! written back at most once a minute (or once a quarter of the idle timeout, if that is
//! shorter) so that a page load is not always a database write. A session that has timed out
//! ends with its app sessions (`super::expiry`), whether its next request or the sweep finds it.

use kakehashi_store::roster::UserRow;
use kakehashi_store::sessions::{self, SessionRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::token::SessionToken;
use super::PortalError;
use crate::Clock;

/// A live session and its user.
#[derive(Clone, Debug)]
pub struct PortalSession {
    pub tenant: TenantId,
    pub id_hash: String,
    pub user: UserRow,
    /// The synchronizer CSRF token of this session's forms.
    pub csrf_secret: String,
    pub auth_time: String,
    pub amr: Vec<String>,
    pub acr: String,
    /// When the session last proved a second factor (RFC 3339), if ever.
    pub second_factor_at: Option<String>,
    /// The address the session signed in from.
    pub ip: String,
    /// The user agent the session signed in with.
    pub user_agent: String,
    /// When the session was last active before this request (RFC 3339).
    pub last_seen_at: String,
}

impl PortalSession {
    /// The risk engine asked this login for the second factor and it has not been proved yet.
    pub fn risk_step_up_pending(&self) -> bool {
        self.acr == super::login::ACR_STEP_UP_PENDING
    }
}

/// Why a stored session is no longer usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Live,
    Idle,
    Absolute,
}

/// The rule, pure: is the session still live at `now`?
pub fn expiry(row: &SessionRow, now: OffsetDateTime) -> Expiry {
    let parse = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
    let (Some(expires), Some(seen)) = (parse(&row.expires_at), parse(&row.last_seen_at)) else {
        // An unreadable instant is treated as expired: fail closed.
        return Expiry::Absolute;
    };
    if now >= expires {
        Expiry::Absolute
    } else if now >= seen + Duration::seconds(row.idle_timeout_secs) {
        Expiry::Idle
    } else {
        Expiry::Live
    }
}

/// The live session behind `token` in `tenant`, or `None` (expired sessions are removed).
pub async fn resume(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    token: &SessionToken,
) -> Result<Option<PortalSession>, PortalError> {
    let id_hash = token.id_hash();
    let Some((row, user, security)) =
        sessions::find_with_security_policy(store, tenant, &id_hash).await?
    else {
        return Ok(None);
    };
    // What the request decides next (launch, step-up) reads the policy from its memo.
    crate::mfa::policy::prime(tenant, security.as_deref());
    let now = clock.now();
    let ended = expiry(&row, now);
    if ended != Expiry::Live {
        // As the sweep would: its apps are told (`super::expiry`).
        let timed_out = sessions::ExpiredSession {
            tenant: tenant.clone(),
            id_hash,
            user_sourced_id: row.user_sourced_id,
            absolute: ended == Expiry::Absolute,
        };
        super::expiry::end(store, clock, &timed_out, false).await?;
        return Ok(None);
    }
    let refresh_after = Duration::seconds((row.idle_timeout_secs / 4).clamp(0, 60));
    let seen = OffsetDateTime::parse(&row.last_seen_at, &Rfc3339).unwrap_or(now);
    if now >= seen + refresh_after {
        sessions::touch(store, tenant, &id_hash, &clock.now_text()).await?;
    }
    Ok(Some(PortalSession {
        tenant: tenant.clone(),
        id_hash,
        user,
        csrf_secret: row.csrf_secret,
        auth_time: row.auth_time,
        amr: serde_json::from_str(&row.amr).unwrap_or_default(),
        acr: row.acr,
        second_factor_at: row.second_factor_at,
        ip: row.ip,
        user_agent: row.user_agent,
        last_seen_at: row.last_seen_at,
    }))
}

/// Ends a session (audited) and the app sessions started from it ([`end_app_sessions`]).
/// Returns the SAML logout journey that tells the SPs, when there are SPs to tell: the browser
/// goes through it next (`saml_idp::propagate`).
pub async fn logout(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
) -> Result<Option<String>, PortalError> {
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let ended = sessions::delete(&mut tx, &session.tenant, &session.id_hash).await?;
    if ended {
        audit::append(
            &mut tx,
            store.backend(),
            Some(&session.tenant),
            &at,
            &audit::Event {
                actor: format!("user:{}/{}", session.tenant, session.user.sourced_id),
                action: "portal.logout".into(),
                target: format!("user:{}", session.user.sourced_id),
                details: serde_json::json!({ "username": session.user.username }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    end_app_sessions(store, clock, session).await
}

/// Ends the app sessions a portal session started. OIDC: every access and refresh token
/// issued from this session is revoked. SAML: the SP sessions it started are forgotten and,
/// for SPs with a SingleLogoutService, a logout journey is returned that tells each of them
/// (IdP-initiated Single Logout over the front channel, `saml_idp::propagate`).
pub async fn end_app_sessions(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
) -> Result<Option<String>, PortalError> {
    crate::oauth::logout::end_portal_session_tokens(store, clock, session).await?;
    crate::saml_idp::propagate::begin(store, clock, session)
        .await
        .map_err(|e| PortalError::Saml(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn row(seen: &str, expires: &str, idle: i64) -> SessionRow {
        SessionRow {
            id_hash: String::new(),
            user_sourced_id: String::new(),
            role: "student".into(),
            created_at: seen.into(),
            last_seen_at: seen.into(),
            auth_time: seen.into(),
            idle_timeout_secs: idle,
            expires_at: expires.into(),
            amr: "[\"pwd\"]".into(),
            acr: String::new(),
            csrf_secret: String::new(),
            user_agent: String::new(),
            ip: String::new(),
            second_factor_at: None,
        }
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let r = row("2026-04-08T08:00:00.000Z", "2026-04-08T18:00:00.000Z", 1800);
        assert_eq!(expiry(&r, datetime!(2026-04-08 08:29:59 UTC)), Expiry::Live);
        assert_eq!(expiry(&r, datetime!(2026-04-08 08:30:00 UTC)), Expiry::Idle);
        let r = row("2026-04-08T17:59:00.000Z", "2026-04-08T18:00:00.000Z", 1800);
        assert_eq!(
            expiry(&r, datetime!(2026-04-08 18:00:00 UTC)),
            Expiry::Absolute
        );
        let r = row("garbage", "2026-04-08T18:00:00.000Z", 1800);
        assert_eq!(
            expiry(&r, datetime!(2026-04-08 08:00:00 UTC)),
            Expiry::Absolute
        );
    }
}

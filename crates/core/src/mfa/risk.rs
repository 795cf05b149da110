//! Risk-based authentication: an explainable score for a portal login (or a request within a
//! session) from signals, and what the tenant does with it (`policy::RiskMode`: off, ask for
//! the second factor at login, or refuse above a threshold).
//!
//! Each signal that is present adds its configured weight and a reason; the decision compares
//! the sum with the tenant's thresholds. The reasons go into the audit log with the decision,
//! so a tenant administrator can answer "why was I asked?". The signals:
//!
//! - `new-device`: the browser has no valid signed device cookie, or this user never signed
//!   in from it (`known_devices`).
//! - `outside-school-network`: the address is outside the tenant's school networks (only when
//!   the tenant lists any: with none there is nothing to be outside of).
//! - `outside-school-hours`: local time (UTC offset, Asia/Tokyo by default) is outside the
//!   school hours, or it is Saturday or Sunday.
//! - `account-failures`: the account had a burst of failed logins in its throttle window
//!   (the last hour, `portal::throttle::WINDOW`).
//! - `address-failures`: the address failed on many logins in the last 15 minutes
//!   (credential stuffing, `portal::throttle::IP_WINDOW`).
//! - `user-agent-changed`: a request within a session came with another user agent than the
//!   session signed in with.

use kakehashi_store::{mfa as stored, Store, StoreError, TenantId};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, UtcOffset, Weekday};

use super::network;
use super::policy::{parse_hhmm, RiskMode, RiskPolicy, SecurityPolicy};
use super::MfaError;
use crate::Clock;

/// What was observed about one login or request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    pub new_device: bool,
    pub outside_school_network: bool,
    pub outside_school_hours: bool,
    /// Failed logins on the account in its current window.
    pub account_failures: i64,
    /// Failed logins from the address in its current window.
    pub address_failures: i64,
    pub user_agent_changed: bool,
}

/// One signal that counted, and its points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub signal: &'static str,
    pub points: i64,
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskDecision {
    Allow,
    StepUp,
    Deny,
}

/// The score, its reasons and the decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub score: i64,
    pub reasons: Vec<Reason>,
    pub decision: RiskDecision,
}

/// Scores the signals under the tenant's policy.
pub fn assess(policy: &SecurityPolicy, s: &Signals) -> Assessment {
    let r = &policy.risk;
    let w = &r.weights;
    let present = [
        ("new-device", s.new_device, w.new_device),
        (
            "outside-school-network",
            s.outside_school_network,
            w.outside_school_network,
        ),
        (
            "outside-school-hours",
            s.outside_school_hours,
            w.outside_school_hours,
        ),
        (
            "account-failures",
            s.account_failures >= r.account_failure_burst,
            w.account_failures,
        ),
        (
            "address-failures",
            s.address_failures >= r.address_failure_burst,
            w.address_failures,
        ),
        (
            "user-agent-changed",
            s.user_agent_changed,
            w.user_agent_changed,
        ),
    ];
    let reasons: Vec<Reason> = present
        .iter()
        .filter(|(_, on, points)| *on && *points > 0)
        .map(|(signal, _, points)| Reason {
            signal,
            points: *points,
        })
        .collect();
    let score = reasons.iter().map(|r| r.points).sum();
    let decision = match r.mode {
        RiskMode::Off => RiskDecision::Allow,
        RiskMode::Deny if score >= r.deny_threshold => RiskDecision::Deny,
        RiskMode::StepUp | RiskMode::Deny if score >= r.step_up_threshold => RiskDecision::StepUp,
        _ => RiskDecision::Allow,
    };
    Assessment {
        score,
        reasons,
        decision,
    }
}

/// Whether `now` is outside the school hours (local time by the policy's UTC offset; Saturday
/// and Sunday are outside).
pub fn outside_school_hours(r: &RiskPolicy, now: OffsetDateTime) -> bool {
    let offset =
        UtcOffset::from_whole_seconds((r.utc_offset_minutes * 60) as i32).unwrap_or(UtcOffset::UTC);
    let local = now.to_offset(offset);
    if matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return true;
    }
    let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
    match (
        parse_hhmm(&r.school_hours_start),
        parse_hhmm(&r.school_hours_end),
    ) {
        (Some(start), Some(end)) => minute < start || minute >= end,
        _ => false,
    }
}

/// Whether the address counts as outside the school networks (never when the tenant lists
/// none).
pub fn outside_school_network(policy: &SecurityPolicy, ip: &str) -> bool {
    !policy.school_networks.is_empty() && !network::inside(&policy.school_networks, ip)
}

/// The device cookie's value for a device id: `ID.MAC`, the MAC an HMAC-SHA256 over the
/// tenant and the id with the server's device-cookie key.
pub fn device_cookie(key: &str, tenant: &TenantId, id: &str) -> String {
    format!("{id}.{}", device_mac(key, tenant, id))
}

fn device_mac(key: &str, tenant: &TenantId, id: &str) -> String {
    let mut message = b"kakehashi-device\0".to_vec();
    message.extend_from_slice(tenant.as_str().as_bytes());
    message.push(0);
    message.extend_from_slice(id.as_bytes());
    PKey::hmac(key.as_bytes())
        .and_then(|k| Signer::new(MessageDigest::sha256(), &k)?.sign_oneshot_to_vec(&message))
        .map(hex::encode)
        .unwrap_or_default()
}

/// The device id of a cookie value whose MAC verifies, else `None` (a forged or foreign
/// cookie is a new device).
pub fn verify_device_cookie(key: &str, tenant: &TenantId, value: &str) -> Option<String> {
    let (id, mac) = value.split_once('.')?;
    let ok = crate::portal::token::is_hex_token(id)
        && crate::portal::token::same(&device_mac(key, tenant, id), mac);
    ok.then(|| id.to_owned())
}

/// The server's device-cookie key (shared by every node, created on first use).
pub async fn device_key(store: &Store, clock: &dyn Clock) -> Result<String, MfaError> {
    let fresh = crate::portal::token::random_hex()?;
    Ok(
        kakehashi_store::sessions::secret(store, "device-cookie", &fresh, &clock.now_text())
            .await?,
    )
}

/// How a device id is stored (and named on the person's own page): its SHA-256, hex.
pub fn device_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Whether the user signed in from this device before.
pub async fn device_known(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
    device_id: Option<&str>,
) -> Result<bool, MfaError> {
    match device_id {
        None => Ok(false),
        Some(id) => {
            Ok(stored::device_known(store, tenant, user_sourced_id, &device_hash(id)).await?)
        }
    }
}

/// Remembers the device for the user (after a login that needed nothing more, or after the
/// second factor), with the user agent it came with (shown on the person's own page).
pub async fn remember_device(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    user_sourced_id: &str,
    device_id: &str,
    user_agent: &str,
) -> Result<(), MfaError> {
    let user_agent: String = user_agent.chars().take(512).collect();
    let mut tx = store.begin().await?;
    stored::remember_device(
        &mut tx,
        tenant,
        user_sourced_id,
        &device_hash(device_id),
        &user_agent,
        &clock.now_text(),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy(mode: RiskMode) -> SecurityPolicy {
        let mut p = SecurityPolicy::default();
        p.risk.mode = mode;
        p.school_networks = vec!["10.0.0.0/8".parse().unwrap()];
        p
    }

    fn signals_of(name: &str) -> Signals {
        let mut s = Signals::default();
        match name {
            "new-device" => s.new_device = true,
            "outside-school-network" => s.outside_school_network = true,
            "outside-school-hours" => s.outside_school_hours = true,
            "account-failures" => s.account_failures = 3,
            "address-failures" => s.address_failures = 20,
            "user-agent-changed" => s.user_agent_changed = true,
            _ => unreachable!(),
        }
        s
    }

    #[test]
    fn each_signal_adds_its_weight_and_names_itself() {
        let p = policy(RiskMode::StepUp);
        let w = p.risk.weights;
        for (name, points) in [
            ("new-device", w.new_device),
            ("outside-school-network", w.outside_school_network),
            ("outside-school-hours", w.outside_school_hours),
            ("account-failures", w.account_failures),
            ("address-failures", w.address_failures),
            ("user-agent-changed", w.user_agent_changed),
        ] {
            let a = assess(&p, &signals_of(name));
            assert_eq!(a.score, points, "{name}");
            assert_eq!(a.reasons.len(), 1, "{name}");
            assert_eq!((a.reasons[0].signal, a.reasons[0].points), (name, points));
        }
    }

    #[test]
    fn failures_below_the_burst_do_not_count() {
        let p = policy(RiskMode::StepUp);
        let s = Signals {
            account_failures: 2,
            address_failures: 19,
            ..Signals::default()
        };
        assert_eq!(assess(&p, &s).score, 0);
    }

    #[test]
    fn off_never_acts_step_up_asks_deny_refuses_above_its_threshold() {
        let s = Signals {
            new_device: true,
            outside_school_network: true,
            address_failures: 50,
            ..Signals::default()
        };
        // 30 + 30 + 40 = 100
        assert_eq!(
            assess(&policy(RiskMode::Off), &s).decision,
            RiskDecision::Allow
        );
        assert_eq!(
            assess(&policy(RiskMode::StepUp), &s).decision,
            RiskDecision::StepUp
        );
        assert_eq!(
            assess(&policy(RiskMode::Deny), &s).decision,
            RiskDecision::Deny
        );
        let mild = Signals {
            new_device: true,
            outside_school_network: true,
            ..Signals::default()
        };
        assert_eq!(
            assess(&policy(RiskMode::Deny), &mild).decision,
            RiskDecision::StepUp
        );
        let known = Signals {
            outside_school_hours: true,
            ..Signals::default()
        };
        assert_eq!(
            assess(&policy(RiskMode::StepUp), &known).decision,
            RiskDecision::Allow
        );
    }

    #[test]
    fn school_hours_are_judged_in_tokyo_time_on_weekdays() {
        let r = RiskPolicy::default(); // 07:00–19:00, UTC+9
                                       // Wednesday 2026-04-08 08:30 JST = 23:30 UTC the day before.
        assert!(!outside_school_hours(&r, datetime!(2026-04-07 23:30 UTC)));
        // 19:30 JST.
        assert!(outside_school_hours(&r, datetime!(2026-04-08 10:30 UTC)));
        // Saturday 10:00 JST.
        assert!(outside_school_hours(&r, datetime!(2026-04-11 01:00 UTC)));
    }

    #[test]
    fn the_network_signal_needs_school_networks() {
        let mut p = policy(RiskMode::StepUp);
        assert!(outside_school_network(&p, "203.0.113.5"));
        assert!(!outside_school_network(&p, "10.2.3.4"));
        p.school_networks.clear();
        assert!(!outside_school_network(&p, "203.0.113.5"));
    }

    #[test]
    fn device_cookies_are_bound_to_the_key_and_the_tenant() {
        let t = TenantId::parse("demo").unwrap();
        let other = TenantId::parse("other").unwrap();
        let id = "ab".repeat(32);
        let v = device_cookie("k1", &t, &id);
        assert_eq!(
            verify_device_cookie("k1", &t, &v).as_deref(),
            Some(id.as_str())
        );
        assert_eq!(verify_device_cookie("k2", &t, &v), None);
        assert_eq!(verify_device_cookie("k1", &other, &v), None);
        assert_eq!(verify_device_cookie("k1", &t, &format!("{id}.00")), None);
    }
}

/// What [`judge_session_user_agent`] did to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionVerdict {
    /// Nothing: same user agent, risk engine off, or a score below the thresholds.
    Keep,
    /// The session's second factor no longer counts: school-affairs apps ask again.
    SecondFactorDropped,
    /// The session was ended (risk `deny` at or above the deny threshold).
    Ended,
}

/// A request within a session came with `user_agent`: when it differs from the one the session
/// signed in with (a stolen cookie replayed elsewhere, most often), the risk engine judges it
/// with the address signal and acts: step-up drops the session's second factor, deny ends the
/// session. Audited with the reasons.
pub async fn judge_session_user_agent(
    store: &Store,
    clock: &dyn Clock,
    session: &crate::portal::session::PortalSession,
    user_agent: &str,
    ip: &str,
) -> Result<SessionVerdict, MfaError> {
    let user_agent: String = user_agent.chars().take(512).collect();
    if user_agent == session.user_agent {
        return Ok(SessionVerdict::Keep);
    }
    let policy = super::policy::load(store, &session.tenant).await?;
    if policy.risk.mode == RiskMode::Off {
        return Ok(SessionVerdict::Keep);
    }
    let signals = Signals {
        user_agent_changed: true,
        outside_school_network: outside_school_network(&policy, ip),
        ..Signals::default()
    };
    let a = assess(&policy, &signals);
    let has_second = crate::portal::access::has_second_factor(&session.amr);
    let verdict = match a.decision {
        RiskDecision::Allow => return Ok(SessionVerdict::Keep),
        RiskDecision::StepUp if !has_second => return Ok(SessionVerdict::Keep),
        // A passkey login has no password to fall back to: dropping its factor leaves
        // nothing, so the session ends.
        RiskDecision::StepUp if !session.amr.iter().any(|m| m == "pwd") => SessionVerdict::Ended,
        RiskDecision::StepUp => SessionVerdict::SecondFactorDropped,
        RiskDecision::Deny => SessionVerdict::Ended,
    };
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    match verdict {
        SessionVerdict::Ended => {
            kakehashi_store::sessions::delete(&mut tx, &session.tenant, &session.id_hash).await?;
        }
        _ => {
            let pwd = serde_json::json!(["pwd"]).to_string();
            kakehashi_store::sessions::forget_second_factor(
                &mut tx,
                &session.tenant,
                &session.id_hash,
                &pwd,
                kakehashi_oidc::discovery::ACR_PASSWORD,
            )
            .await?;
        }
    }
    kakehashi_store::audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        &at,
        &kakehashi_store::audit::Event {
            actor: format!("anonymous@{ip}"),
            action: "portal.session.risk".into(),
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({
                "score": a.score, "reasons": a.reasons, "decision": a.decision,
                "sessionUserAgent": session.user_agent, "userAgent": user_agent,
                "ended": verdict == SessionVerdict::Ended,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    if verdict == SessionVerdict::Ended {
        crate::portal::session::end_app_sessions(store, clock, session).await?;
    }
    Ok(verdict)
}

/// The signals that made the risk engine ask this user's latest login for the second factor
/// ("why was I asked?"), from that login's audit row (`portal.login` `risk.reasons`), in the
/// order they were scored. Empty when the engine did not ask.
pub async fn why_asked(
    store: &Store,
    tenant: &TenantId,
    user_sourced_id: &str,
) -> Result<Vec<String>, MfaError> {
    let Some(details) = kakehashi_store::audit::newest_details(
        store,
        tenant,
        "portal.login",
        &format!("user:{user_sourced_id}"),
    )
    .await?
    else {
        return Ok(Vec::new());
    };
    let v: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
    if v.pointer("/risk/stepUp") != Some(&serde_json::Value::Bool(true)) {
        return Ok(Vec::new());
    }
    Ok(v.pointer("/risk/reasons")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| r["signal"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

//! A tenant's security policy for multi-factor authentication: school networks, how fresh a
//! second factor must be, which authenticators may register, user verification per security
//! class, TOTP, the risk engine and shared-device mode. A tenant without a stored policy gets
//! [`SecurityPolicy::default`]. The policy is stored as JSON (one row per tenant) and always
//! validated here, so the command line and the web console share one set of rules.

use kakehashi_store::{audit, mfa as stored, Store, StoreError, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::network::Cidr;
use super::MfaError;
use crate::apps::SecurityClass;
use crate::{Actor, Clock};

/// Whether the authenticator must verify the user itself (PIN or fingerprint; WebAuthn
/// Level 2 §5.8.6 `UserVerificationRequirement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserVerification {
    /// Asked for when the authenticator can; a security key without a PIN still counts.
    Preferred,
    /// Only an authenticator that verified the user (PIN, fingerprint) counts.
    Required,
}

/// What the tenant asks of an authenticator's attestation (WebAuthn Level 2 §5.4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttestationPolicy {
    /// Attestation is not asked for; any authenticator may register (unless an AAGUID
    /// allow-list is set, which asks for attestation to learn the model).
    None,
    /// Attestation is asked for and must be present and verify (a `none` statement is
    /// refused), so the AAGUID is the one the authenticator signed.
    Direct,
}

/// What the risk engine does with a score (see `super::risk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskMode {
    Off,
    /// At or above the step-up threshold, the portal login asks for the second factor.
    StepUp,
    /// As step-up; at or above the deny threshold the login is refused.
    Deny,
}

/// Weights of the risk signals (points added when the signal is present).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RiskWeights {
    pub new_device: i64,
    pub outside_school_network: i64,
    pub outside_school_hours: i64,
    pub account_failures: i64,
    pub address_failures: i64,
    pub user_agent_changed: i64,
}

impl Default for RiskWeights {
    fn default() -> Self {
        RiskWeights {
            new_device: 30,
            outside_school_network: 30,
            outside_school_hours: 20,
            account_failures: 30,
            address_failures: 40,
            user_agent_changed: 40,
        }
    }
}

/// The risk engine's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RiskPolicy {
    pub mode: RiskMode,
    pub weights: RiskWeights,
    pub step_up_threshold: i64,
    pub deny_threshold: i64,
    /// School hours in local time, `HH:MM` (inclusive start, exclusive end), Monday–Friday.
    pub school_hours_start: String,
    pub school_hours_end: String,
    /// The local time's offset from UTC in minutes. Asia/Tokyo (+09:00, no daylight saving
    /// time) by default.
    pub utc_offset_minutes: i64,
    /// Failures on the account within the last hour that count as a burst.
    pub account_failure_burst: i64,
    /// Failures from one address within the last 15 minutes that look like credential
    /// stuffing.
    pub address_failure_burst: i64,
}

impl Default for RiskPolicy {
    fn default() -> Self {
        RiskPolicy {
            mode: RiskMode::Off,
            weights: RiskWeights::default(),
            step_up_threshold: 50,
            deny_threshold: 100,
            school_hours_start: "07:00".into(),
            school_hours_end: "19:00".into(),
            utc_offset_minutes: 9 * 60,
            account_failure_burst: 3,
            address_failure_burst: 20,
        }
    }
}

/// Shared-device mode: classroom tablets and PCs used by several people in a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SharedDevicePolicy {
    pub enabled: bool,
    /// Sign out after this many idle seconds (shorter than the portal's usual idle timeout).
    pub idle_secs: i64,
    /// Local times (`HH:MM`) at which lesson periods end; sessions end there.
    pub period_ends: Vec<String>,
    /// Only sessions from these networks are in shared-device mode; empty = every session.
    pub networks: Vec<Cidr>,
}

impl Default for SharedDevicePolicy {
    fn default() -> Self {
        SharedDevicePolicy {
            enabled: false,
            idle_secs: 10 * 60,
            period_ends: vec![],
            networks: vec![],
        }
    }
}

/// A tenant's security policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SecurityPolicy {
    /// The school networks (staff rooms, classrooms).
    pub school_networks: Vec<Cidr>,
    /// How long a second factor counts for school-affairs apps (default 8 hours).
    pub second_factor_max_age_secs: i64,
    /// When set, a request from outside the school networks needs a second factor at most
    /// this old (a "fresh" one); inside, [`Self::second_factor_max_age_secs`] applies.
    pub offsite_max_age_secs: Option<i64>,
    /// Whether learning apps need a second factor too (default no).
    pub learning_requires_second_factor: bool,
    pub attestation: AttestationPolicy,
    /// When not empty, only authenticators of these models (AAGUIDs) may register.
    pub aaguid_allow_list: Vec<Uuid>,
    /// User verification for a second factor used to reach learning apps.
    pub user_verification_learning: UserVerification,
    /// User verification for a second factor used to reach school-affairs apps.
    pub user_verification_school_affairs: UserVerification,
    /// Whether staff may register discoverable credentials (passkeys).
    pub staff_passkeys: bool,
    /// TOTP authenticator apps (off by default: they usually live on a private phone).
    pub totp_enabled: bool,
    pub risk: RiskPolicy,
    pub shared_device: SharedDevicePolicy,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            school_networks: vec![],
            second_factor_max_age_secs: 8 * 3600,
            offsite_max_age_secs: None,
            learning_requires_second_factor: false,
            attestation: AttestationPolicy::None,
            aaguid_allow_list: vec![],
            user_verification_learning: UserVerification::Preferred,
            user_verification_school_affairs: UserVerification::Preferred,
            staff_passkeys: true,
            totp_enabled: false,
            risk: RiskPolicy::default(),
            shared_device: SharedDevicePolicy::default(),
        }
    }
}

/// `HH:MM` → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

impl SecurityPolicy {
    /// The user verification asked for a second factor that opens apps of `class`.
    pub fn user_verification(&self, class: SecurityClass) -> UserVerification {
        match class {
            SecurityClass::Learning => self.user_verification_learning,
            SecurityClass::SchoolAffairs => self.user_verification_school_affairs,
        }
    }

    /// Whether registration must ask for attestation (to learn a verified AAGUID).
    pub fn wants_attestation(&self) -> bool {
        self.attestation == AttestationPolicy::Direct || !self.aaguid_allow_list.is_empty()
    }

    /// Checks every rule; the message names the setting.
    pub fn validate(&self) -> Result<(), MfaError> {
        let bad = |m: &str| Err(MfaError::InvalidPolicy(m.to_owned()));
        if !(60..=7 * 86_400).contains(&self.second_factor_max_age_secs) {
            return bad("second-factor-max-age must be between 60 seconds and 7 days");
        }
        if let Some(o) = self.offsite_max_age_secs {
            if !(0..=self.second_factor_max_age_secs).contains(&o) {
                return bad("offsite-max-age must be between 0 and second-factor-max-age");
            }
            if self.school_networks.is_empty() {
                return bad(
                    "offsite-max-age needs school-networks: without them every request is off site",
                );
            }
        }
        let r = &self.risk;
        if r.step_up_threshold < 1 || r.deny_threshold < r.step_up_threshold {
            return bad("risk thresholds: 1 <= step-up threshold <= deny threshold");
        }
        let w = &r.weights;
        for v in [
            w.new_device,
            w.outside_school_network,
            w.outside_school_hours,
            w.account_failures,
            w.address_failures,
            w.user_agent_changed,
        ] {
            if !(0..=1000).contains(&v) {
                return bad("risk weights must be between 0 and 1000");
            }
        }
        match (
            parse_hhmm(&r.school_hours_start),
            parse_hhmm(&r.school_hours_end),
        ) {
            (Some(a), Some(b)) if a < b => {}
            _ => return bad("school hours must be HH:MM-HH:MM with the start before the end"),
        }
        if !(-12 * 60..=14 * 60).contains(&r.utc_offset_minutes) {
            return bad("utc offset must be between -12:00 and +14:00");
        }
        if r.account_failure_burst < 1 || r.address_failure_burst < 1 {
            return bad("failure bursts must be at least 1");
        }
        let s = &self.shared_device;
        if !(60..=24 * 3600).contains(&s.idle_secs) {
            return bad("shared-device idle must be between 60 seconds and 24 hours");
        }
        if s.period_ends.iter().any(|p| parse_hhmm(p).is_none()) {
            return bad("lesson period ends must be HH:MM");
        }
        Ok(())
    }
}

tokio::task_local! {
    /// The policy read by the request being served ([`per_request`]).
    static REQUEST_POLICY: std::cell::RefCell<Option<(TenantId, SecurityPolicy)>>;
}

/// Runs `f` (one request) with a memo of the policy: inside it [`load`] reads the database
/// once, however many checks of the request ask (a login, its risk engine and the launch
/// decision each want it). Nothing outlives the request, so a change made elsewhere (another
/// node, the command line) applies from the next request on.
pub async fn per_request<F: std::future::Future>(f: F) -> F::Output {
    REQUEST_POLICY.scope(std::cell::RefCell::new(None), f).await
}

fn remembered(tenant: &TenantId) -> Option<SecurityPolicy> {
    REQUEST_POLICY
        .try_with(|m| {
            m.borrow()
                .as_ref()
                .filter(|(t, _)| t == tenant)
                .map(|(_, p)| p.clone())
        })
        .ok()
        .flatten()
}

fn remember(entry: Option<(TenantId, SecurityPolicy)>) {
    let _ = REQUEST_POLICY.try_with(|m| *m.borrow_mut() = entry);
}

/// Leaves the tenant's stored policy (`None`: the defaults), read by another query of the
/// request, in the request's memo. A policy that does not parse is left out: [`load`] then
/// reads it again and reports the error.
pub(crate) fn prime(tenant: &TenantId, stored: Option<&str>) {
    let policy = match stored {
        None => SecurityPolicy::default(),
        Some(json) => match serde_json::from_str(json) {
            Ok(p) => p,
            Err(_) => return,
        },
    };
    remember(Some((tenant.clone(), policy)));
}

/// The tenant's policy (the defaults when it has none stored).
pub async fn load(store: &Store, tenant: &TenantId) -> Result<SecurityPolicy, MfaError> {
    if let Some(p) = remembered(tenant) {
        return Ok(p);
    }
    let policy = match stored::policy(store, tenant).await? {
        None => SecurityPolicy::default(),
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            MfaError::Store(StoreError::Corrupt {
                table: "tenant_security_policy",
                detail: e.to_string(),
            })
        })?,
    };
    remember(Some((tenant.clone(), policy.clone())));
    Ok(policy)
}

/// Replaces the tenant's policy after validating it; audited with the old and new values.
pub async fn save(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    policy: &SecurityPolicy,
) -> Result<(), MfaError> {
    policy.validate()?;
    remember(None);
    if kakehashi_store::tenants::get(store, tenant)
        .await?
        .is_none()
    {
        return Err(MfaError::UnknownTenant(tenant.to_string()));
    }
    let before = load(store, tenant).await?;
    let at = clock.now_text();
    let json = serde_json::to_string(policy).map_err(|e| MfaError::InvalidPolicy(e.to_string()))?;
    let mut tx = store.begin().await?;
    stored::set_policy(&mut tx, tenant, &json, &at).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "tenant.security.set".into(),
            target: format!("tenant:{tenant}"),
            details: serde_json::json!({ "before": before, "after": policy }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_cautious() {
        let p = SecurityPolicy::default();
        p.validate().unwrap();
        assert_eq!(p.second_factor_max_age_secs, 8 * 3600);
        assert!(!p.totp_enabled, "TOTP is off by default");
        assert_eq!(p.risk.mode, RiskMode::Off);
        assert_eq!(p.risk.utc_offset_minutes, 540, "Asia/Tokyo");
    }

    #[test]
    fn json_round_trips_and_missing_fields_take_defaults() {
        let p: SecurityPolicy =
            serde_json::from_str(r#"{"school-networks":["10.0.0.0/8"],"totp-enabled":true}"#)
                .unwrap();
        assert_eq!(p.school_networks.len(), 1);
        assert!(p.totp_enabled);
        assert_eq!(p.second_factor_max_age_secs, 8 * 3600);
        let again: SecurityPolicy =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn offsite_freshness_needs_school_networks() {
        let p = SecurityPolicy {
            offsite_max_age_secs: Some(900),
            ..SecurityPolicy::default()
        };
        assert!(
            matches!(p.validate(), Err(MfaError::InvalidPolicy(m)) if m.contains("school-networks"))
        );
    }

    #[test]
    fn school_hours_must_be_ordered() {
        let mut p = SecurityPolicy::default();
        p.risk.school_hours_start = "18:00".into();
        p.risk.school_hours_end = "08:00".into();
        assert!(p.validate().is_err());
        assert_eq!(parse_hhmm("07:30"), Some(450));
        assert_eq!(parse_hhmm("24:00"), None);
    }
}

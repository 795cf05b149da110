//! The tenant's security policy as it exists today: session timeouts (idle and absolute, for
//! staff and for pupils) and the pupils' lockout threshold (docs/PORTAL.md). Tenant admins
//! only; a change is audited with the values before and after in the same transaction. (MFA,
//! risk and network settings belong to the MFA work.)

use kakehashi_store::sessions::{self, TenantSettingsRow};
use kakehashi_store::{audit, Store, StoreError};

use super::authz::{Principal, TenantAction};
use super::ConsoleError;
use crate::portal::policy::PortalPolicy;
use crate::Clock;

/// The policy as the console and the API show and take it (seconds; a threshold count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    pub staff_idle_secs: i64,
    pub staff_absolute_secs: i64,
    pub pupil_idle_secs: i64,
    pub pupil_absolute_secs: i64,
    pub pupil_lockout_threshold: i64,
}

impl From<PortalPolicy> for SecurityPolicy {
    fn from(p: PortalPolicy) -> Self {
        SecurityPolicy {
            staff_idle_secs: p.staff_idle_secs,
            staff_absolute_secs: p.staff_absolute_secs,
            pupil_idle_secs: p.pupil_idle_secs,
            pupil_absolute_secs: p.pupil_absolute_secs,
            pupil_lockout_threshold: p.pupil_lockout_threshold,
        }
    }
}

/// Bounds a board may choose within: an idle timeout of 5 minutes to 4 hours, an absolute
/// one of at least the idle timeout and at most 24 hours, a lockout after 3 to 50 failures
/// (fewer locks out pupils who mistype; more lets a short password be guessed).
pub fn check(p: &SecurityPolicy) -> Result<(), String> {
    for (name, idle, absolute) in [
        ("staff", p.staff_idle_secs, p.staff_absolute_secs),
        ("pupil", p.pupil_idle_secs, p.pupil_absolute_secs),
    ] {
        if !(300..=4 * 3600).contains(&idle) {
            return Err(format!("{name} idle timeout must be 5 minutes to 4 hours"));
        }
        if !(idle..=24 * 3600).contains(&absolute) {
            return Err(format!(
                "{name} absolute timeout must be at least the idle timeout and at most 24 hours"
            ));
        }
    }
    if !(3..=50).contains(&p.pupil_lockout_threshold) {
        return Err("the lockout threshold must be 3 to 50 failures".into());
    }
    Ok(())
}

pub async fn get(store: &Store, by: &Principal) -> Result<SecurityPolicy, ConsoleError> {
    by.require(TenantAction::ManageSecurityPolicy)?;
    Ok(PortalPolicy::load(store, &by.tenant).await?.into())
}

/// Sets the policy (new sessions get it; live sessions keep the timeouts they started with).
pub async fn set(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    new: &SecurityPolicy,
) -> Result<(), ConsoleError> {
    by.require(TenantAction::ManageSecurityPolicy)?;
    check(new).map_err(ConsoleError::Invalid)?;
    let before: SecurityPolicy = PortalPolicy::load(store, &by.tenant).await?.into();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    sessions::set_settings(
        &mut tx,
        &by.tenant,
        &TenantSettingsRow {
            staff_idle_secs: new.staff_idle_secs,
            staff_absolute_secs: new.staff_absolute_secs,
            pupil_idle_secs: new.pupil_idle_secs,
            pupil_absolute_secs: new.pupil_absolute_secs,
            pupil_lockout_threshold: new.pupil_lockout_threshold,
        },
        &at,
    )
    .await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&by.tenant),
        &at,
        &audit::Event {
            actor: by.actor.0.clone(),
            action: "console.security.set".into(),
            target: format!("tenant:{}", by.tenant),
            details: serde_json::json!({ "before": before, "after": new }),
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
    fn the_defaults_pass_and_the_bounds_hold() {
        let d: SecurityPolicy = PortalPolicy::DEFAULT.into();
        assert_eq!(check(&d), Ok(()));
        let short = SecurityPolicy {
            staff_idle_secs: 60,
            ..d
        };
        assert!(check(&short).is_err());
        let inverted = SecurityPolicy {
            pupil_absolute_secs: d.pupil_idle_secs - 1,
            ..d
        };
        assert!(check(&inverted).is_err());
        let lax = SecurityPolicy {
            pupil_lockout_threshold: 51,
            ..d
        };
        assert!(check(&lax).is_err());
    }
}

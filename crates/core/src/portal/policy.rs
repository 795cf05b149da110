//! Per-tenant portal policy: session timeouts by kind of user and the pupil lockout
//! threshold. A tenant without stored settings gets [`PortalPolicy::DEFAULT`].
//!
//! Defaults, and why (OWASP Session Management Cheat Sheet, "Session Expiration": idle 15–30
//! minutes for sensitive applications, an absolute timeout that ends a day's work):
//! - staff: 30 minutes idle, 10 hours absolute — a teacher reaches school-affairs data from
//!   the portal, and a staff-room PC left unlocked should not stay signed in through the day's
//!   breaks; ten hours covers a school day.
//! - pupils: 50 minutes idle (a 45-minute lesson plus the break, so a pupil is not signed out
//!   in the middle of a lesson spent on one tool), 8 hours absolute.
//! - pupil lockout after 10 failures from one address (see [`super::throttle`]).

use kakehashi_store::sessions::{self, TenantSettingsRow};
use kakehashi_store::{Store, StoreError, TenantId};

/// Whose rules apply to a user: pupils (and, until they get their own portal, guardians) or
/// staff (teachers, administrators, aides, proctors… every other role).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleClass {
    Pupil,
    Staff,
}

impl RoleClass {
    /// The class of a OneRoster role (`users.csv` `role`).
    pub fn of(role: &str) -> RoleClass {
        match role {
            "student" | "guardian" | "parent" | "relative" => RoleClass::Pupil,
            _ => RoleClass::Staff,
        }
    }
}

/// A tenant's portal policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortalPolicy {
    pub staff_idle_secs: i64,
    pub staff_absolute_secs: i64,
    pub pupil_idle_secs: i64,
    pub pupil_absolute_secs: i64,
    pub pupil_lockout_threshold: i64,
}

impl PortalPolicy {
    pub const DEFAULT: PortalPolicy = PortalPolicy {
        staff_idle_secs: 30 * 60,
        staff_absolute_secs: 10 * 3600,
        pupil_idle_secs: 50 * 60,
        pupil_absolute_secs: 8 * 3600,
        pupil_lockout_threshold: 10,
    };

    /// (idle, absolute) timeouts in seconds for a role.
    pub fn timeouts(&self, class: RoleClass) -> (i64, i64) {
        match class {
            RoleClass::Pupil => (self.pupil_idle_secs, self.pupil_absolute_secs),
            RoleClass::Staff => (self.staff_idle_secs, self.staff_absolute_secs),
        }
    }

    /// The tenant's stored policy, or the default.
    pub async fn load(store: &Store, tenant: &TenantId) -> Result<PortalPolicy, StoreError> {
        Ok(Self::of(sessions::settings(store, tenant).await?))
    }

    /// [`PortalPolicy::load`], reading the tenant's security policy in the same query and
    /// leaving it in the request's memo (`mfa::policy::per_request`), where the login's later
    /// checks find it.
    pub async fn load_with_security(
        store: &Store,
        tenant: &TenantId,
    ) -> Result<PortalPolicy, StoreError> {
        let (settings, security) = sessions::settings_and_security_policy(store, tenant).await?;
        crate::mfa::policy::prime(tenant, security.as_deref());
        Ok(Self::of(settings))
    }

    fn of(row: Option<TenantSettingsRow>) -> PortalPolicy {
        row.map_or(PortalPolicy::DEFAULT, |r| PortalPolicy {
            staff_idle_secs: r.staff_idle_secs.max(1),
            staff_absolute_secs: r.staff_absolute_secs.max(1),
            pupil_idle_secs: r.pupil_idle_secs.max(1),
            pupil_absolute_secs: r.pupil_absolute_secs.max(1),
            pupil_lockout_threshold: r.pupil_lockout_threshold.max(1),
        })
    }

    /// Stores this policy for the tenant.
    pub async fn save(&self, store: &Store, tenant: &TenantId, at: &str) -> Result<(), StoreError> {
        let mut tx = store.begin().await?;
        sessions::set_settings(
            &mut tx,
            tenant,
            &TenantSettingsRow {
                staff_idle_secs: self.staff_idle_secs,
                staff_absolute_secs: self.staff_absolute_secs,
                pupil_idle_secs: self.pupil_idle_secs,
                pupil_absolute_secs: self.pupil_absolute_secs,
                pupil_lockout_threshold: self.pupil_lockout_threshold,
            },
            at,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_fall_into_pupils_and_staff() {
        assert_eq!(RoleClass::of("student"), RoleClass::Pupil);
        assert_eq!(RoleClass::of("guardian"), RoleClass::Pupil);
        for staff in [
            "teacher",
            "administrator",
            "aide",
            "proctor",
            "districtAdministrator",
        ] {
            assert_eq!(RoleClass::of(staff), RoleClass::Staff, "{staff}");
        }
    }
}

//! Whether a signed-in user may launch (or sign in to) an app right now, and what stands in
//! the way. One decision shared by every way into an app: the launcher's tiles, OIDC
//! authorization requests, SAML SP-initiated and IdP-initiated SSO, LTI launches.
//!
//! - The app's audience must allow the user's primary role ([`launcher::allowed`]).
//! - `school-affairs` apps need a second factor used within the tenant's freshness window
//!   (default 8 hours; shorter off the school networks when the tenant says so: see
//!   `crate::mfa::policy`): the MEXT 教育情報セキュリティポリシーに関するガイドライン asks for
//!   multi-factor authentication before school-affairs data (grades, attendance, enrolment
//!   records) is reached. Learning apps need one only when the tenant says so. Until the
//!   session carries a fresh one, the decision is [`LaunchDecision::SecondFactorRequired`]:
//!   the protocols send the user through the step-up page and back, never silently signing
//!   the user in with less than the app requires.

use kakehashi_store::identity::AppRow;

use time::OffsetDateTime;

use super::launcher;
use super::session::PortalSession;
use crate::apps::SecurityClass;
use crate::mfa::factors::second_factor_fresh;
use crate::mfa::policy::SecurityPolicy;

/// RFC 8176 authentication method references that count as a second factor beside `pwd`:
/// hardware- or software-secured keys, one-time passwords, and the summary `mfa`.
pub const SECOND_FACTOR_AMR: &[&str] = &["hwk", "swk", "otp", "mfa"];

/// The outcome of [`decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchDecision {
    /// Go ahead and sign the user in to the app.
    Allowed,
    /// The app is not for this user's role (or its class is unknown: fail closed).
    NotAllowed,
    /// Staff may use the app, but only with a second factor on this session.
    SecondFactorRequired,
}

/// `true` when the session's methods include a second factor.
pub fn has_second_factor(amr: &[String]) -> bool {
    amr.iter().any(|m| SECOND_FACTOR_AMR.contains(&m.as_str()))
}

/// May the session's user go into `app` now, under the tenant's security policy?
pub fn decide(
    app: &AppRow,
    session: &PortalSession,
    policy: &SecurityPolicy,
    now: OffsetDateTime,
) -> LaunchDecision {
    let fresh = has_second_factor(&session.amr)
        && second_factor_fresh(
            session.second_factor_at.as_deref(),
            &session.ip,
            policy,
            now,
        );
    let decision = decide_for(app, &session.user.role, fresh, policy);
    // A login the risk engine stepped up reaches no app before the factor is proved.
    if decision == LaunchDecision::Allowed && session.risk_step_up_pending() {
        return LaunchDecision::SecondFactorRequired;
    }
    decision
}

/// The security class of an app (an unknown one counts as school-affairs: fail closed).
pub fn class_of(app: &AppRow) -> SecurityClass {
    app.security_class
        .parse::<SecurityClass>()
        .unwrap_or(SecurityClass::SchoolAffairs)
}

/// [`decide`] on its parts: the user's role and whether a second factor fresh under the
/// policy is on the session.
pub fn decide_for(
    app: &AppRow,
    role: &str,
    fresh_second_factor: bool,
    policy: &SecurityPolicy,
) -> LaunchDecision {
    if !launcher::allowed(app, role) {
        return LaunchDecision::NotAllowed;
    }
    let needs = match class_of(app) {
        SecurityClass::Learning => policy.learning_requires_second_factor,
        SecurityClass::SchoolAffairs => true,
    };
    if needs && !fresh_second_factor {
        return LaunchDecision::SecondFactorRequired;
    }
    LaunchDecision::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::launcher::tests::app;

    fn policy() -> SecurityPolicy {
        SecurityPolicy::default()
    }

    #[test]
    fn learning_apps_need_only_the_audience() {
        let a = app("learning", "all");
        assert_eq!(
            decide_for(&a, "student", false, &policy()),
            LaunchDecision::Allowed
        );
        let t = app("learning", "teachers");
        assert_eq!(
            decide_for(&t, "student", false, &policy()),
            LaunchDecision::NotAllowed
        );
    }

    #[test]
    fn a_tenant_may_require_a_second_factor_for_learning_apps_too() {
        let a = app("learning", "all");
        let p = SecurityPolicy {
            learning_requires_second_factor: true,
            ..policy()
        };
        assert_eq!(
            decide_for(&a, "teacher", false, &p),
            LaunchDecision::SecondFactorRequired
        );
        assert_eq!(decide_for(&a, "teacher", true, &p), LaunchDecision::Allowed);
    }

    #[test]
    fn school_affairs_without_a_fresh_second_factor_requires_step_up() {
        let a = app("school-affairs", "staff");
        assert_eq!(
            decide_for(&a, "teacher", false, &policy()),
            LaunchDecision::SecondFactorRequired
        );
        assert_eq!(
            decide_for(&a, "teacher", true, &policy()),
            LaunchDecision::Allowed
        );
    }

    #[test]
    fn second_factor_methods_are_rfc_8176_values() {
        for second in ["hwk", "swk", "otp", "mfa"] {
            assert!(has_second_factor(&[second.to_owned()]), "{second}");
        }
        assert!(!has_second_factor(&["pwd".to_owned()]));
    }

    #[test]
    fn pupils_never_reach_school_affairs_even_with_a_second_factor() {
        let a = app("school-affairs", "staff");
        assert_eq!(
            decide_for(&a, "student", true, &policy()),
            LaunchDecision::NotAllowed
        );
    }

    #[test]
    fn an_unknown_security_class_fails_closed() {
        let a = app("mystery", "all");
        assert_eq!(
            decide_for(&a, "student", true, &policy()),
            LaunchDecision::NotAllowed
        );
        assert_eq!(
            decide_for(&a, "teacher", false, &policy()),
            LaunchDecision::SecondFactorRequired
        );
    }
}

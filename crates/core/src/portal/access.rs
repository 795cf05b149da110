//! Whether a signed-in user may launch (or sign in to) an app right now, and what stands in
//! the way. One decision shared by every way into an app: the launcher's tiles, OIDC
//! authorization requests, SAML SP-initiated and IdP-initiated SSO, LTI launches.
//!
//! - The app's audience must allow the user's primary role ([`launcher::allowed`]).
//! - `school-affairs` apps need a second factor on the session: the MEXT
//!   教育情報セキュリティポリシーに関するガイドライン asks for multi-factor authentication before
//!   school-affairs data (grades, attendance, enrolment records) is reached. Until the session
//!   carries one, the decision is [`LaunchDecision::SecondFactorRequired`]: the protocols show
//!   a page that says so instead of silently signing the user in with a password only.

use kakehashi_store::identity::AppRow;

use super::launcher;
use super::session::PortalSession;
use crate::apps::SecurityClass;

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

/// May the session's user go into `app` now?
pub fn decide(app: &AppRow, session: &PortalSession) -> LaunchDecision {
    decide_for(app, &session.user.role, &session.amr)
}

/// [`decide`] on its parts, for callers that hold a role and methods but no session.
pub fn decide_for(app: &AppRow, role: &str, amr: &[String]) -> LaunchDecision {
    if !launcher::allowed(app, role) {
        return LaunchDecision::NotAllowed;
    }
    let learning = app.security_class.parse::<SecurityClass>() == Ok(SecurityClass::Learning);
    if !learning && !has_second_factor(amr) {
        return LaunchDecision::SecondFactorRequired;
    }
    LaunchDecision::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::launcher::tests::app;

    fn amr(methods: &[&str]) -> Vec<String> {
        methods.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn learning_apps_need_only_the_audience() {
        let a = app("learning", "all");
        assert_eq!(
            decide_for(&a, "student", &amr(&["pwd"])),
            LaunchDecision::Allowed
        );
        let t = app("learning", "teachers");
        assert_eq!(
            decide_for(&t, "student", &amr(&["pwd"])),
            LaunchDecision::NotAllowed
        );
    }

    #[test]
    fn school_affairs_with_password_only_requires_a_second_factor() {
        let a = app("school-affairs", "staff");
        assert_eq!(
            decide_for(&a, "teacher", &amr(&["pwd"])),
            LaunchDecision::SecondFactorRequired
        );
    }

    #[test]
    fn school_affairs_with_a_security_key_is_allowed() {
        let a = app("school-affairs", "staff");
        for second in ["hwk", "swk", "otp", "mfa"] {
            assert_eq!(
                decide_for(&a, "teacher", &amr(&["pwd", second])),
                LaunchDecision::Allowed,
                "{second}"
            );
        }
    }

    #[test]
    fn pupils_never_reach_school_affairs_even_with_a_second_factor() {
        let a = app("school-affairs", "staff");
        assert_eq!(
            decide_for(&a, "student", &amr(&["pwd", "hwk"])),
            LaunchDecision::NotAllowed
        );
    }

    #[test]
    fn an_unknown_security_class_fails_closed() {
        let a = app("mystery", "all");
        assert_eq!(
            decide_for(&a, "student", &amr(&["pwd", "mfa"])),
            LaunchDecision::NotAllowed
        );
        assert_eq!(
            decide_for(&a, "teacher", &amr(&["pwd"])),
            LaunchDecision::SecondFactorRequired
        );
    }
}

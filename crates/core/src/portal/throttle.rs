//! The login throttling rules, pure: given the failure counters and the time, may this
//! attempt go ahead?
//!
//! Three counters, all in the database so that every node sees the same numbers:
//! - **pair** — one username from one client address;
//! - **account** — one username from any address;
//! - **ip** — one address, any username.
//!
//! The rules, and why:
//! - **Pupils are locked after N failures (default 10) of the same pair**, until a teacher lifts
//!   it. The MEXT 教育情報セキュリティポリシーに関するガイドライン asks for a lockout after
//!   repeated failures; OWASP (Authentication Cheat Sheet, "Account Lockout") warns that a
//!   lockout keyed on the account alone lets anyone lock every account whose name they can
//!   guess — and pupils' usernames follow a pattern (`minami.s01`…). Keying the lock on the
//!   pair means an attacker elsewhere locks only themselves out; the pupil at school can still
//!   log in. A classmate on the same school network can still lock a pupil, which the teacher
//!   in the room lifts (`kakehashi user unlock`), and which the audit log attributes.
//! - **Every account gets a soft, short delay across addresses** once failures from all
//!   addresses reach 20 in an hour: 1 s doubling to at most 60 s between attempts. This slows
//!   a distributed guesser to a few tries a minute without ever shutting the real user out
//!   for longer than a minute.
//! - **Staff are never hard-locked** (a locked teacher cannot take the register): their pair
//!   gets an exponential delay from the 5th failure, 1 s doubling to 15 minutes (OWASP's
//!   "exponential back-off").
//! - **An address gets a delay after 300 failures in 15 minutes** (1 s doubling to 5 minutes):
//!   high, because a whole school shares one address at 8:30 and pupils mistype.
//! - A username that does not exist is throttled like a pupil, so that a lockout message does
//!   not tell an attacker which usernames exist.
//! - Attempts refused by a delay or a lock are not counted and their password is not checked.
//! - **Second-factor codes** (TOTP, backup codes) typed by one signed-in user get the staff
//!   back-off from the 5th wrong code in an hour (1 s doubling to 15 minutes), whatever the
//!   address: a 6-digit TOTP has a million values, and without a limit a stolen password
//!   would be one script away from a fresh second factor (RFC 6238 section 5.2, NIST SP
//!   800-63B 5.2.2). Never a lock: the user's security key still works.

use time::{Duration, OffsetDateTime};

use super::policy::RoleClass;

/// Window of the pair and account counters.
pub const WINDOW: Duration = Duration::hours(1);
/// Window of the address counter.
pub const IP_WINDOW: Duration = Duration::minutes(15);
/// Staff pair: the failure count from which each attempt waits, and the longest wait.
pub const STAFF_DELAY_FROM: i64 = 5;
pub const STAFF_MAX_DELAY_SECS: i64 = 15 * 60;
/// Account across addresses.
pub const ACCOUNT_DELAY_FROM: i64 = 20;
pub const ACCOUNT_MAX_DELAY_SECS: i64 = 60;
/// Address across usernames.
pub const IP_DELAY_FROM: i64 = 300;
pub const IP_MAX_DELAY_SECS: i64 = 5 * 60;

/// Second-factor codes of one user: the failure count from which each attempt waits, and
/// the longest wait.
pub const CODE_DELAY_FROM: i64 = 5;
pub const CODE_MAX_DELAY_SECS: i64 = 15 * 60;

/// Seconds a user must wait before typing another second-factor code (0: go ahead).
pub fn code_wait(o: Option<Observed>, now: OffsetDateTime) -> i64 {
    let live = o.filter(|o| o.window_start + WINDOW > now);
    remaining(live, CODE_DELAY_FROM, CODE_MAX_DELAY_SECS, now)
}

/// A counter as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    pub failures: i64,
    pub window_start: OffsetDateTime,
    pub last_failure: OffsetDateTime,
    pub locked: bool,
}

/// The decision for one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Try again after this many seconds.
    Delay {
        retry_after_secs: i64,
    },
    /// A pupil's lockout: only a teacher can lift it.
    Locked,
}

/// Counters for one attempt (absent: no failures yet).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub pair: Option<Observed>,
    pub account: Option<Observed>,
    pub ip: Option<Observed>,
}

/// Judges an attempt. `class` is `None` for a username that does not exist.
pub fn judge(
    class: Option<RoleClass>,
    lockout_threshold: i64,
    now: OffsetDateTime,
    c: &Counters,
) -> Verdict {
    let class = class.unwrap_or(RoleClass::Pupil);
    let live = |o: Option<Observed>, window: Duration| {
        o.filter(|o| o.locked || o.window_start + window > now)
    };
    let pair = live(c.pair, WINDOW);
    if class == RoleClass::Pupil {
        if let Some(p) = pair {
            if p.locked || p.failures >= lockout_threshold {
                return Verdict::Locked;
            }
        }
    }
    let mut wait = 0i64;
    if class == RoleClass::Staff {
        wait = wait.max(remaining(pair, STAFF_DELAY_FROM, STAFF_MAX_DELAY_SECS, now));
    }
    wait = wait.max(remaining(
        live(c.account, WINDOW),
        ACCOUNT_DELAY_FROM,
        ACCOUNT_MAX_DELAY_SECS,
        now,
    ));
    wait = wait.max(remaining(
        live(c.ip, IP_WINDOW),
        IP_DELAY_FROM,
        IP_MAX_DELAY_SECS,
        now,
    ));
    if wait > 0 {
        Verdict::Delay {
            retry_after_secs: wait,
        }
    } else {
        Verdict::Allow
    }
}

/// `true` when a pupil's pair has just reached the threshold with this failure count.
pub fn locks_now(class: Option<RoleClass>, lockout_threshold: i64, pair_failures: i64) -> bool {
    class.unwrap_or(RoleClass::Pupil) == RoleClass::Pupil && pair_failures >= lockout_threshold
}

/// Seconds still to wait under an exponential back-off that starts at `from` failures.
fn remaining(o: Option<Observed>, from: i64, max_secs: i64, now: OffsetDateTime) -> i64 {
    let Some(o) = o else { return 0 };
    if o.failures < from {
        return 0;
    }
    let exp = (o.failures - from).min(30) as u32;
    let delay = 1i64.checked_shl(exp).unwrap_or(max_secs).min(max_secs);
    let until = o.last_failure + Duration::seconds(delay);
    let left = (until - now).whole_milliseconds();
    if left <= 0 {
        0
    } else {
        // Round up so that "retry after" is never too early.
        ((left + 999) / 1000) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-04-08 08:30 UTC);

    fn seen(failures: i64, secs_ago: i64) -> Option<Observed> {
        Some(Observed {
            failures,
            window_start: NOW - Duration::minutes(10),
            last_failure: NOW - Duration::seconds(secs_ago),
            locked: false,
        })
    }

    fn pair(o: Option<Observed>) -> Counters {
        Counters {
            pair: o,
            ..Counters::default()
        }
    }

    #[test]
    fn a_pupil_is_locked_at_the_threshold_of_one_pair_and_not_before() {
        let p = Some(RoleClass::Pupil);
        assert_eq!(judge(p, 10, NOW, &pair(seen(9, 0))), Verdict::Allow);
        assert_eq!(judge(p, 10, NOW, &pair(seen(10, 3000))), Verdict::Locked);
        assert!(locks_now(p, 10, 10));
        assert!(!locks_now(p, 10, 9));
        assert!(!locks_now(Some(RoleClass::Staff), 10, 50));
    }

    #[test]
    fn second_factor_codes_back_off_from_the_fifth_failure_and_never_lock() {
        assert_eq!(code_wait(None, NOW), 0);
        assert_eq!(code_wait(seen(4, 0), NOW), 0);
        assert_eq!(code_wait(seen(5, 0), NOW), 1);
        assert_eq!(code_wait(seen(8, 0), NOW), 8);
        assert_eq!(code_wait(seen(8, 8), NOW), 0);
        assert_eq!(code_wait(seen(40, 0), NOW), CODE_MAX_DELAY_SECS);
        // An old window is forgotten.
        let mut o = seen(40, 0).unwrap();
        o.window_start = NOW - Duration::hours(2);
        assert_eq!(code_wait(Some(o), NOW), 0);
    }

    #[test]
    fn a_lock_outlives_the_window_until_a_teacher_lifts_it() {
        let mut o = seen(10, 0).unwrap();
        o.window_start = NOW - Duration::days(3);
        o.locked = true;
        assert_eq!(
            judge(Some(RoleClass::Pupil), 10, NOW, &pair(Some(o))),
            Verdict::Locked
        );
    }

    #[test]
    fn old_failures_are_forgotten_after_the_window() {
        let mut o = seen(9, 0).unwrap();
        o.window_start = NOW - Duration::hours(2);
        o.failures = 50;
        assert_eq!(
            judge(Some(RoleClass::Pupil), 10, NOW, &pair(Some(o))),
            Verdict::Allow
        );
    }

    #[test]
    fn staff_get_exponential_delay_never_a_lock() {
        let s = Some(RoleClass::Staff);
        assert_eq!(judge(s, 10, NOW, &pair(seen(4, 0))), Verdict::Allow);
        assert_eq!(
            judge(s, 10, NOW, &pair(seen(5, 0))),
            Verdict::Delay {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            judge(s, 10, NOW, &pair(seen(8, 2))),
            Verdict::Delay {
                retry_after_secs: 6
            }
        );
        assert_eq!(
            judge(s, 10, NOW, &pair(seen(40, 0))),
            Verdict::Delay {
                retry_after_secs: STAFF_MAX_DELAY_SECS
            }
        );
        assert_eq!(judge(s, 10, NOW, &pair(seen(40, 901))), Verdict::Allow);
    }

    #[test]
    fn failures_from_elsewhere_only_slow_an_account_down_briefly() {
        let c = Counters {
            account: seen(200, 0),
            ..Counters::default()
        };
        // Someone else's 200 failures never lock the pupil's own pair, and cost at most a minute.
        assert_eq!(
            judge(Some(RoleClass::Pupil), 10, NOW, &c),
            Verdict::Delay {
                retry_after_secs: ACCOUNT_MAX_DELAY_SECS
            }
        );
        assert_eq!(
            judge(Some(RoleClass::Pupil), 10, NOW + Duration::seconds(61), &c),
            Verdict::Allow
        );
    }

    #[test]
    fn a_busy_school_address_is_slowed_only_after_hundreds_of_failures() {
        let ip = |f| Counters {
            ip: seen(f, 0),
            ..Counters::default()
        };
        assert_eq!(judge(None, 10, NOW, &ip(299)), Verdict::Allow);
        assert_eq!(
            judge(None, 10, NOW, &ip(300)),
            Verdict::Delay {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn unknown_usernames_are_throttled_like_pupils() {
        assert_eq!(judge(None, 10, NOW, &pair(seen(10, 0))), Verdict::Locked);
    }
}

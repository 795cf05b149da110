//! Shared-device mode: classroom tablets and PCs that several pupils use in a day. A session
//! in this mode ends after a short idle time and at the end of each lesson period, so the next
//! pupil does not find the previous one signed in. The rule is pure; the server applies it
//! when it resumes a session (`kakehashi_server::portal::handlers::current_session`).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::network;
use super::policy::{parse_hhmm, SecurityPolicy};

/// Why a shared-device session ends now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedDeviceEnd {
    Idle,
    /// A lesson period ended (minutes after local midnight) since the session was last seen.
    PeriodEnded(i64),
}

/// Whether a session from `ip` is in shared-device mode under the policy.
pub fn applies(policy: &SecurityPolicy, ip: &str) -> bool {
    let s = &policy.shared_device;
    s.enabled && (s.networks.is_empty() || network::inside(&s.networks, ip))
}

/// Whether a shared-device session last seen at `last_seen` (RFC 3339) ends at `now`.
pub fn ends(
    policy: &SecurityPolicy,
    ip: &str,
    last_seen: &str,
    now: OffsetDateTime,
) -> Option<SharedDeviceEnd> {
    if !applies(policy, ip) {
        return None;
    }
    let Ok(seen) = OffsetDateTime::parse(last_seen, &Rfc3339) else {
        return Some(SharedDeviceEnd::Idle);
    };
    if now - seen >= Duration::seconds(policy.shared_device.idle_secs) {
        return Some(SharedDeviceEnd::Idle);
    }
    let offset = UtcOffset::from_whole_seconds((policy.risk.utc_offset_minutes * 60) as i32)
        .unwrap_or(UtcOffset::UTC);
    let (seen_local, now_local) = (seen.to_offset(offset), now.to_offset(offset));
    // Periods end within one day; a session idle across midnight has ended by idle anyway.
    let minute = |t: OffsetDateTime| i64::from(t.hour()) * 60 + i64::from(t.minute());
    let same_day = seen_local.date() == now_local.date();
    policy
        .shared_device
        .period_ends
        .iter()
        .filter_map(|p| parse_hhmm(p))
        .find(|&end| {
            if same_day {
                minute(seen_local) < end && end <= minute(now_local)
            } else {
                end <= minute(now_local) || minute(seen_local) < end
            }
        })
        .map(SharedDeviceEnd::PeriodEnded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy() -> SecurityPolicy {
        let mut p = SecurityPolicy::default();
        p.shared_device.enabled = true;
        p.shared_device.idle_secs = 600;
        p.shared_device.period_ends = vec!["09:35".into(), "10:35".into()];
        p
    }

    #[test]
    fn off_by_default_and_only_on_its_networks() {
        let now = datetime!(2026-04-08 00:40 UTC);
        assert_eq!(
            ends(
                &SecurityPolicy::default(),
                "10.0.0.1",
                "2026-04-07T00:00:00Z",
                now
            ),
            None
        );
        let mut p = policy();
        p.shared_device.networks = vec!["10.9.0.0/16".parse().unwrap()];
        assert!(!applies(&p, "10.0.0.1"));
        assert!(applies(&p, "10.9.3.4"));
    }

    #[test]
    fn a_shared_device_session_ends_after_idle() {
        let p = policy();
        // 09:00 JST last seen, 09:11 JST now.
        let end = ends(
            &p,
            "x",
            "2026-04-08T00:00:00Z",
            datetime!(2026-04-08 00:11 UTC),
        );
        assert_eq!(end, Some(SharedDeviceEnd::Idle));
        let live = ends(
            &p,
            "x",
            "2026-04-08T00:00:00Z",
            datetime!(2026-04-08 00:05 UTC),
        );
        assert_eq!(live, None);
    }

    #[test]
    fn a_shared_device_session_ends_at_the_end_of_the_lesson_period() {
        let p = policy();
        // Seen 09:30 JST, now 09:36 JST: the 09:35 period end passed.
        let end = ends(
            &p,
            "x",
            "2026-04-08T00:30:00Z",
            datetime!(2026-04-08 00:36 UTC),
        );
        assert_eq!(end, Some(SharedDeviceEnd::PeriodEnded(9 * 60 + 35)));
        // Seen 09:36, now 09:40: no period end between.
        let live = ends(
            &p,
            "x",
            "2026-04-08T00:36:00Z",
            datetime!(2026-04-08 00:40 UTC),
        );
        assert_eq!(live, None);
    }
}

//! Checks of single values by data type (OneRoster 1.2 CSV binding §2.3, data types).
//! Each returns `Err(explanation)` for a value that is not empty and not of its type.

/// `YYYY-MM-DD`, a real calendar date (CSV binding §2.3 "Date": ISO 8601 full-date).
pub fn date(v: &str) -> Result<(), String> {
    let b = v.as_bytes();
    let ok =
        b.len() == 10 && b[4] == b'-' && b[7] == b'-' && calendar(&b[0..4], &b[5..7], &b[8..10]);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a date: write YYYY-MM-DD, e.g. 2026-04-01"
        ))
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

fn calendar(y: &[u8], m: &[u8], d: &[u8]) -> bool {
    let (Some(y), Some(m), Some(d)) = (digits(y), digits(m), digits(d)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// ISO 8601 date-time as the CSV binding §2.3 "DateTime" shows it:
/// `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`.
pub fn date_time(v: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "`{v}` is not an ISO 8601 date-time: write e.g. 2026-04-01T09:00:00.000Z"
        ))
    };
    let b = v.as_bytes();
    if b.len() < 20 || date(&v[..10]).is_err() || b[10] != b'T' {
        return err();
    }
    let t = &b[11..];
    let hms = t.len() >= 8
        && t[2] == b':'
        && t[5] == b':'
        && digits(&t[0..2]).is_some_and(|h| h < 24)
        && digits(&t[3..5]).is_some_and(|m| m < 60)
        && digits(&t[6..8]).is_some_and(|s| s < 61);
    if !hms {
        return err();
    }
    let mut rest = &t[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return err();
        }
        rest = &frac[n..];
    }
    let zone_ok = rest == b"Z"
        || (rest.len() == 6
            && (rest[0] == b'+' || rest[0] == b'-')
            && rest[3] == b':'
            && digits(&rest[1..3]).is_some_and(|h| h < 24)
            && digits(&rest[4..6]).is_some_and(|m| m < 60));
    if zone_ok {
        Ok(())
    } else {
        err()
    }
}

/// `true` or `false`, lower case (CSV binding §2.3 "Boolean").
pub fn boolean(v: &str) -> Result<(), String> {
    match v {
        "true" | "false" => Ok(()),
        _ => Err(format!("`{v}` is not a boolean: write true or false")),
    }
}

pub fn integer(v: &str) -> Result<(), String> {
    if !v.is_empty() && v.len() <= 9 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("`{v}` is not a whole number"))
    }
}

/// `schoolYear`: four digits (CSV binding §3.1).
pub fn year(v: &str) -> Result<(), String> {
    if v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("`{v}` is not a year: write four digits, e.g. 2026"))
    }
}

/// `userIds`: each `{type:identifier}` (CSV binding §3.10).
pub fn user_id(v: &str) -> Result<(), String> {
    let ok = v
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .and_then(|s| s.split_once(':'))
        .is_some_and(|(t, id)| !t.is_empty() && !id.is_empty() && !t.contains('}'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not a user id: write {{type:identifier}}"))
    }
}

/// The parsed UUID, or why not.
pub fn uuid(v: &str) -> Result<uuid::Uuid, String> {
    // Only the hyphenated 36-character form is a UUID in CSV (RFC 9562 §4).
    if v.len() != 36 {
        return Err(format!(
            "`{v}` is not a UUID: write 8-4-4-4-12 hex digits, e.g. 6f1c1f58-2a6b-4c3e-9d8a-1b2c3d4e5f60"
        ));
    }
    uuid::Uuid::try_parse(v)
        .map_err(|_| format!("`{v}` is not a UUID: write 8-4-4-4-12 hex digits"))
}

/// The elements of a comma-joined list, trimmed, empty elements dropped.
pub fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_days() {
        assert!(date("2026-04-01").is_ok());
        assert!(date("2024-02-29").is_ok());
        assert!(date("2025-02-29").is_err());
        assert!(date("2026/04/01").is_err());
        assert!(date("2026-4-1").is_err());
        assert!(date("令和8-04-01").is_err());
    }

    #[test]
    fn date_times_need_time_and_zone() {
        assert!(date_time("2026-04-01T09:00:00.000Z").is_ok());
        assert!(date_time("2026-04-01T09:00:00Z").is_ok());
        assert!(date_time("2026-04-01T09:00:00+09:00").is_ok());
        assert!(date_time("2026-04-01").is_err());
        assert!(date_time("2026-04-01 09:00:00").is_err());
        assert!(date_time("2026-04-01T25:00:00Z").is_err());
    }

    #[test]
    fn booleans_are_lower_case_words() {
        assert!(boolean("true").is_ok());
        assert!(boolean("TRUE").is_err());
        assert!(boolean("1").is_err());
    }

    #[test]
    fn user_ids_and_uuids() {
        assert!(user_id("{mext:1234}").is_ok());
        assert!(user_id("1234").is_err());
        assert!(uuid("6f1c1f58-2a6b-4c3e-9d8a-1b2c3d4e5f60").is_ok());
        assert!(uuid("6f1c1f582a6b4c3e9d8a1b2c3d4e5f60").is_err());
        assert!(uuid("not-a-uuid").is_err());
    }
}

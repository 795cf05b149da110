//! Instants as stored: RFC 3339 UTC with millisecond precision, which sorts as text.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The current instant in the store's text form, e.g. `2026-11-23T08:33:07.123Z`.
pub fn now_rfc3339() -> String {
    now_rfc3339_of(OffsetDateTime::now_utc())
}

pub fn now_rfc3339_of(t: OffsetDateTime) -> String {
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

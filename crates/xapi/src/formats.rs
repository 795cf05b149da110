//! Value formats the specification names: IRI/IRL, UUID, `mailto:` IRIs, RFC 5646
//! language tags, ISO 8601 timestamps and durations, Internet media types, hex digests.
//!
//! Data 2.2.s4.b1.b4 (1.0.3): the LRS MUST reject "any non-format-following key or value,
//! including the empty string, where a string with a particular format (such as mailto
//! IRI, UUID, or IRI) is required". Data 2.2.s4.b6/b7 allow *best-effort* IRI and language
//! tag validation; the checks here are deliberately simple and documented.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use uuid::Uuid;

/// Best-effort IRI check (RFC 3987): a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`),
/// a colon, a non-empty rest, and no whitespace, controls or characters RFC 3987 excludes.
///
/// Rejects `homePage.com/x` (no scheme, Data 2.2.s4.b1.b8) and `ab=c://x` (bad scheme).
pub fn is_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

/// An IRL is an IRI meant to be dereferenced; best effort is the IRI check
/// (Data 2.2.s4.b6).
pub fn is_irl(s: &str) -> bool {
    is_iri(s)
}

/// An absolute URI (used for `openid`, Data 2.4.2.3): an IRI restricted to ASCII.
pub fn is_uri(s: &str) -> bool {
    s.is_ascii() && is_iri(s)
}

/// Standard string form of a UUID: `8-4-4-4-12` hex digits, either case (Data 2.4.1,
/// RFC 4122 3). The suite rejects `MA97B177-...` and 13-digit last groups.
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if groups.len() != 5
        || groups
            .iter()
            .zip(lens)
            .any(|(g, n)| g.len() != n || !g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    Uuid::parse_str(s).ok()
}

/// `mailto:` followed by an e-mail address (Data 2.4.2.3 table row 1). The scheme is
/// matched exactly; the address needs a non-empty local part and a domain.
pub fn is_mailto(s: &str) -> bool {
    let Some(addr) = s.strip_prefix("mailto:") else {
        return false;
    };
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !addr.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Lower-cases the (case-insensitive) domain of a `mailto:` IRI (Data 2.3.1.b7).
pub fn normalize_mailto(s: &str) -> String {
    match s.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => s.to_string(),
    }
}

/// RFC 5646 well-formedness of a language tag (Data 2.2.s4.b2: "at least validate that
/// the sequence of token lengths for language map keys matches RFC 5646").
pub fn is_language_tag(tag: &str) -> bool {
    const GRANDFATHERED: [&str; 26] = [
        "en-gb-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-be-fr",
        "sgn-be-nl",
        "sgn-ch-de",
        "art-lojban",
        "cel-gaulish",
        "no-bok",
        "no-nyn",
        "zh-guoyu",
        "zh-hakka",
        "zh-min",
        "zh-min-nan",
        "zh-xiang",
    ];
    let lower = tag.to_ascii_lowercase();
    if GRANDFATHERED.contains(&lower.as_str()) {
        return true;
    }
    let subtags: Vec<&str> = tag.split('-').collect();
    if subtags
        .iter()
        .any(|s| s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return false;
    }
    let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
    let digit = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mut i = 0;
    // privateuse-only tag: "x-..."
    if subtags[0].eq_ignore_ascii_case("x") {
        return subtags.len() > 1;
    }
    // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
    let first = subtags[0];
    if !(alpha(first) && (2..=8).contains(&first.len())) {
        return false;
    }
    i += 1;
    if first.len() <= 3 {
        // extlang = 3ALPHA *2("-" 3ALPHA)
        let mut n = 0;
        while n < 3 && i < subtags.len() && subtags[i].len() == 3 && alpha(subtags[i]) {
            i += 1;
            n += 1;
        }
    }
    // script = 4ALPHA
    if i < subtags.len() && subtags[i].len() == 4 && alpha(subtags[i]) {
        i += 1;
    }
    // region = 2ALPHA / 3DIGIT
    if i < subtags.len()
        && ((subtags[i].len() == 2 && alpha(subtags[i]))
            || (subtags[i].len() == 3 && digit(subtags[i])))
    {
        i += 1;
    }
    // variant = 5*8alphanum / (DIGIT 3alphanum)
    while i < subtags.len()
        && (subtags[i].len() >= 5
            || (subtags[i].len() == 4 && subtags[i].as_bytes()[0].is_ascii_digit()))
    {
        i += 1;
    }
    // extension = singleton 1*("-" (2*8alphanum))
    while i < subtags.len() && subtags[i].len() == 1 && !subtags[i].eq_ignore_ascii_case("x") {
        i += 1;
        let start = i;
        while i < subtags.len() && subtags[i].len() >= 2 {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    // privateuse = "x" 1*("-" (1*8alphanum))
    if i < subtags.len() && subtags[i].eq_ignore_ascii_case("x") {
        return i + 1 < subtags.len();
    }
    i == subtags.len()
}

/// Parses an ISO 8601 / RFC 3339 date-time (Data 4.5; IEEE 9274.1.1 4.2.7).
///
/// Accepts `YYYY-MM-DDThh:mm[:ss[.f+]][Z|±hh[:mm]|±hhmm]`. Without an offset the value
/// is taken as UTC (1.0.3 only says a timestamp SHOULD include a zone). The suite's
/// negative-zero offsets (`-00`, `-0000`, `-00:00`, RFC 3339 "unknown local offset")
/// are rejected.
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    if b[13] != b':' {
        return None;
    }
    let hour = u8::try_from(num(11..13)?).ok()?;
    let minute = u8::try_from(num(14..16)?).ok()?;
    let mut pos = 16;
    let (mut second, mut nanos) = (0u8, 0u32);
    if b.get(pos) == Some(&b':') {
        second = u8::try_from(num(pos + 1..pos + 3)?).ok()?;
        pos += 3;
        if matches!(b.get(pos), Some(b'.') | Some(b',')) {
            let start = pos + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return None;
            }
            let digits = s.get(start..end)?;
            let mut padded: String = digits.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().ok()?;
            pos = end;
        }
    }
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let rest = s.get(pos..)?;
    let offset = parse_offset(rest)?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn parse_offset(rest: &str) -> Option<UtcOffset> {
    if rest.is_empty() || rest == "Z" || rest == "z" {
        return Some(UtcOffset::UTC);
    }
    let sign = match rest.as_bytes()[0] {
        b'+' => 1i8,
        b'-' => -1i8,
        _ => return None,
    };
    let body = rest.get(1..)?;
    let (h, m) = match body.len() {
        2 => (body, "00"),
        4 => (body.get(..2)?, body.get(2..)?),
        5 if body.as_bytes()[2] == b':' => (body.get(..2)?, body.get(3..)?),
        _ => return None,
    };
    if !(h.bytes().all(|c| c.is_ascii_digit()) && m.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if sign < 0 && h == 0 && m == 0 {
        return None; // "-00:00" means unknown offset (RFC 3339 4.3): rejected by the suite
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// Formats an instant as RFC 3339 in UTC, keeping sub-second precision
/// (milliseconds at least when there is a fraction).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let nanos = t.nanosecond();
    if nanos == 0 {
        return format!("{base}.000Z");
    }
    let mut frac = format!("{nanos:09}");
    while frac.len() > 3 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{base}.{frac}Z")
}

/// ISO 8601:2004 4.4.3.2 duration (Data 4.6): `PnYnMnDTnHnMnS` with at least one
/// component, or `PnW` alone (IEEE 9274.1.1 4.2.7 and the suite: `P4W1D` is rejected).
/// Only the last component may carry a decimal fraction.
pub fn is_duration(s: &str) -> bool {
    let Some(body) = s.strip_prefix('P') else {
        return false;
    };
    if let Some(w) = body.strip_suffix('W') {
        return is_decimal(w);
    }
    let (date, time) = match body.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let mut comps: Vec<(&str, char)> = Vec::new();
    if !components(date, &['Y', 'M', 'D'], &mut comps) {
        return false;
    }
    if let Some(t) = time {
        let before = comps.len();
        if !components(t, &['H', 'M', 'S'], &mut comps) || comps.len() == before {
            return false;
        }
    }
    if comps.is_empty() {
        return false;
    }
    let last = comps.len() - 1;
    comps.iter().enumerate().all(|(i, (n, _))| {
        if i == last {
            is_decimal(n)
        } else {
            is_integer(n)
        }
    })
}

fn components<'a>(mut s: &'a str, designators: &[char], out: &mut Vec<(&'a str, char)>) -> bool {
    let mut next = 0;
    while !s.is_empty() {
        let Some(end) = s.find(|c: char| c.is_ascii_alphabetic()) else {
            return false;
        };
        let (num, rest) = s.split_at(end);
        let Some(d) = rest.chars().next() else {
            return false;
        };
        let Some(idx) = designators[next..].iter().position(|x| *x == d) else {
            return false;
        };
        next += idx + 1;
        if num.is_empty() {
            return false;
        }
        out.push((num, d));
        s = &rest[1..];
    }
    true
}

fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal(s: &str) -> bool {
    match s.split_once(['.', ',']) {
        Some((i, f)) => is_integer(i) && is_integer(f),
        None => is_integer(s),
    }
}

/// Truncates the seconds of a duration to 0.01 s, the precision 2.0 compares at
/// (IEEE 9274.1.1 4.2.7: "any precision beyond 0.01 second ... shall not be included
/// in the comparison"). `P1DT12H36M0.12567S` -> `P1DT12H36M0.12S`.
pub fn truncate_duration(s: &str) -> String {
    if let Some(stripped) = s.strip_suffix('S') {
        if let Some(dot) = stripped.rfind(['.', ',']) {
            let frac = &stripped[dot + 1..];
            if frac.len() > 2 && frac.bytes().all(|b| b.is_ascii_digit()) {
                return format!("{}S", &stripped[..dot + 3]);
            }
        }
    }
    s.to_string()
}

/// An Internet media type `type/subtype[; parameters]` (RFC 2045 5.1; Data 2.4.11).
pub fn is_media_type(s: &str) -> bool {
    let main = s.split(';').next().unwrap_or("").trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    match main.split_once('/') {
        Some((t, sub)) => token(t) && token(sub),
        None => false,
    }
}

/// Hex of a SHA-1 digest (`mbox_sha1sum`, Data 2.4.2.3).
pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Hex of a SHA-2 digest (SHA-224/256/384/512; Data 2.4.11 `sha2`).
pub fn is_sha2_hex(s: &str) -> bool {
    matches!(s.len(), 56 | 64 | 96 | 128) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Lower-case hex encoding.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iri_needs_a_scheme_data_2_2_s4_b1_b8() {
        assert!(is_iri("http://adlnet.gov/expapi/verbs/attended"));
        assert!(is_iri("urn:uuid:1234"));
        assert!(is_iri("http://例え.jp/動詞"));
        assert!(!is_iri("adlnet.gov/expapi/verbs/attended"));
        assert!(!is_iri("ab=c://should.fail.com"));
        assert!(!is_iri("should fail"));
        assert!(!is_iri(""));
        assert!(!is_iri("http://a b"));
        assert!(!is_uri("open.id.com/testUser"));
    }

    #[test]
    fn uuid_standard_form_data_2_4_1() {
        assert!(parse_uuid("AA97B177-9383-4934-8543-0F91A7A02836").is_some());
        assert!(parse_uuid("aa97b177-9383-4934-8543-0f91a7a02836").is_some());
        assert!(parse_uuid("MA97B177-9383-4934-8543-0F91A7A02836").is_none());
        assert!(parse_uuid("AA97B177-9383-4934-8543-0F91A7A028368").is_none());
        assert!(parse_uuid("aa97b1779383493485430f91a7a02836").is_none());
        assert!(parse_uuid("{aa97b177-9383-4934-8543-0f91a7a02836}").is_none());
    }

    #[test]
    fn mbox_is_mailto_email_data_2_4_2_3() {
        assert!(is_mailto("mailto:xapi@adlnet.gov"));
        assert!(!is_mailto("mailto:should.fail.com"));
        assert!(!is_mailto("http://should.fail.com"));
        assert!(!is_mailto("xapi@adlnet.gov"));
        assert!(!is_mailto("MAILTO:xapi@adlnet.gov"));
        assert_eq!(
            normalize_mailto("mailto:A@Example.COM"),
            "mailto:A@example.com"
        );
    }

    #[test]
    fn language_tags_rfc5646_data_2_2_s4_b2() {
        for ok in [
            "en",
            "en-US",
            "zh-Hant-TW",
            "ja-JP",
            "de-CH-1901",
            "sl-rozaj-biske",
            "es-419",
            "x-whatever",
            "en-a-bbb-x-a-ccc",
            "i-klingon",
            "und",
            "zh-yue-HK",
            "tlh",
        ] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in [
            "a12345",
            "a12345678",
            "",
            "en-",
            "-en",
            "e",
            "en_US",
            "123",
            "en-a",
            "en-US-x",
            "toolonglanguage",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps_iso8601_data_4_5() {
        assert!(parse_timestamp("2013-05-18T05:32:34.804Z").is_some());
        assert!(parse_timestamp("2008-09-15T15:53:00.601+00:00").is_some());
        assert!(parse_timestamp("2013-05-18T05:32:34+0900").is_some());
        assert!(parse_timestamp("2013-05-18T05:32:34+09").is_some());
        assert!(parse_timestamp("2013-05-18T05:32").is_some());
        assert!(parse_timestamp("2013-05-18T05:32:34").is_some());
        for bad in [
            "01/011/2015",
            "should fail",
            "2008-09-15T15:53:00.601-00",
            "2008-09-15T15:53:00.601-0000",
            "2008-09-15T15:53:00.601-00:00",
            "2015-02-30T00:00:00Z",
            "2015-01-01",
            "2015-01-01T25:00:00Z",
            "2015-01-01T00:00:00.Z",
            "2015-01-01T00:00:00ZZ",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timestamps_format_in_utc() {
        let t = parse_timestamp("2023-05-04T12:00:00-05:00").unwrap();
        assert_eq!(format_timestamp(t), "2023-05-04T17:00:00.000Z");
        let t = parse_timestamp("2023-05-04T12:00:00.123456Z").unwrap();
        assert_eq!(format_timestamp(t), "2023-05-04T12:00:00.123456Z");
    }

    #[test]
    fn durations_iso8601_4_4_3_2_data_4_6() {
        for ok in [
            "PT1H0M0.1S",
            "PT4H35M59.14S",
            "PT16559.14S",
            "P3Y1M29DT4H35M59.14S",
            "P3Y",
            "P4W",
            "P1DT12H36M0.12567S",
            "PT0S",
            "P1M",
            "PT1M",
        ] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in [
            "PA1H0M0S",
            "P4W1D",
            "P",
            "PT",
            "should fail",
            "1H",
            "P1H",
            "PT1D",
            "P1.5Y2M",
            "PT1S2M",
            "P-1D",
            "P1DT",
        ] {
            assert!(!is_duration(bad), "{bad}");
        }
        assert_eq!(truncate_duration("P1DT12H36M0.12567S"), "P1DT12H36M0.12S");
        assert_eq!(truncate_duration("PT1S"), "PT1S");
    }

    #[test]
    fn media_types_and_digests_data_2_4_11() {
        assert!(is_media_type("text/plain; charset=ascii"));
        assert!(is_media_type("application/octet-stream"));
        assert!(!is_media_type("textplain"));
        assert!(!is_media_type(""));
        assert!(is_sha2_hex(&"a".repeat(64)));
        assert!(!is_sha2_hex("abc"));
        assert!(is_sha1_hex("cd9b00a5611f94eaa7b1661edab976068e364975"));
    }
}

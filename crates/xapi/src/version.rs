//! xAPI versions: parsing the `X-Experience-API-Version` header and the statement
//! `version` property, and the switches for rules that differ between 1.0.3 and 2.0.
//!
//! Communication 3.3 (1.0.3): an LRS MUST accept `1.0` as `1.0.0`, MUST reject versions
//! before 1.0.0, and answers with its latest patch version. IEEE 9274.1.1 4.1.2 does the
//! same for `2.0.0`. A statement's own `version` property (Data 2.4.10) is checked by
//! [`statement_version_allowed`].

use crate::error::{Result, XapiError};

/// An xAPI version an LRS request may be made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V1_0_0,
    V1_0_1,
    V1_0_2,
    V1_0_3,
    /// xAPI 2.0 = IEEE 9274.1.1-2023.
    V2_0_0,
}

impl Version {
    /// All versions this crate implements, newest first (for the About resource).
    pub const SUPPORTED: [Version; 5] = [
        Version::V2_0_0,
        Version::V1_0_3,
        Version::V1_0_2,
        Version::V1_0_1,
        Version::V1_0_0,
    ];

    /// Parses an `X-Experience-API-Version` header value.
    ///
    /// `1.0` is `1.0.0` (Communication 3.3.s3.b5); unknown later patches in a supported
    /// minor line (`1.0.9`, `2.0.4`) are served by the newest patch we know, as semantic
    /// versioning allows; anything else (`0.95`, `1.1.0`, `3.0.0`) is rejected.
    pub fn parse_header(value: &str) -> Result<Version> {
        let v = value.trim();
        let (major_minor, patch) = split_version(v)
            .ok_or_else(|| XapiError::Version(format!("{v:?} is not a version number")))?;
        match (major_minor, patch) {
            ("1.0", None | Some(0)) => Ok(Version::V1_0_0),
            ("1.0", Some(1)) => Ok(Version::V1_0_1),
            ("1.0", Some(2)) => Ok(Version::V1_0_2),
            ("1.0", Some(_)) => Ok(Version::V1_0_3),
            ("2.0", _) => Ok(Version::V2_0_0),
            _ => Err(XapiError::Version(format!(
                "{v:?} is not supported; use 1.0.x or 2.0.x"
            ))),
        }
    }

    /// The canonical string, e.g. `"1.0.3"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0_0 => "1.0.0",
            Version::V1_0_1 => "1.0.1",
            Version::V1_0_2 => "1.0.2",
            Version::V1_0_3 => "1.0.3",
            Version::V2_0_0 => "2.0.0",
        }
    }

    /// True for 2.0 (IEEE 9274.1.1) rules.
    pub fn is_2_0(self) -> bool {
        self == Version::V2_0_0
    }

    /// The value the LRS answers with in its own `X-Experience-API-Version` header:
    /// the latest patch of the requested line (Communication 3.3.s3.b1).
    pub fn response_header(self) -> &'static str {
        if self.is_2_0() {
            "2.0.0"
        } else {
            "1.0.3"
        }
    }

    /// The `version` an LRS writes into a stored statement that has none:
    /// Data 2.4.10 (1.0.3) says "1.0.0"; IEEE 9274.1.1 4.2.4.3 says "2.0.0".
    pub fn default_statement_version(self) -> &'static str {
        if self.is_2_0() {
            "2.0.0"
        } else {
            "1.0.0"
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Splits `"1.0.3"` into `("1.0", Some(3))` and `"1.0"` into `("1.0", None)`.
fn split_version(v: &str) -> Option<(&str, Option<u32>)> {
    let mut parts = v.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    let patch = parts.next();
    if parts.next().is_some() || !all_digits(major) || !all_digits(minor) {
        return None;
    }
    let mm = v.get(..major.len() + 1 + minor.len())?;
    let patch = match patch {
        None => None,
        Some(p) if all_digits(p) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    Some((mm, patch))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a statement's `version` property is acceptable under the request's version.
///
/// Data 2.4.10 (1.0.3): "1.0" or "1.0.x" only (XAPI-00101: `0.9.9`, `1.1.0` rejected).
/// IEEE 9274.1.1 4.2.4.3: a 2.0 LRS also stores `2.0.x` statements (the 2.0 suite posts
/// `version: "2.0.0"` and expects it back unchanged).
pub fn statement_version_allowed(value: &str, request: Version) -> bool {
    match split_version(value) {
        Some(("1.0", _)) => true,
        Some(("2.0", _)) => request.is_2_0(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_1_0_is_1_0_0_comm_3_3() {
        assert_eq!(Version::parse_header("1.0").unwrap(), Version::V1_0_0);
        assert_eq!(Version::parse_header("1.0.3").unwrap(), Version::V1_0_3);
        assert_eq!(Version::parse_header("1.0.9").unwrap(), Version::V1_0_3);
        assert_eq!(Version::parse_header("2.0.0").unwrap(), Version::V2_0_0);
        assert_eq!(Version::parse_header("2.0").unwrap(), Version::V2_0_0);
    }

    #[test]
    fn header_rejects_pre_1_0_and_unknown_lines_comm_3_3() {
        for bad in [
            "0.95", "0.9", "1.1.0", "3.0.0", "", "1.0.x", "1.0.3.1", "abc",
        ] {
            let e = Version::parse_header(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
    }

    #[test]
    fn statement_version_property_data_2_4_10() {
        for ok in ["1.0", "1.0.0", "1.0.3", "1.0.9"] {
            assert!(statement_version_allowed(ok, Version::V1_0_3), "{ok}");
            assert!(statement_version_allowed(ok, Version::V2_0_0), "{ok}");
        }
        for bad in ["0.9.9", "1.1.0", "should fail", "", "1", "1.0."] {
            assert!(!statement_version_allowed(bad, Version::V1_0_3), "{bad}");
        }
        assert!(!statement_version_allowed("2.0.0", Version::V1_0_3));
        assert!(statement_version_allowed("2.0.0", Version::V2_0_0));
    }

    #[test]
    fn default_statement_version_per_line() {
        assert_eq!(Version::V1_0_3.default_statement_version(), "1.0.0");
        assert_eq!(Version::V2_0_0.default_statement_version(), "2.0.0");
        assert_eq!(Version::V1_0_1.response_header(), "1.0.3");
    }
}

//! Identifiers and instants as SAML writes them (SAML Core 1.3.3, 1.3.4).

use crate::error::{Result, SamlError};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A source of cryptographically secure random bytes, passed in so tests are deterministic.
pub trait Rng {
    /// Fills `buf` entirely with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> Rng for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// OpenSSL's `RAND_bytes`, for the server.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        #[allow(clippy::expect_used)]
        openssl::rand::rand_bytes(buf).expect("OpenSSL RAND_bytes failed: no secure randomness")
    }
}

/// An `xs:ID` value (an XML NCName) used as a message or assertion `ID`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SamlId(String);

impl SamlId {
    /// A fresh ID: `_` followed by 160 random bits in hex. SAML Core 1.3.4 asks for at least
    /// 128 bits of randomness; the leading `_` makes it a valid NCName.
    pub fn random(rng: &mut dyn Rng) -> SamlId {
        let mut buf = [0u8; 20];
        rng.fill(&mut buf);
        let mut s = String::with_capacity(41);
        s.push('_');
        for b in buf {
            s.push_str(&format!("{b:02x}"));
        }
        SamlId(s)
    }

    /// Validates an ID received from a peer: a non-empty NCName of at most 256 characters.
    pub fn parse(s: &str) -> Result<SamlId> {
        let invalid = || SamlError::InvalidValue {
            what: "ID",
            value: s.to_owned(),
        };
        let mut chars = s.chars();
        let first = chars.next().ok_or_else(invalid)?;
        let start_ok = first == '_' || first.is_alphabetic();
        let rest_ok = chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !start_ok || !rest_ok || s.len() > 256 {
            return Err(invalid());
        }
        Ok(SamlId(s.to_owned()))
    }

    /// The ID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SamlId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Formats an instant as SAML wants it: `xs:dateTime` in UTC with `Z`, to the second
/// (SAML Core 1.3.3: UTC, no time zone component; finer than milliseconds not relied on).
pub fn format_instant(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an `xs:dateTime` received from a peer. SAML Core 1.3.3 requires UTC; we accept
/// `Z` or an explicit offset (converted to UTC) and fractional seconds, as other IdPs do.
pub fn parse_instant(s: &str, what: &'static str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|_| SamlError::InvalidValue {
            what,
            value: s.to_owned(),
        })
}

//! Proof Key for Code Exchange (RFC 7636). Only `S256` is supported: `plain` gives no
//! protection against a leaked authorization request and is refused (RFC 9700 2.1.1).

use crate::b64;

/// Why a PKCE value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method must be S256 (plain is not supported)")]
    UnsupportedMethod,
    #[error("code_challenge must be 43 base64url characters (the S256 of a verifier)")]
    BadChallenge,
    #[error("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")]
    BadVerifier,
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

/// A validated S256 `code_challenge` stored with the authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

fn is_unreserved(b: u8) -> bool {
    // RFC 7636 4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

impl CodeChallenge {
    /// Parses a challenge with its method. RFC 7636 4.3: a missing method means `plain`,
    /// which is refused.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, PkceError> {
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        // RFC 7636 4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
        let ok = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(PkceError::BadChallenge);
        }
        Ok(CodeChallenge(challenge.to_string()))
    }

    /// Rebuilds a challenge read back from storage (already validated once).
    pub fn from_stored(challenge: String) -> Self {
        CodeChallenge(challenge)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// RFC 7636 4.6: checks `code_verifier` against this challenge, comparing in constant
    /// time.
    pub fn verify(&self, verifier: &str) -> Result<(), PkceError> {
        check_verifier_syntax(verifier)?;
        let expected = s256(verifier);
        if expected.len() == self.0.len()
            && openssl::memcmp::eq(expected.as_bytes(), self.0.as_bytes())
        {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }
}

/// RFC 7636 4.1: `code-verifier = 43*128unreserved`.
pub fn check_verifier_syntax(verifier: &str) -> Result<(), PkceError> {
    if (43..=128).contains(&verifier.len()) && verifier.bytes().all(is_unreserved) {
        Ok(())
    } else {
        Err(PkceError::BadVerifier)
    }
}

/// RFC 7636 4.2: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
pub fn s256(verifier: &str) -> String {
    b64::encode(crate::digest::sha256(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_s256_example() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert_eq!(c.verify(VERIFIER), Ok(()));
    }

    #[test]
    fn rfc7636_4_6_wrong_verifier_is_refused() {
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXa";
        assert_eq!(c.verify(wrong), Err(PkceError::Mismatch));
    }

    #[test]
    fn rfc7636_4_1_verifier_is_43_to_128_unreserved_chars() {
        assert!(check_verifier_syntax(&"a".repeat(42)).is_err());
        assert!(check_verifier_syntax(&"a".repeat(43)).is_ok());
        assert!(check_verifier_syntax(&"~._-".repeat(32)).is_ok());
        assert!(check_verifier_syntax(&"a".repeat(129)).is_err());
        assert!(check_verifier_syntax(&format!("{}+", "a".repeat(43))).is_err());
    }

    #[test]
    fn rfc7636_4_3_plain_and_missing_method_are_refused() {
        assert_eq!(
            CodeChallenge::parse(CHALLENGE, Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(CHALLENGE, None),
            Err(PkceError::UnsupportedMethod)
        );
    }

    #[test]
    fn rfc7636_4_2_challenge_syntax_is_checked() {
        assert_eq!(
            CodeChallenge::parse("short", Some("S256")),
            Err(PkceError::BadChallenge)
        );
        let bad = format!("{}=", &CHALLENGE[..42]);
        assert_eq!(
            CodeChallenge::parse(&bad, Some("S256")),
            Err(PkceError::BadChallenge)
        );
    }
}

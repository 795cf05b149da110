//! JOSE for the provider: JWS compact serialization (RFC 7515) with the algorithms of
//! RFC 7518 3, and JSON Web Keys (RFC 7517) with RFC 7638 thumbprints.
//!
//! - We sign with RS256 (the default: many school vendors accept only RS256) and ES256.
//! - We verify RS256/RS384/RS512/PS256/ES256/ES384 (clients' `private_key_jwt` keys).
//! - `alg: none` is always refused, as is any `crit` header we do not understand.
//! - ECDSA signatures are in JOSE form (R || S, fixed width), never DER (RFC 7518 3.4).

mod alg;
mod jwk;
mod jws;

pub use alg::Algorithm;
pub use jwk::{thumbprint, Jwk, JwkSet, VerificationKey};
pub use jws::{decode_unverified, sign, verify, JwsHeader, VerifiedJws};

/// Why a JWS or JWK was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("not a JWS in compact serialization (three base64url parts)")]
    Malformed,
    #[error("JWS header is not valid JSON: {0}")]
    BadHeader(String),
    #[error("alg \"none\" is never accepted")]
    AlgNone,
    #[error("unsupported alg {0:?}")]
    UnsupportedAlg(String),
    #[error("alg {0} is not allowed here")]
    AlgNotAllowed(Algorithm),
    #[error("unsupported critical header parameter(s)")]
    UnsupportedCrit,
    #[error("no key matches kid {kid:?} and alg {alg}")]
    NoMatchingKey { kid: Option<String>, alg: Algorithm },
    #[error("signature verification failed")]
    BadSignature,
    #[error("key does not fit alg {0}")]
    KeyAlgMismatch(Algorithm),
    #[error("RSA key shorter than 2048 bits (RFC 7518 3.3)")]
    RsaKeyTooShort,
    #[error("invalid JWK: {0}")]
    BadJwk(String),
    #[error("invalid JWK set: {0}")]
    BadJwkSet(String),
    #[error("payload is not valid JSON: {0}")]
    BadPayload(String),
    #[error("cryptographic backend error: {0}")]
    Crypto(String),
}

impl From<openssl::error::ErrorStack> for JoseError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        JoseError::Crypto(e.to_string())
    }
}

#[cfg(test)]
mod tests;

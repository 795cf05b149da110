//! JWS algorithms (RFC 7518 3.1) that this provider signs or verifies with.

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JWS `alg`. `none` is deliberately not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    ES256,
    ES384,
}

/// The key family an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    /// Elliptic curve with the given curve NID (P-256 or P-384).
    Ec(Nid),
}

impl Algorithm {
    /// Every algorithm accepted on verification.
    pub const VERIFY: [Algorithm; 6] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
    ];
    /// Algorithms our own keys sign with (RS256 default, ES256).
    pub const SIGN: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
        }
    }

    /// Parses an `alg` name; `none` and unknown names are `None`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            _ => return None,
        })
    }

    /// The hash the algorithm uses; also the hash for `at_hash` (OIDC Core 3.1.3.6).
    pub fn digest(self) -> MessageDigest {
        match self {
            Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 => MessageDigest::sha256(),
            Algorithm::RS384 | Algorithm::ES384 => MessageDigest::sha384(),
            Algorithm::RS512 => MessageDigest::sha512(),
        }
    }

    pub fn key_family(self) -> KeyFamily {
        match self {
            Algorithm::ES256 => KeyFamily::Ec(Nid::X9_62_PRIME256V1),
            Algorithm::ES384 => KeyFamily::Ec(Nid::SECP384R1),
            _ => KeyFamily::Rsa,
        }
    }

    /// Byte width of R and S in a JOSE ECDSA signature (RFC 7518 3.4).
    pub(crate) fn ec_coordinate_len(self) -> Option<usize> {
        match self {
            Algorithm::ES256 => Some(32),
            Algorithm::ES384 => Some(48),
            _ => None,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Algorithm::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unsupported alg {name:?}")))
    }
}

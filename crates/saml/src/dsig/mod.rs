//! XML Signature (xmldsig-core) as SAML uses it (SAML Core 5): enveloped signatures over
//! one element referenced by its `ID`, RSA with SHA-2, Exclusive Canonicalization.
//!
//! - [`sign_enveloped`] signs an element of a document we built and returns the new text.
//! - [`verify_enveloped`] verifies the signature of the one element the caller is about to
//!   process and hands back a [`VerifiedElement`]; it refuses every shape used by XML
//!   Signature Wrapping attacks (see its docs).
//! - [`sign_octets`] / [`verify_octets`] sign raw bytes, for the HTTP-Redirect binding
//!   (SAML Bindings 3.4.4.1).

mod sign;
mod verify;

pub use sign::sign_enveloped;
pub use verify::{signature_child, verify_enveloped, VerifiedElement};

use crate::error::SignatureError;
use crate::keys::{Certificate, SigningKey};
use openssl::hash::MessageDigest;
use openssl::sign::{Signer, Verifier};

/// The enveloped-signature transform (xmldsig-core 6.6.4).
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// A signature algorithm: RSA PKCS#1 v1.5 with a digest (xmldsig-core 6.4.2, RFC 6931 2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// `http://www.w3.org/2000/09/xmldsig#rsa-sha1` — refused unless SHA-1 is allowed.
    RsaSha1,
    /// `http://www.w3.org/2001/04/xmldsig-more#rsa-sha256` — what Kakehashi signs with.
    RsaSha256,
    /// `http://www.w3.org/2001/04/xmldsig-more#rsa-sha384`.
    RsaSha384,
    /// `http://www.w3.org/2001/04/xmldsig-more#rsa-sha512`.
    RsaSha512,
}

impl SignatureAlgorithm {
    /// The algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            SignatureAlgorithm::RsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
            SignatureAlgorithm::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        }
    }

    fn digest(self) -> MessageDigest {
        match self {
            SignatureAlgorithm::RsaSha1 => MessageDigest::sha1(),
            SignatureAlgorithm::RsaSha256 => MessageDigest::sha256(),
            SignatureAlgorithm::RsaSha384 => MessageDigest::sha384(),
            SignatureAlgorithm::RsaSha512 => MessageDigest::sha512(),
        }
    }
}

/// A digest algorithm for `ds:DigestMethod` (xmldsig-core 6.2, RFC 6931 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// `http://www.w3.org/2000/09/xmldsig#sha1` — refused unless SHA-1 is allowed.
    Sha1,
    /// `http://www.w3.org/2001/04/xmlenc#sha256` — what Kakehashi uses.
    Sha256,
    /// `http://www.w3.org/2001/04/xmldsig-more#sha384`.
    Sha384,
    /// `http://www.w3.org/2001/04/xmlenc#sha512`.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            DigestAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
            DigestAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    fn message_digest(self) -> MessageDigest {
        match self {
            DigestAlgorithm::Sha1 => MessageDigest::sha1(),
            DigestAlgorithm::Sha256 => MessageDigest::sha256(),
            DigestAlgorithm::Sha384 => MessageDigest::sha384(),
            DigestAlgorithm::Sha512 => MessageDigest::sha512(),
        }
    }
}

/// Which algorithms a verifier accepts. The default accepts RSA with SHA-256/384/512 only;
/// SHA-1 (broken for collision resistance) needs `allow_sha1` for a legacy SP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlgorithmPolicy {
    /// Accept `rsa-sha1` and the `sha1` digest.
    pub allow_sha1: bool,
}

impl AlgorithmPolicy {
    /// The signature algorithm for `uri`, if accepted.
    pub fn signature_algorithm(&self, uri: &str) -> Result<SignatureAlgorithm, SignatureError> {
        use SignatureAlgorithm::*;
        [RsaSha1, RsaSha256, RsaSha384, RsaSha512]
            .into_iter()
            .find(|a| a.uri() == uri && (*a != RsaSha1 || self.allow_sha1))
            .ok_or_else(|| SignatureError::Algorithm(uri.to_owned()))
    }

    /// The digest algorithm for `uri`, if accepted.
    pub fn digest_algorithm(&self, uri: &str) -> Result<DigestAlgorithm, SignatureError> {
        use DigestAlgorithm::*;
        [Sha1, Sha256, Sha384, Sha512]
            .into_iter()
            .find(|a| a.uri() == uri && (*a != Sha1 || self.allow_sha1))
            .ok_or_else(|| SignatureError::Algorithm(uri.to_owned()))
    }
}

/// Signs `data` with the IdP key.
pub fn sign_octets(
    key: &SigningKey,
    alg: SignatureAlgorithm,
    data: &[u8],
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut signer = Signer::new(alg.digest(), key.private_key())?;
    signer.update(data)?;
    signer.sign_to_vec()
}

/// Verifies `signature` over `data` with any of the `trusted` certificates' keys.
pub fn verify_octets(
    trusted: &[Certificate],
    alg: SignatureAlgorithm,
    data: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    if trusted.is_empty() {
        return Err(SignatureError::NoTrustedCertificate);
    }
    for cert in trusted {
        let Ok(key) = cert.public_key() else { continue };
        if key.rsa().is_err() {
            continue;
        }
        let ok = Verifier::new(alg.digest(), &key)
            .and_then(|mut v| {
                v.update(data)?;
                v.verify(signature)
            })
            .unwrap_or(false);
        if ok {
            return Ok(());
        }
    }
    Err(SignatureError::BadSignature)
}

/// The digest of `data`.
pub(crate) fn digest(alg: DigestAlgorithm, data: &[u8]) -> Result<Vec<u8>, SignatureError> {
    openssl::hash::hash(alg.message_digest(), data)
        .map(|d| d.to_vec())
        .map_err(|_| SignatureError::Malformed("digest computation failed"))
}

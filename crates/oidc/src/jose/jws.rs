//! JWS compact serialization (RFC 7515 3.1, 7.1): `b64(header).b64(payload).b64(signature)`.

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::pkey::{Id, PKeyRef, Private, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::alg::KeyFamily;
use super::{Algorithm, JoseError, VerificationKey};
use crate::b64;

/// The protected header fields this provider reads or writes (RFC 7515 4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    /// Kept as text so that `none` and unknown names can be reported precisely.
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
}

/// A JWS whose signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJws {
    pub header: JwsHeader,
    pub alg: Algorithm,
    /// The raw payload bytes (JWT claims JSON).
    pub payload: Vec<u8>,
}

impl VerifiedJws {
    /// Deserializes the payload as JSON claims.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JoseError> {
        serde_json::from_slice(&self.payload).map_err(|e| JoseError::BadPayload(e.to_string()))
    }
}

/// Signs `payload` with `key` and returns the compact serialization.
/// `typ` is e.g. `JWT` (ID tokens) or `at+jwt` (RFC 9068 2.1).
pub fn sign(
    alg: Algorithm,
    kid: &str,
    typ: Option<&str>,
    payload: &[u8],
    key: &PKeyRef<Private>,
) -> Result<String, JoseError> {
    let header = JwsHeader {
        alg: alg.as_str().to_string(),
        kid: Some(kid.to_string()),
        typ: typ.map(str::to_string),
        crit: None,
    };
    let header_json =
        serde_json::to_vec(&header).map_err(|e| JoseError::BadHeader(e.to_string()))?;
    let signing_input = format!("{}.{}", b64::encode(header_json), b64::encode(payload));
    let signature = sign_bytes(alg, signing_input.as_bytes(), key)?;
    Ok(format!("{signing_input}.{}", b64::encode(signature)))
}

fn sign_bytes(alg: Algorithm, data: &[u8], key: &PKeyRef<Private>) -> Result<Vec<u8>, JoseError> {
    match alg.key_family() {
        KeyFamily::Rsa => {
            if key.id() != Id::RSA {
                return Err(JoseError::KeyAlgMismatch(alg));
            }
            let mut signer = Signer::new(alg.digest(), key)?;
            if alg == Algorithm::PS256 {
                // RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
                signer.set_rsa_padding(Padding::PKCS1_PSS)?;
                signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
                signer.set_rsa_mgf1_md(alg.digest())?;
            }
            Ok(signer.sign_oneshot_to_vec(data)?)
        }
        KeyFamily::Ec(curve) => {
            let ec = key.ec_key().map_err(|_| JoseError::KeyAlgMismatch(alg))?;
            if ec.group().curve_name() != Some(curve) {
                return Err(JoseError::KeyAlgMismatch(alg));
            }
            let width = alg
                .ec_coordinate_len()
                .ok_or(JoseError::KeyAlgMismatch(alg))?;
            let digest = openssl::hash::hash(alg.digest(), data)?;
            let sig = EcdsaSig::sign(&digest, &ec)?;
            // RFC 7518 3.4: R and S as fixed-width big-endian octets, concatenated.
            let width_i32 = i32::try_from(width).map_err(|_| JoseError::KeyAlgMismatch(alg))?;
            let mut out = sig.r().to_vec_padded(width_i32)?;
            out.extend(sig.s().to_vec_padded(width_i32)?);
            Ok(out)
        }
    }
}

fn verify_bytes(
    alg: Algorithm,
    data: &[u8],
    signature: &[u8],
    key: &PKeyRef<Public>,
) -> Result<bool, JoseError> {
    match alg.key_family() {
        KeyFamily::Rsa => {
            let rsa = key.rsa().map_err(|_| JoseError::KeyAlgMismatch(alg))?;
            // RFC 7518 3.3: "A key of size 2048 bits or larger MUST be used".
            if rsa.size() < 256 {
                return Err(JoseError::RsaKeyTooShort);
            }
            let mut verifier = Verifier::new(alg.digest(), key)?;
            if alg == Algorithm::PS256 {
                verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
                verifier.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
                verifier.set_rsa_mgf1_md(alg.digest())?;
            }
            // OpenSSL reports a malformed signature as an error; both mean "not valid".
            Ok(verifier.verify_oneshot(signature, data).unwrap_or(false))
        }
        KeyFamily::Ec(curve) => {
            let ec = key.ec_key().map_err(|_| JoseError::KeyAlgMismatch(alg))?;
            if ec.group().curve_name() != Some(curve) {
                return Err(JoseError::KeyAlgMismatch(alg));
            }
            let width = alg
                .ec_coordinate_len()
                .ok_or(JoseError::KeyAlgMismatch(alg))?;
            // RFC 7518 3.4: exactly 2 * width octets; DER signatures are refused.
            if signature.len() != 2 * width {
                return Ok(false);
            }
            let (r, s) = signature.split_at(width);
            let sig =
                EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?;
            let digest = openssl::hash::hash(alg.digest(), data)?;
            Ok(sig.verify(&digest, &ec).unwrap_or(false))
        }
    }
}

struct Parts<'a> {
    signing_input: &'a str,
    header: JwsHeader,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn split(token: &str) -> Result<Parts<'_>, JoseError> {
    let mut it = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(JoseError::Malformed);
    };
    let header_bytes = b64::decode(h).ok_or(JoseError::Malformed)?;
    let header: JwsHeader =
        serde_json::from_slice(&header_bytes).map_err(|e| JoseError::BadHeader(e.to_string()))?;
    let payload = b64::decode(p).ok_or(JoseError::Malformed)?;
    let signature = b64::decode(s).ok_or(JoseError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    Ok(Parts {
        signing_input,
        header,
        payload,
        signature,
    })
}

fn header_alg(header: &JwsHeader) -> Result<Algorithm, JoseError> {
    // RFC 8725 3.1 / RFC 7518 3.6: unsecured JWS are never accepted here.
    if header.alg.eq_ignore_ascii_case("none") {
        return Err(JoseError::AlgNone);
    }
    let alg = Algorithm::parse(&header.alg)
        .ok_or_else(|| JoseError::UnsupportedAlg(header.alg.clone()))?;
    // RFC 7515 4.1.11: a recipient that does not understand a `crit` extension MUST reject.
    if header.crit.is_some() {
        return Err(JoseError::UnsupportedCrit);
    }
    Ok(alg)
}

/// Reads header and payload **without checking the signature**. Only for routing decisions
/// (e.g. which client's JWKS to load for a `private_key_jwt` assertion); never trust the
/// result.
pub fn decode_unverified(token: &str) -> Result<(JwsHeader, Vec<u8>), JoseError> {
    let parts = split(token)?;
    Ok((parts.header, parts.payload))
}

/// Verifies a compact JWS against `keys`, accepting only algorithms in `allowed`.
///
/// Key choice: with a `kid` header only keys with that `kid` are tried; without one, every
/// key whose family (and `alg`, when the JWK names one) fits is tried.
pub fn verify(
    token: &str,
    keys: &[VerificationKey],
    allowed: &[Algorithm],
) -> Result<VerifiedJws, JoseError> {
    let parts = split(token)?;
    let alg = header_alg(&parts.header)?;
    if !allowed.contains(&alg) {
        return Err(JoseError::AlgNotAllowed(alg));
    }
    let candidates: Vec<&VerificationKey> = keys
        .iter()
        .filter(|k| k.fits(alg))
        .filter(|k| match &parts.header.kid {
            Some(kid) => k.kid.as_deref() == Some(kid.as_str()),
            None => true,
        })
        .collect();
    if candidates.is_empty() {
        return Err(JoseError::NoMatchingKey {
            kid: parts.header.kid.clone(),
            alg,
        });
    }
    for key in candidates {
        match verify_bytes(
            alg,
            parts.signing_input.as_bytes(),
            &parts.signature,
            &key.key,
        ) {
            Ok(true) => {
                return Ok(VerifiedJws {
                    header: parts.header,
                    alg,
                    payload: parts.payload,
                })
            }
            Ok(false) => continue,
            Err(JoseError::RsaKeyTooShort) => return Err(JoseError::RsaKeyTooShort),
            Err(_) => continue,
        }
    }
    Err(JoseError::BadSignature)
}

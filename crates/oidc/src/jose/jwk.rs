//! JSON Web Keys (RFC 7517, RFC 7518 6) for public RSA and EC keys, RFC 7638 thumbprints, and
//! the conversion of a client's JWK Set into [`VerificationKey`]s.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Public};
use openssl::rsa::Rsa;
use serde::{Deserialize, Serialize};

use super::alg::KeyFamily;
use super::{Algorithm, JoseError};
use crate::b64;

/// A public JWK. Private members (`d`, `p`, …) are never read or written by this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A JWK Set document (RFC 7517 5): `{"keys":[…]}`, served at `jwks_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// A public key ready for JWS verification.
#[derive(Clone)]
pub struct VerificationKey {
    pub kid: Option<String>,
    /// When the JWK names an `alg`, only that algorithm may use the key (RFC 7517 4.4).
    pub alg: Option<Algorithm>,
    pub key: PKey<Public>,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("type", &self.key.id())
            .finish()
    }
}

impl VerificationKey {
    /// True when this key may verify a signature made with `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|a| a != alg) {
            return false;
        }
        match alg.key_family() {
            KeyFamily::Rsa => self.key.id() == Id::RSA,
            KeyFamily::Ec(curve) => self
                .key
                .ec_key()
                .is_ok_and(|ec| ec.group().curve_name() == Some(curve)),
        }
    }
}

fn curve_name(nid: Nid) -> Option<(&'static str, usize)> {
    match nid {
        Nid::X9_62_PRIME256V1 => Some(("P-256", 32)),
        Nid::SECP384R1 => Some(("P-384", 48)),
        _ => None,
    }
}

fn curve_nid(crv: &str) -> Option<(Nid, usize)> {
    match crv {
        "P-256" => Some((Nid::X9_62_PRIME256V1, 32)),
        "P-384" => Some((Nid::SECP384R1, 48)),
        _ => None,
    }
}

impl Jwk {
    /// The public JWK of `key` (RSA or P-256/P-384), with `use: sig`.
    pub fn from_public_key<T: openssl::pkey::HasPublic>(
        key: &PKeyRef<T>,
        kid: Option<&str>,
        alg: Option<Algorithm>,
    ) -> Result<Self, JoseError> {
        let mut jwk = Jwk {
            kty: String::new(),
            kid: kid.map(str::to_string),
            use_: Some("sig".into()),
            alg: alg.map(|a| a.as_str().to_string()),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        };
        match key.id() {
            Id::RSA => {
                let rsa = key.rsa()?;
                // RFC 7518 6.3.1: unsigned big-endian, minimal length.
                jwk.kty = "RSA".into();
                jwk.n = Some(b64::encode(rsa.n().to_vec()));
                jwk.e = Some(b64::encode(rsa.e().to_vec()));
            }
            Id::EC => {
                let ec = key.ec_key()?;
                let nid = ec
                    .group()
                    .curve_name()
                    .ok_or_else(|| JoseError::BadJwk("unnamed curve".into()))?;
                let (crv, width) =
                    curve_name(nid).ok_or_else(|| JoseError::BadJwk("unsupported curve".into()))?;
                let mut ctx = BigNumContext::new()?;
                let mut x = BigNum::new()?;
                let mut y = BigNum::new()?;
                ec.public_key()
                    .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
                let width = i32::try_from(width).map_err(|_| JoseError::BadJwk("width".into()))?;
                // RFC 7518 6.2.1.2: "MUST be the full size of a coordinate".
                jwk.kty = "EC".into();
                jwk.crv = Some(crv.into());
                jwk.x = Some(b64::encode(x.to_vec_padded(width)?));
                jwk.y = Some(b64::encode(y.to_vec_padded(width)?));
            }
            _ => {
                return Err(JoseError::BadJwk(
                    "only RSA and EC keys are supported".into(),
                ))
            }
        }
        Ok(jwk)
    }

    fn member<'a>(&self, value: &'a Option<String>, name: &str) -> Result<&'a str, JoseError> {
        value
            .as_deref()
            .ok_or_else(|| JoseError::BadJwk(format!("{} key without {name:?}", self.kty)))
    }

    fn decoded(&self, value: &Option<String>, name: &str) -> Result<Vec<u8>, JoseError> {
        b64::decode(self.member(value, name)?)
            .ok_or_else(|| JoseError::BadJwk(format!("{name:?} is not base64url")))
    }

    /// Converts the public members into a key for verification.
    pub fn to_verification_key(&self) -> Result<VerificationKey, JoseError> {
        let alg = match &self.alg {
            Some(name) => Some(
                Algorithm::parse(name).ok_or_else(|| JoseError::UnsupportedAlg(name.clone()))?,
            ),
            None => None,
        };
        let key = match self.kty.as_str() {
            "RSA" => {
                let n = BigNum::from_slice(&self.decoded(&self.n, "n")?)?;
                let e = BigNum::from_slice(&self.decoded(&self.e, "e")?)?;
                let rsa = Rsa::from_public_components(n, e)?;
                if rsa.size() < 256 {
                    return Err(JoseError::RsaKeyTooShort);
                }
                PKey::from_rsa(rsa)?
            }
            "EC" => {
                let crv = self.member(&self.crv, "crv")?;
                let (nid, width) = curve_nid(crv)
                    .ok_or_else(|| JoseError::BadJwk(format!("unsupported crv {crv:?}")))?;
                let x = self.decoded(&self.x, "x")?;
                let y = self.decoded(&self.y, "y")?;
                if x.len() != width || y.len() != width {
                    return Err(JoseError::BadJwk(
                        "EC coordinate of the wrong length".into(),
                    ));
                }
                let group = EcGroup::from_curve_name(nid)?;
                // Also checks that the point is on the curve (invalid-curve attacks).
                let ec = EcKey::from_public_key_affine_coordinates(
                    &group,
                    &*BigNum::from_slice(&x)?,
                    &*BigNum::from_slice(&y)?,
                )
                .map_err(|_| JoseError::BadJwk("EC point not on the curve".into()))?;
                ec.check_key()
                    .map_err(|_| JoseError::BadJwk("EC point not on the curve".into()))?;
                PKey::from_ec_key(ec)?
            }
            other => return Err(JoseError::BadJwk(format!("unsupported kty {other:?}"))),
        };
        if let Some(alg) = alg {
            let vk = VerificationKey {
                kid: None,
                alg: None,
                key: key.clone(),
            };
            if !vk.fits(alg) {
                return Err(JoseError::KeyAlgMismatch(alg));
            }
        }
        Ok(VerificationKey {
            kid: self.kid.clone(),
            alg,
            key,
        })
    }
}

/// RFC 7638 3: the SHA-256 JWK thumbprint, base64url: a hash of the required members only, in
/// lexicographic order, with no whitespace.
pub fn thumbprint(jwk: &Jwk) -> Result<String, JoseError> {
    // serde_json::to_string escapes strings correctly; member order is written by hand.
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let canonical = match jwk.kty.as_str() {
        "RSA" => format!(
            "{{\"e\":{},\"kty\":\"RSA\",\"n\":{}}}",
            q(jwk.member(&jwk.e, "e")?),
            q(jwk.member(&jwk.n, "n")?)
        ),
        "EC" => format!(
            "{{\"crv\":{},\"kty\":\"EC\",\"x\":{},\"y\":{}}}",
            q(jwk.member(&jwk.crv, "crv")?),
            q(jwk.member(&jwk.x, "x")?),
            q(jwk.member(&jwk.y, "y")?)
        ),
        other => return Err(JoseError::BadJwk(format!("unsupported kty {other:?}"))),
    };
    Ok(b64::encode(crate::digest::sha256(canonical.as_bytes())))
}

impl JwkSet {
    /// Parses a JWK Set document (e.g. a client's registered `jwks`).
    pub fn parse(json: &str) -> Result<Self, JoseError> {
        // Parse as loose JSON first so one odd key does not fail the whole set.
        #[derive(Deserialize)]
        struct Loose {
            keys: Vec<serde_json::Value>,
        }
        let loose: Loose =
            serde_json::from_str(json).map_err(|e| JoseError::BadJwkSet(e.to_string()))?;
        let keys = loose
            .keys
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
            .collect();
        Ok(JwkSet { keys })
    }

    /// The signature-verification keys of the set.
    ///
    /// RFC 7517 5: keys with a `kty` we do not understand, missing members or unsupported
    /// values are ignored, as are keys marked `use: enc`. A set with no usable key is an
    /// error, so a client is never silently left with no way to authenticate.
    pub fn verification_keys(&self) -> Result<Vec<VerificationKey>, JoseError> {
        let keys: Vec<VerificationKey> = self
            .keys
            .iter()
            .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
            .filter_map(|k| k.to_verification_key().ok())
            .collect();
        if keys.is_empty() {
            return Err(JoseError::BadJwkSet("no usable signature key".into()));
        }
        Ok(keys)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"keys\":[]}".into())
    }
}

//! The provider's signing keys and their lifecycle.
//!
//! A [`SigningKey`] is an algorithm, a `kid` (the RFC 7638 thumbprint of its public JWK) and an
//! OpenSSL private key. The store keeps it as PKCS#8 (encrypted at rest by the store).
//!
//! A [`KeySet`] holds, per algorithm, keys in three states:
//! - `Next`: published in the JWKS, not yet used, so that relying parties that cache the JWKS
//!   already know it when it starts signing;
//! - `Current`: signs new tokens (one per algorithm);
//! - `Retired`: no longer signs, still published until the tokens it signed have expired.

use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use serde::Serialize;

use crate::jose::{self, Algorithm, JoseError, Jwk, JwkSet, VerificationKey};

/// Why a key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("we sign only with RS256 and ES256, not {0}")]
    UnsupportedSigningAlg(Algorithm),
    #[error("RSA signing keys must be at least 2048 bits")]
    RsaTooShort,
    #[error("the key does not fit alg {0}")]
    KeyAlgMismatch(Algorithm),
    #[error("cannot read the private key: {0}")]
    Unreadable(String),
    #[error("no current signing key for {0}")]
    NoCurrentKey(Algorithm),
    #[error("no next key for {0} to rotate to")]
    NoNextKey(Algorithm),
    #[error(
        "the next {alg} key has been published only since {published_at}; rotate after {ready_at}"
    )]
    NextKeyTooNew {
        alg: Algorithm,
        published_at: i64,
        ready_at: i64,
    },
    #[error(transparent)]
    Jose(#[from] JoseError),
}

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        KeyError::Unreadable(e.to_string())
    }
}

/// One of the provider's private signing keys.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    private: PKey<Private>,
}

impl std::fmt::Debug for SigningKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private", &"***")
            .finish()
    }
}

impl SigningKey {
    /// Generates a fresh key: RSA 2048 for RS256, P-256 for ES256 (OpenSSL's CSPRNG).
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let private = match alg {
            Algorithm::RS256 => PKey::from_rsa(Rsa::generate(2048)?)?,
            Algorithm::ES256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                PKey::from_ec_key(EcKey::generate(&group)?)?
            }
            other => return Err(KeyError::UnsupportedSigningAlg(other)),
        };
        Self::from_private_key(private, alg)
    }

    /// Wraps an existing private key, checking that it fits `alg`; the `kid` is the RFC 7638
    /// thumbprint, so the same key always gets the same `kid`.
    pub fn from_private_key(private: PKey<Private>, alg: Algorithm) -> Result<Self, KeyError> {
        match alg {
            Algorithm::RS256 => {
                if private.id() != Id::RSA {
                    return Err(KeyError::KeyAlgMismatch(alg));
                }
                if private.bits() < 2048 {
                    return Err(KeyError::RsaTooShort);
                }
            }
            Algorithm::ES256 => {
                let ec = private
                    .ec_key()
                    .map_err(|_| KeyError::KeyAlgMismatch(alg))?;
                if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                    return Err(KeyError::KeyAlgMismatch(alg));
                }
            }
            other => return Err(KeyError::UnsupportedSigningAlg(other)),
        }
        let jwk = Jwk::from_public_key(&private, None, Some(alg))?;
        let kid = jose::thumbprint(&jwk)?;
        Ok(SigningKey { kid, alg, private })
    }

    /// Reads a PKCS#8 DER private key. `alg` may be `None` to infer it (RSA → RS256,
    /// P-256 → ES256).
    pub fn from_pkcs8_der(der: &[u8], alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let private = PKey::private_key_from_pkcs8(der)?;
        let alg = alg.unwrap_or_else(|| infer_alg(&private));
        Self::from_private_key(private, alg)
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8).
    pub fn from_pkcs8_pem(pem: &[u8], alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let private = PKey::private_key_from_pem(pem)?;
        let alg = alg.unwrap_or_else(|| infer_alg(&private));
        Self::from_private_key(private, alg)
    }

    /// PKCS#8 DER of the private key, for the store to encrypt at rest.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.private.private_key_to_pkcs8()?)
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.private.private_key_to_pem_pkcs8()?)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The public JWK (`kid`, `alg`, `use: sig`).
    pub fn public_jwk(&self) -> Result<Jwk, KeyError> {
        Ok(Jwk::from_public_key(
            &self.private,
            Some(&self.kid),
            Some(self.alg),
        )?)
    }

    /// The public key for verifying our own tokens.
    pub fn verification_key(&self) -> Result<VerificationKey, KeyError> {
        Ok(self.public_jwk()?.to_verification_key()?)
    }

    /// Signs raw payload bytes as a compact JWS.
    pub fn sign(&self, typ: Option<&str>, payload: &[u8]) -> Result<String, KeyError> {
        Ok(jose::sign(
            self.alg,
            &self.kid,
            typ,
            payload,
            &self.private,
        )?)
    }

    /// Serializes `claims` as JSON and signs them (a JWT).
    pub fn sign_json<T: Serialize>(
        &self,
        typ: Option<&str>,
        claims: &T,
    ) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|e| KeyError::Jose(JoseError::BadPayload(e.to_string())))?;
        self.sign(typ, &payload)
    }
}

fn infer_alg(key: &PKey<Private>) -> Algorithm {
    if key.id() == Id::EC {
        Algorithm::ES256
    } else {
        Algorithm::RS256
    }
}

/// Where a key is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published since `published_at` (unix seconds); not yet signing.
    Next { published_at: i64 },
    /// Signs new tokens.
    Current,
    /// Published until `until` (unix seconds): the latest expiry of tokens it signed.
    Retired { until: i64 },
}

/// A key and its state, as the store keeps it.
#[derive(Debug, Clone)]
pub struct ManagedKey {
    pub key: SigningKey,
    pub state: KeyState,
}

/// How long keys stay in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Minimum seconds a `Next` key is published before it may sign (longer than relying
    /// parties cache the JWKS; e.g. 86,400).
    pub min_next_published: i64,
    /// Seconds a retired key stays published: at least the longest token lifetime.
    pub retired_published: i64,
}

/// The provider's keys for one tenant.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<ManagedKey>,
}

impl KeySet {
    pub fn new(keys: Vec<ManagedKey>) -> Self {
        KeySet { keys }
    }

    pub fn keys(&self) -> &[ManagedKey] {
        &self.keys
    }

    /// Adds a key. Adding a `Current` key demotes any other current key of the same alg to
    /// `Retired { until: retired_until }`.
    pub fn insert(&mut self, key: SigningKey, state: KeyState, retired_until: i64) {
        if state == KeyState::Current {
            for k in &mut self.keys {
                if k.key.alg == key.alg && k.state == KeyState::Current {
                    k.state = KeyState::Retired {
                        until: retired_until,
                    };
                }
            }
        }
        self.keys.retain(|k| k.key.kid != key.kid);
        self.keys.push(ManagedKey { key, state });
    }

    /// The key that signs for `alg`.
    pub fn current(&self, alg: Algorithm) -> Result<&SigningKey, KeyError> {
        self.keys
            .iter()
            .find(|k| k.key.alg == alg && k.state == KeyState::Current)
            .map(|k| &k.key)
            .ok_or(KeyError::NoCurrentKey(alg))
    }

    /// The signing key for a client: its registered `id_token_signed_response_alg`, or RS256
    /// when none is registered (OIDC Registration 2: the default is RS256).
    pub fn for_client(&self, registered: Option<Algorithm>) -> Result<&SigningKey, KeyError> {
        self.current(registered.unwrap_or(Algorithm::RS256))
    }

    fn published(&self, now: i64) -> impl Iterator<Item = &ManagedKey> {
        self.keys.iter().filter(move |k| match k.state {
            KeyState::Next { .. } | KeyState::Current => true,
            KeyState::Retired { until } => until > now,
        })
    }

    /// The JWKS document at `now`: next, current and not-yet-expired retired keys.
    pub fn jwks(&self, now: i64) -> Result<JwkSet, KeyError> {
        let keys = self
            .published(now)
            .map(|k| k.key.public_jwk())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(JwkSet { keys })
    }

    /// Keys that may verify our own tokens at `now` (e.g. an `id_token_hint`).
    pub fn verification_keys(&self, now: i64) -> Result<Vec<VerificationKey>, KeyError> {
        self.published(now)
            .filter(|k| !matches!(k.state, KeyState::Next { .. }))
            .map(|k| k.key.verification_key())
            .collect()
    }

    /// Promotes the `Next` key of `alg` to `Current` and retires the old current key.
    /// Refused while the next key has been published for less than the policy's minimum, so a
    /// relying party never sees a `kid` it could not have fetched.
    pub fn rotate(
        &mut self,
        alg: Algorithm,
        now: i64,
        policy: RotationPolicy,
    ) -> Result<(), KeyError> {
        let next = self
            .keys
            .iter()
            .position(|k| k.key.alg == alg && matches!(k.state, KeyState::Next { .. }))
            .ok_or(KeyError::NoNextKey(alg))?;
        if let KeyState::Next { published_at } = self.keys[next].state {
            let ready_at = published_at.saturating_add(policy.min_next_published);
            if now < ready_at {
                return Err(KeyError::NextKeyTooNew {
                    alg,
                    published_at,
                    ready_at,
                });
            }
        }
        for k in &mut self.keys {
            if k.key.alg == alg && k.state == KeyState::Current {
                k.state = KeyState::Retired {
                    until: now.saturating_add(policy.retired_published),
                };
            }
        }
        self.keys[next].state = KeyState::Current;
        Ok(())
    }

    /// Drops retired keys whose publication period has ended.
    pub fn prune(&mut self, now: i64) {
        self.keys
            .retain(|k| !matches!(k.state, KeyState::Retired { until } if until <= now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RotationPolicy = RotationPolicy {
        min_next_published: 86_400,
        retired_published: 3_600,
    };

    #[test]
    fn pkcs8_der_and_pem_round_trip_keep_kid() {
        for alg in Algorithm::SIGN {
            let k = SigningKey::generate(alg).unwrap();
            let der = SigningKey::from_pkcs8_der(&k.to_pkcs8_der().unwrap(), None).unwrap();
            let pem = SigningKey::from_pkcs8_pem(&k.to_pkcs8_pem().unwrap(), Some(alg)).unwrap();
            assert_eq!(der.kid(), k.kid());
            assert_eq!(pem.kid(), k.kid());
            assert_eq!(der.alg(), alg);
        }
    }

    #[test]
    fn debug_never_prints_key_material() {
        let k = SigningKey::generate(Algorithm::ES256).unwrap();
        assert!(format!("{k:?}").contains("***"));
    }

    #[test]
    fn rsa_signing_keys_are_at_least_2048_bits() {
        let small = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        assert_eq!(
            SigningKey::from_private_key(small, Algorithm::RS256).unwrap_err(),
            KeyError::RsaTooShort
        );
    }

    #[test]
    fn signing_key_per_client_alg_defaults_to_rs256() {
        let rs = SigningKey::generate(Algorithm::RS256).unwrap();
        let es = SigningKey::generate(Algorithm::ES256).unwrap();
        let mut set = KeySet::default();
        set.insert(rs.clone(), KeyState::Current, 0);
        set.insert(es.clone(), KeyState::Current, 0);
        assert_eq!(set.for_client(None).unwrap().kid(), rs.kid());
        assert_eq!(
            set.for_client(Some(Algorithm::ES256)).unwrap().kid(),
            es.kid()
        );
    }

    #[test]
    fn rotation_publishes_next_key_before_it_signs() {
        let old = SigningKey::generate(Algorithm::ES256).unwrap();
        let next = SigningKey::generate(Algorithm::ES256).unwrap();
        let mut set = KeySet::default();
        set.insert(old.clone(), KeyState::Current, 0);
        set.insert(
            next.clone(),
            KeyState::Next {
                published_at: 1_000,
            },
            0,
        );
        // Published in the JWKS, not signing yet.
        let jwks = set.jwks(1_000).unwrap();
        assert!(jwks
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(next.kid())));
        assert_eq!(set.current(Algorithm::ES256).unwrap().kid(), old.kid());
        // Too early to rotate.
        assert!(matches!(
            set.rotate(Algorithm::ES256, 2_000, POLICY),
            Err(KeyError::NextKeyTooNew { .. })
        ));
        set.rotate(Algorithm::ES256, 1_000 + 86_400, POLICY)
            .unwrap();
        assert_eq!(set.current(Algorithm::ES256).unwrap().kid(), next.kid());
        // The old key stays published until its tokens expire, then disappears.
        let t = 1_000 + 86_400;
        assert_eq!(set.jwks(t).unwrap().keys.len(), 2);
        assert_eq!(set.jwks(t + 3_600).unwrap().keys.len(), 1);
        set.prune(t + 3_600);
        assert_eq!(set.keys().len(), 1);
    }

    #[test]
    fn retired_key_still_verifies_until_it_expires() {
        let old = SigningKey::generate(Algorithm::RS256).unwrap();
        let new = SigningKey::generate(Algorithm::RS256).unwrap();
        let token = old.sign(None, b"{}").unwrap();
        let mut set = KeySet::default();
        set.insert(old, KeyState::Current, 0);
        set.insert(new, KeyState::Current, 500);
        let keys = set.verification_keys(100).unwrap();
        assert!(jose::verify(&token, &keys, &[Algorithm::RS256]).is_ok());
        assert!(set.verification_keys(500).unwrap().len() == 1);
    }
}

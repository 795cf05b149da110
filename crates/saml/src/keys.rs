//! The IdP's signing key and the peers' certificates, through OpenSSL (the project's one
//! crypto backend). Only RSA keys are used for XML Signature here (RSA-SHA256).

use crate::error::{Result, SamlError};
use base64::Engine as _;
use openssl::pkey::{PKey, Private, Public};
use openssl::x509::X509;

/// An X.509 certificate: ours (published in IdP metadata and `KeyInfo`) or an SP's
/// (trusted to verify its AuthnRequests).
#[derive(Clone)]
pub struct Certificate(X509);

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subject = format!("{:?}", self.0.subject_name());
        f.debug_struct("Certificate")
            .field("subject", &subject)
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        matches!((self.0.to_der(), other.0.to_der()), (Ok(a), Ok(b)) if a == b)
    }
}

impl Certificate {
    /// From PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate> {
        Ok(Certificate(X509::from_pem(pem)?))
    }

    /// From DER bytes.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        Ok(Certificate(X509::from_der(der)?))
    }

    /// From the base64 DER of a `ds:X509Certificate` element (whitespace ignored).
    pub fn from_base64_der(b64: &str) -> Result<Certificate> {
        let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| SamlError::Base64("X509Certificate"))?;
        Certificate::from_der(&der)
    }

    /// The base64 DER, as written in `ds:X509Certificate`.
    pub fn to_base64_der(&self) -> Result<String> {
        Ok(base64::engine::general_purpose::STANDARD.encode(self.0.to_der()?))
    }

    /// PEM text.
    pub fn to_pem(&self) -> Result<Vec<u8>> {
        Ok(self.0.to_pem()?)
    }

    /// The certificate's public key.
    pub fn public_key(&self) -> Result<PKey<Public>> {
        Ok(self.0.public_key()?)
    }

    /// The OpenSSL certificate.
    pub fn x509(&self) -> &X509 {
        &self.0
    }
}

impl From<X509> for Certificate {
    fn from(x: X509) -> Self {
        Certificate(x)
    }
}

/// The IdP's RSA signing key with its certificate. `Debug` never shows the key.
#[derive(Clone)]
pub struct SigningKey {
    key: PKey<Private>,
    cert: Certificate,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key", &"***")
            .field("cert", &self.cert)
            .finish()
    }
}

impl SigningKey {
    /// A key and its certificate; refuses a non-RSA key or a certificate for another key.
    pub fn new(key: PKey<Private>, cert: Certificate) -> Result<SigningKey> {
        if key.rsa().is_err() {
            return Err(SamlError::Key("the SAML signing key must be RSA".into()));
        }
        if !cert.public_key()?.public_eq(&key) {
            return Err(SamlError::Key(
                "the certificate does not belong to the key".into(),
            ));
        }
        Ok(SigningKey { key, cert })
    }

    /// From PEM key (PKCS#8 or PKCS#1) and PEM certificate.
    pub fn from_pem(key_pem: &[u8], cert_pem: &[u8]) -> Result<SigningKey> {
        let key = PKey::private_key_from_pem(key_pem)?;
        SigningKey::new(key, Certificate::from_pem(cert_pem)?)
    }

    /// The certificate published with signatures and in metadata.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    pub(crate) fn private_key(&self) -> &PKey<Private> {
        &self.key
    }
}

//! Signed statements (Data 2.6.s5.b3.b3): when a JWS carries an `x5c` certificate chain,
//! the signature must verify with the first certificate's public key. RS256/384/512 and
//! PS/ES variants are checked with OpenSSL, the workspace's crypto backend.

use kakehashi_xapi::signature::Jws;
use kakehashi_xapi::XapiError;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use openssl::x509::X509;

use super::LrsError;

/// Verifies each signature that names a certificate; a JWS without `x5c` passes (the
/// statement then only has to match its payload, which `kakehashi-xapi` checks).
pub fn verify_all(signatures: &[Jws]) -> Result<(), LrsError> {
    for jws in signatures {
        let bad = |rule: &str| {
            LrsError::from(XapiError::invalid("statement.attachments.signature", rule))
        };
        let Some(chain) = jws.x5c()? else { continue };
        let Some(der) = chain.first() else {
            return Err(bad("x5c is empty"));
        };
        let cert = X509::from_der(der).map_err(|_| bad("x5c[0] is not a DER certificate"))?;
        let key = cert
            .public_key()
            .map_err(|_| bad("x5c[0] has no usable public key"))?;
        if !verify(&jws.alg, &key, jws.signing_input.as_bytes(), &jws.signature)? {
            return Err(bad(
                "the JWS signature does not verify with the x5c certificate",
            ));
        }
    }
    Ok(())
}

fn verify(alg: &str, key: &PKey<Public>, input: &[u8], sig: &[u8]) -> Result<bool, LrsError> {
    let unsupported = || {
        LrsError::from(XapiError::invalid(
            "statement.attachments.signature",
            format!("unsupported JWS alg {alg:?} (use RS256, RS384 or RS512)"),
        ))
    };
    let digest = match &alg.get(2..) {
        Some("256") => MessageDigest::sha256(),
        Some("384") => MessageDigest::sha384(),
        Some("512") => MessageDigest::sha512(),
        _ => return Err(unsupported()),
    };
    let ok = (|| -> Result<bool, openssl::error::ErrorStack> {
        let mut v = Verifier::new(digest, key)?;
        match &alg[..2] {
            "RS" if key.id() == Id::RSA => v.set_rsa_padding(Padding::PKCS1)?,
            "PS" if key.id() == Id::RSA => {
                v.set_rsa_padding(Padding::PKCS1_PSS)?;
                v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            }
            _ => return Ok(false),
        }
        v.update(input)?;
        v.verify(sig)
    })();
    Ok(ok.unwrap_or(false))
}

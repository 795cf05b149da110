//! HTTP-Redirect binding (SAML Bindings 3.4): the message is raw DEFLATE (RFC 1951),
//! base64, URL-encoded into `SAMLRequest`/`SAMLResponse`; an optional signature covers
//! `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as the octets appeared in the query
//! (Bindings 3.4.4.1), so verification works on the raw query string, never on re-encoded
//! values.

use super::{MessageParam, MAX_RELAY_STATE};
use crate::dsig::{sign_octets, verify_octets, AlgorithmPolicy, SignatureAlgorithm};
use crate::error::{Result, SamlError, SignatureError};
use crate::keys::{Certificate, SigningKey};
use crate::xml::parse::MAX_MESSAGE_BYTES;
use base64::Engine as _;
use std::io::Read;

/// A message received with the HTTP-Redirect binding: decoded, not yet trusted.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    /// Which parameter carried it.
    pub param: MessageParam,
    /// The inflated XML text.
    pub xml: String,
    /// `RelayState`, decoded.
    pub relay_state: Option<String>,
    signature: Option<QuerySignature>,
}

#[derive(Debug, Clone)]
struct QuerySignature {
    sig_alg: String,
    value: Vec<u8>,
    /// The octets that were signed, rebuilt from the raw (still URL-encoded) parameters.
    signed_octets: String,
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Base64 that went through a query string: a stray unencoded `+` arrives as a space.
fn decode_query_base64(raw: &str, what: &'static str) -> Result<Vec<u8>> {
    let text: String = percent_decode(raw)
        .chars()
        .map(|c| if c == ' ' { '+' } else { c })
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| SamlError::Base64(what))
}

/// Raw DEFLATE (Bindings 3.4.4.1: no zlib header), bounded against decompression bombs.
fn inflate(data: &[u8]) -> Result<String> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::Inflate)?;
    if out.len() > MAX_MESSAGE_BYTES {
        return Err(SamlError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    String::from_utf8(out).map_err(|_| SamlError::Inflate)
}

/// Decodes a raw query string (without `?`) received at an HTTP-Redirect endpoint.
/// Parameters are taken exactly once each; unknown parameters are ignored.
pub fn decode_redirect(query: &str) -> Result<RedirectMessage> {
    if query.len() > 4 * MAX_MESSAGE_BYTES {
        return Err(SamlError::TooLarge {
            limit: 4 * MAX_MESSAGE_BYTES,
        });
    }
    let mut found: [Option<&str>; 5] = [None; 5];
    const NAMES: [&str; 5] = [
        "SAMLRequest",
        "SAMLResponse",
        "RelayState",
        "SigAlg",
        "Signature",
    ];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            if found[i].replace(value).is_some() {
                return Err(SamlError::Parameter(format!(
                    "{name} appears more than once"
                )));
            }
        }
    }
    let [req, resp, relay, sig_alg, sig] = found;
    let (param, raw_message) = match (req, resp) {
        (Some(r), None) => (MessageParam::Request, r),
        (None, Some(r)) => (MessageParam::Response, r),
        _ => {
            return Err(SamlError::Parameter(
                "exactly one of SAMLRequest, SAMLResponse".into(),
            ))
        }
    };
    let xml = inflate(&decode_query_base64(raw_message, param.name())?)?;
    let relay_state = relay.map(percent_decode);
    if relay_state
        .as_ref()
        .is_some_and(|r| r.len() > MAX_RELAY_STATE)
    {
        return Err(SamlError::Parameter(format!(
            "RelayState longer than {MAX_RELAY_STATE} bytes"
        )));
    }
    let signature = match (sig_alg, sig) {
        (None, None) => None,
        (Some(alg), Some(value)) => {
            // Bindings 3.4.4.1: the message, then RelayState if present, then SigAlg.
            let mut signed_octets = format!("{}={raw_message}", param.name());
            if let Some(r) = relay {
                signed_octets.push_str(&format!("&RelayState={r}"));
            }
            signed_octets.push_str(&format!("&SigAlg={alg}"));
            Some(QuerySignature {
                sig_alg: percent_decode(alg),
                value: decode_query_base64(value, "Signature")?,
                signed_octets,
            })
        }
        _ => {
            return Err(SamlError::Parameter(
                "SigAlg and Signature must come together".into(),
            ))
        }
    };
    Ok(RedirectMessage {
        param,
        xml,
        relay_state,
        signature,
    })
}

impl RedirectMessage {
    /// Whether the query carried `SigAlg` and `Signature`.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Verifies the query signature with the peer's trusted certificates.
    pub fn verify_signature(
        &self,
        trusted: &[Certificate],
        policy: &AlgorithmPolicy,
    ) -> Result<(), SignatureError> {
        let sig = self.signature.as_ref().ok_or(SignatureError::Missing)?;
        let alg = policy.signature_algorithm(&sig.sig_alg)?;
        verify_octets(trusted, alg, sig.signed_octets.as_bytes(), &sig.value)
    }
}

fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Encodes `xml` for the HTTP-Redirect binding and returns the query string (without `?`),
/// signed with RSA-SHA256 when a key is given (e.g. a LogoutRequest the IdP sends).
pub fn encode_redirect(
    param: MessageParam,
    xml: &str,
    relay_state: Option<&str>,
    key: Option<&SigningKey>,
) -> Result<String> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes())
        .map_err(|_| SamlError::Inflate)?;
    let deflated = enc.finish().map_err(|_| SamlError::Inflate)?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(deflated);
    let mut query = format!("{}={}", param.name(), encode_component(&b64));
    if let Some(r) = relay_state {
        query.push_str(&format!("&RelayState={}", encode_component(r)));
    }
    if let Some(key) = key {
        let alg = SignatureAlgorithm::RsaSha256;
        query.push_str(&format!("&SigAlg={}", encode_component(alg.uri())));
        let sig = sign_octets(key, alg, query.as_bytes())?;
        let sig_b64 = base64::engine::general_purpose::STANDARD.encode(sig);
        query.push_str(&format!("&Signature={}", encode_component(&sig_b64)));
    }
    Ok(query)
}

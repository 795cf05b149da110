//! Receiving an AuthnRequest over either binding and deciding whether to act on it.
//!
//! ```text
//! IncomingAuthnRequest::from_redirect(query) / ::from_post(field, relay_state)
//!     -> .request().issuer         (server looks up the SP's metadata)
//!     -> .accept(&sp, &checks)     (signature, version, time, destination, ACS)
//!     -> AcceptedAuthnRequest      (answer at .acs with InResponseTo = .request.id)
//! ```
//!
//! The replay check (has this request `ID` been seen before?) needs storage and is the
//! server's job; see `docs/SAML.md`.

use super::{from_node, AuthnRequest};
use crate::binding::post::decode_post;
use crate::binding::redirect::{decode_redirect, RedirectMessage};
use crate::binding::{MessageParam, MAX_RELAY_STATE};
use crate::dsig::{signature_child, verify_enveloped, AlgorithmPolicy};
use crate::error::{Result, SamlError, SignatureError};
use crate::metadata::sp::{IndexedEndpoint, SpMetadata};
use crate::ns::Binding;
use crate::xml::parse::parse;
use time::{Duration, OffsetDateTime};

/// The IdP-side rules a request is checked against.
#[derive(Debug, Clone)]
pub struct RequestChecks {
    /// The current time.
    pub now: OffsetDateTime,
    /// Allowed clock difference with the SP (e.g. 3 minutes).
    pub clock_skew: Duration,
    /// How old a request may be (e.g. 5 minutes); bounds the replay cache lifetime too.
    pub max_age: Duration,
    /// The URL of the SSO endpoint that received the request (compared with Destination).
    pub sso_url: String,
    /// Require signatures from every SP (our `WantAuthnRequestsSigned`), not only from SPs
    /// whose metadata says `AuthnRequestsSigned`.
    pub require_signed: bool,
    /// Accepted algorithms.
    pub policy: AlgorithmPolicy,
}

/// A request decoded from a binding, parsed, not yet trusted.
#[derive(Debug, Clone)]
pub struct IncomingAuthnRequest {
    binding: Binding,
    request: AuthnRequest,
    relay_state: Option<String>,
    xml: String,
    redirect: Option<RedirectMessage>,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct AcceptedAuthnRequest {
    /// The request.
    pub request: AuthnRequest,
    /// The binding it came with.
    pub binding: Binding,
    /// `RelayState` to send back unchanged.
    pub relay_state: Option<String>,
    /// Whether its signature was present and verified.
    pub signed: bool,
    /// Where to send the Response (HTTP-POST).
    pub acs: IndexedEndpoint,
}

impl IncomingAuthnRequest {
    /// From the raw query string of a GET to the SSO endpoint (Bindings 3.4).
    pub fn from_redirect(query: &str) -> Result<IncomingAuthnRequest> {
        let msg = decode_redirect(query)?;
        if msg.param != MessageParam::Request {
            return Err(SamlError::Parameter("SAMLRequest expected".into()));
        }
        // Bindings 3.4.4.1: a redirect message must not carry an enveloped signature;
        // its signature is the query's.
        let request = {
            let doc = parse(&msg.xml)?;
            if signature_child(doc.root_element())?.is_some() {
                return Err(
                    SignatureError::Malformed("enveloped signature in HTTP-Redirect").into(),
                );
            }
            from_node(doc.root_element())?
        };
        Ok(IncomingAuthnRequest {
            binding: Binding::HttpRedirect,
            request,
            relay_state: msg.relay_state.clone(),
            xml: msg.xml.clone(),
            redirect: Some(msg),
        })
    }

    /// From the `SAMLRequest` and `RelayState` form fields of a POST (Bindings 3.5).
    pub fn from_post(
        saml_request: &str,
        relay_state: Option<&str>,
    ) -> Result<IncomingAuthnRequest> {
        if relay_state.is_some_and(|r| r.len() > MAX_RELAY_STATE) {
            return Err(SamlError::Parameter(format!(
                "RelayState longer than {MAX_RELAY_STATE} bytes"
            )));
        }
        let xml = decode_post(saml_request)?;
        let request = {
            let doc = parse(&xml)?;
            from_node(doc.root_element())?
        };
        Ok(IncomingAuthnRequest {
            binding: Binding::HttpPost,
            request,
            relay_state: relay_state.map(str::to_owned),
            xml,
            redirect: None,
        })
    }

    /// The parsed (untrusted) request: use `.issuer` to find the SP.
    pub fn request(&self) -> &AuthnRequest {
        &self.request
    }

    /// Whether the request carries a signature (query or enveloped).
    pub fn is_signed(&self) -> Result<bool> {
        match &self.redirect {
            Some(m) => Ok(m.is_signed()),
            None => {
                let doc = parse(&self.xml)?;
                Ok(signature_child(doc.root_element())?.is_some())
            }
        }
    }

    /// Runs every check against the SP's metadata and our rules and returns the request
    /// with its ACS endpoint. Errors say what failed; [`SamlError::status`] gives the
    /// StatusCode, but answer with an error page instead of a Response when the error is
    /// `UnknownAcs`, `IssuerMismatch` or a signature error (the ACS URL is not trusted).
    pub fn accept(self, sp: &SpMetadata, checks: &RequestChecks) -> Result<AcceptedAuthnRequest> {
        let req = &self.request;
        if req.issuer != sp.entity_id {
            return Err(SamlError::IssuerMismatch {
                expected: sp.entity_id.clone(),
                found: req.issuer.clone(),
            });
        }
        // Signature: required when the SP says it signs, or we require it; checked whenever
        // present (a bad signature is never ignored).
        let signed = self.is_signed()?;
        if !signed && (sp.authn_requests_signed || checks.require_signed) {
            return Err(SamlError::UnsignedRequest);
        }
        if signed {
            match &self.redirect {
                Some(m) => m.verify_signature(&sp.signing_certificates, &checks.policy)?,
                None => {
                    let doc = parse(&self.xml)?;
                    verify_enveloped(doc.root_element(), &sp.signing_certificates, &checks.policy)?;
                }
            }
        }
        // Core 3.2.1 / Bindings 3.4.5.2, 3.5.5.2: Destination, when present, is this
        // endpoint; a signed message must name it.
        match &req.destination {
            Some(d) if *d != checks.sso_url => {
                return Err(SamlError::WrongDestination { found: d.clone() })
            }
            None if signed => return Err(SamlError::Missing("Destination on a signed request")),
            _ => {}
        }
        // IssueInstant within [now - max_age - skew, now + skew].
        let t = req.issue_instant;
        if t > checks.now + checks.clock_skew || t < checks.now - checks.max_age - checks.clock_skew
        {
            return Err(SamlError::IssueInstantOutOfWindow(
                crate::ids::format_instant(t),
            ));
        }
        let acs = sp.resolve_acs(req)?.clone();
        Ok(AcceptedAuthnRequest {
            request: self.request,
            binding: self.binding,
            relay_state: self.relay_state,
            signed,
            acs,
        })
    }
}

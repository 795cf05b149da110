//! Parsing SP metadata (SAML Metadata 2.3.2 EntityDescriptor, 2.4.4 SPSSODescriptor) and
//! choosing the AssertionConsumerService for a request (SAML Profiles 4.1.4.1: the IdP
//! must make sure the ACS location belongs to the SP; an unknown URL is refused).

use crate::authn_request::{AcsRequest, AuthnRequest};
use crate::error::{Result, SamlError};
use crate::keys::Certificate;
use crate::ns::{self, Binding, NameIdFormat};
use crate::xml::parse::{bool_attr, children, expect, is, parse, required_attr, simple_text};
use roxmltree::Node;

/// An endpoint (Metadata 2.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The binding URI as written (may be one this crate does not speak).
    pub binding: String,
    /// `Location`.
    pub location: String,
    /// `ResponseLocation`, if any.
    pub response_location: Option<String>,
}

/// An indexed endpoint (Metadata 2.2.3): an AssertionConsumerService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEndpoint {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// `index`.
    pub index: u16,
    /// `isDefault`, if written.
    pub is_default: Option<bool>,
}

/// What Kakehashi needs from an SP's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct SpMetadata {
    /// `entityID`.
    pub entity_id: String,
    /// `AuthnRequestsSigned`: the SP signs its requests, so unsigned ones are refused.
    pub authn_requests_signed: bool,
    /// `WantAssertionsSigned`: sign the Assertion (not only the Response).
    pub want_assertions_signed: bool,
    /// Certificates from KeyDescriptors with `use="signing"` or no `use`.
    pub signing_certificates: Vec<Certificate>,
    /// AssertionConsumerService endpoints.
    pub assertion_consumer_services: Vec<IndexedEndpoint>,
    /// SingleLogoutService endpoints.
    pub single_logout_services: Vec<Endpoint>,
    /// NameIDFormats the SP supports, in its order of preference.
    pub name_id_formats: Vec<NameIdFormat>,
}

fn endpoint(node: Node<'_, '_>) -> Result<Endpoint> {
    Ok(Endpoint {
        binding: required_attr(node, "Binding")?.to_owned(),
        location: required_attr(node, "Location")?.to_owned(),
        response_location: node.attribute("ResponseLocation").map(str::to_owned),
    })
}

impl SpMetadata {
    /// Parses an `md:EntityDescriptor` holding an `md:SPSSODescriptor` for SAML 2.0.
    /// (A signature on the metadata, if any, is not checked here: metadata is configured
    /// by an administrator.)
    pub fn parse(xml: &str) -> Result<SpMetadata> {
        let doc = parse(xml)?;
        let root = doc.root_element();
        expect(root, ns::METADATA, "EntityDescriptor")?;
        let entity_id = required_attr(root, "entityID")?.to_owned();
        // Metadata 2.4.1: protocolSupportEnumeration must list SAML 2.0.
        let sp = children(root, ns::METADATA, "SPSSODescriptor")
            .find(|d| {
                d.attribute("protocolSupportEnumeration")
                    .is_some_and(|p| p.split_ascii_whitespace().any(|u| u == ns::PROTOCOL))
            })
            .ok_or(SamlError::Missing("SPSSODescriptor for SAML 2.0"))?;

        let mut signing_certificates = Vec::new();
        for kd in children(sp, ns::METADATA, "KeyDescriptor") {
            if !matches!(kd.attribute("use"), None | Some("signing")) {
                continue;
            }
            for cert in kd
                .descendants()
                .filter(|n| is(*n, ns::DSIG, "X509Certificate"))
            {
                signing_certificates.push(Certificate::from_base64_der(&simple_text(
                    cert,
                    "X509Certificate",
                )?)?);
            }
        }
        let mut acs = Vec::new();
        for node in children(sp, ns::METADATA, "AssertionConsumerService") {
            let index_text = required_attr(node, "index")?;
            let index = index_text
                .parse::<u16>()
                .map_err(|_| SamlError::InvalidValue {
                    what: "AssertionConsumerService index",
                    value: index_text.to_owned(),
                })?;
            acs.push(IndexedEndpoint {
                endpoint: endpoint(node)?,
                index,
                is_default: bool_attr(node, "isDefault")?,
            });
        }
        if acs.is_empty() {
            return Err(SamlError::Missing("AssertionConsumerService"));
        }
        let single_logout_services = children(sp, ns::METADATA, "SingleLogoutService")
            .map(endpoint)
            .collect::<Result<Vec<_>>>()?;
        let name_id_formats = children(sp, ns::METADATA, "NameIDFormat")
            .map(|n| simple_text(n, "NameIDFormat").map(|t| NameIdFormat::from_uri(&t)))
            .collect::<Result<Vec<_>>>()?;
        Ok(SpMetadata {
            entity_id,
            authn_requests_signed: bool_attr(sp, "AuthnRequestsSigned")?.unwrap_or(false),
            want_assertions_signed: bool_attr(sp, "WantAssertionsSigned")?.unwrap_or(false),
            signing_certificates,
            assertion_consumer_services: acs,
            single_logout_services,
            name_id_formats,
        })
    }

    /// An SP registered without metadata (`--saml-entity-id`, `--saml-acs-url`): one
    /// HTTP-POST ACS, unsigned requests, no certificate.
    pub fn from_acs_url(entity_id: &str, acs_url: &str) -> SpMetadata {
        SpMetadata {
            entity_id: entity_id.to_owned(),
            authn_requests_signed: false,
            want_assertions_signed: true,
            signing_certificates: Vec::new(),
            assertion_consumer_services: vec![IndexedEndpoint {
                endpoint: Endpoint {
                    binding: Binding::HttpPost.uri().to_owned(),
                    location: acs_url.to_owned(),
                    response_location: None,
                },
                index: 0,
                is_default: Some(true),
            }],
            single_logout_services: Vec::new(),
            name_id_formats: Vec::new(),
        }
    }

    /// The ACS endpoint with exactly this `Location` and the HTTP-POST binding, if registered.
    pub fn acs_by_url(&self, url: &str) -> Option<&IndexedEndpoint> {
        self.post_acs().find(|e| e.endpoint.location == url)
    }

    fn post_acs(&self) -> impl Iterator<Item = &IndexedEndpoint> {
        self.assertion_consumer_services
            .iter()
            .filter(|e| e.endpoint.binding == Binding::HttpPost.uri())
    }

    /// The default HTTP-POST ACS (Metadata 2.2.3: `isDefault="true"`, else the first without
    /// `isDefault="false"`, else the first), used for IdP-initiated SSO and requests that
    /// name no ACS.
    pub fn default_acs(&self) -> Result<&IndexedEndpoint> {
        self.post_acs()
            .find(|e| e.is_default == Some(true))
            .or_else(|| self.post_acs().find(|e| e.is_default.is_none()))
            .or_else(|| self.post_acs().next())
            .ok_or_else(|| {
                SamlError::UnsupportedBinding("no HTTP-POST AssertionConsumerService".into())
            })
    }

    /// The ACS to answer `request` at (Profiles 4.1.4.1, Core 3.4.1). Responses are sent
    /// with HTTP-POST only (Profiles 4.1.2 forbids HTTP-Redirect for Responses).
    pub fn resolve_acs(&self, request: &AuthnRequest) -> Result<&IndexedEndpoint> {
        if let Some(b) = &request.protocol_binding {
            if b != Binding::HttpPost.uri() {
                return Err(SamlError::UnsupportedBinding(b.clone()));
            }
        }
        match &request.acs {
            AcsRequest::Default => self.default_acs(),
            AcsRequest::Url(url) => self
                .acs_by_url(url)
                .ok_or_else(|| SamlError::UnknownAcs(url.clone())),
            AcsRequest::Index(i) => self
                .assertion_consumer_services
                .iter()
                .find(|e| e.index == *i)
                .ok_or_else(|| SamlError::UnknownAcs(format!("index {i}")))
                .and_then(|e| {
                    if e.endpoint.binding == Binding::HttpPost.uri() {
                        Ok(e)
                    } else {
                        Err(SamlError::UnsupportedBinding(e.endpoint.binding.clone()))
                    }
                }),
        }
    }
}

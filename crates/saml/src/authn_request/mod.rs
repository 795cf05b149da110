//! `<samlp:AuthnRequest>` (SAML Core 3.4.1): the typed request ([`AuthnRequest`]), its
//! parser ([`parse_authn_request`]), and the receiving flow for both bindings with every
//! check a server needs ([`IncomingAuthnRequest`] in [`receive`]).

mod receive;

pub use receive::{AcceptedAuthnRequest, IncomingAuthnRequest, RequestChecks};

use crate::authn_context::{AuthnContextClass, Comparison, RequestedAuthnContext};
use crate::error::{Result, SamlError};
use crate::ids::{parse_instant, SamlId};
use crate::ns::{self, NameIdFormat};
use crate::xml::parse::{
    bool_attr, children, expect, optional_child, parse, required_attr, simple_text,
};
use roxmltree::Node;
use time::OffsetDateTime;

/// Where the SP asks the Response to go (Core 3.4.1: URL and index are exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsRequest {
    /// Neither given: the SP's default ACS.
    Default,
    /// `AssertionConsumerServiceURL` (must be registered in metadata).
    Url(String),
    /// `AssertionConsumerServiceIndex`.
    Index(u16),
}

/// `<samlp:NameIDPolicy>` (Core 3.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameIdPolicy {
    /// `Format`, if given.
    pub format: Option<NameIdFormat>,
    /// `AllowCreate` (default false).
    pub allow_create: bool,
    /// `SPNameQualifier`, if given.
    pub sp_name_qualifier: Option<String>,
}

/// A parsed AuthnRequest. Parsing alone does not make it trustworthy: use
/// [`IncomingAuthnRequest::accept`].
#[derive(Debug, Clone, PartialEq)]
pub struct AuthnRequest {
    /// `ID`, for `InResponseTo` and the replay cache.
    pub id: SamlId,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`, if given.
    pub destination: Option<String>,
    /// `Issuer`: the SP's entity id (Profiles 4.1.4.1: required).
    pub issuer: String,
    /// The requested ACS.
    pub acs: AcsRequest,
    /// `ProtocolBinding` for the Response, if given.
    pub protocol_binding: Option<String>,
    /// `NameIDPolicy`, if given.
    pub name_id_policy: Option<NameIdPolicy>,
    /// `ForceAuthn`: authenticate again even with a session.
    pub force_authn: bool,
    /// `IsPassive`: do not interact with the user.
    pub is_passive: bool,
    /// `RequestedAuthnContext`, if given.
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// `ProviderName`, for display.
    pub provider_name: Option<String>,
}

/// Parses AuthnRequest XML text (no signature check; no time or destination check).
pub fn parse_authn_request(xml: &str) -> Result<AuthnRequest> {
    let doc = parse(xml)?;
    from_node(doc.root_element())
}

pub(crate) fn from_node(root: Node<'_, '_>) -> Result<AuthnRequest> {
    expect(root, ns::PROTOCOL, "AuthnRequest")?;
    let version = required_attr(root, "Version")?;
    if version != "2.0" {
        return Err(SamlError::VersionMismatch(version.to_owned()));
    }
    let id = SamlId::parse(required_attr(root, "ID")?)?;
    let issue_instant = parse_instant(required_attr(root, "IssueInstant")?, "IssueInstant")?;
    let issuer_node =
        optional_child(root, ns::ASSERTION, "Issuer")?.ok_or(SamlError::Missing("Issuer"))?;
    // Core 8.3.6 / Profiles 4.1.4.1: an Issuer Format, if any, must be "entity".
    if let Some(f) = issuer_node.attribute("Format") {
        if f != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity" {
            return Err(SamlError::InvalidValue {
                what: "Issuer Format",
                value: f.to_owned(),
            });
        }
    }
    let issuer = simple_text(issuer_node, "Issuer")?;
    if issuer.is_empty() {
        return Err(SamlError::Missing("Issuer"));
    }
    let acs_url = root.attribute("AssertionConsumerServiceURL");
    let acs_index = root.attribute("AssertionConsumerServiceIndex");
    let acs = match (acs_url, acs_index) {
        (None, None) => AcsRequest::Default,
        (Some(u), None) => AcsRequest::Url(u.to_owned()),
        (None, Some(i)) => AcsRequest::Index(i.parse().map_err(|_| SamlError::InvalidValue {
            what: "AssertionConsumerServiceIndex",
            value: i.to_owned(),
        })?),
        (Some(_), Some(_)) => {
            return Err(SamlError::InvalidValue {
                what: "AssertionConsumerService",
                value: "both URL and index given (SAML Core 3.4.1)".into(),
            })
        }
    };
    let name_id_policy = optional_child(root, ns::PROTOCOL, "NameIDPolicy")?
        .map(|n| -> Result<NameIdPolicy> {
            Ok(NameIdPolicy {
                format: n.attribute("Format").map(NameIdFormat::from_uri),
                allow_create: bool_attr(n, "AllowCreate")?.unwrap_or(false),
                sp_name_qualifier: n.attribute("SPNameQualifier").map(str::to_owned),
            })
        })
        .transpose()?;
    let requested_authn_context = optional_child(root, ns::PROTOCOL, "RequestedAuthnContext")?
        .map(requested_authn_context)
        .transpose()?;
    Ok(AuthnRequest {
        id,
        issue_instant,
        destination: root.attribute("Destination").map(str::to_owned),
        issuer,
        acs,
        protocol_binding: root.attribute("ProtocolBinding").map(str::to_owned),
        name_id_policy,
        force_authn: bool_attr(root, "ForceAuthn")?.unwrap_or(false),
        is_passive: bool_attr(root, "IsPassive")?.unwrap_or(false),
        requested_authn_context,
        provider_name: root.attribute("ProviderName").map(str::to_owned),
    })
}

/// Core 3.3.2.2.1: Comparison (default exact) and one or more AuthnContextClassRef.
fn requested_authn_context(node: Node<'_, '_>) -> Result<RequestedAuthnContext> {
    let comparison = match node.attribute("Comparison") {
        None | Some("exact") => Comparison::Exact,
        Some("minimum") => Comparison::Minimum,
        Some("maximum") => Comparison::Maximum,
        Some("better") => Comparison::Better,
        Some(v) => {
            return Err(SamlError::InvalidValue {
                what: "Comparison",
                value: v.to_owned(),
            })
        }
    };
    if children(node, ns::ASSERTION, "AuthnContextDeclRef")
        .next()
        .is_some()
    {
        return Err(SamlError::InvalidValue {
            what: "RequestedAuthnContext",
            value: "AuthnContextDeclRef is not supported".into(),
        });
    }
    let classes = children(node, ns::ASSERTION, "AuthnContextClassRef")
        .map(|n| simple_text(n, "AuthnContextClassRef").map(|t| AuthnContextClass::from_uri(&t)))
        .collect::<Result<Vec<_>>>()?;
    if classes.is_empty() {
        return Err(SamlError::Missing("AuthnContextClassRef"));
    }
    Ok(RequestedAuthnContext {
        comparison,
        classes,
    })
}

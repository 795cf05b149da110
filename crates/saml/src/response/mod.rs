//! Building `<samlp:Response>` messages (SAML Core 3.3.3, 2.3.3) for the Web Browser SSO
//! Profile (SAML Profiles 4.1.4.2): one Assertion with a bearer SubjectConfirmation, an
//! AudienceRestriction, one AuthnStatement and an optional AttributeStatement; and error
//! Responses that carry only a Status.
//!
//! Everything time- or randomness-dependent comes from the caller: IDs ([`crate::SamlId`]),
//! `issue_instant`, validity windows.

mod assertion;
mod error_response;

pub use error_response::{build_error_response, ErrorResponse};

use crate::authn_context::AuthnContextClass;
use crate::dsig::sign_enveloped;
use crate::error::Result;
use crate::ids::{format_instant, SamlId};
use crate::keys::SigningKey;
use crate::ns::{self, NameIdFormat};
use crate::status::StatusCode;
use crate::xml::write::Element;
use time::OffsetDateTime;

/// The `<saml:NameID>` (SAML Core 2.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    /// The identifier: for `persistent` a pairwise opaque value the caller derives per SP
    /// (Core 8.3.7); for `unspecified` the username.
    pub value: String,
    /// The format.
    pub format: NameIdFormat,
    /// `NameQualifier` (for persistent: the IdP entity id), if wanted.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier` (for persistent: the SP entity id), if wanted.
    pub sp_name_qualifier: Option<String>,
}

/// `NameFormat` of an attribute (SAML Core 8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeNameFormat {
    /// `urn:oasis:names:tc:SAML:2.0:attrname-format:uri` (e.g. `urn:oid:…`).
    Uri,
    /// `urn:oasis:names:tc:SAML:2.0:attrname-format:basic` (a simple name).
    Basic,
    /// `urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified`.
    Unspecified,
}

impl AttributeNameFormat {
    /// The format URI.
    pub fn uri(self) -> &'static str {
        match self {
            AttributeNameFormat::Uri => "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
            AttributeNameFormat::Basic => "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
            AttributeNameFormat::Unspecified => {
                "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
            }
        }
    }
}

/// One `<saml:Attribute>` with string values (`xsi:type="xs:string"`), kept exactly
/// (UTF-8, e.g. `𠮷田`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `Name`, e.g. `urn:oid:0.9.2342.19200300.100.1.3` or `displayName`.
    pub name: String,
    /// `NameFormat`.
    pub name_format: AttributeNameFormat,
    /// `FriendlyName`, if any.
    pub friendly_name: Option<String>,
    /// The values, in order (may be several).
    pub values: Vec<String>,
}

/// What to sign (per SP: metadata `WantAssertionsSigned`, or the app's setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignaturePlacement {
    /// Sign the Assertion only.
    Assertion,
    /// Sign the Response only.
    Response,
    /// Sign the Assertion, then the Response over it.
    Both,
}

/// The `<saml:AuthnStatement>` (SAML Core 2.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnStatement {
    /// When the user authenticated (not now, if an existing portal session is reused).
    pub authn_instant: OffsetDateTime,
    /// `SessionIndex`: the caller's handle for this SP session, needed for Single Logout.
    pub session_index: String,
    /// `SessionNotOnOrAfter`: when the SP should end its session, if the IdP says.
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// What was actually done (see [`crate::authn_context`]).
    pub class: AuthnContextClass,
}

/// Everything a successful Response says. The validity window runs from `not_before` to
/// `not_on_or_after`, which also bounds the bearer confirmation (Profiles 4.1.4.2).
#[derive(Debug, Clone)]
pub struct SuccessResponse {
    /// The Response `ID` (fresh, random).
    pub response_id: SamlId,
    /// The Assertion `ID` (fresh, random; the SP's one-time-use key).
    pub assertion_id: SamlId,
    /// `IssueInstant` of both.
    pub issue_instant: OffsetDateTime,
    /// Our entity id (`Issuer`).
    pub idp_entity_id: String,
    /// The SP entity id (`Audience`).
    pub sp_entity_id: String,
    /// The ACS URL: `Destination` and `Recipient`.
    pub acs_url: String,
    /// The AuthnRequest `ID`; `None` for IdP-initiated SSO (Profiles 4.1.5).
    pub in_response_to: Option<String>,
    /// The subject.
    pub name_id: NameId,
    /// `Conditions/@NotBefore` (usually `issue_instant` minus a small skew allowance).
    pub not_before: OffsetDateTime,
    /// `Conditions/@NotOnOrAfter` and `SubjectConfirmationData/@NotOnOrAfter`.
    pub not_on_or_after: OffsetDateTime,
    /// The authentication statement.
    pub authn: AuthnStatement,
    /// Attributes released to this SP (empty: no AttributeStatement).
    pub attributes: Vec<Attribute>,
    /// What to sign.
    pub signature: SignaturePlacement,
}

/// Builds and signs a successful Response. Returns the XML text to send (HTTP-POST binding:
/// base64 it into `SAMLResponse`, see [`crate::binding::post`]).
pub fn build_response(r: &SuccessResponse, key: &SigningKey) -> Result<String> {
    let assertion = assertion::assertion_element(r);
    let response = Element::new("samlp:Response")
        .attr("xmlns:samlp", ns::PROTOCOL)
        .attr("xmlns:saml", ns::ASSERTION)
        .attr("ID", r.response_id.as_str())
        .attr("Version", "2.0")
        .attr("IssueInstant", format_instant(r.issue_instant))
        .attr("Destination", r.acs_url.as_str())
        .attr_opt("InResponseTo", r.in_response_to.as_deref())
        .child(Element::new("saml:Issuer").text(r.idp_entity_id.as_str()))
        .child(status_element(StatusCode::Success, None, None))
        .child(assertion);
    let mut xml = response.render();
    // Both: the assertion first, so the response signature covers the assertion's.
    if matches!(
        r.signature,
        SignaturePlacement::Assertion | SignaturePlacement::Both
    ) {
        xml = sign_enveloped(&xml, r.assertion_id.as_str(), key)?;
    }
    if matches!(
        r.signature,
        SignaturePlacement::Response | SignaturePlacement::Both
    ) {
        xml = sign_enveloped(&xml, r.response_id.as_str(), key)?;
    }
    Ok(xml)
}

/// `<samlp:Status>` (SAML Core 3.2.2.1).
pub(crate) fn status_element(
    code: StatusCode,
    sub: Option<crate::status::SubStatusCode>,
    message: Option<&str>,
) -> Element {
    let sub_el = sub.map(|s| Element::new("samlp:StatusCode").attr("Value", s.uri()));
    Element::new("samlp:Status")
        .child(
            Element::new("samlp:StatusCode")
                .attr("Value", code.uri())
                .child_opt(sub_el),
        )
        .child_opt(message.map(|m| Element::new("samlp:StatusMessage").text(m)))
}

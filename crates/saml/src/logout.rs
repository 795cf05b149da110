//! Single Logout messages (SAML Core 3.7): parsing a `<samlp:LogoutRequest>` from an SP and
//! building the `<samlp:LogoutResponse>` (and a LogoutRequest to send to an SP).
//! Transport: [`crate::binding`]; signatures: verify an HTTP-Redirect one with
//! [`crate::binding::redirect::RedirectMessage::verify_signature`], an HTTP-POST one with
//! [`crate::dsig::verify_enveloped`] on the root.

use crate::error::{Result, SamlError};
use crate::ids::{format_instant, parse_instant, SamlId};
use crate::keys::SigningKey;
use crate::ns::{self, NameIdFormat};
use crate::response::{status_element, NameId};
use crate::status::{StatusCode, SubStatusCode};
use crate::xml::parse::{children, expect, optional_child, parse, required_attr, simple_text};
use crate::xml::write::Element;
use time::OffsetDateTime;

/// A parsed LogoutRequest (Core 3.7.1).
#[derive(Debug, Clone, PartialEq)]
pub struct LogoutRequest {
    /// `ID`.
    pub id: SamlId,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`, if given.
    pub destination: Option<String>,
    /// `NotOnOrAfter`, if given.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `Issuer` (the SP).
    pub issuer: String,
    /// The principal's NameID.
    pub name_id: NameId,
    /// The session indexes to end (empty: all of the principal's sessions at this SP).
    pub session_indexes: Vec<String>,
}

/// Parses LogoutRequest XML (no signature check).
pub fn parse_logout_request(xml: &str) -> Result<LogoutRequest> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    expect(root, ns::PROTOCOL, "LogoutRequest")?;
    let version = required_attr(root, "Version")?;
    if version != "2.0" {
        return Err(SamlError::VersionMismatch(version.to_owned()));
    }
    let issuer =
        optional_child(root, ns::ASSERTION, "Issuer")?.ok_or(SamlError::Missing("Issuer"))?;
    let name_id = optional_child(root, ns::ASSERTION, "NameID")?
        .ok_or(SamlError::Missing("NameID (EncryptedID is not supported)"))?;
    Ok(LogoutRequest {
        id: SamlId::parse(required_attr(root, "ID")?)?,
        issue_instant: parse_instant(required_attr(root, "IssueInstant")?, "IssueInstant")?,
        destination: root.attribute("Destination").map(str::to_owned),
        not_on_or_after: root
            .attribute("NotOnOrAfter")
            .map(|t| parse_instant(t, "NotOnOrAfter"))
            .transpose()?,
        issuer: simple_text(issuer, "Issuer")?,
        name_id: NameId {
            value: simple_text(name_id, "NameID")?,
            format: NameIdFormat::from_uri(
                name_id
                    .attribute("Format")
                    .unwrap_or(NameIdFormat::Unspecified.uri()),
            ),
            name_qualifier: name_id.attribute("NameQualifier").map(str::to_owned),
            sp_name_qualifier: name_id.attribute("SPNameQualifier").map(str::to_owned),
        },
        session_indexes: children(root, ns::PROTOCOL, "SessionIndex")
            .map(|n| simple_text(n, "SessionIndex"))
            .collect::<Result<Vec<_>>>()?,
    })
}

/// A LogoutResponse to build (Core 3.7.2).
#[derive(Debug, Clone)]
pub struct LogoutResponse {
    /// `ID`.
    pub id: SamlId,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// Our entity id.
    pub idp_entity_id: String,
    /// The SP's SingleLogoutService (ResponseLocation or Location).
    pub destination: String,
    /// The LogoutRequest `ID`.
    pub in_response_to: String,
    /// `Success`, or an error code (e.g. `Responder` + `PartialLogout` is not modelled).
    pub status: StatusCode,
    /// Second-level code, if any.
    pub sub_status: Option<SubStatusCode>,
}

impl LogoutResponse {
    /// The XML, enveloped-signed when a key is given (HTTP-POST); for HTTP-Redirect pass no
    /// key here and sign the query with [`crate::binding::redirect::encode_redirect`].
    pub fn to_xml(&self, key: Option<&SigningKey>) -> Result<String> {
        let xml = Element::new("samlp:LogoutResponse")
            .attr("xmlns:samlp", ns::PROTOCOL)
            .attr("xmlns:saml", ns::ASSERTION)
            .attr("ID", self.id.as_str())
            .attr("Version", "2.0")
            .attr("IssueInstant", format_instant(self.issue_instant))
            .attr("Destination", self.destination.as_str())
            .attr("InResponseTo", self.in_response_to.as_str())
            .child(Element::new("saml:Issuer").text(self.idp_entity_id.as_str()))
            .child(status_element(self.status, self.sub_status, None))
            .render();
        match key {
            Some(k) => crate::dsig::sign_enveloped(&xml, self.id.as_str(), k),
            None => Ok(xml),
        }
    }
}

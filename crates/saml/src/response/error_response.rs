//! Error Responses (SAML Core 3.2.2.2): a Status with a top-level code, an optional
//! second-level code and an optional StatusMessage, and no Assertion.

use super::status_element;
use crate::dsig::sign_enveloped;
use crate::error::Result;
use crate::ids::{format_instant, SamlId};
use crate::keys::SigningKey;
use crate::ns;
use crate::status::{StatusCode, SubStatusCode};
use crate::xml::write::Element;
use time::OffsetDateTime;

/// An error Response to send to a trustworthy ACS URL.
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    /// The Response `ID`.
    pub response_id: SamlId,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// Our entity id.
    pub idp_entity_id: String,
    /// The ACS URL (`Destination`).
    pub acs_url: String,
    /// The AuthnRequest `ID`, when known.
    pub in_response_to: Option<String>,
    /// Top-level code (`Requester`, `Responder`, `VersionMismatch`).
    pub status: StatusCode,
    /// Second-level code, e.g. `NoPassive`.
    pub sub_status: Option<SubStatusCode>,
    /// A human-readable `StatusMessage` (do not leak internals).
    pub message: Option<String>,
}

/// Builds an error Response, signed when a key is given (recommended: Bindings 3.5.5.2).
pub fn build_error_response(r: &ErrorResponse, key: Option<&SigningKey>) -> Result<String> {
    let xml = Element::new("samlp:Response")
        .attr("xmlns:samlp", ns::PROTOCOL)
        .attr("xmlns:saml", ns::ASSERTION)
        .attr("ID", r.response_id.as_str())
        .attr("Version", "2.0")
        .attr("IssueInstant", format_instant(r.issue_instant))
        .attr("Destination", r.acs_url.as_str())
        .attr_opt("InResponseTo", r.in_response_to.as_deref())
        .child(Element::new("saml:Issuer").text(r.idp_entity_id.as_str()))
        .child(status_element(r.status, r.sub_status, r.message.as_deref()))
        .render();
    match key {
        Some(k) => sign_enveloped(&xml, r.response_id.as_str(), k),
        None => Ok(xml),
    }
}

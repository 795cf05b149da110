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

/// A LogoutRequest the IdP sends to an SP (Core 3.7.1; Profiles 4.4.3.3: the IdP propagates
/// a logout to every other SP of the principal's session).
#[derive(Debug, Clone)]
pub struct OutgoingLogoutRequest {
    /// `ID`.
    pub id: SamlId,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `NotOnOrAfter`: how long the SP may act on it.
    pub not_on_or_after: OffsetDateTime,
    /// Our entity id.
    pub idp_entity_id: String,
    /// The SP's SingleLogoutService `Location`.
    pub destination: String,
    /// The principal's NameID as issued to this SP.
    pub name_id: NameId,
    /// The `SessionIndex` of the assertion that started the SP's session.
    pub session_index: String,
}

impl OutgoingLogoutRequest {
    /// The XML, enveloped-signed when a key is given (HTTP-POST); for HTTP-Redirect pass no
    /// key and sign the query with [`crate::binding::redirect::encode_redirect`].
    pub fn to_xml(&self, key: Option<&SigningKey>) -> Result<String> {
        let n = &self.name_id;
        let xml = Element::new("samlp:LogoutRequest")
            .attr("xmlns:samlp", ns::PROTOCOL)
            .attr("xmlns:saml", ns::ASSERTION)
            .attr("ID", self.id.as_str())
            .attr("Version", "2.0")
            .attr("IssueInstant", format_instant(self.issue_instant))
            .attr("Destination", self.destination.as_str())
            .attr("NotOnOrAfter", format_instant(self.not_on_or_after))
            .child(Element::new("saml:Issuer").text(self.idp_entity_id.as_str()))
            .child(
                Element::new("saml:NameID")
                    .attr_opt("NameQualifier", n.name_qualifier.as_deref())
                    .attr_opt("SPNameQualifier", n.sp_name_qualifier.as_deref())
                    .attr("Format", n.format.uri())
                    .text(n.value.as_str()),
            )
            .child(Element::new("samlp:SessionIndex").text(self.session_index.as_str()))
            .render();
        match key {
            Some(k) => crate::dsig::sign_enveloped(&xml, self.id.as_str(), k),
            None => Ok(xml),
        }
    }
}

/// A parsed LogoutResponse from an SP (Core 3.7.2; no signature check here).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedLogoutResponse {
    pub id: SamlId,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<String>,
    /// The ID of our LogoutRequest.
    pub in_response_to: Option<String>,
    /// `Issuer` (the SP).
    pub issuer: String,
    /// The top-level `StatusCode` URI.
    pub status: String,
}

/// Parses LogoutResponse XML (no signature check).
pub fn parse_logout_response(xml: &str) -> Result<ReceivedLogoutResponse> {
    let doc = parse(xml)?;
    let root = doc.root_element();
    expect(root, ns::PROTOCOL, "LogoutResponse")?;
    let version = required_attr(root, "Version")?;
    if version != "2.0" {
        return Err(SamlError::VersionMismatch(version.to_owned()));
    }
    let issuer =
        optional_child(root, ns::ASSERTION, "Issuer")?.ok_or(SamlError::Missing("Issuer"))?;
    let status =
        optional_child(root, ns::PROTOCOL, "Status")?.ok_or(SamlError::Missing("Status"))?;
    let code = optional_child(status, ns::PROTOCOL, "StatusCode")?
        .ok_or(SamlError::Missing("StatusCode"))?;
    Ok(ReceivedLogoutResponse {
        id: SamlId::parse(required_attr(root, "ID")?)?,
        issue_instant: parse_instant(required_attr(root, "IssueInstant")?, "IssueInstant")?,
        destination: root.attribute("Destination").map(str::to_owned),
        in_response_to: root.attribute("InResponseTo").map(str::to_owned),
        issuer: simple_text(issuer, "Issuer")?,
        status: required_attr(code, "Value")?.to_owned(),
    })
}

#[cfg(test)]
mod outgoing_tests {
    use super::*;
    use crate::ids::OsRng;

    /// Core 3.7.1: our LogoutRequest carries Issuer, NameID as issued, SessionIndex,
    /// Destination and NotOnOrAfter; it reads back with our own parser.
    #[test]
    fn core_3_7_1_an_outgoing_logout_request_round_trips() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let req = OutgoingLogoutRequest {
            id: SamlId::random(&mut OsRng),
            issue_instant: now,
            not_on_or_after: now + time::Duration::minutes(5),
            idp_entity_id: "https://portal.example/t/a/saml/metadata".into(),
            destination: "https://sp.example/slo".into(),
            name_id: NameId {
                value: "abc".into(),
                format: NameIdFormat::Persistent,
                name_qualifier: Some("https://portal.example/t/a/saml/metadata".into()),
                sp_name_qualifier: Some("https://sp.example".into()),
            },
            session_index: "_s1".into(),
        };
        let back = parse_logout_request(&req.to_xml(None).unwrap()).unwrap();
        assert_eq!(back.id, req.id);
        assert_eq!(back.issuer, req.idp_entity_id);
        assert_eq!(back.name_id, req.name_id);
        assert_eq!(back.session_indexes, vec!["_s1".to_owned()]);
        assert_eq!(back.destination.as_deref(), Some("https://sp.example/slo"));
        assert_eq!(back.not_on_or_after, Some(req.not_on_or_after));
    }

    #[test]
    fn core_3_7_2_a_logout_response_is_read_with_its_status() {
        let xml = r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-11-23T10:00:00Z" Destination="https://portal.example/t/a/saml/slo" InResponseTo="_q1"><saml:Issuer>https://sp.example</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#;
        let r = parse_logout_response(xml).unwrap();
        assert_eq!(r.in_response_to.as_deref(), Some("_q1"));
        assert_eq!(r.issuer, "https://sp.example");
        assert_eq!(r.status, "urn:oasis:names:tc:SAML:2.0:status:Success");
        assert!(parse_logout_response(&xml.replace("LogoutResponse", "Response")).is_err());
    }
}

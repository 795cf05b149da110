//! The `<saml:Assertion>` of a successful Response (SAML Core 2.3.3; Profiles 4.1.4.2).

use super::SuccessResponse;
use crate::ids::format_instant;
use crate::ns;
use crate::xml::write::Element;

/// `urn:oasis:names:tc:SAML:2.0:cm:bearer` (SAML Profiles 3.3).
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

pub(super) fn assertion_element(r: &SuccessResponse) -> Element {
    let issuer = Element::new("saml:Issuer").text(r.idp_entity_id.as_str());
    let name_id = Element::new("saml:NameID")
        .attr_opt("NameQualifier", r.name_id.name_qualifier.as_deref())
        .attr_opt("SPNameQualifier", r.name_id.sp_name_qualifier.as_deref())
        .attr("Format", r.name_id.format.uri())
        .text(r.name_id.value.as_str());
    // Profiles 4.1.4.2: bearer confirmation data has Recipient, NotOnOrAfter, InResponseTo
    // (when answering a request) and no NotBefore.
    let confirmation = Element::new("saml:SubjectConfirmation")
        .attr("Method", BEARER)
        .child(
            Element::new("saml:SubjectConfirmationData")
                .attr_opt("InResponseTo", r.in_response_to.as_deref())
                .attr("NotOnOrAfter", format_instant(r.not_on_or_after))
                .attr("Recipient", r.acs_url.as_str()),
        );
    let subject = Element::new("saml:Subject")
        .child(name_id)
        .child(confirmation);
    let conditions = Element::new("saml:Conditions")
        .attr("NotBefore", format_instant(r.not_before))
        .attr("NotOnOrAfter", format_instant(r.not_on_or_after))
        .child(
            Element::new("saml:AudienceRestriction")
                .child(Element::new("saml:Audience").text(r.sp_entity_id.as_str())),
        );
    let authn = Element::new("saml:AuthnStatement")
        .attr("AuthnInstant", format_instant(r.authn.authn_instant))
        .attr("SessionIndex", r.authn.session_index.as_str())
        .attr_opt(
            "SessionNotOnOrAfter",
            r.authn.session_not_on_or_after.map(format_instant),
        )
        .child(
            Element::new("saml:AuthnContext")
                .child(Element::new("saml:AuthnContextClassRef").text(r.authn.class.uri())),
        );
    let attributes = (!r.attributes.is_empty()).then(|| {
        Element::new("saml:AttributeStatement").children(r.attributes.iter().map(|a| {
            Element::new("saml:Attribute")
                .attr("Name", a.name.as_str())
                .attr("NameFormat", a.name_format.uri())
                .attr_opt("FriendlyName", a.friendly_name.as_deref())
                .children(a.values.iter().map(|v| {
                    Element::new("saml:AttributeValue")
                        .attr("xsi:type", "xs:string")
                        .text(v.as_str())
                }))
        }))
    });
    // The Assertion declares every namespace it uses so it stands alone when an SP
    // extracts it; `xs` is kept in signed octets by the PrefixList (see dsig::sign).
    Element::new("saml:Assertion")
        .attr("xmlns:saml", ns::ASSERTION)
        .attr("xmlns:xs", ns::XS)
        .attr("xmlns:xsi", ns::XSI)
        .attr("ID", r.assertion_id.as_str())
        .attr("Version", "2.0")
        .attr("IssueInstant", format_instant(r.issue_instant))
        .child(issuer)
        .child(subject)
        .child(conditions)
        .child(authn)
        .child_opt(attributes)
}

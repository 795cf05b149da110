//! SP metadata parsing, IdP metadata building, error Responses, IdP-initiated Responses and
//! the HTTP-POST form (SAML Metadata 2.3–2.4; Core 3.2.2; Profiles 4.1.5; Bindings 3.5.4).

mod common;

use common::*;
use kakehashi_saml::binding::post::post_form;
use kakehashi_saml::binding::MessageParam;
use kakehashi_saml::dsig::{sign_enveloped, verify_enveloped, AlgorithmPolicy};
use kakehashi_saml::metadata::{IdpMetadata, SpMetadata};
use kakehashi_saml::response::{
    build_error_response, build_response, ErrorResponse, SignaturePlacement,
};
use kakehashi_saml::xml::parse::parse;
use kakehashi_saml::{NameIdFormat, SamlId, StatusCode, SubStatusCode};

/// Metadata 2.4.4: entityID, flags, signing certificates (use="signing" only), ACS endpoints
/// with index/isDefault, SLO, NameIDFormat.
#[test]
fn sp_metadata_parsed_with_signing_certificates_and_endpoints() {
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), true)).expect("metadata");
    assert_eq!(sp.entity_id, SP);
    assert!(sp.authn_requests_signed && sp.want_assertions_signed);
    assert_eq!(sp.signing_certificates, [sp_key.certificate().clone()]);
    assert_eq!(sp.assertion_consumer_services.len(), 3);
    assert_eq!(sp.default_acs().expect("default").endpoint.location, ACS);
    assert_eq!(
        sp.single_logout_services[0].location,
        "https://koumu.example.jp/sp/slo"
    );
    assert_eq!(sp.name_id_formats, [NameIdFormat::Persistent]);
}

/// Metadata 2.4.4: without an SPSSODescriptor for SAML 2.0 the metadata is refused.
#[test]
fn sp_metadata_without_saml2_sp_descriptor_refused() {
    let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol"/></md:EntityDescriptor>"#;
    assert!(SpMetadata::parse(xml).is_err());
}

/// Metadata 2.4.3: our IDPSSODescriptor round-trips through a parser and names both SSO
/// bindings, the signing certificate and the NameID formats.
#[test]
fn idp_metadata_built_with_both_sso_bindings_and_signing_key() {
    let key = key_and_cert("idp");
    let md = IdpMetadata {
        entity_id: IDP.into(),
        sso_url: SSO.into(),
        slo_url: Some("https://portal.example.ed.jp/t/city/saml/slo".into()),
        signing_certificates: vec![key.certificate().clone()],
        want_authn_requests_signed: true,
        valid_until: None,
    };
    let xml = md.to_xml().expect("xml");
    let doc = parse(&xml).expect("well-formed");
    let sso: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "SingleSignOnService")
        .map(|n| n.attribute("Binding").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        sso,
        [
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        ]
    );
    assert!(xml.contains(r#"WantAuthnRequestsSigned="true""#));
    assert!(xml.contains("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
    assert!(xml.contains(&key.certificate().to_base64_der().expect("b64")));
}

/// Core 3.2.2.2: an error Response has a top-level and a second-level code and a message,
/// no Assertion, and its signature verifies.
#[test]
fn error_response_carries_two_level_status_and_message() {
    let key = key_and_cert("idp");
    let mut rng = counter_rng(9);
    let r = ErrorResponse {
        response_id: SamlId::random(&mut rng),
        issue_instant: NOW,
        idp_entity_id: IDP.into(),
        acs_url: ACS.into(),
        in_response_to: Some("_req1".into()),
        status: StatusCode::Responder,
        sub_status: Some(SubStatusCode::NoPassive),
        message: Some("ログインが必要です <&>".into()),
    };
    let xml = build_error_response(&r, Some(&key)).expect("build");
    assert!(xml.contains(r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive"/></samlp:StatusCode>"#));
    assert!(
        xml.contains("<samlp:StatusMessage>ログインが必要です &lt;&amp;&gt;</samlp:StatusMessage>")
    );
    assert!(!xml.contains("Assertion"));
    let doc = parse(&xml).expect("parses");
    verify_enveloped(
        doc.root_element(),
        &[key.certificate().clone()],
        &AlgorithmPolicy::default(),
    )
    .expect("verifies");
    xmlsec1_verify(&xml, key.certificate(), None).expect("xmlsec1 verifies the error response");
}

/// Profiles 4.1.5: IdP-initiated SSO has no InResponseTo anywhere.
#[test]
fn idp_initiated_response_has_no_in_response_to() {
    let key = key_and_cert("idp");
    let mut r = sample_response(SignaturePlacement::Assertion);
    r.in_response_to = None;
    let xml = build_response(&r, &key).expect("build");
    assert!(!xml.contains("InResponseTo"));
    xmlsec1_verify(&xml, key.certificate(), None).expect("xmlsec1 verifies");
}

/// Profiles 4.1.4.2: bearer confirmation with Recipient and NotOnOrAfter and no NotBefore;
/// AudienceRestriction names the SP; Response Destination is the ACS.
#[test]
fn bearer_subject_confirmation_and_audience_restriction_present() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Response), &key).expect("build");
    let doc = parse(&xml).expect("parses");
    let scd = doc
        .descendants()
        .find(|n| n.tag_name().name() == "SubjectConfirmationData")
        .expect("scd");
    assert_eq!(scd.attribute("Recipient"), Some(ACS));
    assert_eq!(scd.attribute("InResponseTo"), Some("_req1"));
    assert_eq!(scd.attribute("NotOnOrAfter"), Some("2026-04-01T08:35:00Z"));
    assert!(scd.attribute("NotBefore").is_none());
    let audience = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Audience")
        .and_then(|n| n.text());
    assert_eq!(audience, Some(SP));
    assert_eq!(doc.root_element().attribute("Destination"), Some(ACS));
}

/// Bindings 3.5.4 + strict CSP: the form's script carries the nonce, a <noscript> button
/// submits without script, and values are HTML-escaped.
#[test]
fn post_form_works_under_strict_csp_and_escapes_values() {
    let html = post_form(
        "https://sp.example/acs?a=1&b=\"2\"",
        MessageParam::Response,
        "<x/>",
        Some("<rs>\"'&"),
        "n0nce\"",
    );
    assert!(html.contains(r#"<script nonce="n0nce&quot;">"#));
    assert!(html.contains("<noscript>") && html.contains(r#"<button type="submit">"#));
    assert!(html.contains(r#"action="https://sp.example/acs?a=1&amp;b=&quot;2&quot;""#));
    assert!(html.contains(r#"name="RelayState" value="&lt;rs&gt;&quot;&#39;&amp;""#));
    assert!(html.contains(r#"name="SAMLResponse" value="PHgvPg==""#));
}

/// xmlsec1 also verifies an AuthnRequest signed by our signer (the signer is generic:
/// placed after Issuer for any SAML protocol message).
#[test]
fn xmlsec1_verifies_signed_authn_request() {
    let key = key_and_cert("sp");
    let xml = authn_request_xml(
        "_q1",
        "2026-04-01T08:29:30Z",
        "",
        r#"<samlp:NameIDPolicy AllowCreate="true"/>"#,
    );
    let signed = sign_enveloped(&xml, "_q1", &key).expect("sign");
    xmlsec1_verify(&signed, key.certificate(), None).expect("xmlsec1 verifies");
}

/// Core 3.7.1 / 3.7.2: a LogoutRequest is parsed and answered with a signed LogoutResponse.
#[test]
fn logout_request_parsed_and_logout_response_built() {
    use kakehashi_saml::logout::{parse_logout_request, LogoutResponse};
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l1" Version="2.0" IssueInstant="2026-04-01T08:29:30Z" Destination="https://portal.example.ed.jp/t/city/saml/slo"><saml:Issuer>{SP}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">pw-3f2a9c</saml:NameID><samlp:SessionIndex>_sess1</samlp:SessionIndex></samlp:LogoutRequest>"#
    );
    let req = parse_logout_request(&xml).expect("parses");
    assert_eq!(req.issuer, SP);
    assert_eq!(req.name_id.value, "pw-3f2a9c");
    assert_eq!(req.session_indexes, ["_sess1"]);
    let key = key_and_cert("idp");
    let resp = LogoutResponse {
        id: SamlId::random(&mut counter_rng(3)),
        issue_instant: NOW,
        idp_entity_id: IDP.into(),
        destination: "https://koumu.example.jp/sp/slo".into(),
        in_response_to: req.id.as_str().into(),
        status: StatusCode::Success,
        sub_status: None,
    };
    let out = resp.to_xml(Some(&key)).expect("build");
    assert!(out.contains(r#"InResponseTo="_l1""#));
    xmlsec1_verify(
        &out,
        key.certificate(),
        Some("/*/*[local-name()='Signature']"),
    )
    .expect("xmlsec1 verifies");
}

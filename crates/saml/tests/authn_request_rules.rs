//! AuthnRequest parsing and acceptance over HTTP-Redirect and HTTP-POST
//! (SAML Core 3.4.1; Bindings 3.4, 3.5; Profiles 4.1.4.1).

mod common;

use base64::Engine as _;
use common::*;
use kakehashi_saml::authn_context::{AuthnContextClass, Comparison};
use kakehashi_saml::authn_request::{AcsRequest, IncomingAuthnRequest, RequestChecks};
use kakehashi_saml::binding::redirect::encode_redirect;
use kakehashi_saml::binding::MessageParam;
use kakehashi_saml::dsig::{sign_enveloped, AlgorithmPolicy};
use kakehashi_saml::metadata::SpMetadata;
use kakehashi_saml::{NameIdFormat, SamlError, SignatureError};
use time::Duration;

fn checks() -> RequestChecks {
    RequestChecks {
        now: NOW,
        clock_skew: Duration::minutes(3),
        max_age: Duration::minutes(5),
        sso_url: SSO.into(),
        require_signed: false,
        policy: AlgorithmPolicy::default(),
    }
}

const T: &str = "2026-04-01T08:29:30Z";

fn post_field(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// Bindings 3.4.4.1 and 3.4.4.1's signature: a signed redirect request verifies over the
/// query octets as received, and RelayState comes back unchanged.
#[test]
fn redirect_binding_signature_verified_over_raw_query() {
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), true)).expect("metadata");
    let xml = authn_request_xml(
        "_r1",
        T,
        &format!(r#"AssertionConsumerServiceURL="{ACS}""#),
        "",
    );
    let query = encode_redirect(
        MessageParam::Request,
        &xml,
        Some("state/1 ä"),
        Some(&sp_key),
    )
    .expect("encode");
    let incoming = IncomingAuthnRequest::from_redirect(&query).expect("decodes");
    assert_eq!(incoming.request().issuer, SP);
    let accepted = incoming.accept(&sp, &checks()).expect("accepted");
    assert!(accepted.signed);
    assert_eq!(accepted.relay_state.as_deref(), Some("state/1 ä"));
    assert_eq!(accepted.acs.endpoint.location, ACS);
    assert_eq!(accepted.request.id.as_str(), "_r1");
}

/// Bindings 3.4.4.1: any change to the signed query octets (here RelayState) is refused.
#[test]
fn redirect_binding_modified_query_is_refused() {
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), true)).expect("metadata");
    let xml = authn_request_xml("_r1", T, "", "");
    let query =
        encode_redirect(MessageParam::Request, &xml, Some("a"), Some(&sp_key)).expect("encode");
    let modified = query.replace("RelayState=a", "RelayState=b");
    let err = IncomingAuthnRequest::from_redirect(&modified)
        .expect("decodes")
        .accept(&sp, &checks())
        .expect_err("refused");
    assert!(
        matches!(err, SamlError::Signature(SignatureError::BadSignature)),
        "{err:?}"
    );
}

/// Metadata AuthnRequestsSigned="true": an unsigned request is refused.
#[test]
fn unsigned_request_refused_when_sp_metadata_says_authn_requests_signed() {
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), true)).expect("metadata");
    let query = encode_redirect(
        MessageParam::Request,
        &authn_request_xml("_r1", T, "", ""),
        None,
        None,
    )
    .expect("encode");
    let err = IncomingAuthnRequest::from_redirect(&query)
        .expect("decodes")
        .accept(&sp, &checks())
        .expect_err("refused");
    assert!(matches!(err, SamlError::UnsignedRequest));
}

/// Bindings 3.5.4: HTTP-POST carries an enveloped signature; it verifies with the SP's
/// certificate, and a tampered request is refused.
#[test]
fn post_binding_enveloped_signature_verified_and_tampering_refused() {
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), true)).expect("metadata");
    let xml = authn_request_xml("_p1", T, r#"ForceAuthn="true""#, "");
    let signed = sign_enveloped(&xml, "_p1", &sp_key).expect("sign");
    let ok = IncomingAuthnRequest::from_post(&post_field(&signed), Some("rs")).expect("decodes");
    let accepted = ok.accept(&sp, &checks()).expect("accepted");
    assert!(accepted.signed && accepted.request.force_authn);
    assert_eq!(accepted.acs.index, 1, "default ACS");

    let tampered = signed.replace(r#"ForceAuthn="true""#, r#"ForceAuthn="false""#);
    let err = IncomingAuthnRequest::from_post(&post_field(&tampered), None)
        .expect("decodes")
        .accept(&sp, &checks())
        .expect_err("refused");
    assert!(
        matches!(err, SamlError::Signature(SignatureError::DigestMismatch)),
        "{err:?}"
    );
}

/// Core 3.3.2.2.1: RequestedAuthnContext with Comparison and class refs.
#[test]
fn requested_authn_context_parsed_and_judged() {
    let extra = r#"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#;
    let xml = authn_request_xml(
        "_c1",
        T,
        r#"IsPassive="true" AssertionConsumerServiceIndex="2" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST""#,
        extra,
    );
    let incoming = IncomingAuthnRequest::from_post(&post_field(&xml), None).expect("parses");
    let req = incoming.request();
    assert!(req.is_passive && !req.force_authn);
    assert_eq!(req.acs, AcsRequest::Index(2));
    let policy = req.name_id_policy.as_ref().expect("policy");
    assert_eq!(policy.format, Some(NameIdFormat::Persistent));
    assert!(policy.allow_create);
    let rac = req.requested_authn_context.as_ref().expect("rac");
    assert_eq!(rac.comparison, Comparison::Minimum);
    assert_eq!(rac.classes, [AuthnContextClass::PasswordProtectedTransport]);
    assert!(rac.is_satisfied_by(&AuthnContextClass::RefedsMfa));
    assert_eq!(
        rac.required_class(),
        Some(AuthnContextClass::PasswordProtectedTransport)
    );

    let mfa = r#"<samlp:RequestedAuthnContext><saml:AuthnContextClassRef>https://refeds.org/profile/mfa</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#;
    let xml = authn_request_xml("_c2", T, "", mfa);
    let rac = IncomingAuthnRequest::from_post(&post_field(&xml), None)
        .expect("parses")
        .request()
        .requested_authn_context
        .clone()
        .expect("rac");
    assert_eq!(rac.comparison, Comparison::Exact);
    assert!(!rac.is_satisfied_by(&AuthnContextClass::PasswordProtectedTransport));
    assert_eq!(rac.required_class(), Some(AuthnContextClass::RefedsMfa));
}

/// Profiles 4.1.4.1: an ACS URL not in the SP's metadata is refused.
#[test]
fn unknown_acs_url_refused_via_metadata_lookup() {
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), false)).expect("metadata");
    let xml = authn_request_xml(
        "_a1",
        T,
        r#"AssertionConsumerServiceURL="https://evil.example/acs""#,
        "",
    );
    let err = IncomingAuthnRequest::from_post(&post_field(&xml), None)
        .expect("parses")
        .accept(&sp, &checks())
        .expect_err("refused");
    assert!(matches!(err, SamlError::UnknownAcs(ref u) if u == "https://evil.example/acs"));
    assert!(sp.acs_by_url("https://evil.example/acs").is_none());
    assert!(sp.acs_by_url(ACS).is_some());
}

/// Profiles 4.1.2: Responses are never sent with HTTP-Redirect.
#[test]
fn redirect_protocol_binding_for_response_is_unsupported() {
    let sp = SpMetadata::parse(&sp_metadata_xml(key_and_cert("sp").certificate(), false))
        .expect("metadata");
    let xml = authn_request_xml(
        "_b1",
        T,
        r#"ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect""#,
        "",
    );
    let err = IncomingAuthnRequest::from_post(&post_field(&xml), None)
        .expect("parses")
        .accept(&sp, &checks())
        .expect_err("refused");
    assert!(matches!(err, SamlError::UnsupportedBinding(_)));
}

/// Core 3.2.1: Destination must be our SSO URL.
#[test]
fn wrong_destination_refused() {
    let sp = SpMetadata::parse(&sp_metadata_xml(key_and_cert("sp").certificate(), false))
        .expect("metadata");
    let xml = authn_request_xml("_d1", T, "", "").replace(SSO, "https://other-idp.example/sso");
    let err = IncomingAuthnRequest::from_post(&post_field(&xml), None)
        .expect("parses")
        .accept(&sp, &checks())
        .expect_err("refused");
    assert!(matches!(err, SamlError::WrongDestination { .. }));
}

/// IssueInstant outside [now - max_age - skew, now + skew] is refused.
#[test]
fn issue_instant_outside_clock_skew_window_refused() {
    let sp = SpMetadata::parse(&sp_metadata_xml(key_and_cert("sp").certificate(), false))
        .expect("metadata");
    for instant in ["2026-04-01T08:20:00Z", "2026-04-01T08:40:00Z"] {
        let xml = authn_request_xml("_t1", instant, "", "");
        let err = IncomingAuthnRequest::from_post(&post_field(&xml), None)
            .expect("parses")
            .accept(&sp, &checks())
            .expect_err("refused");
        assert!(matches!(err, SamlError::IssueInstantOutOfWindow(_)));
    }
}

/// Core 3.2.1: Version must be 2.0 (VersionMismatch).
#[test]
fn version_other_than_2_0_refused() {
    let xml = authn_request_xml("_v1", T, "", "").replace(r#"Version="2.0""#, r#"Version="1.1""#);
    let err = IncomingAuthnRequest::from_post(&post_field(&xml), None).expect_err("refused");
    assert!(matches!(err, SamlError::VersionMismatch(_)));
    assert_eq!(err.status().0, kakehashi_saml::StatusCode::VersionMismatch);
}

/// XXE through the binding: a DOCTYPE in a decoded request is refused.
#[test]
fn doctype_in_authn_request_refused() {
    let xml = format!(
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        authn_request_xml("_x1", T, "", "&e;")
    );
    let err = IncomingAuthnRequest::from_post(&post_field(&xml), None).expect_err("refused");
    assert!(matches!(err, SamlError::DoctypeRefused));
}

/// A comment inside Issuer must not be accepted (it could hide part of the value).
#[test]
fn comment_inside_issuer_refused() {
    let xml = authn_request_xml("_i1", T, "", "")
        .replace(&format!(">{SP}<"), &format!(">{SP}<!-- x -->.evil<"));
    assert!(IncomingAuthnRequest::from_post(&post_field(&xml), None).is_err());
}

/// Bindings 3.4.4.1: the signature covers the octets *as received*; an SP that
/// percent-encodes differently (lowercase hex, `%20` for space) still verifies because the
/// query is never re-encoded before verification.
#[test]
fn redirect_signature_uses_octets_as_received_not_reencoded() {
    use kakehashi_saml::dsig::{sign_octets, SignatureAlgorithm};
    let sp_key = key_and_cert("sp");
    let sp = SpMetadata::parse(&sp_metadata_xml(sp_key.certificate(), true)).expect("metadata");
    let encoded = encode_redirect(
        MessageParam::Request,
        &authn_request_xml("_r2", T, "", ""),
        None,
        None,
    )
    .expect("encode");
    let saml_request = encoded.trim_start_matches("SAMLRequest=");
    let unsigned = format!(
        "SAMLRequest={saml_request}&RelayState=a%20b%2fc&SigAlg=http%3a%2f%2fwww.w3.org%2f2001%2f04%2fxmldsig-more%23rsa-sha256"
    );
    let sig =
        sign_octets(&sp_key, SignatureAlgorithm::RsaSha256, unsigned.as_bytes()).expect("sign");
    let sig_b64 = base64::engine::general_purpose::STANDARD
        .encode(sig)
        .replace('+', "%2b")
        .replace('/', "%2f")
        .replace('=', "%3d");
    let query = format!("{unsigned}&Signature={sig_b64}");
    let accepted = IncomingAuthnRequest::from_redirect(&query)
        .expect("decodes")
        .accept(&sp, &checks())
        .expect("accepted");
    assert_eq!(accepted.relay_state.as_deref(), Some("a b/c"));
}

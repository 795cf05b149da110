//! Our own verifier (xmldsig-core; SAML Core 5.4) and its XML Signature Wrapping defences.

mod common;

use common::*;
use kakehashi_saml::dsig::{verify_enveloped, AlgorithmPolicy};
use kakehashi_saml::response::{build_response, SignaturePlacement};
use kakehashi_saml::xml::parse::parse;
use kakehashi_saml::{SamlError, SignatureError};

const A_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// Verifies the Assertion a consumer would read: the Response's direct child.
fn verify_direct_assertion(
    xml: &str,
    key: &kakehashi_saml::SigningKey,
) -> Result<String, SignatureError> {
    let doc = parse(xml).expect("parses");
    let assertion = doc
        .root_element()
        .children()
        .find(|c| {
            c.is_element()
                && c.tag_name().namespace() == Some(A_NS)
                && c.tag_name().name() == "Assertion"
        })
        .expect("assertion child");
    let v = verify_enveloped(
        assertion,
        &[key.certificate().clone()],
        &AlgorithmPolicy::default(),
    )?;
    let name_id = v
        .node()
        .descendants()
        .find(|n| n.tag_name().name() == "NameID")
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_owned();
    Ok(name_id)
}

fn assertion_text(xml: &str) -> &str {
    let start = xml.find("<saml:Assertion").expect("assertion start");
    let end = xml.rfind("</saml:Assertion>").expect("assertion end") + "</saml:Assertion>".len();
    &xml[start..end]
}

#[test]
fn sign_then_verify_round_trip_for_assertion_response_and_both() {
    let key = key_and_cert("idp");
    for placement in [
        SignaturePlacement::Assertion,
        SignaturePlacement::Response,
        SignaturePlacement::Both,
    ] {
        let xml = build_response(&sample_response(placement), &key).expect("build");
        let doc = parse(&xml).expect("parses");
        let root = doc.root_element();
        let trusted = [key.certificate().clone()];
        if placement != SignaturePlacement::Assertion {
            verify_enveloped(root, &trusted, &AlgorithmPolicy::default())
                .expect("response signature");
        }
        if placement != SignaturePlacement::Response {
            assert_eq!(
                verify_direct_assertion(&xml, &key).expect("assertion signature"),
                "pw-3f2a9c"
            );
        }
    }
}

/// xmldsig-core 3.2.1: the recomputed digest must match; any change to signed content fails.
#[test]
fn tampered_assertion_is_refused_with_digest_mismatch() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let tampered = xml.replace("pw-3f2a9c", "pw-admin");
    assert_eq!(
        verify_direct_assertion(&tampered, &key),
        Err(SignatureError::DigestMismatch)
    );
}

/// The KeyInfo certificate is never trusted: a signature by another key fails.
#[test]
fn signature_by_untrusted_key_is_refused() {
    let key = key_and_cert("idp");
    let attacker = key_and_cert("attacker");
    let xml =
        build_response(&sample_response(SignaturePlacement::Assertion), &attacker).expect("build");
    assert_eq!(
        verify_direct_assertion(&xml, &key),
        Err(SignatureError::BadSignature)
    );
}

/// XSW: the signed assertion is moved into an Extensions wrapper and an unsigned evil
/// assertion takes its place; the consumer verifies the element it reads, which is unsigned.
#[test]
fn xsw_signed_assertion_moved_and_evil_assertion_inserted_is_refused() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let signed = assertion_text(&xml).to_owned();
    let sig_start = signed.find("<ds:Signature").expect("sig");
    let sig_end = signed.find("</ds:Signature>").expect("sig end") + "</ds:Signature>".len();
    let evil_unsigned = format!("{}{}", &signed[..sig_start], &signed[sig_end..])
        .replace("pw-3f2a9c", "pw-admin")
        .replace("ID=\"_", "ID=\"_evil");
    let attacked = xml.replace(
        &signed,
        &format!("<samlp:Extensions>{signed}</samlp:Extensions>{evil_unsigned}"),
    );
    assert_eq!(
        verify_direct_assertion(&attacked, &key),
        Err(SignatureError::Missing)
    );
}

/// XSW: the evil assertion carries the original Signature (whose Reference points at the
/// moved original): the Reference must point at the element being processed.
#[test]
fn xsw_signature_referencing_another_element_is_refused() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let signed = assertion_text(&xml).to_owned();
    let evil = signed
        .replace("pw-3f2a9c", "pw-admin")
        .replace("ID=\"_", "ID=\"_evil");
    let attacked = xml.replace(
        &signed,
        &format!("{evil}<samlp:Extensions>{signed}</samlp:Extensions>"),
    );
    assert!(matches!(
        verify_direct_assertion(&attacked, &key),
        Err(SignatureError::ReferenceMismatch { .. })
    ));
}

/// XSW: the evil assertion reuses the signed one's ID so that an ID lookup finds the
/// original; duplicate IDs are refused.
#[test]
fn xsw_duplicate_id_is_refused() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let signed = assertion_text(&xml).to_owned();
    let evil = signed.replace("pw-3f2a9c", "pw-admin");
    let attacked = xml.replace(
        &signed,
        &format!("{evil}<samlp:Extensions>{signed}</samlp:Extensions>"),
    );
    assert!(matches!(
        verify_direct_assertion(&attacked, &key),
        Err(SignatureError::DuplicateId(_))
    ));
}

/// SAML Core 5.4.2: exactly one Reference.
#[test]
fn more_than_one_reference_is_refused() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let r_start = xml.find("<ds:Reference").expect("ref");
    let r_end = xml.find("</ds:Reference>").expect("ref end") + "</ds:Reference>".len();
    let reference = xml[r_start..r_end].to_owned();
    let attacked = xml.replacen(&reference, &format!("{reference}{reference}"), 1);
    assert_eq!(
        verify_direct_assertion(&attacked, &key),
        Err(SignatureError::ReferenceCount(2))
    );
}

/// SHA-1 is refused unless the policy allows it.
#[test]
fn sha1_signature_method_refused_by_default() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let downgraded = xml.replace(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    );
    assert!(matches!(
        verify_direct_assertion(&downgraded, &key),
        Err(SignatureError::Algorithm(_))
    ));
}

/// SAML Core 5.4.4: only enveloped-signature + exc-c14n transforms.
#[test]
fn extra_transform_is_refused() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let attacked = xml.replacen(
        "<ds:Transforms>",
        "<ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"/>",
        1,
    );
    assert!(matches!(
        verify_direct_assertion(&attacked, &key),
        Err(SignatureError::Transforms(_))
    ));
}

/// XXE and entity expansion are impossible: any DOCTYPE is refused before parsing.
#[test]
fn doctype_and_entities_in_input_are_refused() {
    let xxe = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    assert!(matches!(parse(xxe), Err(SamlError::DoctypeRefused)));
    let laughs = "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><r>&b;</r>";
    assert!(matches!(parse(laughs), Err(SamlError::DoctypeRefused)));
    let empty_doctype = "<!DOCTYPE r><r/>";
    assert!(matches!(
        parse(empty_doctype),
        Err(SamlError::DoctypeRefused)
    ));
    assert!(parse("<r>&unknown;</r>").is_err());
}

#[test]
fn japanese_attribute_values_survive_signing_exactly() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Both), &key).expect("build");
    assert!(xml.contains(">𠮷田 太郎</saml:AttributeValue>"));
    assert!(xml.contains(">担任 &amp; &lt;学年主任&gt;</saml:AttributeValue>"));
    let doc = parse(&xml).expect("parses");
    let values: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AttributeValue")
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(values, ["𠮷田 太郎", "teacher", "担任 & <学年主任>"]);
    assert_eq!(
        verify_direct_assertion(&xml, &key).expect("verifies"),
        "pw-3f2a9c"
    );
}

//! The independent judge: Debian's xmlsec1 (libxmlsec1 + libxml2's own exc-c14n) must
//! verify what we sign (SAML Core 5.4; xmldsig-core). Needs `apt-get install -y xmlsec1`;
//! fails, never skips, without it.

mod common;

use common::*;
use kakehashi_saml::response::{build_response, SignaturePlacement};

const ASSERTION_SIG: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";
const RESPONSE_SIG: &str = "/*[local-name()='Response']/*[local-name()='Signature']";

#[test]
fn xmlsec1_verifies_signed_response() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Response), &key).expect("build");
    xmlsec1_verify(&xml, key.certificate(), Some(RESPONSE_SIG))
        .unwrap_or_else(|e| panic!("{e}\n{xml}"));
}

#[test]
fn xmlsec1_verifies_signed_assertion() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    xmlsec1_verify(&xml, key.certificate(), Some(ASSERTION_SIG))
        .unwrap_or_else(|e| panic!("{e}\n{xml}"));
}

#[test]
fn xmlsec1_verifies_both_signatures_when_response_and_assertion_signed() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Both), &key).expect("build");
    xmlsec1_verify(&xml, key.certificate(), Some(RESPONSE_SIG))
        .unwrap_or_else(|e| panic!("response: {e}\n{xml}"));
    xmlsec1_verify(&xml, key.certificate(), Some(ASSERTION_SIG))
        .unwrap_or_else(|e| panic!("assertion: {e}\n{xml}"));
}

#[test]
fn xmlsec1_refuses_tampered_assertion() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Assertion), &key).expect("build");
    let tampered = xml.replace("pw-3f2a9c", "pw-admin");
    assert!(xmlsec1_verify(&tampered, key.certificate(), Some(ASSERTION_SIG)).is_err());
}

#[test]
fn xmlsec1_refuses_signature_by_untrusted_key() {
    let key = key_and_cert("idp");
    let other = key_and_cert("attacker");
    let xml =
        build_response(&sample_response(SignaturePlacement::Response), &other).expect("build");
    assert!(xmlsec1_verify(&xml, key.certificate(), Some(RESPONSE_SIG)).is_err());
}

/// The exact command of the brief (no node selection): xmlsec1 takes the first Signature in
/// document order, which for "both" is the Response's.
#[test]
fn xmlsec1_plain_command_verifies_both() {
    let key = key_and_cert("idp");
    let xml = build_response(&sample_response(SignaturePlacement::Both), &key).expect("build");
    if let Ok(dir) = std::env::var("SAML_DUMP_DIR") {
        let _ = std::fs::write(format!("{dir}/both.xml"), &xml);
        let _ = std::fs::write(
            format!("{dir}/cert.pem"),
            key.certificate().to_pem().expect("pem"),
        );
    }
    xmlsec1_verify(&xml, key.certificate(), None).unwrap_or_else(|e| panic!("{e}\n{xml}"));
}

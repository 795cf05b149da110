//! Test fixtures: keys and certificates generated with OpenSSL at test time (no private key
//! is committed), a sample Response, and the xmlsec1 judge.
#![allow(dead_code)]

use kakehashi_saml::authn_context::AuthnContextClass;
use kakehashi_saml::response::{
    Attribute, AttributeNameFormat, AuthnStatement, NameId, SignaturePlacement, SuccessResponse,
};
use kakehashi_saml::{Certificate, NameIdFormat, SamlId, SigningKey};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};
use std::path::Path;
use std::process::Command;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// A fresh RSA-2048 key and a self-signed certificate for `cn`.
pub fn key_and_cert(cn: &str) -> SigningKey {
    let rsa = Rsa::generate(2048).expect("rsa keygen");
    let key = PKey::from_rsa(rsa).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", cn).expect("cn");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("version");
    let serial = BigNum::from_u32(1)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("nb"))
        .expect("nb");
    b.set_not_after(&Asn1Time::days_from_now(365).expect("na"))
        .expect("na");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    SigningKey::new(key, Certificate::from(b.build())).expect("signing key")
}

/// A deterministic "random" source for IDs.
pub fn counter_rng(seed: u8) -> impl FnMut(&mut [u8]) {
    let mut n = seed;
    move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            n = n.wrapping_mul(31).wrapping_add(7);
            *b = n;
        }
    }
}

pub const NOW: OffsetDateTime = datetime!(2026-04-01 08:30:00 UTC);
pub const IDP: &str = "https://portal.example.ed.jp/t/city/saml/metadata";
pub const SP: &str = "https://koumu.example.jp/sp";
pub const ACS: &str = "https://koumu.example.jp/sp/acs";

/// A Response to `AuthnRequest` `_req1` with Japanese attribute values.
pub fn sample_response(placement: SignaturePlacement) -> SuccessResponse {
    let mut rng = counter_rng(1);
    SuccessResponse {
        response_id: SamlId::random(&mut rng),
        assertion_id: SamlId::random(&mut rng),
        issue_instant: NOW,
        idp_entity_id: IDP.into(),
        sp_entity_id: SP.into(),
        acs_url: ACS.into(),
        in_response_to: Some("_req1".into()),
        name_id: NameId {
            value: "pw-3f2a9c".into(),
            format: NameIdFormat::Persistent,
            name_qualifier: Some(IDP.into()),
            sp_name_qualifier: Some(SP.into()),
        },
        not_before: NOW - Duration::seconds(30),
        not_on_or_after: NOW + Duration::minutes(5),
        authn: AuthnStatement {
            authn_instant: NOW - Duration::minutes(1),
            session_index: "_sess1".into(),
            session_not_on_or_after: None,
            class: AuthnContextClass::RefedsMfa,
        },
        attributes: vec![
            Attribute {
                name: "urn:oid:2.16.840.1.113730.3.1.241".into(),
                name_format: AttributeNameFormat::Uri,
                friendly_name: Some("displayName".into()),
                values: vec!["𠮷田 太郎".into()],
            },
            Attribute {
                name: "roles".into(),
                name_format: AttributeNameFormat::Basic,
                friendly_name: None,
                values: vec!["teacher".into(), "担任 & <学年主任>".into()],
            },
        ],
        signature: placement,
    }
}

/// Runs xmlsec1 on `xml`, trusting `cert`. `node_xpath` picks which Signature to verify
/// (xmlsec1 verifies the first one in document order otherwise). Panics with install
/// instructions when xmlsec1 is missing: this test never passes by skipping.
pub fn xmlsec1_verify(
    xml: &str,
    cert: &Certificate,
    node_xpath: Option<&str>,
) -> Result<(), String> {
    if Command::new("xmlsec1").arg("--version").output().is_err() {
        panic!(
            "xmlsec1 is not installed: it is the independent judge of our XML signatures. \
             Install it with `apt-get update && apt-get install -y xmlsec1` (Debian/Ubuntu)."
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_path = dir.path().join("cert.pem");
    let xml_path = dir.path().join("message.xml");
    std::fs::write(&cert_path, cert.to_pem().expect("pem")).expect("write cert");
    std::fs::write(&xml_path, xml).expect("write xml");
    run_xmlsec1(&cert_path, &xml_path, node_xpath)
}

fn run_xmlsec1(cert: &Path, xml: &Path, node_xpath: Option<&str>) -> Result<(), String> {
    let mut cmd = Command::new("xmlsec1");
    cmd.arg("--verify")
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
        ])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
        ])
        .arg("--trusted-pem")
        .arg(cert);
    if let Some(x) = node_xpath {
        cmd.args(["--node-xpath", x]);
    }
    cmd.arg(xml);
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "xmlsec1 refused: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub const SSO: &str = "https://portal.example.ed.jp/t/city/saml/sso";

/// SP metadata (as a 校務支援 vendor would publish it) with the SP's signing certificate.
pub fn sp_metadata_xml(sp_cert: &Certificate, authn_requests_signed: bool) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{SP}">
  <md:SPSSODescriptor AuthnRequestsSigned="{authn_requests_signed}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{cert}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:KeyName>enc</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://koumu.example.jp/sp/slo"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://koumu.example.jp/sp/acs-redirect" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS}" index="1" isDefault="true"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://koumu.example.jp/sp/acs2" index="2"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#,
        cert = sp_cert.to_base64_der().expect("b64")
    )
}

/// An AuthnRequest as pysaml2 would send it; `extra` goes inside the root element.
pub fn authn_request_xml(id: &str, instant: &str, attrs: &str, extra: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{SSO}" {attrs}><saml:Issuer>{SP}</saml:Issuer>{extra}</samlp:AuthnRequest>"#
    )
}

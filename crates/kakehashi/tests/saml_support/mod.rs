//! Support for the SAML tests: SP keys generated at test time, SP metadata and AuthnRequests
//! as an SP would send them (HTTP-Redirect with a query signature, HTTP-POST with an
//! enveloped one), registering SPs through the real `app add`, reading the Response the
//! browser is asked to POST, and the pysaml2 driver (tests/interop/saml_sp.py).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use kakehashi_saml::binding::redirect::encode_redirect;
use kakehashi_saml::binding::MessageParam;
use kakehashi_saml::dsig::sign_enveloped;
use kakehashi_saml::{Certificate, SigningKey};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};

use crate::common::Env;
use crate::portal_support::{Browser, Resp};

pub const TENANT: &str = "demo";

/// A fresh RSA-2048 key with a self-signed certificate (no key is committed).
pub fn sp_key(cn: &str) -> SigningKey {
    let key = PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", cn).expect("cn");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("version");
    let serial = BigNum::from_u32(7)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    let nb = Asn1Time::days_from_now(0).expect("nb");
    let na = Asn1Time::days_from_now(30).expect("na");
    b.set_not_before(&nb).expect("nb");
    b.set_not_after(&na).expect("na");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    SigningKey::new(key, Certificate::from(b.build())).expect("signing key")
}

/// An SP's metadata (SAML Metadata 2.4.4) with one HTTP-POST ACS.
pub fn sp_metadata(
    entity_id: &str,
    acs: &str,
    cert: Option<&Certificate>,
    authn_requests_signed: bool,
) -> String {
    let key = cert
        .map(|c| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                c.to_base64_der().expect("cert b64")
            )
        })
        .unwrap_or_default();
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"><md:SPSSODescriptor AuthnRequestsSigned="{authn_requests_signed}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key}<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

/// Registers a SAML app from a metadata file through `kakehashi app add`; returns its id.
pub fn register(env: &Env, name: &str, metadata: &str, extra: &[&str]) -> String {
    let path = env.path(&format!("sp-{}.xml", uuid_like(name)));
    std::fs::write(&path, metadata).expect("write SP metadata");
    let mut args = vec![
        "app",
        "add",
        "--tenant",
        TENANT,
        "--name",
        name,
        "--protocol",
        "saml",
        "--saml-metadata",
        path.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("app add prints JSON");
    v["id"].as_str().expect("an app id").to_owned()
}

fn uuid_like(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The IssueInstant of a request sent now (SAML Core 1.3.3: UTC, no fraction needed).
pub fn now_instant() -> String {
    kakehashi_saml::ids::format_instant(time::OffsetDateTime::now_utc())
}

/// A fresh request ID.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).expect("rand");
    format!("_req{}", hex_of(&b))
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An AuthnRequest (SAML Core 3.4.1). `attrs` go on the root, `children` after the Issuer.
pub fn authn_request(
    node_url: &str,
    id: &str,
    issuer: &str,
    acs: &str,
    attrs: &str,
    children: &str,
) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{node_url}/t/{TENANT}/saml/sso" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {attrs}><saml:Issuer>{issuer}</saml:Issuer>{children}</samlp:AuthnRequest>"#,
        now = now_instant()
    )
}

/// The path of an HTTP-Redirect request (Bindings 3.4), signed when a key is given.
pub fn redirect_path(xml: &str, relay_state: Option<&str>, key: Option<&SigningKey>) -> String {
    let q = encode_redirect(MessageParam::Request, xml, relay_state, key).expect("encode");
    format!("/t/{TENANT}/saml/sso?{q}")
}

/// The `SAMLRequest` field of an HTTP-POST request (Bindings 3.5), enveloped-signed when a
/// key is given.
pub fn post_field(xml: &str, id: &str, key: Option<&SigningKey>) -> String {
    let xml = match key {
        Some(k) => sign_enveloped(xml, id, k).expect("sign"),
        None => xml.to_owned(),
    };
    b64(&xml)
}

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// The Response XML of an auto-POST page, if the page is one.
pub fn saml_response(resp: &Resp) -> Option<String> {
    let v = resp.hidden("SAMLResponse")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_bytes())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The `SAMLResponse` field as posted (base64).
pub fn saml_response_field(resp: &Resp) -> String {
    resp.hidden("SAMLResponse")
        .unwrap_or_else(|| panic!("no SAMLResponse form: {} {}", resp.status, resp.body))
}

/// The StatusCode values of a Response, outermost first (SAML Core 3.2.2.2).
pub fn status_codes(xml: &str) -> Vec<String> {
    xml.split("StatusCode Value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.rsplit(':').next().unwrap_or(s).to_owned())
        .collect()
}

/// The `return_to` of a 303 to the login page.
pub fn login_return_to(resp: &Resp) -> String {
    let loc = resp.header("location").unwrap_or_default();
    assert!(
        resp.status == 303 && loc.contains("/login"),
        "expected a redirect to the login page, got {} {loc} {}",
        resp.status,
        resp.body
    );
    let enc = loc
        .split("return_to=")
        .nth(1)
        .expect("a return_to")
        .split('&')
        .next()
        .unwrap_or_default();
    percent_decode(enc)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Logs in through the form with `return_to` from the SSO redirect and follows the 303 back.
pub fn login_and_resume(b: &mut Browser<'_>, sso: &Resp, user: &str, password: &str) -> Resp {
    let back = login_return_to(sso);
    // The login page exactly as the redirect names it (with prompt=login for ForceAuthn).
    let page = b.get(sso.header("location").unwrap_or_default());
    assert_eq!(page.status, 200, "the login form: {}", page.body);
    let csrf = page.hidden("csrf").expect("a csrf field");
    let r = b.post(
        &format!("/t/{}/login", b.tenant),
        &[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("return_to", back.as_str()),
        ],
    );
    assert_eq!(r.status, 303, "login: {}", r.body);
    assert_eq!(r.header("location"), Some(back.as_str()));
    b.get(&back)
}

/// The Python of the interop virtualenv (created by scripts/test), or a loud failure.
pub fn interop_python() -> PathBuf {
    let venv = std::env::var_os("KAKEHASHI_INTEROP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv"));
    let py = venv.join("bin/python");
    let check = Command::new(&py)
        .args(["-c", "import saml2, sys; print(saml2.__version__)"])
        .output();
    match check {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "pysaml2 is not installed in {}: run scripts/test (it creates that virtualenv and \
             pip-installs the pinned pysaml2), or set KAKEHASHI_INTEROP_VENV",
            venv.display()
        ),
    }
    let xmlsec = Command::new("xmlsec1").arg("--version").output();
    if !matches!(xmlsec, Ok(o) if o.status.success()) {
        panic!("xmlsec1 is missing: apt-get update && apt-get install -y xmlsec1 (scripts/test does this)");
    }
    py
}

/// Runs tests/interop/saml_sp.py; returns its JSON and whether it succeeded.
pub fn sp_driver(py: &Path, args: &[&str]) -> (bool, serde_json::Value) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/saml_sp.py");
    let out = Command::new(py)
        .arg(&script)
        .args(args)
        .output()
        .expect("run saml_sp.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "saml_sp.py {args:?} printed no JSON:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v)
}

/// The audit actions of the tenant, newest first.
pub async fn audit_actions(env: &Env) -> Vec<(String, String)> {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open store");
    let tenant = kakehashi_store::TenantId::parse(TENANT).expect("tenant");
    let rows = kakehashi_store::audit::recent(&store, Some(&tenant), 500)
        .await
        .expect("audit");
    store.close().await;
    rows.into_iter().map(|e| (e.action, e.details)).collect()
}

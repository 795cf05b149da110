//! Creating an enveloped signature (xmldsig-core 3.1) where SAML wants it.
//!
//! The signed element is found by its `ID`; its canonical form (exc-c14n with the
//! InclusiveNamespaces PrefixList `xs`, so `xsi:type="xs:string"` keeps its binding in the
//! signed octets, as Shibboleth does) is digested with SHA-256; `SignedInfo` is
//! canonicalized and signed with RSA-SHA256; the `ds:Signature` is inserted right after the
//! element's `saml:Issuer` (SAML Core 5.4.1 and the schema order of Assertion, Response,
//! AuthnRequest…), or as the first child when there is no Issuer (metadata).
//!
//! Signing the same document twice (assertion, then response) works because the enveloped
//! transform removes only the Signature being verified: the response's digest covers the
//! assertion's signature.

use super::{digest, sign_octets, DigestAlgorithm, SignatureAlgorithm, ENVELOPED_SIGNATURE};
use crate::error::{Result, SamlError};
use crate::keys::SigningKey;
use crate::ns;
use crate::xml::c14n::{canonicalize, EXC_C14N};
use crate::xml::parse::{is, parse};
use crate::xml::write::Element;
use base64::Engine as _;

/// The PrefixList used in our Reference transform.
const PREFIX_LIST: &str = "xs";

/// Signs the element whose `ID` is `id` in `xml` and returns the document with the
/// `ds:Signature` inserted. `xml` must be a document this crate built (its text is trusted
/// to be well-formed; it is re-parsed here to canonicalize exactly what will be sent).
pub fn sign_enveloped(xml: &str, id: &str, key: &SigningKey) -> Result<String> {
    let doc = parse(xml)?;
    let mut matches = doc
        .descendants()
        .filter(|n| n.is_element() && n.attribute("ID") == Some(id));
    let element = matches
        .next()
        .ok_or(SamlError::Missing("element with the ID to sign"))?;
    if matches.next().is_some() {
        return Err(SamlError::InvalidValue {
            what: "ID",
            value: id.to_owned(),
        });
    }
    let prefixes = vec![PREFIX_LIST.to_owned()];
    let canonical = canonicalize(element, None, &prefixes);
    let digest_value = digest(DigestAlgorithm::Sha256, canonical.as_bytes())?;
    let b64 = base64::engine::general_purpose::STANDARD;

    let signed_info = signed_info(id, &b64.encode(digest_value));
    // Canonicalize SignedInfo as it will appear: exc-c14n of a subtree does not depend on
    // its context (exc-c14n §1.1), so rendering it standalone with the ds declaration on
    // Signature gives the same octets as in the final document.
    let cert_b64 = key.certificate().to_base64_der()?;
    let signature_xml = |value: &str| {
        Element::new("ds:Signature")
            .attr("xmlns:ds", ns::DSIG)
            .child(signed_info.clone())
            .child(Element::new("ds:SignatureValue").text(value))
            .child(
                Element::new("ds:KeyInfo").child(
                    Element::new("ds:X509Data")
                        .child(Element::new("ds:X509Certificate").text(cert_b64.clone())),
                ),
            )
            .render()
    };
    let draft = signature_xml("");
    let draft_doc = parse(&draft)?;
    let si_node = draft_doc
        .root_element()
        .first_element_child()
        .ok_or(SamlError::Missing("SignedInfo"))?;
    let si_canonical = canonicalize(si_node, None, &[]);
    let sig = sign_octets(key, SignatureAlgorithm::RsaSha256, si_canonical.as_bytes())?;
    let signature = signature_xml(&b64.encode(sig));

    // Insert after Issuer, else as the first child.
    let at = match element.children().find(|c| is(*c, ns::ASSERTION, "Issuer")) {
        Some(issuer) => issuer.range().end,
        None => {
            let text = &xml[element.range()];
            // End of the start tag: the first '>' outside attribute values. Our own output
            // escapes '>' nowhere in attributes, so search quote-aware to be safe.
            element.range().start + start_tag_len(text).ok_or(SamlError::Missing("start tag"))?
        }
    };
    let mut out = String::with_capacity(xml.len() + signature.len());
    out.push_str(&xml[..at]);
    out.push_str(&signature);
    out.push_str(&xml[at..]);
    Ok(out)
}

/// Length of the start tag at the beginning of `text` (quote-aware); `None` for `<x/>`.
fn start_tag_len(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"') | (None, '\'') => quote = Some(c),
            (None, '>') => {
                return if text[..i].ends_with('/') {
                    None
                } else {
                    Some(i + 1)
                };
            }
            _ => {}
        }
    }
    None
}

fn signed_info(id: &str, digest_b64: &str) -> Element {
    Element::new("ds:SignedInfo")
        .child(Element::new("ds:CanonicalizationMethod").attr("Algorithm", EXC_C14N))
        .child(
            Element::new("ds:SignatureMethod")
                .attr("Algorithm", SignatureAlgorithm::RsaSha256.uri()),
        )
        .child(
            Element::new("ds:Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    Element::new("ds:Transforms")
                        .child(Element::new("ds:Transform").attr("Algorithm", ENVELOPED_SIGNATURE))
                        .child(
                            Element::new("ds:Transform")
                                .attr("Algorithm", EXC_C14N)
                                .child(
                                    Element::new("ec:InclusiveNamespaces")
                                        .attr("xmlns:ec", EXC_C14N)
                                        .attr("PrefixList", PREFIX_LIST),
                                ),
                        ),
                )
                .child(
                    Element::new("ds:DigestMethod")
                        .attr("Algorithm", DigestAlgorithm::Sha256.uri()),
                )
                .child(Element::new("ds:DigestValue").text(digest_b64)),
        )
}

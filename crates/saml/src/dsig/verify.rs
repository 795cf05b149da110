//! Verifying an enveloped signature with XML Signature Wrapping (XSW) defences.
//!
//! The caller names the element it is about to process (the AuthnRequest root, the
//! Assertion it will read…). We then require, refusing otherwise:
//! 1. exactly one `ds:Signature` that is a **direct child** of that element;
//! 2. `SignedInfo` with exc-c14n as CanonicalizationMethod, an accepted SignatureMethod and
//!    **exactly one** `Reference` (SAML Core 5.4.2);
//! 3. the Reference `URI` is `#` + **that element's own `ID`**, and no other element of the
//!    document carries the same ID (so the digest cannot be computed over a decoy);
//! 4. transforms exactly enveloped-signature then exc-c14n (SAML Core 5.4.4), with an
//!    optional InclusiveNamespaces PrefixList; an accepted DigestMethod;
//! 5. the digest of the element (minus this Signature) matches, and the SignatureValue over
//!    the canonical `SignedInfo` verifies with a **trusted** certificate (the `KeyInfo` in
//!    the message is never trusted).
//!
//! The result is a [`VerifiedElement`]: the caller reads the message through it, and so
//! reads exactly the element whose octets were verified.

use super::{digest, verify_octets, AlgorithmPolicy, SignatureAlgorithm, ENVELOPED_SIGNATURE};
use crate::error::SignatureError;
use crate::keys::Certificate;
use crate::ns;
use crate::xml::c14n::{canonicalize, parse_prefix_list, EXC_C14N};
use crate::xml::parse::is;
use base64::Engine as _;
use roxmltree::Node;

/// An element whose enveloped signature verified. Reading the message through
/// [`VerifiedElement::node`] guarantees the code reads the signed octets.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedElement<'a, 'i> {
    node: Node<'a, 'i>,
    algorithm: SignatureAlgorithm,
}

impl<'a, 'i> VerifiedElement<'a, 'i> {
    /// The verified element.
    pub fn node(&self) -> Node<'a, 'i> {
        self.node
    }

    /// The signature algorithm that was used.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
}

/// The `ds:Signature` direct child of `element`, if any; refuses more than one.
pub fn signature_child<'a, 'i>(
    element: Node<'a, 'i>,
) -> Result<Option<Node<'a, 'i>>, SignatureError> {
    let sigs: Vec<_> = element
        .children()
        .filter(|c| is(*c, ns::DSIG, "Signature"))
        .collect();
    match sigs.len() {
        0 => Ok(None),
        1 => Ok(sigs.first().copied()),
        n => Err(SignatureError::Multiple(n)),
    }
}

fn element_children<'a, 'i>(node: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    node.children().filter(|c| c.is_element()).collect()
}

fn dsig_child<'a, 'i>(
    node: Node<'a, 'i>,
    local: &'static str,
) -> Result<Node<'a, 'i>, SignatureError> {
    let mut it = node.children().filter(|c| is(*c, ns::DSIG, local));
    let first = it.next().ok_or(SignatureError::Malformed(local))?;
    if it.next().is_some() {
        return Err(SignatureError::Malformed(local));
    }
    Ok(first)
}

fn decode_b64(text: &str) -> Result<Vec<u8>, SignatureError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| SignatureError::Malformed("base64 value"))
}

/// Only text children: a comment must not hide part of a value.
fn text_of(node: Node<'_, '_>) -> Result<String, SignatureError> {
    let mut s = String::new();
    for c in node.children() {
        if !c.is_text() {
            return Err(SignatureError::Malformed("non-text content in a value"));
        }
        s.push_str(c.text().unwrap_or(""));
    }
    Ok(s)
}

/// The PrefixList of an `ec:InclusiveNamespaces` child of a c14n method element, if any.
fn prefix_list(method: Node<'_, '_>) -> Result<Vec<String>, SignatureError> {
    let mut out = Vec::new();
    for c in method.children().filter(|c| c.is_element()) {
        if !is(c, EXC_C14N, "InclusiveNamespaces") {
            return Err(SignatureError::Malformed(
                "unexpected child of a c14n method",
            ));
        }
        out.extend(parse_prefix_list(c.attribute("PrefixList").unwrap_or("")));
    }
    Ok(out)
}

/// Verifies the enveloped signature of `element` (see the module docs for every check).
pub fn verify_enveloped<'a, 'i>(
    element: Node<'a, 'i>,
    trusted: &[Certificate],
    policy: &AlgorithmPolicy,
) -> Result<VerifiedElement<'a, 'i>, SignatureError> {
    let signature = signature_child(element)?.ok_or(SignatureError::Missing)?;
    let id = element.attribute("ID").ok_or(SignatureError::MissingId)?;

    // 3. The ID is unique in the whole document (XSW: a decoy with the same ID).
    let same_id = element
        .document()
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.attributes().any(|a| {
                    a.value() == id
                        && matches!(a.name().to_ascii_lowercase().as_str(), "id" | "assertionid")
                })
        })
        .count();
    if same_id != 1 {
        return Err(SignatureError::DuplicateId(id.to_owned()));
    }

    // xmldsig-core 4.1: SignedInfo, SignatureValue, KeyInfo?, Object* — in that order.
    let parts = element_children(signature);
    let signed_info = *parts
        .first()
        .ok_or(SignatureError::Malformed("SignedInfo"))?;
    let sig_value = *parts
        .get(1)
        .ok_or(SignatureError::Malformed("SignatureValue"))?;
    if !is(signed_info, ns::DSIG, "SignedInfo") || !is(sig_value, ns::DSIG, "SignatureValue") {
        return Err(SignatureError::Malformed("Signature children out of order"));
    }

    // 2. SignedInfo: CanonicalizationMethod, SignatureMethod, exactly one Reference.
    let si_parts = element_children(signed_info);
    let c14n_method = *si_parts
        .first()
        .ok_or(SignatureError::Malformed("CanonicalizationMethod"))?;
    let sig_method = *si_parts
        .get(1)
        .ok_or(SignatureError::Malformed("SignatureMethod"))?;
    if !is(c14n_method, ns::DSIG, "CanonicalizationMethod")
        || !is(sig_method, ns::DSIG, "SignatureMethod")
    {
        return Err(SignatureError::Malformed(
            "SignedInfo children out of order",
        ));
    }
    let c14n_alg = c14n_method.attribute("Algorithm").unwrap_or("");
    if c14n_alg != EXC_C14N {
        return Err(SignatureError::Algorithm(c14n_alg.to_owned()));
    }
    let si_prefixes = prefix_list(c14n_method)?;
    let algorithm = policy.signature_algorithm(sig_method.attribute("Algorithm").unwrap_or(""))?;
    if sig_method.children().any(|c| c.is_element()) {
        // HMACOutputLength and friends: not for RSA (xmldsig-core 6.3.1 truncation attack).
        return Err(SignatureError::Malformed("SignatureMethod has children"));
    }
    let references: Vec<_> = si_parts.iter().skip(2).copied().collect();
    if references.len() != 1 || !references.iter().all(|r| is(*r, ns::DSIG, "Reference")) {
        return Err(SignatureError::ReferenceCount(references.len()));
    }
    let reference = references[0];

    // 3. The Reference points at this very element.
    let uri = reference.attribute("URI").unwrap_or("");
    if uri.strip_prefix('#') != Some(id) {
        return Err(SignatureError::ReferenceMismatch {
            uri: uri.to_owned(),
            id: id.to_owned(),
        });
    }

    // 4. Transforms: enveloped-signature then exc-c14n.
    let transforms_el = dsig_child(reference, "Transforms")?;
    let transforms: Vec<_> = element_children(transforms_el);
    let names: Vec<String> = transforms
        .iter()
        .map(|t| t.attribute("Algorithm").unwrap_or("").to_owned())
        .collect();
    let all_transforms = transforms.iter().all(|t| is(*t, ns::DSIG, "Transform"));
    if !all_transforms || names != [ENVELOPED_SIGNATURE, EXC_C14N] {
        return Err(SignatureError::Transforms(names));
    }
    let ref_prefixes = prefix_list(transforms[1])?;
    let digest_alg = policy.digest_algorithm(
        dsig_child(reference, "DigestMethod")?
            .attribute("Algorithm")
            .unwrap_or(""),
    )?;
    let expected_digest = decode_b64(&text_of(dsig_child(reference, "DigestValue")?)?)?;

    // 5. Digest, then signature.
    let canonical = canonicalize(element, Some(signature.id()), &ref_prefixes);
    let actual = digest(digest_alg, canonical.as_bytes())?;
    if actual.len() != expected_digest.len() || !openssl::memcmp::eq(&actual, &expected_digest) {
        return Err(SignatureError::DigestMismatch);
    }
    let si_canonical = canonicalize(signed_info, None, &si_prefixes);
    let value = decode_b64(&text_of(sig_value)?)?;
    verify_octets(trusted, algorithm, si_canonical.as_bytes(), &value)?;
    Ok(VerifiedElement {
        node: element,
        algorithm,
    })
}

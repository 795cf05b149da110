//! Exclusive XML Canonicalization 1.0 without comments
//! (<http://www.w3.org/2001/10/xml-exc-c14n#>), over an element subtree of a parsed document,
//! optionally with one node removed (the enveloped-signature transform, xmldsig-core 6.6.4).
//!
//! The rules implemented, by spec section:
//! - C14N 1.0 §2.3 / §1.1: the document is taken *after* parsing: line endings normalized,
//!   attribute values normalized, character and entity references replaced, CDATA sections
//!   replaced by their text, empty elements written as start/end tag pairs, no XML
//!   declaration, comments dropped (the "without comments" variant).
//! - C14N 1.0 §2.3: attributes sorted by namespace URI (unqualified first) then local name;
//!   namespace declarations first, sorted by prefix (the default namespace first).
//! - C14N 1.0 §2.3 escaping: text `&` `<` `>` `#xD`; attributes `&` `<` `"` `#x9` `#xA` `#xD`.
//! - exc-c14n §3: a namespace declaration is output on an element only when the element
//!   *visibly utilizes* it (its own prefix, or the prefix of one of its attributes) and the
//!   nearest output ancestor did not already output the same prefix with the same value.
//!   `xmlns=""` is output when an unprefixed element has no default namespace but an output
//!   ancestor output a non-empty one. Prefixes in the InclusiveNamespaces PrefixList
//!   (`#default` for the default namespace) follow the inclusive C14N rule instead: output
//!   whenever in scope and not already output with that value.
//! - xml:* attributes are not inherited in exc-c14n (§3 note); the `xml` prefix itself is
//!   never declared.

use super::parse::{element_qname, prefix_of};
use super::write::{escape_attr_into, escape_text_into};
use roxmltree::{Node, NodeId};
use std::collections::BTreeMap;

/// Exclusive XML Canonicalization 1.0, without comments.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Canonicalizes the subtree rooted at `element`, leaving out the subtree rooted at
/// `exclude` (if any), treating the prefixes in `inclusive_prefixes` (`"#default"` for the
/// default namespace) per the InclusiveNamespaces PrefixList rule.
pub fn canonicalize(
    element: Node<'_, '_>,
    exclude: Option<NodeId>,
    inclusive_prefixes: &[String],
) -> String {
    let inclusive: Vec<&str> = inclusive_prefixes
        .iter()
        .map(|p| if p == "#default" { "" } else { p.as_str() })
        .collect();
    let mut out = String::with_capacity(element.range().len() + 256);
    let mut rendered: Vec<(String, String)> = Vec::new();
    write_element(element, exclude, &inclusive, &mut rendered, &mut out);
    out
}

/// Parses an InclusiveNamespaces PrefixList (a whitespace-separated list, exc-c14n §3).
pub fn parse_prefix_list(list: &str) -> Vec<String> {
    list.split_ascii_whitespace().map(str::to_owned).collect()
}

fn rendered_value<'r>(rendered: &'r [(String, String)], prefix: &str) -> Option<&'r str> {
    match rendered.iter().rev().find(|(p, _)| p == prefix) {
        Some((_, uri)) => Some(uri.as_str()),
        // No output ancestor declared a default namespace: it is in effect empty.
        None if prefix.is_empty() => Some(""),
        None => None,
    }
}

fn write_element(
    node: Node<'_, '_>,
    exclude: Option<NodeId>,
    inclusive: &[&str],
    rendered: &mut Vec<(String, String)>,
    out: &mut String,
) {
    let qname = element_qname(node);
    // Namespace declarations to output here, keyed by prefix (BTreeMap sorts "" first).
    let mut decls: BTreeMap<String, String> = BTreeMap::new();
    let consider = |prefix: &str, uri: &str, decls: &mut BTreeMap<String, String>| {
        if prefix == "xml" {
            return;
        }
        if rendered_value(rendered, prefix) != Some(uri) {
            decls.insert(prefix.to_owned(), uri.to_owned());
        }
    };
    // Visibly utilized: the element's own prefix (exc-c14n §3).
    consider(
        prefix_of(qname),
        node.tag_name().namespace().unwrap_or(""),
        &mut decls,
    );
    // ...and the prefixes of its attributes (unprefixed attributes use no namespace).
    let doc_text = node.document().input_text();
    let mut attrs: Vec<(&str, &str, &str, &str)> = Vec::new(); // (ns, local, qname, value)
    for a in node.attributes() {
        let aq = doc_text.get(a.range_qname()).unwrap_or(a.name());
        let ap = prefix_of(aq);
        if !ap.is_empty() {
            consider(ap, a.namespace().unwrap_or(""), &mut decls);
        }
        attrs.push((a.namespace().unwrap_or(""), a.name(), aq, a.value()));
    }
    // InclusiveNamespaces PrefixList: the inclusive rule for those prefixes.
    for ns in node.namespaces() {
        let p = ns.name().unwrap_or("");
        if inclusive.contains(&p) {
            consider(p, ns.uri(), &mut decls);
        }
    }
    if inclusive.contains(&"") && node.default_namespace().is_none() {
        consider("", "", &mut decls);
    }

    out.push('<');
    out.push_str(qname);
    for (p, uri) in &decls {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        escape_attr_into(uri, out);
        out.push('"');
    }
    // C14N 1.0 §2.3: namespace URI first (empty first), then local name.
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (_, _, aq, value) in &attrs {
        out.push(' ');
        out.push_str(aq);
        out.push_str("=\"");
        escape_attr_into(value, out);
        out.push('"');
    }
    out.push('>');

    let mark = rendered.len();
    rendered.extend(decls);
    for child in node.children() {
        if Some(child.id()) == exclude {
            continue;
        }
        if child.is_element() {
            write_element(child, exclude, inclusive, rendered, out);
        } else if child.is_text() {
            escape_text_into(child.text().unwrap_or(""), out);
        } else if let Some(pi) = child.pi() {
            // C14N 1.0 §2.3: PIs as `<?target value?>`; comments are dropped.
            out.push_str("<?");
            out.push_str(pi.target);
            if let Some(v) = pi.value {
                out.push(' ');
                out.push_str(v);
            }
            out.push_str("?>");
        }
    }
    rendered.truncate(mark);

    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}

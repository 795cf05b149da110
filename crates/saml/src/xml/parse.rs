//! Safe reading of untrusted XML.
//!
//! `roxmltree` refuses DTDs by default; we keep that, and additionally refuse any `<!DOCTYPE`
//! text (roxmltree accepts an *empty* DOCTYPE), so no entity can ever be declared: XXE and
//! entity expansion are impossible. Sizes and node counts are bounded.
//!
//! Readers of simple-content elements (Issuer, NameID…) refuse child comments and elements:
//! a comment inside a signed `NameID` must not truncate its value (CVE-2017-11427 class).

use crate::error::{Result, SamlError};
use roxmltree::{Document, Node, ParsingOptions};

/// The largest SAML message we accept, after base64/DEFLATE decoding.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The most nodes a message may hold.
const MAX_NODES: u32 = 20_000;

/// Parses untrusted XML: no DOCTYPE, bounded size and node count.
pub fn parse(xml: &str) -> Result<Document<'_>> {
    if xml.len() > MAX_MESSAGE_BYTES {
        return Err(SamlError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    if contains_ignore_ascii_case(xml, "<!DOCTYPE") || contains_ignore_ascii_case(xml, "<!ENTITY") {
        return Err(SamlError::DoctypeRefused);
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(xml, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => SamlError::DoctypeRefused,
        other => SamlError::Xml(other.to_string()),
    })?;
    check_depth(&doc)?;
    Ok(doc)
}

/// The deepest element nesting we accept; canonicalization recurses once per level.
const MAX_DEPTH: u16 = 64;

/// Refuses documents nested deeper than [`MAX_DEPTH`] (in one pass: descendants come in
/// document order, so a parent's depth is known before its children's).
fn check_depth(doc: &Document<'_>) -> Result<()> {
    let mut depth = vec![0u16; doc.descendants().count() + 1];
    for node in doc.descendants() {
        let d = match node.parent() {
            Some(p) => depth.get(p.id().get_usize()).copied().unwrap_or(0) + 1,
            None => 0,
        };
        if d > MAX_DEPTH {
            return Err(SamlError::Xml(format!(
                "elements nested deeper than {MAX_DEPTH}"
            )));
        }
        if let Some(slot) = depth.get_mut(node.id().get_usize()) {
            *slot = d;
        }
    }
    Ok(())
}

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `true` when `node` is an element named `local` in namespace `ns`.
pub fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ns) && node.tag_name().name() == local
}

/// `{ns}local`, for error messages.
pub fn display_name(node: Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_owned(),
    }
}

/// Refuses unless `node` is `{ns}local`.
pub fn expect(node: Node<'_, '_>, ns: &str, local: &str) -> Result<()> {
    if is(node, ns, local) {
        Ok(())
    } else {
        Err(SamlError::UnexpectedElement {
            expected: format!("{{{ns}}}{local}"),
            found: display_name(node),
        })
    }
}

/// Element children named `{ns}local`.
pub fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is(*c, ns, local))
}

/// The single child `{ns}local`, `None` when absent; refuses duplicates.
pub fn optional_child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &str,
    local: &'static str,
) -> Result<Option<Node<'a, 'i>>> {
    let mut it = node.children().filter(|c| is(*c, ns, local));
    let first = it.next();
    if it.next().is_some() {
        return Err(SamlError::InvalidValue {
            what: local,
            value: "repeated element".into(),
        });
    }
    Ok(first)
}

/// The text of a simple-content element: all children must be text (no comments, no
/// elements, no processing instructions), then trimmed of XML whitespace.
pub fn simple_text<'a>(node: Node<'a, '_>, what: &'static str) -> Result<String> {
    let mut out = String::new();
    for c in node.children() {
        match c.text() {
            Some(t) if c.is_text() => out.push_str(t),
            _ => {
                return Err(SamlError::InvalidValue {
                    what,
                    value: "element content other than text".into(),
                })
            }
        }
    }
    Ok(out
        .trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
        .to_owned())
}

/// An attribute parsed as `xs:boolean` ("true"/"false"/"1"/"0"), `None` when absent.
pub fn bool_attr(node: Node<'_, '_>, name: &'static str) -> Result<Option<bool>> {
    match node.attribute(name) {
        None => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(v) => Err(SamlError::InvalidValue {
            what: name,
            value: v.to_owned(),
        }),
    }
}

/// A required attribute.
pub fn required_attr<'a>(node: Node<'a, '_>, name: &'static str) -> Result<&'a str> {
    node.attribute(name).ok_or(SamlError::Missing(name))
}

/// The qualified name (`prefix:local` or `local`) of an element as written in the source,
/// which `roxmltree` does not keep but canonicalization must reproduce.
pub fn element_qname<'i>(node: Node<'_, 'i>) -> &'i str {
    let text = node.document().input_text();
    let start = node.range().start + 1; // skip '<'
    let rest = text.get(start..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The prefix of a qualified name, `""` for none.
pub fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map(|(p, _)| p).unwrap_or("")
}

//! Exclusive XML Canonicalization 1.0 against the W3C specs' own examples
//! (xml-exc-c14n §2.2, xml-c14n 1.0 §3.x), each test named after the rule it shows.

use kakehashi_saml::xml::c14n::{canonicalize, parse_prefix_list};
use kakehashi_saml::xml::parse::parse;

fn c14n_of(xml: &str, local: &str, prefixes: &str) -> String {
    let doc = parse(xml).expect("test input parses");
    let node = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == local)
        .expect("element present");
    canonicalize(node, None, &parse_prefix_list(prefixes))
}

/// exc-c14n §2.2: the apex keeps only the namespaces it visibly uses, not its ancestors'.
#[test]
fn exc_c14n_2_2_subtree_omits_unused_ancestor_namespaces() {
    let xml = "<n0:local xmlns:n0=\"foo:bar\" xmlns:n3=\"ftp://example.org\">\n   <n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n       <n3:stuff xmlns:n3=\"ftp://example.org\"/>\n   </n1:elem2>\n</n0:local>";
    assert_eq!(
        c14n_of(xml, "elem2", ""),
        "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n       <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n   </n1:elem2>"
    );
}

/// exc-c14n §2.2, second document: the same subtree in a different context canonicalizes
/// identically (the point of exclusive canonicalization).
#[test]
fn exc_c14n_2_2_result_is_independent_of_context() {
    let xml = "<n2:pdu xmlns:n1=\"http://example.com\" xmlns:n2=\"http://foo.example\" xml:lang=\"fr\" xml:space=\"retain\">\n   <n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n       <n3:stuff xmlns:n3=\"ftp://example.org\"/>\n   </n1:elem2>\n</n2:pdu>";
    assert_eq!(
        c14n_of(xml, "elem2", ""),
        "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n       <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n   </n1:elem2>"
    );
}

/// C14N 1.0 §3.3: empty elements become start/end pairs, attributes sort by namespace URI
/// then local name (unqualified first), namespace declarations first; exc-c14n §3: only
/// visibly utilized declarations, `xmlns=""` where an output ancestor had a default.
#[test]
fn c14n_3_3_start_end_tags_attribute_order_and_default_namespace_rules() {
    let xml = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
    let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6>
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
    assert_eq!(c14n_of(xml, "doc", ""), expected);
}

/// C14N 1.0 §3.4: character references resolved, CDATA replaced, `#xD` kept as a
/// reference, attribute values normalized and escaped.
#[test]
fn c14n_3_4_character_modifications_and_escaping() {
    let xml = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
    let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
    assert_eq!(c14n_of(xml, "doc", ""), expected);
}

/// C14N 1.0 §2.3 / exc-c14n "without comments": comments vanish, PIs stay.
#[test]
fn c14n_without_comments_drops_comments_keeps_processing_instructions() {
    let xml = "<a><!-- gone --><?pi data?><b>x<!--y-->z</b></a>";
    assert_eq!(c14n_of(xml, "a", ""), "<a><?pi data?><b>xz</b></a>");
}

/// exc-c14n §3: a prefix used only inside an attribute *value* (xsi:type="xs:string") is not
/// visibly utilized, so it is dropped unless named in the InclusiveNamespaces PrefixList.
#[test]
fn exc_c14n_3_inclusive_namespaces_prefix_list_keeps_listed_prefix() {
    let xml = r#"<r xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><v xsi:type="xs:string">1</v></r>"#;
    assert_eq!(
        c14n_of(xml, "v", ""),
        r#"<v xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">1</v>"#
    );
    assert_eq!(
        c14n_of(xml, "v", "xs"),
        r#"<v xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">1</v>"#
    );
}

/// exc-c14n §3: `#default` in the PrefixList renders the in-scope default namespace on the
/// apex even though prefixed elements do not use it.
#[test]
fn exc_c14n_3_prefix_list_default_token() {
    let xml = r#"<r xmlns="urn:d" xmlns:p="urn:p"><p:a/></r>"#;
    assert_eq!(c14n_of(xml, "a", ""), r#"<p:a xmlns:p="urn:p"></p:a>"#);
    assert_eq!(
        c14n_of(xml, "a", "#default"),
        r#"<p:a xmlns="urn:d" xmlns:p="urn:p"></p:a>"#
    );
}

/// exc-c14n §3: a declaration already output by an output ancestor with the same value is
/// not repeated; a redeclaration with another value is.
#[test]
fn exc_c14n_3_redundant_declarations_removed_rebinding_kept() {
    let xml = r#"<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:1"><p:c xmlns:p="urn:2"/></p:b></p:a>"#;
    assert_eq!(
        c14n_of(xml, "a", ""),
        r#"<p:a xmlns:p="urn:1"><p:b><p:c xmlns:p="urn:2"></p:c></p:b></p:a>"#
    );
}

/// Japanese text, including characters outside the BMP, is output as UTF-8, unescaped.
#[test]
fn c14n_keeps_utf8_text_exactly() {
    let xml = "<a n=\"𠮷田\">𠮷田 太郎</a>";
    assert_eq!(c14n_of(xml, "a", ""), "<a n=\"𠮷田\">𠮷田 太郎</a>");
}

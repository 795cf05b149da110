//! Building XML. Every message this crate emits is an [`Element`] tree rendered here, so
//! escaping lives in one place. Output is UTF-8 without an XML declaration; text is written
//! exactly as given (Japanese such as 𠮷田 stays as UTF-8, never as character references).

/// An element to be written: a qualified name, attributes in order, and children.
#[derive(Debug, Clone)]
pub struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Element(Element),
    Text(String),
}

impl Element {
    /// A new element with qualified name `name` (e.g. `saml:Issuer`).
    pub fn new(name: &str) -> Self {
        Element {
            name: name.to_owned(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute (namespace declarations are attributes here too).
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs.push((name.to_owned(), value.into()));
        self
    }

    /// Adds an attribute when `value` is `Some`.
    pub fn attr_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Adds a child element.
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Child::Element(child));
        self
    }

    /// Adds a child element when `Some`.
    pub fn child_opt(self, child: Option<Element>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// Adds children.
    pub fn children(mut self, children: impl IntoIterator<Item = Element>) -> Self {
        self.children
            .extend(children.into_iter().map(Child::Element));
        self
    }

    /// Adds a text child.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Child::Text(text.into()));
        self
    }

    /// Renders the tree.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(1024);
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_attr_into(v, out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Child::Element(e) => e.render_into(out),
                Child::Text(t) => escape_text_into(t, out),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Escapes character data (`&`, `<`, `>`; `\r` as a reference so it survives parsing).
pub fn escape_text_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value for double quotes; whitespace characters other than space are
/// written as references so attribute-value normalization (XML 1.0 3.3.3) keeps them.
pub fn escape_attr_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Escapes text for HTML (element content or a double-quoted attribute value).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

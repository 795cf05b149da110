//! Namespace names and the URIs that identify bindings and NameID formats
//! (SAML Core 2.2.1, 8.3; SAML Bindings 3).

/// `saml:` — SAML Core 2 (assertions).
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// `samlp:` — SAML Core 3 (protocols).
pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// `md:` — SAML Metadata 2.
pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// `ds:` — xmldsig-core.
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// `xs:` — XML Schema datatypes (used in `xsi:type="xs:string"`).
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";
/// `xsi:` — XML Schema instance.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A SAML protocol binding (SAML Bindings 3). Only the two browser bindings are supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect` (Bindings 3.4).
    HttpRedirect,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST` (Bindings 3.5).
    HttpPost,
}

impl Binding {
    /// The binding's URI.
    pub fn uri(self) -> &'static str {
        match self {
            Binding::HttpRedirect => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            Binding::HttpPost => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        }
    }

    /// The binding for a URI, or `None` for bindings this crate does not speak
    /// (Artifact, SOAP, PAOS…).
    pub fn from_uri(uri: &str) -> Option<Binding> {
        [Binding::HttpRedirect, Binding::HttpPost]
            .into_iter()
            .find(|b| b.uri() == uri)
    }
}

/// A NameID format (SAML Core 8.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NameIdFormat {
    /// `…:2.0:nameid-format:persistent` (Core 8.3.7): an opaque pairwise identifier.
    Persistent,
    /// `…:2.0:nameid-format:transient` (Core 8.3.8).
    Transient,
    /// `…:1.1:nameid-format:unspecified` (Core 8.3.1): Kakehashi puts the username here.
    Unspecified,
    /// `…:1.1:nameid-format:emailAddress` (Core 8.3.2).
    EmailAddress,
    /// Any other format URI.
    Other(String),
}

impl NameIdFormat {
    /// The format's URI.
    pub fn uri(&self) -> &str {
        match self {
            NameIdFormat::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            NameIdFormat::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            NameIdFormat::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            NameIdFormat::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            NameIdFormat::Other(u) => u,
        }
    }

    /// The format for a URI; unknown URIs become [`NameIdFormat::Other`].
    pub fn from_uri(uri: &str) -> NameIdFormat {
        [
            NameIdFormat::Persistent,
            NameIdFormat::Transient,
            NameIdFormat::Unspecified,
            NameIdFormat::EmailAddress,
        ]
        .into_iter()
        .find(|f| f.uri() == uri)
        .unwrap_or_else(|| NameIdFormat::Other(uri.to_owned()))
    }
}

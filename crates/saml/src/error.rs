//! The crate's error types. [`SamlError`] names each way a message can be refused; the
//! server layer maps it to a SAML `StatusCode` with [`SamlError::status`] (or to an error
//! page when no trustworthy ACS URL is known, SAML Profiles 4.1.3.5).

use crate::status::{StatusCode, SubStatusCode};

/// Why an XML Signature (xmldsig-core) or an HTTP-Redirect signature (SAML Bindings 3.4.4.1)
/// was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The element carries no `ds:Signature` child, but one is required.
    #[error("the message is not signed")]
    Missing,
    /// More than one `ds:Signature` is a direct child of the element.
    #[error("the element has {0} ds:Signature children; exactly one is allowed")]
    Multiple(usize),
    /// `SignedInfo` must hold exactly one `Reference` (SAML Core 5.4.2).
    #[error("SignedInfo has {0} Reference elements; exactly one is allowed (SAML Core 5.4.2)")]
    ReferenceCount(usize),
    /// The element being processed has no `ID` attribute to reference.
    #[error("the signed element has no ID attribute")]
    MissingId,
    /// The Reference does not point at the element being processed (signature wrapping).
    #[error("Reference URI {uri:?} does not point at the processed element's ID {id:?}")]
    ReferenceMismatch { uri: String, id: String },
    /// The ID appears on more than one element of the document (signature wrapping).
    #[error("ID {0:?} appears on more than one element")]
    DuplicateId(String),
    /// An algorithm outside the accepted set.
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    /// Transforms other than enveloped-signature followed by exc-c14n (SAML Core 5.4.4).
    #[error("transforms {0:?} are not accepted; expected enveloped-signature then exc-c14n")]
    Transforms(Vec<String>),
    /// The signature's structure is not what xmldsig-core requires.
    #[error("malformed signature: {0}")]
    Malformed(&'static str),
    /// The digest of the referenced element does not match `DigestValue` (content altered).
    #[error("digest mismatch: the signed content was altered")]
    DigestMismatch,
    /// No trusted certificate verifies the signature value.
    #[error("the signature value does not verify with any trusted certificate")]
    BadSignature,
    /// No trusted certificate is configured for this peer.
    #[error("no trusted certificate is configured for this peer")]
    NoTrustedCertificate,
}

/// Every way this crate refuses input or fails to build output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SamlError {
    /// Not well-formed XML (or over the node limit).
    #[error("XML is not well-formed: {0}")]
    Xml(String),
    /// A DOCTYPE, and so any entity declaration, is refused outright (XXE, entity expansion).
    #[error("a DOCTYPE declaration is not allowed in a SAML message")]
    DoctypeRefused,
    /// The message or a decoded form of it is over the size limit.
    #[error("message too large: over {limit} bytes")]
    TooLarge { limit: usize },
    /// Bad base64 in a binding parameter or a certificate.
    #[error("invalid base64 in {0}")]
    Base64(&'static str),
    /// Bad raw DEFLATE data in an HTTP-Redirect `SAMLRequest` (SAML Bindings 3.4.4.1).
    #[error("invalid DEFLATE data in the HTTP-Redirect message")]
    Inflate,
    /// A binding parameter is missing or repeated.
    #[error("query parameter {0}")]
    Parameter(String),
    /// The root or a child element is not the one required.
    #[error("expected element {expected}, found {found}")]
    UnexpectedElement { expected: String, found: String },
    /// A required element or attribute is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A value does not have the required syntax.
    #[error("invalid {what}: {value:?}")]
    InvalidValue { what: &'static str, value: String },
    /// SAML Core 3.2.1: Version must be "2.0" (status VersionMismatch).
    #[error("unsupported SAML version {0:?}; only 2.0 is supported")]
    VersionMismatch(String),
    /// IssueInstant outside the accepted window (too old or in the future).
    #[error("IssueInstant {0} is outside the accepted time window")]
    IssueInstantOutOfWindow(String),
    /// SAML Core 3.2.1: Destination, when present, must be the endpoint that received it.
    #[error("Destination {found:?} is not this IdP's endpoint")]
    WrongDestination { found: String },
    /// The message's Issuer is not the expected SP.
    #[error("Issuer {found:?} is not the expected entity {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    /// The SP's metadata asks for signed AuthnRequests and this one is not signed.
    #[error("the SP requires signed AuthnRequests (AuthnRequestsSigned) but this one is unsigned")]
    UnsignedRequest,
    /// A signature is present but does not verify.
    #[error("signature refused: {0}")]
    Signature(#[from] SignatureError),
    /// The requested AssertionConsumerService is not in the SP's metadata (Profiles 4.1.4.1).
    #[error("AssertionConsumerService {0:?} is not registered for this SP")]
    UnknownAcs(String),
    /// A binding this IdP does not support for the requested endpoint.
    #[error("unsupported binding {0:?}")]
    UnsupportedBinding(String),
    /// The NameIDPolicy asks for a format this IdP cannot issue for this SP.
    #[error("NameIDPolicy format {0:?} cannot be satisfied")]
    InvalidNameIdPolicy(String),
    /// A key or certificate could not be loaded, or OpenSSL failed.
    #[error("key or certificate: {0}")]
    Key(String),
}

impl From<openssl::error::ErrorStack> for SamlError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        SamlError::Key(e.to_string())
    }
}

impl SamlError {
    /// The SAML status a Response should carry when this error ends the request and an ACS
    /// URL is still trustworthy (SAML Core 3.2.2.2). Requester errors are the SP's fault.
    pub fn status(&self) -> (StatusCode, Option<SubStatusCode>) {
        use SamlError::*;
        match self {
            VersionMismatch(_) => (StatusCode::VersionMismatch, None),
            Key(_) => (StatusCode::Responder, None),
            UnsupportedBinding(_) => (
                StatusCode::Requester,
                Some(SubStatusCode::UnsupportedBinding),
            ),
            InvalidNameIdPolicy(_) => (
                StatusCode::Requester,
                Some(SubStatusCode::InvalidNameIdPolicy),
            ),
            UnsignedRequest | Signature(_) | WrongDestination { .. } | IssuerMismatch { .. } => {
                (StatusCode::Requester, Some(SubStatusCode::RequestDenied))
            }
            _ => (StatusCode::Requester, None),
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = SamlError> = std::result::Result<T, E>;

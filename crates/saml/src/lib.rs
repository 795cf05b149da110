//! # kakehashi-saml
//!
//! The SAML 2.0 Identity Provider rules of Kakehashi, with no HTTP and no database: what a
//! school-affairs system (校務支援システム) sends us, what we send back, and the XML
//! Signature and canonicalization that make it trustworthy. See `docs/SAML.md`.
//!
//! Map of the crate:
//! - [`xml`]: safe parsing (no DTD, bounded), writing, Exclusive XML Canonicalization 1.0.
//! - [`dsig`]: enveloped XML Signature creation and verification (with signature-wrapping
//!   defences) and the HTTP-Redirect query signature.
//! - [`binding`]: HTTP-Redirect (DEFLATE + query signature) and HTTP-POST (base64, HTML form).
//! - [`authn_request`]: parse and validate `<samlp:AuthnRequest>`.
//! - [`metadata`]: parse SP metadata, build IdP metadata.
//! - [`response`]: build `<samlp:Response>` with one assertion, and error Responses.
//! - [`logout`]: `<samlp:LogoutRequest>` / `<samlp:LogoutResponse>`.
//!
//! Time and randomness are parameters: every function that needs "now" takes a
//! `time::OffsetDateTime`, and every new ID comes from the caller ([`SamlId::random`] takes
//! an [`Rng`]).

pub mod authn_context;
pub mod authn_request;
pub mod binding;
pub mod dsig;
pub mod error;
pub mod ids;
pub mod keys;
pub mod logout;
pub mod metadata;
pub mod ns;
pub mod response;
pub mod status;
pub mod xml;

pub use error::{Result, SamlError, SignatureError};
pub use ids::{Rng, SamlId};
pub use keys::{Certificate, SigningKey};
pub use ns::{Binding, NameIdFormat};
pub use status::{StatusCode, SubStatusCode};

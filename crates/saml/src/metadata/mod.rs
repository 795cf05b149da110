//! SAML Metadata 2.0: reading an SP's `EntityDescriptor` ([`sp`]) and writing ours ([`idp`]).

pub mod idp;
pub mod sp;

pub use idp::IdpMetadata;
pub use sp::{Endpoint, IndexedEndpoint, SpMetadata};

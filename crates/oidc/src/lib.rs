//! # kakehashi-oidc: the OpenID Provider's protocol rules
//!
//! This crate owns the *rules* of Kakehashi's OpenID Provider, read beside the specs: JOSE
//! (JWS/JWK), signing-key lifecycle, authorization-request validation, token-request parsing
//! and client authentication, ID token / access token / userinfo claims, discovery metadata,
//! introspection, revocation, RP-initiated logout and the `form_post` page.
//!
//! Invariants:
//! - **No I/O.** No HTTP types, no SQL, no clock and no global RNG: the caller passes `now`
//!   (unix seconds), random bytes (through [`Rng`]) and keys, so every rule is deterministic
//!   in tests. (Key *generation* uses OpenSSL's CSPRNG; loading stored keys does not.)
//! - **One crypto backend**: every signature, verification, hash and key operation goes
//!   through the `openssl` crate (random bytes for tokens come from the kernel, [`OsRng`]).
//! - **One issuer per tenant** (`{public-url}/t/{tenant}`), modelled by [`Issuer`].
//! - Errors are typed; each protocol error maps to its wire format in one place
//!   ([`OAuthError`] for RFC 6749 5.2 JSON and authorization error redirects).
//!
//! See `docs/OIDC.md` for what the server layer must add (one-time codes, refresh-token
//! rotation, sessions, storage of keys at rest).

pub mod authorize;
pub mod b64;
pub mod claims;
pub mod client;
pub mod digest;
pub mod discovery;
pub mod end_session;
pub mod error;
pub mod form_post;
pub mod introspection;
pub mod issuer;
pub mod jose;
pub mod keys;
pub mod params;
pub mod pkce;
pub mod revocation;
pub mod rng;
pub mod token;

pub use client::{ClientAuthMethod, ClientPolicy, ClientSecretHash, SubjectType};
pub use error::{ErrorCode, OAuthError};
pub use issuer::Issuer;
pub use jose::{Algorithm, JoseError, Jwk, JwkSet, VerificationKey};
pub use keys::{KeySet, KeyState, SigningKey};
pub use rng::{OsRng, Rng};

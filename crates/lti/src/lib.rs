//! # kakehashi-lti: the LTI 1.3 platform's protocol rules
//!
//! What a learning platform must say and check to speak 1EdTech LTI 1.3 and LTI Advantage,
//! read beside the specifications:
//!
//! - [`claims`]: the claim names and the `id_token` of a launch (LTI Core 1.3 §5.3, §5.4).
//! - [`roles`]: OneRoster 1.2 roles → the LIS vocabulary (LTI Core 1.3 Appendix A.2).
//! - [`login`]: third-party initiated login and the tool's authentication request (1EdTech
//!   Security Framework 1.0 §5.1.1).
//! - [`deep_linking`]: Deep Linking 2.0 settings and the checks on a tool's
//!   `LtiDeepLinkingResponse` (DL 2.0 §4.4, §4.5).
//! - [`services`]: scopes and media types of NRPS 2.0 and AGS 2.0; line items and scores.
//! - [`substitution`]: custom property variables (LTI Core 1.3 §5.4.6, Appendix C).
//!
//! Invariants: no I/O, no clock (the caller passes `now`), no HTTP or SQL types. Signatures
//! are made and checked with `kakehashi-oidc`'s JOSE (OpenSSL), the one crypto backend.

pub mod claims;
pub mod deep_linking;
pub mod login;
pub mod registration;
pub mod roles;
pub mod services;
pub mod substitution;

/// LTI Core 1.3 §5.3.2: the only version this platform speaks.
pub const LTI_VERSION: &str = "1.3.0";

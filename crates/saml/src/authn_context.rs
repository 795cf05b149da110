//! Authentication context classes: what Kakehashi reports in `AuthnContextClassRef` and how
//! a `RequestedAuthnContext` is judged against it (SAML Core 3.3.2.2.1; the class URIs are
//! from SAML Authn Context 3.4 and the REFEDS MFA Profile).
//!
//! Kakehashi reports exactly one of these, saying what was actually done at login:
//!
//! | class | URI | when |
//! |---|---|---|
//! | [`AuthnContextClass::PasswordProtectedTransport`] | `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport` | password over HTTPS |
//! | [`AuthnContextClass::X509`] | `urn:oasis:names:tc:SAML:2.0:ac:classes:X509` | a platform authenticator or security key (WebAuthn) alone |
//! | [`AuthnContextClass::RefedsMfa`] | `https://refeds.org/profile/mfa` | password plus a second factor (security key, fingerprint reader) |
//!
//! Strength order for `minimum`/`maximum`/`better`: unspecified < Password <
//! PasswordProtectedTransport < X509 < REFEDS MFA. Classes outside this list have no
//! strength and can only be satisfied by `exact`, which Kakehashi never can.

/// An authentication context class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthnContextClass {
    /// `urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified`.
    Unspecified,
    /// `urn:oasis:names:tc:SAML:2.0:ac:classes:Password` (password, transport not known).
    Password,
    /// `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`.
    PasswordProtectedTransport,
    /// `urn:oasis:names:tc:SAML:2.0:ac:classes:X509` (public-key authentication).
    X509,
    /// `https://refeds.org/profile/mfa` (multi-factor).
    RefedsMfa,
    /// A class Kakehashi does not know.
    Other(String),
}

/// The classes Kakehashi can report, weakest first.
pub const REPORTED_CLASSES: [AuthnContextClass; 3] = [
    AuthnContextClass::PasswordProtectedTransport,
    AuthnContextClass::X509,
    AuthnContextClass::RefedsMfa,
];

impl AuthnContextClass {
    /// The class URI.
    pub fn uri(&self) -> &str {
        match self {
            AuthnContextClass::Unspecified => "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            AuthnContextClass::Password => "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
            AuthnContextClass::PasswordProtectedTransport => {
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            }
            AuthnContextClass::X509 => "urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
            AuthnContextClass::RefedsMfa => "https://refeds.org/profile/mfa",
            AuthnContextClass::Other(u) => u,
        }
    }

    /// The class for a URI.
    pub fn from_uri(uri: &str) -> AuthnContextClass {
        use AuthnContextClass::*;
        [
            Unspecified,
            Password,
            PasswordProtectedTransport,
            X509,
            RefedsMfa,
        ]
        .into_iter()
        .find(|c| c.uri() == uri)
        .unwrap_or_else(|| Other(uri.to_owned()))
    }

    /// Position in the strength order, `None` for unknown classes.
    pub fn strength(&self) -> Option<u8> {
        match self {
            AuthnContextClass::Unspecified => Some(0),
            AuthnContextClass::Password => Some(1),
            AuthnContextClass::PasswordProtectedTransport => Some(2),
            AuthnContextClass::X509 => Some(3),
            AuthnContextClass::RefedsMfa => Some(4),
            AuthnContextClass::Other(_) => None,
        }
    }
}

/// `Comparison` of a `RequestedAuthnContext` (SAML Core 3.3.2.2.1); default `exact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Comparison {
    /// One of the listed classes exactly.
    #[default]
    Exact,
    /// At least as strong as one of the listed classes.
    Minimum,
    /// As strong as possible without exceeding one of the listed classes.
    Maximum,
    /// Stronger than every listed class.
    Better,
}

/// A `<samlp:RequestedAuthnContext>` with `AuthnContextClassRef`s (DeclRefs are refused at
/// parse time: Kakehashi does not issue declarations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAuthnContext {
    /// How to compare.
    pub comparison: Comparison,
    /// The listed classes, in request order (at least one).
    pub classes: Vec<AuthnContextClass>,
}

impl RequestedAuthnContext {
    /// Whether reporting `performed` satisfies this request.
    pub fn is_satisfied_by(&self, performed: &AuthnContextClass) -> bool {
        let strengths = || self.classes.iter().filter_map(AuthnContextClass::strength);
        match (self.comparison, performed.strength()) {
            (Comparison::Exact, _) => self.classes.contains(performed),
            (_, None) => false,
            (Comparison::Minimum, Some(p)) => strengths().any(|s| p >= s),
            (Comparison::Maximum, Some(p)) => strengths().any(|s| p <= s),
            (Comparison::Better, Some(p)) => {
                strengths().next().is_some() && strengths().all(|s| p > s)
            }
        }
    }

    /// The weakest class Kakehashi reports that satisfies the request, so the server knows
    /// which login (password, or password plus second factor) to demand; `None` means
    /// answer with `NoAuthnContext`. For `maximum` the strongest acceptable class is
    /// returned (Core 3.3.2.2.1: "as strong as possible").
    pub fn required_class(&self) -> Option<AuthnContextClass> {
        if self.comparison == Comparison::Maximum {
            return REPORTED_CLASSES
                .iter()
                .rev()
                .find(|c| self.is_satisfied_by(c))
                .cloned();
        }
        REPORTED_CLASSES
            .iter()
            .find(|c| self.is_satisfied_by(c))
            .cloned()
    }
}

//! SAML status codes (SAML Core 3.2.2.2). A Response carries a top-level code and, for
//! errors, optionally a second-level code that says why.

/// Top-level status codes (SAML Core 3.2.2.2: only these four may be top-level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    /// The request succeeded.
    Success,
    /// The request could not be performed due to an error on the part of the requester (SP).
    Requester,
    /// The request could not be performed due to an error on the part of the responder (IdP).
    Responder,
    /// The SAML version of the request is not supported.
    VersionMismatch,
}

impl StatusCode {
    /// The code's URI.
    pub fn uri(self) -> &'static str {
        match self {
            StatusCode::Success => "urn:oasis:names:tc:SAML:2.0:status:Success",
            StatusCode::Requester => "urn:oasis:names:tc:SAML:2.0:status:Requester",
            StatusCode::Responder => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            StatusCode::VersionMismatch => "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
        }
    }
}

/// Second-level status codes Kakehashi emits (SAML Core 3.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStatusCode {
    /// The requested authentication context cannot be met.
    NoAuthnContext,
    /// The IdP refuses the request (unsigned when signing is required, bad signature, policy).
    RequestDenied,
    /// `IsPassive="true"` but the user must interact (no session, or step-up needed).
    NoPassive,
    /// The user could not be authenticated.
    AuthnFailed,
    /// The requested binding is not supported.
    UnsupportedBinding,
    /// The NameIDPolicy cannot be satisfied.
    InvalidNameIdPolicy,
}

impl SubStatusCode {
    /// The code's URI.
    pub fn uri(self) -> &'static str {
        match self {
            SubStatusCode::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
            SubStatusCode::RequestDenied => "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
            SubStatusCode::NoPassive => "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
            SubStatusCode::AuthnFailed => "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
            SubStatusCode::UnsupportedBinding => {
                "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding"
            }
            SubStatusCode::InvalidNameIdPolicy => {
                "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
            }
        }
    }
}

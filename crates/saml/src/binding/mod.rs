//! The two browser bindings (SAML Bindings 3.4 HTTP-Redirect, 3.5 HTTP-POST): turning
//! query strings and form fields into XML text and back. No HTTP types: the server passes
//! the raw query string or the form field values.

pub mod post;
pub mod redirect;

/// Which form/query parameter carries the message (Bindings 3.4.4, 3.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageParam {
    /// `SAMLRequest`.
    Request,
    /// `SAMLResponse`.
    Response,
}

impl MessageParam {
    /// The parameter name.
    pub fn name(self) -> &'static str {
        match self {
            MessageParam::Request => "SAMLRequest",
            MessageParam::Response => "SAMLResponse",
        }
    }
}

/// SAML Bindings 3.4.3 / 3.5.3: RelayState must not exceed 80 bytes.
pub const MAX_RELAY_STATE: usize = 80;

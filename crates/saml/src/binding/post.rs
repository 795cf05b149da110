//! HTTP-POST binding (SAML Bindings 3.5): the message is base64 (no DEFLATE) in a form
//! field; signatures are enveloped in the XML (3.5.4). For sending, an HTML form that
//! submits itself.

use super::MessageParam;
use crate::error::{Result, SamlError};
use crate::xml::parse::MAX_MESSAGE_BYTES;
use crate::xml::write::escape_html;
use base64::Engine as _;

/// Decodes the base64 value of a `SAMLRequest`/`SAMLResponse` form field to XML text.
pub fn decode_post(value: &str) -> Result<String> {
    if value.len() > MAX_MESSAGE_BYTES * 4 / 3 + 16 {
        return Err(SamlError::TooLarge {
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| SamlError::Base64("SAMLRequest"))?;
    String::from_utf8(bytes).map_err(|_| SamlError::Xml("not UTF-8".into()))
}

/// The HTML page that POSTs `xml` to `action` (Bindings 3.5.4). It works under a strict
/// Content-Security-Policy: the one inline script carries `script_nonce` (the server puts
/// the same nonce in `script-src 'nonce-…'`), and without script a visible button in
/// `<noscript>` submits the form. Every value is HTML-escaped.
pub fn post_form(
    action: &str,
    param: MessageParam,
    xml: &str,
    relay_state: Option<&str>,
    script_nonce: &str,
) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());
    let relay = relay_state
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">",
                escape_html(r)
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>SAML</title></head>\
<body><form id=\"saml-post\" method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"{name}\" value=\"{value}\">{relay}\
<noscript><p>JavaScript が無効です。続行するにはボタンを押してください。 / JavaScript is disabled; press the button to continue.</p>\
<button type=\"submit\">続行 / Continue</button></noscript></form>\
<script nonce=\"{nonce}\">document.getElementById('saml-post').submit();</script></body></html>\n",
        action = escape_html(action),
        name = param.name(),
        value = escape_html(&b64),
        nonce = escape_html(script_nonce),
    )
}

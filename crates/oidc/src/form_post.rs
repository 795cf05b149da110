//! The HTML page for `response_mode=form_post` (OAuth 2.0 Form Post Response Mode 2): a form
//! that POSTs the response parameters to the client's redirect URI.
//!
//! - Every value is HTML-escaped (attribute context).
//! - Works under a strict Content-Security-Policy: there is no inline script unless the
//!   caller passes a CSP nonce, which is then put on the `<script nonce="…">` element (and
//!   must be the nonce of the page's `script-src 'nonce-…'`).
//! - Without JavaScript, a visible submit button inside `<noscript>` lets the user continue.
//! - Japanese text first, then English.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// The Content-Security-Policy header to send with the page. `form-action` must allow the
/// client's origin, so it is set from `action`'s origin by the caller; this returns the rest.
pub fn content_security_policy(csp_nonce: Option<&str>) -> String {
    match csp_nonce {
        Some(n) => format!(
            "default-src 'none'; script-src 'nonce-{n}'; base-uri 'none'; frame-ancestors 'none'"
        ),
        None => "default-src 'none'; base-uri 'none'; frame-ancestors 'none'".to_string(),
    }
}

/// Builds the auto-submitting (when a CSP nonce is given) form page.
pub fn form_post_html(
    action: &str,
    fields: &[(String, String)],
    csp_nonce: Option<&str>,
) -> String {
    let mut inputs = String::new();
    for (name, value) in fields {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            html_escape(name),
            html_escape(value)
        ));
    }
    let script = match csp_nonce {
        Some(n) => format!(
            "<script nonce=\"{}\">document.forms[0].submit();</script>\n",
            html_escape(n)
        ),
        None => String::new(),
    };
    // Without script the button is always visible, so the user can continue.
    let (open, close) = if csp_nonce.is_some() {
        ("<noscript>", "</noscript>")
    } else {
        ("", "")
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n<title>送信中 / Submitting</title>\n</head>\n<body>\n\
<form method=\"post\" action=\"{action}\">\n{inputs}{open}<p>JavaScript が無効です。ボタンを押して続けてください。 / JavaScript is disabled; press the button to continue.</p>\n\
<button type=\"submit\">続ける / Continue</button>{close}\n</form>\n{script}</body>\n</html>\n",
        action = html_escape(action),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_post_2_values_are_html_escaped() {
        let html = form_post_html(
            "https://rp.example/cb?a=1&b=2",
            &[("state".into(), "\"><script>alert(1)</script>".into())],
            None,
        );
        assert!(html.contains("action=\"https://rp.example/cb?a=1&amp;b=2\""));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn form_post_without_nonce_has_no_inline_script_and_a_visible_button() {
        let html = form_post_html(
            "https://rp.example/cb",
            &[("code".into(), "abc".into())],
            None,
        );
        assert!(!html.contains("<script"));
        assert!(!html.contains("<noscript>"));
        assert!(html.contains("<button type=\"submit\">続ける / Continue</button>"));
    }

    #[test]
    fn form_post_with_csp_nonce_auto_submits_and_keeps_noscript_button() {
        let html = form_post_html(
            "https://rp.example/cb",
            &[("code".into(), "abc".into())],
            Some("n0nce"),
        );
        assert!(html.contains("<script nonce=\"n0nce\">document.forms[0].submit();</script>"));
        assert!(html.contains("<noscript>"));
        assert!(content_security_policy(Some("n0nce")).contains("script-src 'nonce-n0nce'"));
    }
}

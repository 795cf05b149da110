//! Building the authorization response (OIDC Core 3.1.2.5 success, 3.1.2.6 error) for
//! `response_mode=query` (a 303 redirect) or `form_post` (an auto-submitting HTML form).

use url::Url;

use super::ResponseMode;

/// What the authorization endpoint sends to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// Redirect (HTTP 303 See Other) to `location`.
    Redirect { location: String },
    /// Serve [`crate::form_post::form_post_html`] posting `fields` to `action`.
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

impl AuthorizationResponse {
    /// Builds the response for `redirect_uri`, adding `fields` in order.
    /// RFC 6749 3.1.2: an existing query component of the redirect URI is retained.
    pub(crate) fn build(
        redirect_uri: &Url,
        mode: ResponseMode,
        fields: Vec<(String, String)>,
    ) -> Self {
        match mode {
            ResponseMode::Query => {
                let mut url = redirect_uri.clone();
                {
                    let mut q = url.query_pairs_mut();
                    for (k, v) in &fields {
                        q.append_pair(k, v);
                    }
                }
                AuthorizationResponse::Redirect {
                    location: url.to_string(),
                }
            }
            ResponseMode::FormPost => AuthorizationResponse::FormPost {
                action: redirect_uri.to_string(),
                fields,
            },
        }
    }

    /// The HTML page for a `FormPost` response, `None` for a redirect.
    pub fn form_post_html(&self, csp_nonce: Option<&str>) -> Option<String> {
        match self {
            AuthorizationResponse::FormPost { action, fields } => {
                Some(crate::form_post::form_post_html(action, fields, csp_nonce))
            }
            AuthorizationResponse::Redirect { .. } => None,
        }
    }
}

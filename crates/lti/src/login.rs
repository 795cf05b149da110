//! OIDC third-party initiated login and the tool's authentication request (1EdTech Security
//! Framework 1.0 §5.1.1; LTI Core 1.3 §4.1).
//!
//! 1. The platform sends the browser to the tool's login URL with `iss`, `login_hint`,
//!    `target_link_uri`, `lti_message_hint`, `client_id`, `lti_deployment_id`
//!    ([`LoginInitiation`]).
//! 2. The tool answers with an authentication request to the platform ([`AuthRequest`]):
//!    `scope=openid`, `response_type=id_token`, `response_mode=form_post`, `prompt=none`,
//!    its `client_id`, a registered `redirect_uri`, `login_hint`, `lti_message_hint`,
//!    `state` and `nonce`.
//! 3. The platform answers with a form POST of `id_token` and `state` to the redirect URI.

use url::Url;

/// Step 1: the parameters of the login initiation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginInitiation {
    pub iss: String,
    pub login_hint: String,
    pub target_link_uri: String,
    pub lti_message_hint: String,
    pub client_id: String,
    pub lti_deployment_id: String,
}

impl LoginInitiation {
    /// The tool's login URL with the parameters in its query (the GET form of §5.1.1.1).
    pub fn url(&self, login_url: &str) -> Result<String, url::ParseError> {
        let mut u = Url::parse(login_url)?;
        u.query_pairs_mut()
            .append_pair("iss", &self.iss)
            .append_pair("login_hint", &self.login_hint)
            .append_pair("target_link_uri", &self.target_link_uri)
            .append_pair("lti_message_hint", &self.lti_message_hint)
            .append_pair("client_id", &self.client_id)
            .append_pair("lti_deployment_id", &self.lti_deployment_id);
        Ok(u.into())
    }
}

/// Step 2, checked: what the platform needs to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub login_hint: String,
    pub lti_message_hint: String,
    pub state: Option<String>,
    pub nonce: String,
}

/// Why an authentication request is refused. [`AuthError::redirectable`] tells whether the
/// error may be sent to the redirect URI (OIDC Core 3.1.2.6): never when the client or the
/// redirect URI is not trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("client_id is missing")]
    MissingClient,
    #[error("client_id {0:?} is not a tool registered with this platform")]
    UnknownClient(String),
    #[error("redirect_uri is missing")]
    MissingRedirectUri,
    #[error("redirect_uri {0:?} is not registered for this tool")]
    UnregisteredRedirectUri(String),
    #[error("{param} must be {expected:?} (Security Framework 5.1.1.2), not {got:?}")]
    Fixed {
        param: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("{0} is required (Security Framework 5.1.1.2)")]
    Missing(&'static str),
}

impl AuthError {
    pub fn redirectable(&self) -> bool {
        !matches!(
            self,
            AuthError::MissingClient
                | AuthError::UnknownClient(_)
                | AuthError::MissingRedirectUri
                | AuthError::UnregisteredRedirectUri(_)
        )
    }

    /// The OAuth 2.0 / OIDC error code sent to the tool.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Fixed {
                param: "response_type",
                ..
            } => "unsupported_response_type",
            AuthError::Fixed { param: "scope", .. } => "invalid_scope",
            _ => "invalid_request",
        }
    }
}

/// Checks an authentication request. `get` reads a parameter; `redirect_uris` are the tool's
/// registered ones (compared exactly: OAuth 2.0 Security BCP §4.1.3).
pub fn check_auth_request<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    known_client: impl Fn(&str) -> bool,
    redirect_uris: &[String],
) -> Result<AuthRequest, AuthError> {
    let client_id = get("client_id").ok_or(AuthError::MissingClient)?;
    if !known_client(client_id) {
        return Err(AuthError::UnknownClient(client_id.to_owned()));
    }
    let redirect_uri = get("redirect_uri").ok_or(AuthError::MissingRedirectUri)?;
    if !redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(AuthError::UnregisteredRedirectUri(redirect_uri.to_owned()));
    }
    let fixed =
        |param: &'static str, expected: &'static str, ok: &dyn Fn(&str) -> bool| match get(param) {
            Some(v) if ok(v) => Ok(()),
            Some(v) => Err(AuthError::Fixed {
                param,
                expected,
                got: v.to_owned(),
            }),
            None => Err(AuthError::Missing(param)),
        };
    fixed("scope", "openid", &|v| v.split(' ').any(|s| s == "openid"))?;
    fixed("response_type", "id_token", &|v| v == "id_token")?;
    fixed("response_mode", "form_post", &|v| v == "form_post")?;
    fixed("prompt", "none", &|v| v == "none")?;
    let nonce = get("nonce").ok_or(AuthError::Missing("nonce"))?;
    let login_hint = get("login_hint").ok_or(AuthError::Missing("login_hint"))?;
    let hint = get("lti_message_hint").ok_or(AuthError::Missing("lti_message_hint"))?;
    Ok(AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        login_hint: login_hint.to_owned(),
        lti_message_hint: hint.to_owned(),
        state: get("state").map(str::to_owned),
        nonce: nonce.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn good() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("scope", "openid"),
            ("response_type", "id_token"),
            ("response_mode", "form_post"),
            ("prompt", "none"),
            ("client_id", "tool-1"),
            ("redirect_uri", "https://tool.example/launch"),
            ("login_hint", "u"),
            ("lti_message_hint", "h"),
            ("state", "s"),
            ("nonce", "n"),
        ])
    }

    fn check(p: &HashMap<&'static str, &'static str>) -> Result<AuthRequest, AuthError> {
        check_auth_request(
            |k| p.get(k).copied(),
            |c| c == "tool-1",
            &["https://tool.example/launch".to_owned()],
        )
    }

    #[test]
    fn security_framework_5_1_1_2_a_good_request_passes() {
        let r = check(&good()).unwrap();
        assert_eq!(r.nonce, "n");
        assert_eq!(r.state.as_deref(), Some("s"));
    }

    #[test]
    fn an_unregistered_redirect_uri_is_never_redirected_to() {
        let mut p = good();
        p.insert("redirect_uri", "https://evil.example/launch");
        let e = check(&p).unwrap_err();
        assert!(matches!(e, AuthError::UnregisteredRedirectUri(_)));
        assert!(!e.redirectable());
        p.insert("redirect_uri", "https://tool.example/launch/");
        assert!(!check(&p).unwrap_err().redirectable());
    }

    #[test]
    fn fixed_parameters_and_nonce_are_required() {
        for (k, v) in [
            ("response_mode", "query"),
            ("prompt", "login"),
            ("response_type", "code"),
            ("scope", "profile"),
        ] {
            let mut p = good();
            p.insert(k, v);
            let e = check(&p).unwrap_err();
            assert!(e.redirectable(), "{k}");
        }
        let mut p = good();
        p.remove("nonce");
        assert_eq!(check(&p).unwrap_err(), AuthError::Missing("nonce"));
        let mut p = good();
        p.insert("response_type", "code");
        assert_eq!(check(&p).unwrap_err().code(), "unsupported_response_type");
    }

    #[test]
    fn unknown_clients_are_not_redirectable() {
        let mut p = good();
        p.insert("client_id", "other");
        assert!(!check(&p).unwrap_err().redirectable());
    }

    #[test]
    fn login_initiation_url_carries_every_parameter() {
        let u = LoginInitiation {
            iss: "https://p/t/demo".into(),
            login_hint: "lh".into(),
            target_link_uri: "https://tool/launch".into(),
            lti_message_hint: "mh".into(),
            client_id: "c".into(),
            lti_deployment_id: "d".into(),
        }
        .url("https://tool/login?x=1")
        .unwrap();
        assert!(
            u.starts_with("https://tool/login?x=1&iss=https%3A%2F%2Fp%2Ft%2Fdemo&login_hint=lh")
        );
        assert!(u.contains("lti_deployment_id=d"));
    }
}

//! Validation of the authentication request parameters (OIDC Core 3.1.2.1, 3.1.2.2).

use url::Url;

use super::{AuthorizationResponse, AuthorizeError, ClaimsRequest, UserFacingError};
use crate::client::ClientPolicy;
use crate::error::{ErrorCode, OAuthError};
use crate::issuer::Issuer;
use crate::params::Params;
use crate::pkce::{CodeChallenge, PkceError};

/// `response_mode` (OAuth 2.0 Multiple Response Types 2.1; Form Post Response Mode 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// The default for `response_type=code`.
    Query,
    FormPost,
}

/// A `prompt` value (OIDC Core 3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// No UI at all; answer `login_required` etc. if interaction is needed.
    None,
    Login,
    Consent,
    SelectAccount,
}

/// A valid authentication request, ready for the login/consent UI.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// Exactly as sent (and registered); must be compared again at the token endpoint
    /// (RFC 6749 4.1.3).
    pub redirect_uri: String,
    redirect_url: Url,
    pub response_mode: ResponseMode,
    /// Requested scopes the client may receive, in request order, without duplicates.
    /// Always contains `openid`.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Vec<Prompt>,
    /// Seconds; `Some(0)` forces re-authentication (OIDC Core 3.1.2.1).
    pub max_age: Option<u64>,
    pub acr_values: Vec<String>,
    pub claims: Option<ClaimsRequest>,
    pub login_hint: Option<String>,
    /// Unverified; the server checks it with [`crate::end_session::verify_id_token_hint`].
    pub id_token_hint: Option<String>,
    pub ui_locales: Vec<String>,
    pub claims_locales: Vec<String>,
    pub display: Option<String>,
}

fn redirect_error(
    redirect_url: &Url,
    mode: ResponseMode,
    state: Option<&str>,
    issuer: &Issuer,
    error: OAuthError,
) -> AuthorizeError {
    let response = error_response(redirect_url, mode, state, issuer, &error);
    AuthorizeError::Redirect { error, response }
}

/// OIDC Core 3.1.2.6 error parameters, plus `iss` (RFC 9207 2).
fn error_response(
    redirect_url: &Url,
    mode: ResponseMode,
    state: Option<&str>,
    issuer: &Issuer,
    error: &OAuthError,
) -> AuthorizationResponse {
    let mut fields = vec![("error".to_string(), error.code.as_str().to_string())];
    if let Some(d) = &error.description {
        fields.push(("error_description".into(), d.clone()));
    }
    if let Some(s) = state {
        fields.push(("state".into(), s.to_string()));
    }
    fields.push(("iss".into(), issuer.as_str().to_string()));
    AuthorizationResponse::build(redirect_url, mode, fields)
}

fn split_spaces(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Validates an authentication request from its query or form parameters.
///
/// `client` is the registration for `params.get("client_id")` (look it up first), or `None`
/// when unknown. The checks run in an order that never redirects to an untrusted URI.
pub fn validate(
    params: &Params,
    client: Option<&ClientPolicy>,
    issuer: &Issuer,
) -> Result<AuthorizationRequest, AuthorizeError> {
    use UserFacingError as U;
    let show = AuthorizeError::ShowToUser;

    // 1. Who is asking, and where would we redirect? Errors here are shown, not redirected
    //    (OIDC Core 3.1.2.6, RFC 6749 4.1.2.1).
    if params.is_repeated("client_id") {
        return Err(show(U::RepeatedParameter("client_id".into())));
    }
    let client_id = params.get("client_id").ok_or(show(U::MissingClientId))?;
    let client = match client {
        Some(c) if c.client_id == client_id => c,
        _ => return Err(show(U::UnknownClient(client_id.to_string()))),
    };
    if params.is_repeated("redirect_uri") {
        return Err(show(U::RepeatedParameter("redirect_uri".into())));
    }
    // OIDC Core 3.1.2.1: redirect_uri is REQUIRED and "MUST exactly match" a registered one
    // (simple string comparison, RFC 3986 6.2.1).
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or(show(U::MissingRedirectUri))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(show(U::RedirectUriMismatch(redirect_uri.to_string())));
    }
    let redirect_url = Url::parse(redirect_uri)
        .map_err(|_| show(U::RedirectUriMismatch(redirect_uri.to_string())))?;

    // 2. From here on errors go back to the client, with state and iss.
    let state = if params.is_repeated("state") {
        None
    } else {
        params.get("state")
    };
    let response_mode = match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(other) => Err(format!(
            "response_mode {other:?} is not supported (query, form_post)"
        )),
    };
    let mode = response_mode.clone().unwrap_or(ResponseMode::Query);
    let fail = |code: ErrorCode, description: String| {
        redirect_error(
            &redirect_url,
            mode,
            state,
            issuer,
            OAuthError::new(code, description),
        )
    };
    let invalid = |description: String| fail(ErrorCode::InvalidRequest, description);

    // RFC 6749 3.1: parameters MUST NOT be included more than once.
    if let Some(name) = params.first_repeated() {
        return Err(invalid(format!("parameter {name} was sent more than once")));
    }
    let response_mode = response_mode.map_err(invalid)?;

    // OIDC Core 6: request objects are not supported; say so with the dedicated codes.
    if params.get("request").is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported".into(),
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported".into(),
        ));
    }
    if params.get("registration").is_some() {
        return Err(fail(
            ErrorCode::RegistrationNotSupported,
            "registration is not supported".into(),
        ));
    }

    // OIDC Core 3.1.2.1: response_type "code" for the Authorization Code Flow; the order of
    // space-separated values does not matter, so "id_token code" is a hybrid request.
    match params.get("response_type") {
        None => return Err(invalid("response_type is required".into())),
        Some("code") => {}
        Some(other) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                format!("response_type {other:?} is not supported; use code"),
            ))
        }
    }
    if !client.allows_grant("authorization_code") {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow".into(),
        ));
    }

    // OIDC Core 3.1.2.1: scope MUST contain openid; values not understood SHOULD be ignored,
    // so scopes outside the client's allowance are dropped (and not granted).
    let requested = split_spaces(params.get("scope"));
    if !requested.iter().any(|s| s == "openid") {
        return Err(fail(
            ErrorCode::InvalidScope,
            "scope must contain openid".into(),
        ));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in requested {
        if client.allowed_scopes.contains(&s) && !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(fail(
            ErrorCode::InvalidScope,
            "this client may not use openid".into(),
        ));
    }

    // RFC 7636 4.3/4.4: S256 only; required for public clients (RFC 9700 2.1.1) and for
    // clients registered with require_pkce.
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (Some(challenge), method) => Some(CodeChallenge::parse(challenge, method).map_err(
            |e| match e {
                PkceError::UnsupportedMethod => {
                    invalid("code_challenge_method must be S256 (plain is not supported)".into())
                }
                other => invalid(other.to_string()),
            },
        )?),
        (None, Some(_)) => {
            return Err(invalid(
                "code_challenge_method without code_challenge".into(),
            ))
        }
        (None, None) if client.pkce_required() => {
            return Err(invalid(
                "code_challenge (PKCE, S256) is required for this client".into(),
            ))
        }
        (None, None) => None,
    };

    // OIDC Core 3.1.2.1: prompt values; "none" with any other value is an error.
    let mut prompt = Vec::new();
    for p in split_spaces(params.get("prompt")) {
        let value = match p.as_str() {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" => Prompt::Consent,
            "select_account" => Prompt::SelectAccount,
            other => return Err(invalid(format!("unsupported prompt value {other:?}"))),
        };
        if !prompt.contains(&value) {
            prompt.push(value);
        }
    }
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return Err(invalid(
            "prompt=none cannot be combined with other values".into(),
        ));
    }

    // OIDC Core 3.1.2.1: max_age is a non-negative number of seconds.
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| invalid("max_age must be a non-negative integer".into()))?,
        ),
    };

    // OIDC Core 5.5: the claims parameter is JSON.
    let claims = match params.get("claims") {
        None => None,
        Some(json) => Some(ClaimsRequest::parse(json).map_err(invalid)?),
    };

    // OIDC Core 3.1.2.1: display is one of page, popup, touch, wap.
    let display = params.get("display").map(str::to_string);
    if let Some(d) = &display {
        if !["page", "popup", "touch", "wap"].contains(&d.as_str()) {
            return Err(invalid(format!("unsupported display value {d:?}")));
        }
    }

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        redirect_url,
        response_mode,
        scopes,
        state: state.map(str::to_string),
        nonce: params.get("nonce").map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        acr_values: split_spaces(params.get("acr_values")),
        claims,
        login_hint: params.get("login_hint").map(str::to_string),
        id_token_hint: params.get("id_token_hint").map(str::to_string),
        ui_locales: split_spaces(params.get("ui_locales")),
        claims_locales: split_spaces(params.get("claims_locales")),
        display,
    })
}

impl AuthorizationRequest {
    pub fn has_prompt(&self, p: Prompt) -> bool {
        self.prompt.contains(&p)
    }

    /// Must the user (re-)authenticate, given when they last did (`auth_time`, unix seconds)?
    /// OIDC Core 3.1.2.1: `prompt=login`, or `max_age` elapsed since `auth_time`.
    pub fn requires_fresh_login(&self, auth_time: Option<i64>, now: i64) -> bool {
        let Some(auth_time) = auth_time else {
            return true;
        };
        if self.has_prompt(Prompt::Login) {
            return true;
        }
        match self.max_age {
            Some(max_age) => {
                let age = now.saturating_sub(auth_time);
                age < 0 || u64::try_from(age).map_or(true, |age| age > max_age)
            }
            None => false,
        }
    }

    /// Acceptable `acr` values: `acr_values` plus values from the `claims` parameter, and
    /// whether the claims parameter marked `acr` essential (OIDC Core 5.5.1.1: then failing
    /// to meet it is an error, not a silent downgrade).
    pub fn requested_acr(&self) -> (Vec<String>, bool) {
        let mut values = self.acr_values.clone();
        let mut essential = false;
        if let Some((v, e)) = self.claims.as_ref().and_then(ClaimsRequest::requested_acr) {
            values.extend(v);
            essential = e;
        }
        (values, essential)
    }

    /// The success response (OIDC Core 3.1.2.5): `code`, `state`, and `iss` (RFC 9207 2).
    pub fn success_response(&self, code: &str, issuer: &Issuer) -> AuthorizationResponse {
        let mut fields = vec![("code".to_string(), code.to_string())];
        if let Some(s) = &self.state {
            fields.push(("state".into(), s.clone()));
        }
        fields.push(("iss".into(), issuer.as_str().to_string()));
        AuthorizationResponse::build(&self.redirect_url, self.response_mode, fields)
    }

    /// An error response to this (valid) request, e.g. `login_required` for `prompt=none`
    /// without a session, `access_denied` when the user declines, or `unmet_authentication_requirements`.
    pub fn error_response(&self, error: &OAuthError, issuer: &Issuer) -> AuthorizationResponse {
        error_response(
            &self.redirect_url,
            self.response_mode,
            self.state.as_deref(),
            issuer,
            error,
        )
    }
}

//! RP-Initiated Logout 1.0: the `end_session_endpoint` request.
//!
//! Two steps, so the server can load the client in between:
//! 1. [`parse_end_session`] verifies `id_token_hint` with our keys (expired hints are
//!    accepted: RP-Initiated Logout 2 — the hint is usually old) and checks `client_id`
//!    against it;
//! 2. [`EndSessionRequest::post_logout_redirect`] checks `post_logout_redirect_uri` against
//!    the client's registered URIs and adds `state`.
//!
//! The server then asks the user to confirm (unless the hint proves the session), ends the
//! portal session and every app session it can, and redirects or shows a logged-out page.

use serde::Deserialize;
use url::Url;

use crate::claims::Audience;
use crate::client::ClientPolicy;
use crate::issuer::Issuer;
use crate::jose::{self, Algorithm, VerificationKey};
use crate::params::Params;

/// Why a logout request was refused. Always shown to the user (never redirected: the redirect
/// target is what failed to validate).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndSessionError {
    #[error("parameter {0} was sent more than once")]
    RepeatedParameter(String),
    #[error("id_token_hint is not a valid ID token from this provider: {0}")]
    BadIdTokenHint(String),
    #[error("client_id does not match the id_token_hint's audience")]
    ClientMismatch,
    #[error("post_logout_redirect_uri needs client_id or id_token_hint to identify the client")]
    UnknownClient,
    #[error("post_logout_redirect_uri {0:?} is not registered for this client")]
    UnregisteredRedirect(String),
}

/// The claims we need from a verified `id_token_hint`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdTokenHint {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
}

impl IdTokenHint {
    /// The client the hint was issued to: `azp`, or the single audience.
    pub fn client_id(&self) -> Option<&str> {
        match (&self.azp, self.aud.0.as_slice()) {
            (Some(azp), _) => Some(azp),
            (None, [one]) => Some(one),
            _ => None,
        }
    }
}

/// Verifies an ID token we issued, ignoring `exp` (for `id_token_hint` at logout and at the
/// authorization endpoint). Signature, `alg` (ours only) and `iss` are checked.
pub fn verify_id_token_hint(
    token: &str,
    keys: &[VerificationKey],
    issuer: &Issuer,
) -> Result<IdTokenHint, EndSessionError> {
    let verified = jose::verify(token, keys, &Algorithm::SIGN)
        .map_err(|e| EndSessionError::BadIdTokenHint(e.to_string()))?;
    let hint: IdTokenHint = verified
        .claims()
        .map_err(|e| EndSessionError::BadIdTokenHint(e.to_string()))?;
    if hint.iss != issuer.as_str() {
        return Err(EndSessionError::BadIdTokenHint(
            "issued by another issuer".into(),
        ));
    }
    Ok(hint)
}

/// A validated logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessionRequest {
    pub id_token_hint: Option<IdTokenHint>,
    /// From `client_id` or the hint.
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Vec<String>,
    pub logout_hint: Option<String>,
}

/// Step 1: parse and verify the request parameters (query or form).
pub fn parse_end_session(
    params: &Params,
    keys: &[VerificationKey],
    issuer: &Issuer,
) -> Result<EndSessionRequest, EndSessionError> {
    if let Some(name) = params.first_repeated() {
        return Err(EndSessionError::RepeatedParameter(name.to_string()));
    }
    let hint = match params.get("id_token_hint") {
        Some(t) => Some(verify_id_token_hint(t, keys, issuer)?),
        None => None,
    };
    // RP-Initiated Logout 2: when both are present, client_id must match the hint's client.
    let client_id = match (params.get("client_id"), &hint) {
        (Some(cid), Some(h)) => {
            if !h.aud.contains(cid) {
                return Err(EndSessionError::ClientMismatch);
            }
            Some(cid.to_string())
        }
        (Some(cid), None) => Some(cid.to_string()),
        (None, Some(h)) => h.client_id().map(str::to_string),
        (None, None) => None,
    };
    Ok(EndSessionRequest {
        id_token_hint: hint,
        client_id,
        post_logout_redirect_uri: params.get("post_logout_redirect_uri").map(str::to_string),
        state: params.get("state").map(str::to_string),
        ui_locales: params
            .get("ui_locales")
            .map(|v| {
                v.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        logout_hint: params.get("logout_hint").map(str::to_string),
    })
}

impl EndSessionRequest {
    /// Step 2: where to send the user after logout, with `state` appended (RP-Initiated
    /// Logout 3). `client` is the registration of [`EndSessionRequest::client_id`].
    /// `Ok(None)` means: show our own "logged out" page.
    pub fn post_logout_redirect(
        &self,
        client: Option<&ClientPolicy>,
    ) -> Result<Option<String>, EndSessionError> {
        let Some(uri) = &self.post_logout_redirect_uri else {
            return Ok(None);
        };
        let client = match (client, &self.client_id) {
            (Some(c), Some(id)) if c.client_id == *id => c,
            _ => return Err(EndSessionError::UnknownClient),
        };
        // RP-Initiated Logout 3.1: must exactly match a registered value.
        if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
            return Err(EndSessionError::UnregisteredRedirect(uri.clone()));
        }
        let mut url =
            Url::parse(uri).map_err(|_| EndSessionError::UnregisteredRedirect(uri.clone()))?;
        if let Some(state) = &self.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        Ok(Some(url.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::IdTokenClaims;
    use crate::keys::SigningKey;

    fn setup() -> (Issuer, SigningKey, ClientPolicy, String) {
        let iss = Issuer::new("https://portal.example/t/kyoto").unwrap();
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let mut client = ClientPolicy::confidential("rp", "s", "https://rp.example/cb");
        client.post_logout_redirect_uris = vec!["https://rp.example/bye".into()];
        // Expired long ago: still a valid hint.
        let claims = IdTokenClaims::new(iss.as_str(), "user-1", "rp", 1_000, 300);
        let hint = key.sign_json(Some("JWT"), &claims).unwrap();
        (iss, key, client, hint)
    }

    #[test]
    fn rp_initiated_logout_2_expired_id_token_hint_is_accepted() {
        let (iss, key, client, hint) = setup();
        let p = Params::from_pairs([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://rp.example/bye"),
            ("state", "s 1"),
        ]);
        let req = parse_end_session(&p, &[key.verification_key().unwrap()], &iss).unwrap();
        assert_eq!(req.client_id.as_deref(), Some("rp"));
        assert_eq!(req.id_token_hint.as_ref().unwrap().sub, "user-1");
        assert_eq!(
            req.post_logout_redirect(Some(&client)).unwrap().as_deref(),
            Some("https://rp.example/bye?state=s+1")
        );
    }

    #[test]
    fn rp_initiated_logout_3_1_unregistered_post_logout_redirect_is_refused() {
        let (iss, key, client, hint) = setup();
        let p = Params::from_pairs([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ]);
        let req = parse_end_session(&p, &[key.verification_key().unwrap()], &iss).unwrap();
        assert!(matches!(
            req.post_logout_redirect(Some(&client)),
            Err(EndSessionError::UnregisteredRedirect(_))
        ));
    }

    #[test]
    fn rp_initiated_logout_2_hint_signed_by_another_key_is_refused() {
        let (iss, _key, _client, hint) = setup();
        let other = SigningKey::generate(Algorithm::ES256).unwrap();
        let p = Params::from_pairs([("id_token_hint", hint.as_str())]);
        assert!(matches!(
            parse_end_session(&p, &[other.verification_key().unwrap()], &iss),
            Err(EndSessionError::BadIdTokenHint(_))
        ));
    }

    #[test]
    fn rp_initiated_logout_2_client_id_must_match_hint() {
        let (iss, key, _client, hint) = setup();
        let p = Params::from_pairs([("id_token_hint", hint.as_str()), ("client_id", "other")]);
        assert_eq!(
            parse_end_session(&p, &[key.verification_key().unwrap()], &iss).unwrap_err(),
            EndSessionError::ClientMismatch
        );
    }

    #[test]
    fn rp_initiated_logout_redirect_without_client_is_refused() {
        let (iss, key, client, _hint) = setup();
        let p = Params::from_pairs([("post_logout_redirect_uri", "https://rp.example/bye")]);
        let req = parse_end_session(&p, &[key.verification_key().unwrap()], &iss).unwrap();
        assert_eq!(
            req.post_logout_redirect(Some(&client)),
            Err(EndSessionError::UnknownClient)
        );
    }
}

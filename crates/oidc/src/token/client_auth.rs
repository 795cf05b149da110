//! Client authentication at the token, revocation and introspection endpoints.
//!
//! - `client_secret_basic` (RFC 6749 2.3.1): `Authorization: Basic b64(urlenc(id):urlenc(secret))`
//! - `client_secret_post` (RFC 6749 2.3.1): `client_id` and `client_secret` in the body
//! - `private_key_jwt` (RFC 7523 2.2, 3; OIDC Core 9): a JWT signed with the client's key
//! - `none`: a public client identifies itself with `client_id` only
//!
//! RFC 6749 2.3: a client "MUST NOT use more than one authentication method in each request".

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use crate::client::{ClientAuthMethod, ClientPolicy};
use crate::error::{ErrorCode, OAuthError};
use crate::jose::{self, Algorithm};
use crate::params::Params;

/// RFC 7523 2.2: the `client_assertion_type` for JWT client authentication.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credentials a request presented, before checking them.
#[derive(Clone, PartialEq, Eq)]
pub enum PresentedClientAuth {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    /// `client_id` is the form's `client_id` or, if absent, the assertion's unverified `sub`
    /// (RFC 7523 3: `sub` is the client_id) — only for looking up the client.
    PrivateKeyJwt {
        client_id: String,
        assertion: String,
    },
    None {
        client_id: String,
    },
}

impl std::fmt::Debug for PresentedClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PresentedClientAuth({:?}, client_id={:?}, ***)",
            self.method(),
            self.client_id()
        )
    }
}

impl PresentedClientAuth {
    /// The client to look up.
    pub fn client_id(&self) -> &str {
        match self {
            PresentedClientAuth::Basic { client_id, .. }
            | PresentedClientAuth::Post { client_id, .. }
            | PresentedClientAuth::PrivateKeyJwt { client_id, .. }
            | PresentedClientAuth::None { client_id } => client_id,
        }
    }

    pub fn method(&self) -> ClientAuthMethod {
        match self {
            PresentedClientAuth::Basic { .. } => ClientAuthMethod::ClientSecretBasic,
            PresentedClientAuth::Post { .. } => ClientAuthMethod::ClientSecretPost,
            PresentedClientAuth::PrivateKeyJwt { .. } => ClientAuthMethod::PrivateKeyJwt,
            PresentedClientAuth::None { .. } => ClientAuthMethod::None,
        }
    }
}

/// Why client authentication failed. Every case is `invalid_client` on the wire except
/// malformed requests; the detail is for the audit log, not the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    #[error("more than one client authentication method in one request")]
    MultipleMethods,
    #[error("malformed client authentication: {0}")]
    Malformed(String),
    #[error("no client authentication")]
    NoCredentials,
    #[error("unknown client")]
    UnknownClient,
    #[error("client_id in the body differs from the authenticated one")]
    ClientIdMismatch,
    #[error("the client is registered for {registered}, not {presented}")]
    MethodNotAllowed {
        registered: &'static str,
        presented: &'static str,
    },
    #[error("wrong client secret")]
    WrongSecret,
    #[error("client assertion signature invalid: {0}")]
    AssertionSignature(String),
    #[error("client assertion iss and sub must both be the client_id")]
    AssertionIssuer,
    #[error("client assertion aud does not contain the token endpoint or issuer")]
    AssertionAudience,
    #[error("client assertion has no exp")]
    AssertionMissingExp,
    #[error("client assertion expired")]
    AssertionExpired,
    #[error("client assertion lives too long (exp too far in the future)")]
    AssertionTooLongLived,
    #[error("client assertion not yet valid (nbf/iat in the future)")]
    AssertionNotYetValid,
    #[error("client assertion has no jti")]
    AssertionMissingJti,
    #[error("client assertion jti was already used")]
    AssertionReplayed,
}

impl ClientAuthError {
    /// RFC 6749 5.2 error. `basic_attempted` adds `WWW-Authenticate: Basic realm=…` to a 401.
    pub fn to_oauth_error(&self, basic_attempted: bool, realm: &str) -> OAuthError {
        match self {
            ClientAuthError::MultipleMethods | ClientAuthError::Malformed(_) => {
                OAuthError::invalid_request(self.to_string())
            }
            _ => {
                // Do not tell an attacker which check failed.
                let mut e =
                    OAuthError::new(ErrorCode::InvalidClient, "client authentication failed");
                if basic_attempted {
                    let realm = realm.replace(['"', '\\'], "");
                    e.www_authenticate = Some(format!("Basic realm=\"{realm}\""));
                }
                e
            }
        }
    }
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Reads the credentials from the `Authorization` header and the form body.
pub fn extract_client_auth(
    authorization: Option<&str>,
    form: &Params,
) -> Result<PresentedClientAuth, ClientAuthError> {
    let basic = match authorization {
        Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
            let raw = STANDARD.decode(h[6..].trim()).map_err(|_| {
                ClientAuthError::Malformed("Basic credentials are not base64".into())
            })?;
            let text = String::from_utf8(raw).map_err(|_| {
                ClientAuthError::Malformed("Basic credentials are not UTF-8".into())
            })?;
            let (id, secret) = text.split_once(':').ok_or_else(|| {
                ClientAuthError::Malformed("Basic credentials without ':'".into())
            })?;
            // RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
            Some((form_decode(id), form_decode(secret)))
        }
        _ => None,
    };
    let post_secret = form.get("client_secret");
    let assertion = form.get("client_assertion");
    let methods = [basic.is_some(), post_secret.is_some(), assertion.is_some()];
    if methods.iter().filter(|m| **m).count() > 1 {
        return Err(ClientAuthError::MultipleMethods);
    }
    if form.is_repeated("client_id") || form.is_repeated("client_assertion") {
        return Err(ClientAuthError::Malformed(
            "repeated client parameters".into(),
        ));
    }
    let form_id = form.get("client_id");
    if let Some((client_id, secret)) = basic {
        if form_id.is_some_and(|f| f != client_id) {
            return Err(ClientAuthError::ClientIdMismatch);
        }
        return Ok(PresentedClientAuth::Basic { client_id, secret });
    }
    if let Some(secret) = post_secret {
        let client_id = form_id.ok_or(ClientAuthError::Malformed(
            "client_secret without client_id".into(),
        ))?;
        return Ok(PresentedClientAuth::Post {
            client_id: client_id.into(),
            secret: secret.into(),
        });
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
            return Err(ClientAuthError::Malformed(format!(
                "client_assertion_type must be {CLIENT_ASSERTION_TYPE}"
            )));
        }
        let client_id = match form_id {
            Some(id) => id.to_string(),
            None => {
                let (_, payload) = jose::decode_unverified(assertion)
                    .map_err(|e| ClientAuthError::Malformed(e.to_string()))?;
                #[derive(Deserialize)]
                struct Sub {
                    sub: Option<String>,
                }
                serde_json::from_slice::<Sub>(&payload)
                    .ok()
                    .and_then(|s| s.sub)
                    .ok_or(ClientAuthError::Malformed(
                        "client assertion without sub".into(),
                    ))?
            }
        };
        return Ok(PresentedClientAuth::PrivateKeyJwt {
            client_id,
            assertion: assertion.into(),
        });
    }
    match form_id {
        Some(id) => Ok(PresentedClientAuth::None {
            client_id: id.into(),
        }),
        None => Err(ClientAuthError::NoCredentials),
    }
}

/// What `private_key_jwt` checks need to know.
#[derive(Debug, Clone)]
pub struct ClientAssertionContext<'a> {
    /// Our token endpoint URL (RFC 7523 3: the audience).
    pub token_endpoint: &'a str,
    /// Our issuer; also accepted as `aud` (OIDC Core 9 allows the token endpoint, many
    /// clients send the issuer; RFC 7523 3 "identifies the authorization server").
    pub issuer: &'a str,
    pub now: i64,
    /// Leeway for clock skew in seconds (e.g. 30).
    pub leeway: i64,
    /// Longest accepted `exp - now` in seconds (e.g. 600), so a stolen assertion is short-lived
    /// and the replay store stays small.
    pub max_lifetime: i64,
}

/// A `jti` the caller must record until `expires_at`; a second use is a replay
/// (OIDC Core 9: "The JWT MAY contain a jti ... MUST only be used once").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionJti {
    pub jti: String,
    pub expires_at: i64,
}

/// The outcome of successful client authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    pub client_id: String,
    pub method: ClientAuthMethod,
    /// Set for `private_key_jwt`: record it with a [`ReplayGuard`].
    pub assertion_jti: Option<AssertionJti>,
}

impl AuthenticatedClient {
    /// Records the assertion's `jti`; a second use reports [`ClientAuthError::AssertionReplayed`].
    pub fn check_replay(
        &self,
        guard: &mut dyn ReplayGuard,
        now: i64,
    ) -> Result<(), ClientAuthError> {
        match &self.assertion_jti {
            Some(j) if !guard.first_use(&self.client_id, &j.jti, j.expires_at, now) => {
                Err(ClientAuthError::AssertionReplayed)
            }
            _ => Ok(()),
        }
    }
}

/// Remembers used assertion `jti`s (the server implements it on its shared store so that
/// replay is caught across nodes).
pub trait ReplayGuard {
    /// Records `(client_id, jti)` until `expires_at`; false when it was already recorded.
    fn first_use(&mut self, client_id: &str, jti: &str, expires_at: i64, now: i64) -> bool;
}

/// An in-memory [`ReplayGuard`] for tests and single-node use.
#[derive(Debug, Default)]
pub struct MemoryReplayGuard {
    seen: HashMap<(String, String), i64>,
}

impl ReplayGuard for MemoryReplayGuard {
    fn first_use(&mut self, client_id: &str, jti: &str, expires_at: i64, now: i64) -> bool {
        self.seen.retain(|_, exp| *exp > now);
        let key = (client_id.to_string(), jti.to_string());
        if self.seen.contains_key(&key) {
            return false;
        }
        self.seen.insert(key, expires_at);
        true
    }
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

fn audience_contains(aud: &Option<serde_json::Value>, wanted: &[&str]) -> bool {
    match aud {
        Some(serde_json::Value::String(a)) => wanted.contains(&a.as_str()),
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .any(|a| a.as_str().is_some_and(|a| wanted.contains(&a))),
        _ => false,
    }
}

/// Checks presented credentials against the registered client.
///
/// `client_secret_basic` and `client_secret_post` are accepted for either registered secret
/// method (both prove the same secret); every other mismatch is refused.
pub fn authenticate_client(
    presented: &PresentedClientAuth,
    client: &ClientPolicy,
    ctx: &ClientAssertionContext<'_>,
) -> Result<AuthenticatedClient, ClientAuthError> {
    if presented.client_id() != client.client_id {
        return Err(ClientAuthError::UnknownClient);
    }
    let secret_method = |m: ClientAuthMethod| {
        matches!(
            m,
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
        )
    };
    let registered = client.auth_method;
    let method = presented.method();
    if method != registered && !(secret_method(method) && secret_method(registered)) {
        return Err(ClientAuthError::MethodNotAllowed {
            registered: registered.as_str(),
            presented: method.as_str(),
        });
    }
    let ok = |assertion_jti| AuthenticatedClient {
        client_id: client.client_id.clone(),
        method,
        assertion_jti,
    };
    match presented {
        PresentedClientAuth::Basic { secret, .. } | PresentedClientAuth::Post { secret, .. } => {
            match &client.secret {
                Some(hash) if hash.matches(secret) => Ok(ok(None)),
                _ => Err(ClientAuthError::WrongSecret),
            }
        }
        PresentedClientAuth::None { .. } => Ok(ok(None)),
        PresentedClientAuth::PrivateKeyJwt { assertion, .. } => {
            let jwks = client
                .jwks
                .as_ref()
                .ok_or(ClientAuthError::AssertionSignature(
                    "client has no registered JWKS".into(),
                ))?;
            let keys = jwks
                .verification_keys()
                .map_err(|e| ClientAuthError::AssertionSignature(e.to_string()))?;
            let verified = jose::verify(assertion, &keys, &Algorithm::VERIFY)
                .map_err(|e| ClientAuthError::AssertionSignature(e.to_string()))?;
            let claims: AssertionClaims = verified
                .claims()
                .map_err(|e| ClientAuthError::Malformed(e.to_string()))?;
            check_assertion_claims(&claims, &client.client_id, ctx).map(|jti| ok(Some(jti)))
        }
    }
}

fn check_assertion_claims(
    c: &AssertionClaims,
    client_id: &str,
    ctx: &ClientAssertionContext<'_>,
) -> Result<AssertionJti, ClientAuthError> {
    // RFC 7523 3 / OIDC Core 9: iss and sub are the client_id.
    if c.iss.as_deref() != Some(client_id) || c.sub.as_deref() != Some(client_id) {
        return Err(ClientAuthError::AssertionIssuer);
    }
    // RFC 7523 3: aud identifies the authorization server (token endpoint or issuer).
    if !audience_contains(&c.aud, &[ctx.token_endpoint, ctx.issuer]) {
        return Err(ClientAuthError::AssertionAudience);
    }
    // RFC 7523 3: exp is required and the JWT MUST be rejected once expired.
    let exp = c.exp.ok_or(ClientAuthError::AssertionMissingExp)?;
    if exp.saturating_add(ctx.leeway) <= ctx.now {
        return Err(ClientAuthError::AssertionExpired);
    }
    if exp.saturating_sub(ctx.now) > ctx.max_lifetime {
        return Err(ClientAuthError::AssertionTooLongLived);
    }
    // RFC 7523 3: nbf/iat sanity.
    let future = ctx.now.saturating_add(ctx.leeway);
    if c.nbf.is_some_and(|nbf| nbf > future) || c.iat.is_some_and(|iat| iat > future) {
        return Err(ClientAuthError::AssertionNotYetValid);
    }
    // OIDC Core 9: jti is REQUIRED for private_key_jwt.
    let jti = c.jti.clone().ok_or(ClientAuthError::AssertionMissingJti)?;
    Ok(AssertionJti {
        jti,
        expires_at: exp,
    })
}

#[cfg(test)]
#[path = "client_auth_tests.rs"]
mod tests;

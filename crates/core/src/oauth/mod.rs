//! The OpenID Provider's service: what the authorization, token, userinfo, introspection,
//! revocation and end-session endpoints do, on top of the rules in `kakehashi-oidc` and the
//! state in `kakehashi_store::oauth`. Knows no HTTP: `kakehashi-server` turns requests into
//! [`Provider`] calls and the results into the protocol's responses.
//!
//! - [`clients`]: an app of the catalog as a [`kakehashi_oidc::ClientPolicy`], plus its release
//!   policy and settings.
//! - [`authorize`]: an authentication request against the portal session and the app's
//!   audience and security class; issuing one-time codes.
//! - [`tokens`]: the token endpoint (authorization_code + PKCE, refresh_token with rotation
//!   and reuse detection, client_credentials), client authentication.
//! - [`resources`]: userinfo, introspection (RFC 7662), revocation (RFC 7009).
//! - [`logout`]: RP-Initiated Logout 1.0, and ending the app sessions of a portal session.
//! - [`backchannel`]: Back-Channel Logout 1.0: the `sid` of a portal session, queueing a
//!   Logout Token for each app that must be told when that session ends, and delivering them.
//! - [`profile`]: the user's claims (names, kana, roster) before release filtering.
//!
//! Every code issued, token issued, replayed code, reused refresh token, revocation and
//! logout is audited in the same transaction as the change.

pub mod authorize;
pub mod backchannel;
pub mod clients;
pub mod logout;
pub mod profile;
pub mod resources;
pub mod tokens;

use kakehashi_oidc::{Issuer, OAuthError};
use kakehashi_store::{audit, Store, StoreError, TenantId};

use crate::data_dir::MasterKey;
use crate::keyring::KeyringError;
use crate::Clock;

/// Lifetime of an authorization code (RFC 6749 4.1.2: "a maximum ... of 10 minutes is
/// RECOMMENDED"; one minute is plenty for a redirect).
pub const CODE_LIFETIME: i64 = 60;
/// Lifetime of access tokens (opaque and JWT).
pub const ACCESS_TOKEN_LIFETIME: i64 = 3600;
/// Lifetime of ID tokens.
pub const ID_TOKEN_LIFETIME: i64 = 3600;
/// Lifetime of a refresh token (each rotation starts a new one; logout revokes them).
pub const REFRESH_TOKEN_LIFETIME: i64 = 14 * 24 * 3600;

/// Failures below the protocol (the database, the keys, the random source).
#[derive(Debug, thiserror::Error)]
pub enum OAuthServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("the app {client_id:?} has unusable OIDC settings: {detail}")]
    BadClient { client_id: String, detail: String },
    #[error(transparent)]
    Portal(#[from] crate::portal::PortalError),
    #[error(transparent)]
    Mfa(#[from] crate::mfa::MfaError),
}

/// What an endpoint answers when it cannot give the client what it asked for: a protocol
/// error (sent in OAuth's format) or an internal failure (`server_error`).
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error(transparent)]
    Protocol(#[from] OAuthError),
    #[error(transparent)]
    Internal(#[from] OAuthServiceError),
}

impl From<StoreError> for EndpointError {
    fn from(e: StoreError) -> Self {
        EndpointError::Internal(e.into())
    }
}

/// One tenant's OpenID Provider for one request: where its state is, its issuer, the keys'
/// master key and the clock.
pub struct Provider<'a> {
    pub store: &'a Store,
    pub master: &'a MasterKey,
    pub clock: &'a dyn Clock,
    pub tenant: &'a TenantId,
    pub issuer: &'a Issuer,
    /// This node's short-lived copies of keys, clients and the salt (`crate::cache`).
    pub cache: &'a crate::cache::ProviderCache,
}

impl Provider<'_> {
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// The registered client `client_id` (cached for `cache::TTL`; unknown ids are not).
    pub(crate) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<std::sync::Arc<clients::RegisteredClient>>, OAuthServiceError> {
        clients::find_cached(self.store, self.cache, self.tenant, client_id).await
    }

    /// Appends an audit event inside `tx`.
    async fn audit(
        &self,
        tx: &mut kakehashi_store::Tx,
        actor: String,
        action: &str,
        target: String,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        audit::append(
            tx,
            self.store.backend(),
            Some(self.tenant),
            &self.clock.now_text(),
            &audit::Event {
                actor,
                action: action.to_owned(),
                target,
                details,
            },
        )
        .await
        .map(|_| ())
    }
}

/// The tenant's signing keys (created on first use).
/// Cached for `cache::TTL`: unsealing the keys is the costly part of signing (see
/// `crate::cache` for why a copy this old is safe across nodes and rotations).
pub(crate) async fn keyring_set(
    p: &Provider<'_>,
) -> Result<std::sync::Arc<kakehashi_oidc::KeySet>, OAuthServiceError> {
    if let Some(set) = p.cache.key_sets.get(p.tenant) {
        return Ok(set);
    }
    let set =
        std::sync::Arc::new(crate::keyring::key_set(p.store, p.master, p.clock, p.tenant).await?);
    p.cache.key_sets.insert(p.tenant.clone(), set.clone());
    Ok(set)
}

/// The scopes of a stored `scopes` column (space-separated, RFC 6749 3.3), in order.
pub(crate) fn scope_list(stored: &str) -> Vec<String> {
    stored
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// What the store keeps of a code or token: SHA-256, hex.
pub fn token_hash(value: &str) -> String {
    let digest = hex::encode(kakehashi_oidc::digest::sha256(value.as_bytes()));
    match value.split_once('.') {
        // A time-ordered value (`time_ordered_value`): its selector leads the key, so new
        // rows go in at the end of the index, not on a random page of it.
        Some((selector, _)) if is_selector(selector) => format!("{selector}.{digest}"),
        _ => digest,
    }
}

fn is_selector(s: &str) -> bool {
    s.len() == SELECTOR_DIGITS && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

const SELECTOR_DIGITS: usize = 12;

/// A fresh random value led by a time-ordered selector: the milliseconds since 1970 in 12 hex
/// digits, a dot, then 256 random bits (base64url), for values issued in volume (opaque access
/// tokens). The selector only orders the stored key ([`token_hash`]); the secret is the random
/// part, and the key keeps the SHA-256 of the whole value, as for every other token.
pub fn time_ordered_value() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    format!("{:012x}.{}", ms & 0xffff_ffff_ffff, random_value())
}

/// A fresh random value (256 bits, base64url) for codes and tokens.
pub fn random_value() -> String {
    kakehashi_oidc::rng::random_token(&mut kakehashi_oidc::OsRng, 32)
}

/// A unix time from the portal's RFC 3339 text.
pub(crate) fn unix_of(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ordered_values_key_by_selector_then_digest() {
        let a = time_ordered_value();
        let (selector, secret) = a.split_once('.').expect("selector.secret");
        assert_eq!(selector.len(), 12);
        assert_eq!(secret.len(), 43, "256 bits, base64url");
        let key = token_hash(&a);
        assert_eq!(
            key,
            format!(
                "{selector}.{}",
                hex::encode(openssl::sha::sha256(a.as_bytes()))
            )
        );
        // Later values sort after earlier ones (the index takes them at its end).
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(token_hash(&time_ordered_value()) > key);
        // Other values (random, JWTs) keep the plain digest.
        let r = random_value();
        assert_eq!(token_hash(&r).len(), 64);
        assert_eq!(token_hash("eyJhbGciOiJFUzI1NiJ9.e30.sig").len(), 64);
        assert_eq!(
            token_hash("ABCDEF012345.x").len(),
            64,
            "upper-case is no selector"
        );
    }
}

//! An app of the tenant's catalog as the OpenID Provider sees it: the protocol crate's
//! [`ClientPolicy`] (redirect URIs, authentication method, secret hash or JWKS, grants,
//! subject type, token format, signing alg), the claims release policy and the settings.

use std::fmt;
use std::str::FromStr;

use kakehashi_oidc::claims::ReleasePolicy;
use kakehashi_oidc::client::AccessTokenFormat;
use kakehashi_oidc::{
    Algorithm, ClientAuthMethod, ClientPolicy, ClientSecretHash, JwkSet, SubjectType,
};
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::oauth::{self as stored, OidcSettingsRow};
use kakehashi_store::{Store, TenantId};

use super::OAuthServiceError;

/// A claim group an app may receive (`kakehashi app add --release`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// `name`, `family_name`, `given_name` (kanji).
    Name,
    /// The kana readings (`…#ja-Kana-JP`).
    Kana,
    /// `preferred_username`.
    Username,
    /// `email`, `email_verified`.
    Email,
    /// School, grade, classes and role (`https://schemas.kakehashi.jp/roster/…`).
    Roster,
}

impl Release {
    pub const ALL: [Release; 5] = [
        Release::Name,
        Release::Kana,
        Release::Username,
        Release::Email,
        Release::Roster,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Release::Name => "name",
            Release::Kana => "kana",
            Release::Username => "username",
            Release::Email => "email",
            Release::Roster => "roster",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Release {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Release::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown claim group {s:?}: use name, kana, username, email, roster")
            })
    }
}

/// The scopes every client may ask for (what is released still depends on the app's policy).
pub const SCOPES: [&str; 5] = ["openid", "profile", "email", "roster", "offline_access"];

/// A registered OIDC client.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    pub app: AppRow,
    pub settings: OidcSettingsRow,
    pub policy: ClientPolicy,
    pub release: Vec<Release>,
}

impl RegisteredClient {
    /// What the protocol crate's release filter needs. Names and kana are one switch there;
    /// [`super::profile`] drops the half the app may not see.
    pub fn release_policy(&self) -> ReleasePolicy {
        let has = |r| self.release.contains(&r);
        ReleasePolicy {
            names: has(Release::Name) || has(Release::Kana),
            username: has(Release::Username),
            email: has(Release::Email),
            roster: has(Release::Roster),
        }
    }

    pub fn may_release(&self, r: Release) -> bool {
        self.release.contains(&r)
    }
}

/// [`find`] through this node's copy of the registration (kept for `cache::TTL`; unknown
/// ids are not kept, so a new client is seen at once).
pub async fn find_cached(
    store: &Store,
    cache: &crate::cache::ProviderCache,
    tenant: &TenantId,
    client_id: &str,
) -> Result<Option<std::sync::Arc<RegisteredClient>>, OAuthServiceError> {
    let key = (tenant.clone(), client_id.to_owned());
    if let Some(c) = cache.clients.get(&key) {
        return Ok(Some(c));
    }
    let found = find(store, tenant, client_id)
        .await?
        .map(std::sync::Arc::new);
    if let Some(c) = &found {
        cache.clients.insert(key, c.clone());
    }
    Ok(found)
}

/// The OIDC client `client_id` of the tenant, if the catalog has one.
pub async fn find(
    store: &Store,
    tenant: &TenantId,
    client_id: &str,
) -> Result<Option<RegisteredClient>, OAuthServiceError> {
    let Some(app) = identity::get_app(store, tenant, client_id).await? else {
        return Ok(None);
    };
    if app.protocol != "oidc" {
        return Ok(None);
    }
    let settings = stored::oidc_settings(store, tenant, client_id)
        .await?
        .unwrap_or_default();
    let bad = |detail: String| OAuthServiceError::BadClient {
        client_id: client_id.to_owned(),
        detail,
    };
    let policy = policy_of(&app, &settings).map_err(bad)?;
    let release = settings
        .release_claims
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect();
    Ok(Some(RegisteredClient {
        app,
        settings,
        policy,
        release,
    }))
}

/// Parses a token endpoint authentication method name.
pub fn parse_auth_method(s: &str) -> Result<ClientAuthMethod, String> {
    match s {
        "client_secret_basic" => Ok(ClientAuthMethod::ClientSecretBasic),
        "client_secret_post" => Ok(ClientAuthMethod::ClientSecretPost),
        "private_key_jwt" => Ok(ClientAuthMethod::PrivateKeyJwt),
        "none" => Ok(ClientAuthMethod::None),
        other => Err(format!(
            "unknown token endpoint auth method {other:?}: use client_secret_basic, client_secret_post, private_key_jwt or none"
        )),
    }
}

/// The protocol description of an app.
pub fn policy_of(app: &AppRow, s: &OidcSettingsRow) -> Result<ClientPolicy, String> {
    let auth_method = match &s.token_auth_method {
        Some(m) => parse_auth_method(m)?,
        None if app.public_client => ClientAuthMethod::None,
        None => ClientAuthMethod::ClientSecretBasic,
    };
    let secret = match &app.client_secret_hash {
        Some(h) => {
            let bytes: [u8; 32] = hex::decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or("the stored client secret hash is not 32 hex bytes")?;
            Some(ClientSecretHash::from_bytes(bytes))
        }
        None => None,
    };
    let jwks = match &s.client_jwks {
        Some(j) => Some(JwkSet::parse(j).map_err(|e| format!("client JWKS: {e}"))?),
        None => None,
    };
    let mut grant_types = vec!["authorization_code".to_owned(), "refresh_token".to_owned()];
    if auth_method != ClientAuthMethod::None {
        grant_types.push("client_credentials".to_owned());
    }
    let subject_type = if app.subject_type == "pairwise" {
        SubjectType::Pairwise {
            // OIDC Core 8.1: the host of the redirect URIs; with several hosts the client id
            // (a per-app sector, which is what the catalog promises: "pairwise per app").
            sector_identifier: kakehashi_oidc::claims::sector_identifier_from_redirect_uris(
                &app.redirect_uris,
            )
            .map_or_else(
                || format!("client:{}", app.id),
                |h| format!("{h}#{}", app.id),
            ),
        }
    } else {
        SubjectType::Public
    };
    let alg = Algorithm::parse(&s.id_token_alg)
        .filter(|a| matches!(a, Algorithm::RS256 | Algorithm::ES256))
        .ok_or_else(|| format!("id token alg {:?}: use RS256 or ES256", s.id_token_alg))?;
    Ok(ClientPolicy {
        client_id: app.id.clone(),
        redirect_uris: app.redirect_uris.clone(),
        post_logout_redirect_uris: s.post_logout_redirect_uris.clone(),
        auth_method,
        secret,
        jwks,
        allowed_scopes: SCOPES.map(String::from).to_vec(),
        grant_types,
        require_pkce: false,
        id_token_signed_response_alg: Some(alg),
        subject_type,
        access_token_format: if s.access_token_format == "jwt" {
            AccessTokenFormat::Jwt
        } else {
            AccessTokenFormat::Opaque
        },
    })
}

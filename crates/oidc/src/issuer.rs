//! The issuer identifier and the endpoint URLs derived from it. Kakehashi runs one issuer per
//! tenant: `{public-url}/t/{tenant}`.

use url::Url;

/// Why an issuer URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("issuer is not a valid URL: {0}")]
    NotAUrl(String),
    #[error("issuer must use https (http is allowed only for localhost/127.0.0.1 in tests)")]
    NotHttps,
    #[error("issuer must not contain a query or fragment (OIDC Discovery 2)")]
    QueryOrFragment,
    #[error("tenant name {0:?} is not a valid path segment")]
    BadTenant(String),
}

/// An OpenID Provider issuer identifier (OIDC Core 2, `iss`; OIDC Discovery 2): an https URL
/// with no query or fragment, without a trailing slash. Compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issuer(String);

impl Issuer {
    /// Parses and checks an issuer. A trailing `/` is removed so `{issuer}/token` is clean.
    pub fn new(url: &str) -> Result<Self, IssuerError> {
        let trimmed = url.trim_end_matches('/');
        let parsed = Url::parse(trimmed).map_err(|_| IssuerError::NotAUrl(url.to_string()))?;
        // OIDC Discovery 2: "URL using the https scheme with no query or fragment components".
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(IssuerError::QueryOrFragment);
        }
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(IssuerError::NotHttps);
        }
        Ok(Issuer(trimmed.to_string()))
    }

    /// The tenant issuer `{public_url}/t/{tenant}`.
    pub fn for_tenant(public_url: &str, tenant: &str) -> Result<Self, IssuerError> {
        let ok = !tenant.is_empty()
            && tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && tenant != "."
            && tenant != "..";
        if !ok {
            return Err(IssuerError::BadTenant(tenant.to_string()));
        }
        Self::new(&format!(
            "{}/t/{}",
            public_url.trim_end_matches('/'),
            tenant
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `{issuer}/{path}`; the server layer mounts its routes at these paths.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/{}", self.0, path.trim_start_matches('/'))
    }

    pub fn authorization_endpoint(&self) -> String {
        self.endpoint("authorize")
    }
    pub fn token_endpoint(&self) -> String {
        self.endpoint("token")
    }
    pub fn userinfo_endpoint(&self) -> String {
        self.endpoint("userinfo")
    }
    pub fn jwks_uri(&self) -> String {
        self.endpoint("jwks")
    }
    pub fn revocation_endpoint(&self) -> String {
        self.endpoint("revoke")
    }
    pub fn introspection_endpoint(&self) -> String {
        self.endpoint("introspect")
    }
    pub fn end_session_endpoint(&self) -> String {
        self.endpoint("logout")
    }
    /// OIDC Discovery 4: `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        self.endpoint(".well-known/openid-configuration")
    }
}

impl std::fmt::Display for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_issuer_is_public_url_t_tenant() {
        let iss = Issuer::for_tenant("https://portal.example.jp/", "kyoto").unwrap();
        assert_eq!(iss.as_str(), "https://portal.example.jp/t/kyoto");
        assert_eq!(
            iss.token_endpoint(),
            "https://portal.example.jp/t/kyoto/token"
        );
        assert_eq!(
            iss.discovery_url(),
            "https://portal.example.jp/t/kyoto/.well-known/openid-configuration"
        );
    }

    #[test]
    fn discovery_2_issuer_has_no_query_and_uses_https() {
        assert_eq!(
            Issuer::new("https://a.example/?x=1"),
            Err(IssuerError::QueryOrFragment)
        );
        assert_eq!(Issuer::new("http://a.example"), Err(IssuerError::NotHttps));
        assert!(Issuer::new("http://127.0.0.1:8080/t/a").is_ok());
        assert!(Issuer::for_tenant("https://a.example", "../x").is_err());
    }
}

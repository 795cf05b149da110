//! Fetching a tool's JWKS (`--jwks-url`): one GET by the server's HTTP client
//! (`crate::http_client`: OpenSSL TLS, plain http only for 127.0.0.1/localhost, bounded in
//! time and size). Fetched documents are kept for `kakehashi_core::cache::TTL`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kakehashi_core::cache::TtlMap;
use kakehashi_core::lti::keys::JwksFetch;

/// The server's [`JwksFetch`], with a short-lived cache per URL.
#[derive(Clone)]
pub struct HttpJwksFetch {
    cache: Arc<TtlMap<String, String>>,
}

impl Default for HttpJwksFetch {
    fn default() -> Self {
        HttpJwksFetch {
            cache: Arc::new(TtlMap::new(kakehashi_core::cache::TTL)),
        }
    }
}

impl JwksFetch for HttpJwksFetch {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(body) = self.cache.get(&url.to_owned()) {
                return Ok(body);
            }
            let owned = url.to_owned();
            let body = tokio::task::spawn_blocking(move || get(&owned))
                .await
                .map_err(|e| e.to_string())??;
            self.cache.insert(url.to_owned(), body.clone());
            Ok(body)
        })
    }
}

fn get(url: &str) -> Result<String, String> {
    crate::http_client::get(url, "application/json, application/jwk-set+json")
}

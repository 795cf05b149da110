//! A tool's public keys: held in the registration (`--public-key`), or fetched from its
//! `--jwks-url` through a [`JwksFetch`] the server provides (core knows no HTTP).

use std::future::Future;
use std::pin::Pin;

use kakehashi_oidc::{JwkSet, VerificationKey};
use kakehashi_store::lti::ToolRow;

use super::LtiServiceError;

/// Fetches a JWKS document by URL (the server's HTTP client).
pub trait JwksFetch: Send + Sync {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>>;
}

/// The tool's JWKS document, checked to hold usable keys.
pub async fn tool_jwks(tool: &ToolRow, fetch: &dyn JwksFetch) -> Result<String, LtiServiceError> {
    let json = jwks_json(tool, fetch).await?;
    tool_keys_of(tool, &json)?;
    Ok(json)
}

/// The tool's verification keys.
pub async fn tool_keys(
    tool: &ToolRow,
    fetch: &dyn JwksFetch,
) -> Result<Vec<VerificationKey>, LtiServiceError> {
    tool_keys_of(tool, &jwks_json(tool, fetch).await?)
}

fn tool_keys_of(tool: &ToolRow, json: &str) -> Result<Vec<VerificationKey>, LtiServiceError> {
    JwkSet::parse(json)
        .and_then(|s| s.verification_keys())
        .map_err(|e| LtiServiceError::BadTool {
            app_id: tool.app_id.clone(),
            detail: format!("its JWKS is unusable: {e}"),
        })
}

async fn jwks_json(tool: &ToolRow, fetch: &dyn JwksFetch) -> Result<String, LtiServiceError> {
    let bad = |detail: String| LtiServiceError::BadTool {
        app_id: tool.app_id.clone(),
        detail,
    };
    let json = match (&tool.public_jwks, &tool.jwks_url) {
        (Some(j), _) => j.clone(),
        (None, Some(url)) => fetch
            .fetch(url)
            .await
            .map_err(|e| bad(format!("its JWKS {url} could not be fetched: {e}")))?,
        (None, None) => return Err(bad("it has no keys".into())),
    };
    Ok(json)
}

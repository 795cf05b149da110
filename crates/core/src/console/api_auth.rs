//! The admin REST API's authentication: an OAuth 2.0 bearer access token (RFC 6750) issued by
//! this tenant's own OpenID Provider with the client_credentials grant and the `admin` scope,
//! to a client that holds an admin grant (`kakehashi admin grant --client`). The token endpoint
//! only grants `admin` to such clients; this check repeats it, so revoking the grant stops
//! live tokens at once.

use kakehashi_store::oauth as tokens;
use kakehashi_store::{identity, Store, StoreError, TenantId};

use super::authz::Principal;
use super::ConsoleError;
use crate::Clock;

/// The OAuth scope of the admin API.
pub const ADMIN_SCOPE: &str = "admin";

/// Whether a client may be granted the `admin` scope (it holds an admin grant).
pub async fn client_may_request_admin(
    store: &Store,
    tenant: &TenantId,
    client_id: &str,
) -> Result<bool, StoreError> {
    let g = kakehashi_store::console::grants(store, tenant, Some(&format!("client:{client_id}")))
        .await?;
    Ok(!g.is_empty())
}

/// The principal behind `Authorization: Bearer TOKEN` in `tenant`. A token of another tenant
/// is unknown here (the tenant is part of the lookup): 401. A live token without the `admin`
/// scope, or of a client without a grant: 403.
pub async fn authenticate(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    token: &str,
) -> Result<Principal, ConsoleError> {
    let invalid = || ConsoleError::Unauthenticated("the access token is not valid".into());
    if token.is_empty() {
        return Err(invalid());
    }
    let hash = crate::oauth::token_hash(token);
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let row = tokens::find_token(&mut conn, tenant, &hash).await?;
    drop(conn);
    let now = clock.now().unix_timestamp();
    let Some(row) =
        row.filter(|t| t.kind == "access" && t.revoked_at.is_none() && t.expires_at > now)
    else {
        return Err(invalid());
    };
    if identity::get_app(store, tenant, &row.client_id)
        .await?
        .filter(|a| a.protocol == "oidc")
        .is_none()
    {
        return Err(invalid());
    }
    // A client_credentials token has no user; a user's token is never an admin credential.
    if row.user_sourced_id.is_some() || !row.scopes.split(' ').any(|s| s == ADMIN_SCOPE) {
        return Err(ConsoleError::Forbidden(format!(
            "the token lacks the {ADMIN_SCOPE} scope (client_credentials with scope={ADMIN_SCOPE})"
        )));
    }
    Principal::of_client(store, tenant, &row.client_id).await
}

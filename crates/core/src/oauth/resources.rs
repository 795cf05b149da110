//! Userinfo (OIDC Core 5.3), token introspection (RFC 7662) and revocation (RFC 7009).

use kakehashi_oidc::authorize::ClaimsRequest;
use kakehashi_oidc::introspection::{ActiveToken, IntrospectionResponse};
use kakehashi_oidc::params::Params;
use kakehashi_oidc::revocation;
use kakehashi_oidc::{ClientAuthMethod, ErrorCode, OAuthError};
use kakehashi_store::oauth::{self as stored, TokenRow};
use kakehashi_store::StoreError;
use serde_json::{Map, Value};

use super::{token_hash, tokens, EndpointError, Provider};

/// RFC 6750 3.1: `invalid_token` (401) with the Bearer challenge.
fn invalid_token(realm: &str) -> EndpointError {
    let mut e = OAuthError::new(ErrorCode::InvalidToken, "the access token is not valid");
    e.www_authenticate = Some(format!(
        "Bearer realm=\"{}\", error=\"invalid_token\"",
        realm.replace(['"', '\\'], "")
    ));
    EndpointError::Protocol(e)
}

/// A token row that is live at `now`: not revoked, not expired, and for a refresh token not
/// yet rotated.
fn live(t: &TokenRow, now: i64) -> bool {
    t.revoked_at.is_none() && t.expires_at > now && (t.kind != "refresh" || t.rotated_at.is_none())
}

/// The userinfo response for a Bearer access token (OIDC Core 5.3.1: needs `openid`).
pub async fn userinfo(
    p: &Provider<'_>,
    access_token: Option<&str>,
) -> Result<Map<String, Value>, EndpointError> {
    let realm = p.issuer.as_str();
    let Some(token) = access_token.filter(|t| !t.is_empty()) else {
        // RFC 6750 3.1: no credentials: the challenge without an error code.
        let mut e = OAuthError::bare(ErrorCode::InvalidToken);
        e.www_authenticate = Some(format!(
            "Bearer realm=\"{}\"",
            realm.replace(['"', '\\'], "")
        ));
        return Err(EndpointError::Protocol(e));
    };
    let mut conn = p.store.pool().acquire().await.map_err(StoreError::from)?;
    let row = stored::find_token(&mut conn, p.tenant, &token_hash(token)).await?;
    drop(conn);
    let Some(row) = row.filter(|t| t.kind == "access" && live(t, p.now())) else {
        return Err(invalid_token(realm));
    };
    let scopes = super::scope_list(&row.scopes);
    if !scopes.iter().any(|s| s == "openid") {
        let mut e = OAuthError::new(
            ErrorCode::InsufficientScope,
            "the token lacks the openid scope",
        );
        e.www_authenticate = Some(format!(
            "Bearer realm=\"{}\", error=\"insufficient_scope\"",
            realm.replace(['"', '\\'], "")
        ));
        return Err(EndpointError::Protocol(e));
    }
    let (Some(user_id), Some(client)) = (
        row.user_sourced_id.as_deref(),
        p.client(&row.client_id).await?,
    ) else {
        return Err(invalid_token(realm));
    };
    let Some(user) = stored::active_user(p.store, p.tenant, user_id).await? else {
        return Err(invalid_token(realm));
    };
    let claims_request = row
        .claims
        .as_deref()
        .and_then(|c| serde_json::from_str::<ClaimsRequest>(c).ok());
    Ok(super::profile::userinfo_claims(
        p,
        &client,
        &user,
        &row.subject,
        &scopes,
        claims_request.as_ref(),
    )
    .await?)
}

/// RFC 7662: an authenticated confidential client (a resource server) asks about a token.
/// Only the client's own tokens are described; anything else is `{"active":false}`.
pub async fn introspect(
    p: &Provider<'_>,
    authorization: Option<&str>,
    form: &Params,
) -> Result<IntrospectionResponse, EndpointError> {
    let client = tokens::authenticate(p, authorization, form).await?;
    if client.policy.auth_method == ClientAuthMethod::None {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "introspection needs an authenticated (confidential) client",
        )
        .into());
    }
    if let Some(name) = form.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter {name} was sent more than once"
        ))
        .into());
    }
    let Some(token) = form.get("token") else {
        return Err(OAuthError::invalid_request("token is required").into());
    };
    let mut conn = p.store.pool().acquire().await.map_err(StoreError::from)?;
    let row = stored::find_token(&mut conn, p.tenant, &token_hash(token)).await?;
    drop(conn);
    let now = p.now();
    let active = row
        .filter(|t| t.client_id == client.app.id && live(t, now))
        .map(|t| ActiveToken {
            scope: Some(t.scopes.clone()).filter(|s| !s.is_empty()),
            client_id: t.client_id.clone(),
            username: None,
            token_type: Some(
                if t.kind == "refresh" {
                    "refresh_token"
                } else {
                    "Bearer"
                }
                .to_owned(),
            ),
            exp: t.expires_at,
            iat: t.issued_at,
            nbf: None,
            sub: Some(t.subject.clone()),
            aud: Some(t.client_id.clone()),
            iss: p.issuer.as_str().to_owned(),
            jti: t.jti.clone(),
        });
    Ok(IntrospectionResponse::for_token(active, now))
}

/// RFC 7009: the client revokes one of its own tokens. Revoking a refresh token revokes its
/// whole grant (the access tokens too, RFC 7009 2.1). Unknown or foreign tokens are answered
/// the same way (200), so nothing is learned.
pub async fn revoke(
    p: &Provider<'_>,
    authorization: Option<&str>,
    form: &Params,
) -> Result<(), EndpointError> {
    let client = tokens::authenticate(p, authorization, form).await?;
    // Access tokens, JWTs included, are stored by hash and so are revocable here.
    let req = revocation::parse_revocation_request(form, true)?;
    let now = p.now();
    let hash = token_hash(&req.token);
    let mut tx = p.store.begin().await?;
    let Some(row) = stored::find_token(&mut tx, p.tenant, &hash).await? else {
        return Ok(());
    };
    if row.client_id != client.app.id {
        return Ok(());
    }
    let revoked = if row.kind == "refresh" {
        stored::revoke_family(&mut tx, p.tenant, &row.family_id, now).await?
    } else {
        u64::from(stored::revoke_token(&mut tx, p.tenant, &hash, &client.app.id, now).await?)
    };
    p.audit(
        &mut tx,
        format!("client:{}", client.app.id),
        "oidc.token.revoke",
        format!("app:{}", client.app.id),
        serde_json::json!({ "kind": row.kind, "user": row.user_sourced_id, "tokensRevoked": revoked }),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

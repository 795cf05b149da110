//! The token endpoint (RFC 6749 3.2, 4.1.3, 4.4, 6; OIDC Core 3.1.3) and client
//! authentication (RFC 6749 2.3, RFC 7523, OIDC Core 9) shared with introspection and
//! revocation.

use kakehashi_oidc::authorize::ClaimsRequest;
use kakehashi_oidc::claims::{AccessTokenClaims, Audience, IdTokenClaims, ACCESS_TOKEN_TYP};
use kakehashi_oidc::client::AccessTokenFormat;
use kakehashi_oidc::params::Params;
use kakehashi_oidc::pkce::CodeChallenge;
use kakehashi_oidc::token::{
    self as rules, ClientAssertionContext, ClientAuthError, PresentedClientAuth, TokenRequest,
    TokenResponse,
};
use kakehashi_oidc::KeySet;
use kakehashi_oidc::{ClientAuthMethod, ErrorCode, OAuthError};
use kakehashi_store::audit;
use kakehashi_store::oauth::{self as stored, CodeRedemption, RefreshRotation, TokenRow};
use kakehashi_store::roster::UserRow;
use kakehashi_store::StoreError;

use super::clients::RegisteredClient;
use super::{
    keyring_set, random_value, token_hash, EndpointError, OAuthServiceError, Provider,
    ACCESS_TOKEN_LIFETIME, ID_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME,
};

fn invalid_grant(d: &str) -> EndpointError {
    EndpointError::Protocol(OAuthError::new(ErrorCode::InvalidGrant, d))
}

/// Authenticates the client of a token, introspection or revocation request. Failures are
/// audited (without the secret) and answered `invalid_client` (401, with
/// `WWW-Authenticate: Basic` when Basic was tried: RFC 6749 5.2).
pub async fn authenticate(
    p: &Provider<'_>,
    authorization: Option<&str>,
    form: &Params,
) -> Result<std::sync::Arc<RegisteredClient>, EndpointError> {
    let basic = authorization.is_some_and(|h| h.len() > 6 && h[..6].eq_ignore_ascii_case("basic "));
    let realm = p.issuer.as_str();
    let presented = rules::extract_client_auth(authorization, form)
        .map_err(|e| e.to_oauth_error(basic, realm))?;
    let Some(client) = p.client(presented.client_id()).await? else {
        return Err(refuse(p, &presented, ClientAuthError::UnknownClient, basic).await);
    };
    let token_endpoint = p.issuer.token_endpoint();
    let ctx = ClientAssertionContext {
        token_endpoint: &token_endpoint,
        issuer: p.issuer.as_str(),
        now: p.now(),
        leeway: 30,
        max_lifetime: 600,
    };
    let authenticated = match rules::authenticate_client(&presented, &client.policy, &ctx) {
        Ok(a) => a,
        Err(e) => return Err(refuse(p, &presented, e, basic).await),
    };
    // OIDC Core 9: a private_key_jwt assertion is used once, across every node.
    if let Some(j) = &authenticated.assertion_jti {
        if !stored::first_assertion_use(
            p.store,
            p.tenant,
            &client.app.id,
            &j.jti,
            j.expires_at,
            p.now(),
        )
        .await?
        {
            return Err(refuse(p, &presented, ClientAuthError::AssertionReplayed, basic).await);
        }
    }
    Ok(client)
}

/// Audits a failed client authentication and returns the `invalid_client` answer.
async fn refuse(
    p: &Provider<'_>,
    presented: &PresentedClientAuth,
    e: ClientAuthError,
    basic: bool,
) -> EndpointError {
    let audited = async {
        let mut tx = p.store.begin().await?;
        p.audit(
            &mut tx,
            format!("client:{}", presented.client_id()),
            "oidc.client_auth.failed",
            format!("app:{}", presented.client_id()),
            serde_json::json!({ "method": presented.method().as_str(), "reason": e.to_string() }),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)
    }
    .await;
    match audited {
        Ok(()) => e.to_oauth_error(basic, p.issuer.as_str()).into(),
        Err(store) => EndpointError::Internal(store.into()),
    }
}

/// What signing needs, fetched before any write transaction starts (SQLite has one writer:
/// creating keys or the salt inside a transaction would wait on itself).
pub(crate) struct Material {
    pub keys: std::sync::Arc<KeySet>,
    pub salt: String,
}

impl Material {
    /// `with_keys` is false when nothing will be signed (opaque client_credentials), so
    /// the sealed keys are not opened for nothing.
    pub(crate) async fn load(
        p: &Provider<'_>,
        with_keys: bool,
    ) -> Result<Material, OAuthServiceError> {
        Ok(Material {
            keys: if with_keys {
                keyring_set(p).await?
            } else {
                std::sync::Arc::new(KeySet::default())
            },
            salt: super::profile::salt(p).await?,
        })
    }
}

/// The token endpoint: authenticate, then the grant.
pub async fn token(
    p: &Provider<'_>,
    authorization: Option<&str>,
    form: &Params,
) -> Result<TokenResponse, EndpointError> {
    let client = authenticate(p, authorization, form).await?;
    let request = rules::parse_token_request(form)?;
    if !client.policy.allows_grant(request.grant_type()) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("this client may not use {}", request.grant_type()),
        )
        .into());
    }
    let signs = !matches!(request, TokenRequest::ClientCredentials { .. })
        || client.policy.access_token_format == AccessTokenFormat::Jwt;
    let m = Material::load(p, signs).await?;
    match request {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => authorization_code(p, &m, &client, &code, redirect_uri, code_verifier).await,
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh(p, &m, &client, &refresh_token, scope).await,
        TokenRequest::ClientCredentials { scope } => {
            client_credentials(p, &m, &client, scope).await
        }
    }
}

/// What a grant carries into the tokens it issues.
struct Grant<'a> {
    family_id: String,
    user: &'a UserRow,
    session_hash: Option<String>,
    scopes: Vec<String>,
    claims: Option<String>,
    auth_time: i64,
    acr: String,
    amr: Vec<String>,
    nonce: Option<String>,
}

async fn load_user(p: &Provider<'_>, sourced_id: &str) -> Result<Option<UserRow>, EndpointError> {
    Ok(stored::active_user(p.store, p.tenant, sourced_id).await?)
}

async fn authorization_code(
    p: &Provider<'_>,
    m: &Material,
    client: &RegisteredClient,
    code: &str,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
) -> Result<TokenResponse, EndpointError> {
    let now = p.now();
    let code_hash = token_hash(code);
    // The code is read, checked and its tokens signed before anything is written; then one
    // write consumes it and stores the tokens, atomically and in a group commit
    // (`GrantWrite`). Signing inside that transaction would hold SQLite's one writer for
    // the length of an RSA signature.
    let Some((row, active_user)) =
        stored::find_code_and_user(p.store, p.tenant, &code_hash).await?
    else {
        return Err(invalid_grant("unknown authorization code"));
    };
    // A consumed code is a replay: the write finds it so and revokes what it issued.
    let refusal = if row.consumed_at.is_some() {
        None
    } else if row.client_id != client.app.id {
        Some("the code was issued to another client")
    } else if row.expires_at <= now {
        Some("the authorization code expired")
    } else if redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        // RFC 6749 4.1.3: required and identical when the request had one (ours always do).
        Some("redirect_uri does not match the authorization request")
    } else {
        // RFC 7636 4.6 and RFC 9700 2.1.1 (PKCE downgrade): a stored challenge needs a
        // matching verifier; a verifier for a code without a challenge is refused.
        match (&row.code_challenge, &code_verifier) {
            (Some(c), Some(v)) => CodeChallenge::from_stored(c.clone())
                .verify(v)
                .err()
                .map(|_| "code_verifier does not match the code_challenge"),
            (Some(_), None) => Some("code_verifier is required (PKCE)"),
            (None, Some(_)) => Some("code_verifier sent for a code issued without PKCE"),
            (None, None) => None,
        }
    };
    let user = match (row.consumed_at, refusal) {
        (None, None) => active_user,
        _ => None,
    };
    // A refused code is still consumed (the write commits, then the request is refused).
    let refusal = refusal.or_else(|| {
        (row.consumed_at.is_none() && user.is_none()).then_some("the user is no longer active")
    });
    let mut issued = None;
    if let Some(user) = &user {
        let grant = Grant {
            family_id: row.family_id.clone(),
            user,
            session_hash: row.session_hash.clone(),
            scopes: super::scope_list(&row.scopes),
            claims: row.claims.clone(),
            auth_time: row.auth_time,
            acr: row.acr.clone(),
            amr: serde_json::from_str(&row.amr).unwrap_or_default(),
            nonce: row.nonce.clone(),
        };
        issued = Some(make_user_tokens(p, m, client, &grant, "authorization_code").await?);
    }
    let (response, store) = match issued {
        Some(i) => (Some(i.response), Some((i.rows, i.event))),
        None => (None, None),
    };
    match GrantWrite::run(p, client, now, Used::Code, code_hash, store).await? {
        Consumed::Invalid => Err(invalid_grant("unknown authorization code")),
        Consumed::Replayed => Err(invalid_grant("the authorization code was already used")),
        Consumed::Fresh => match (response, refusal) {
            (Some(r), _) => Ok(r),
            (None, why) => Err(invalid_grant(why.unwrap_or("the code cannot be used"))),
        },
    }
}

/// The one write of a code exchange or a refresh: consume the code (or rotate the refresh
/// token) and, when it was fresh, store the tokens made for it with their audit row; when it
/// had been used before, revoke its whole family (RFC 6749 4.1.2 / 10.5, RFC 9700 4.14.2).
struct GrantWrite {
    tenant: kakehashi_store::TenantId,
    at: String,
    now: i64,
    used: Used,
    /// The hash of the code or of the refresh token.
    hash: String,
    /// The client that presented it.
    client_id: String,
    /// The tokens (access, refresh) and their audit event; `None` when the request is refused.
    store: Option<(Vec<TokenRow>, audit::Event)>,
}

/// What a [`GrantWrite`] consumes.
enum Used {
    Code,
    Refresh,
}

/// What the write found.
enum Consumed {
    /// First use: consumed now (and the tokens stored, if any).
    Fresh,
    /// Used before: the family is revoked.
    Replayed,
    /// Unknown (or, for a refresh token, revoked or expired).
    Invalid,
}

impl GrantWrite {
    /// Consumes the code or refresh token `hash` presented by `client` (storing `store` when
    /// it was fresh), in a group commit.
    async fn run(
        p: &Provider<'_>,
        client: &RegisteredClient,
        now: i64,
        used: Used,
        hash: String,
        store: Option<(Vec<TokenRow>, audit::Event)>,
    ) -> Result<Consumed, StoreError> {
        let w = GrantWrite {
            tenant: p.tenant.clone(),
            at: p.clock.now_text(),
            now,
            used,
            hash,
            client_id: client.app.id.clone(),
            store,
        };
        p.store.group_write_returning(w, GrantWrite::write).await
    }

    fn write<'a, 'c>(
        x: &'a GrantWrite,
        batch: &'a mut kakehashi_store::group::Batch<'c>,
    ) -> kakehashi_store::group::WriteFuture<'a, Consumed> {
        Box::pin(async move {
            let replayed = match x.used {
                Used::Code => {
                    match stored::redeem_code(batch.conn(), &x.tenant, &x.hash, x.now).await? {
                        CodeRedemption::Unknown => return Ok(Consumed::Invalid),
                        CodeRedemption::Redeemed(_) => None,
                        CodeRedemption::Replayed(row) => Some((
                            "oidc.code.replay",
                            row.family_id,
                            row.client_id,
                            Some(row.user_sourced_id),
                        )),
                    }
                }
                Used::Refresh => {
                    match stored::rotate_refresh(batch.conn(), &x.tenant, &x.hash, x.now).await? {
                        RefreshRotation::Invalid => return Ok(Consumed::Invalid),
                        RefreshRotation::Rotated(_) => None,
                        RefreshRotation::Reused(row) => Some((
                            "oidc.refresh.reuse",
                            row.family_id,
                            row.client_id,
                            row.user_sourced_id,
                        )),
                    }
                }
            };
            let Some((action, family_id, owner, user)) = replayed else {
                if let Some((rows, event)) = &x.store {
                    for row in rows {
                        stored::insert_token_later(batch, &x.tenant, row);
                    }
                    batch.audit(Some(&x.tenant), &x.at, event).await?;
                }
                return Ok(Consumed::Fresh);
            };
            // The first use may be in this same batch with its tokens still queued: they go
            // in first, so that the revocation reaches them.
            batch.insert_queued_now().await?;
            let revoked = stored::revoke_family(batch.conn(), &x.tenant, &family_id, x.now).await?;
            let event = audit::Event {
                actor: format!("client:{}", x.client_id),
                action: action.to_owned(),
                target: format!("app:{owner}"),
                details: serde_json::json!({ "user": user, "tokensRevoked": revoked }),
            };
            batch.audit(Some(&x.tenant), &x.at, &event).await?;
            Ok(Consumed::Replayed)
        })
    }
}

async fn refresh(
    p: &Provider<'_>,
    m: &Material,
    client: &RegisteredClient,
    refresh_token: &str,
    scope: Option<Vec<String>>,
) -> Result<TokenResponse, EndpointError> {
    let now = p.now();
    let hash = token_hash(refresh_token);
    // As for a code: read and check, sign, then rotate and store in one write (`GrantWrite`).
    let found = {
        let mut conn = p.store.pool().acquire().await.map_err(StoreError::from)?;
        stored::find_token(&mut conn, p.tenant, &hash).await?
    };
    // A token of another client is refused before it is touched, so that client cannot burn it.
    let row = match found {
        Some(t) if t.client_id == client.app.id => t,
        _ => return Err(invalid_grant("unknown refresh token")),
    };
    let invalid = || invalid_grant("the refresh token is not valid");
    if row.kind != "refresh" {
        return Err(invalid());
    }
    // Rotated already: a reuse (RFC 9700 4.14.2), whatever else became of it since, which the
    // write finds and answers by revoking the whole family (the legitimate client signs in
    // again) and auditing the attempt.
    let reused = row.rotated_at.is_some();
    if !reused && (row.revoked_at.is_some() || row.expires_at <= now) {
        return Err(invalid());
    }
    let mut store = None;
    let mut response = None;
    if !reused {
        let granted = super::scope_list(&row.scopes);
        // RFC 6749 6: a narrower scope is allowed, a wider one is invalid_scope.
        let scopes = match scope {
            Some(asked) if !asked.iter().all(|s| granted.contains(s)) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope exceeds the original grant",
                )
                .into())
            }
            Some(asked) => asked,
            None => granted,
        };
        let Some(user_id) = row.user_sourced_id.clone() else {
            return Err(invalid_grant("not a user's refresh token"));
        };
        // A user no longer active still has the token rotated (used up), then is refused.
        if let Some(user) = load_user(p, &user_id).await? {
            let grant = Grant {
                family_id: row.family_id.clone(),
                user: &user,
                session_hash: row.session_hash.clone(),
                scopes,
                claims: row.claims.clone(),
                auth_time: row.auth_time.unwrap_or(now),
                acr: row.acr.clone().unwrap_or_default(),
                amr: row
                    .amr
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or_default(),
                nonce: None,
            };
            let issued = make_user_tokens(p, m, client, &grant, "refresh_token").await?;
            response = Some(issued.response);
            store = Some((issued.rows, issued.event));
        }
    }
    match GrantWrite::run(p, client, now, Used::Refresh, hash, store).await? {
        Consumed::Invalid => Err(invalid()),
        Consumed::Replayed => Err(invalid_grant("the refresh token was already used")),
        Consumed::Fresh => response.ok_or_else(|| invalid_grant("the user is no longer active")),
    }
}

async fn client_credentials(
    p: &Provider<'_>,
    m: &Material,
    client: &RegisteredClient,
    scope: Option<Vec<String>>,
) -> Result<TokenResponse, EndpointError> {
    // RFC 6749 4.4: confidential clients only.
    if client.policy.auth_method == ClientAuthMethod::None {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "public clients may not use client_credentials",
        )
        .into());
    }
    // RFC 6749 3.3: without a scope parameter the pre-defined default applies, here the
    // xAPI scopes the app is registered for.
    let registered = &client.settings.xapi_scopes;
    let scopes = scope.unwrap_or_else(|| registered.clone());
    // No user, so no openid: user scopes are meaningless here. The xAPI scopes
    // (Communication 4.2.s2) are for the LRS of this tenant, and only those the app's
    // registration names (`app add --xapi-scopes`); `admin` (the admin REST API) only for a
    // client holding an admin grant (`kakehashi admin grant --client`).
    let is_xapi = |s: &str| kakehashi_xapi::scope::Scope::parse(s).is_some();
    let admin_scope = crate::console::api_auth::ADMIN_SCOPE;
    let may_admin = scopes.iter().any(|s| s == admin_scope)
        && crate::console::api_auth::client_may_request_admin(p.store, p.tenant, &client.app.id)
            .await?;
    if let Some(bad) = scopes
        .iter()
        .find(|s| *s != "roster" && !(*s == admin_scope && may_admin) && !is_xapi(s))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("scope {bad} is not available to client_credentials"),
        )
        .into());
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| is_xapi(s) && !registered.contains(s))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!(
                "scope {bad} is not registered for this client (its xAPI scopes: {})",
                if registered.is_empty() {
                    "none".to_owned()
                } else {
                    registered.join(" ")
                }
            ),
        )
        .into());
    }
    let now = p.now();
    let family = random_value();
    let (access_token, jti) = access_token_value(p, m, client, &client.app.id, &scopes, None, now)?;
    let row = TokenRow {
        token_hash: token_hash(&access_token),
        kind: "access".into(),
        // No refresh token and no user, so no family to revoke: a unique id, kept for the
        // record (the family index holds user tokens only, migration 0020).
        family_id: format!("cc-{now:012}-{family}"),
        client_id: client.app.id.clone(),
        user_sourced_id: None,
        session_hash: None,
        subject: client.app.id.clone(),
        scopes: scopes.join(" "),
        claims: None,
        auth_time: None,
        acr: None,
        amr: None,
        jti,
        issued_at: now,
        expires_at: now + ACCESS_TOKEN_LIFETIME,
        rotated_at: None,
        revoked_at: None,
    };
    let event = audit::Event {
        actor: format!("client:{}", client.app.id),
        action: "oidc.token.issue".to_owned(),
        target: format!("app:{}", client.app.id),
        details: serde_json::json!({
            "grant": "client_credentials", "scopes": scopes.join(" "),
            "format": client.settings.access_token_format,
        }),
    };
    // Nothing is read here, only appended: the token row and its audit row join other
    // requests' in one transaction (group commit), answered once it has committed.
    let data = (p.tenant.clone(), p.clock.now_text(), row, event);
    p.store
        .group_write(data, |(tenant, at, row, event), batch| {
            Box::pin(async move {
                stored::insert_token_later(batch, tenant, row);
                batch.audit(Some(tenant), at, event).await.map(|_| ())
            })
        })
        .await?;
    let mut response = TokenResponse::bearer(access_token, ACCESS_TOKEN_LIFETIME as u64);
    // RFC 6749 5.1: the granted scope; none granted, no (empty) scope member.
    response.scope = (!scopes.is_empty()).then(|| scopes.join(" "));
    Ok(response)
}

/// A new access token: random (opaque) or an RFC 9068 JWT signed with the app's algorithm.
/// Returns the token and, for a JWT, its `jti`.
fn access_token_value(
    p: &Provider<'_>,
    m: &Material,
    client: &RegisteredClient,
    sub: &str,
    scopes: &[String],
    user_auth: Option<(&Grant<'_>,)>,
    now: i64,
) -> Result<(String, Option<String>), OAuthServiceError> {
    if client.policy.access_token_format == AccessTokenFormat::Opaque {
        return Ok((super::time_ordered_value(), None));
    }
    let key = m
        .keys
        .for_client(client.policy.id_token_signed_response_alg)
        .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
    let jti = random_value();
    let claims = AccessTokenClaims {
        iss: p.issuer.as_str().to_owned(),
        // RFC 9068 3: the resource is this issuer's own APIs (userinfo and the rest).
        aud: Audience::one(p.issuer.as_str()),
        exp: now + ACCESS_TOKEN_LIFETIME,
        iat: now,
        sub: sub.to_owned(),
        client_id: client.app.id.clone(),
        jti: jti.clone(),
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        auth_time: user_auth.map(|(g,)| g.auth_time),
        acr: user_auth.map(|(g,)| g.acr.clone()),
        amr: user_auth.map(|(g,)| g.amr.clone()),
    };
    let jwt = key
        .sign_json(Some(ACCESS_TOKEN_TYP), &claims)
        .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
    Ok((jwt, Some(jti)))
}

/// What a user's grant issues: the response, and the rows and audit event to store with it.
struct UserTokens {
    response: TokenResponse,
    /// The access and the refresh token.
    rows: Vec<TokenRow>,
    event: audit::Event,
}

/// Access token, refresh token and ID token for a user's grant (signed, not yet stored).
async fn make_user_tokens(
    p: &Provider<'_>,
    m: &Material,
    client: &RegisteredClient,
    g: &Grant<'_>,
    grant_type: &str,
) -> Result<UserTokens, EndpointError> {
    let now = p.now();
    let sub = super::profile::subject_with_salt(client, g.user, &m.salt);
    let (access_token, jti) = access_token_value(p, m, client, &sub, &g.scopes, Some((g,)), now)?;
    let refresh_token = random_value();
    let base = TokenRow {
        token_hash: token_hash(&access_token),
        kind: "access".into(),
        family_id: g.family_id.clone(),
        client_id: client.app.id.clone(),
        user_sourced_id: Some(g.user.sourced_id.clone()),
        session_hash: g.session_hash.clone(),
        subject: sub.clone(),
        scopes: g.scopes.join(" "),
        claims: g.claims.clone(),
        auth_time: Some(g.auth_time),
        acr: Some(g.acr.clone()),
        amr: serde_json::to_string(&g.amr).ok(),
        jti,
        issued_at: now,
        expires_at: now + ACCESS_TOKEN_LIFETIME,
        rotated_at: None,
        revoked_at: None,
    };
    let refresh_row = TokenRow {
        token_hash: token_hash(&refresh_token),
        kind: "refresh".into(),
        jti: None,
        expires_at: now + REFRESH_TOKEN_LIFETIME,
        ..base.clone()
    };
    // OIDC Core 3.1.3.3: an ID token when openid was granted (also on refresh, 12.2).
    let id_token = if g.scopes.iter().any(|s| s == "openid") {
        let key = m
            .keys
            .for_client(client.policy.id_token_signed_response_alg)
            .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
        let mut claims = IdTokenClaims::new(
            p.issuer.as_str(),
            &sub,
            &client.app.id,
            now,
            ID_TOKEN_LIFETIME,
        )
        .with_at_hash(key.alg(), &access_token);
        claims.auth_time = Some(g.auth_time);
        claims.nonce = g.nonce.clone();
        // Back-Channel Logout 1.0 section 2.1: the session's `sid`, the one its Logout Token
        // will carry (per client, derived from the portal session: `backchannel`).
        claims.sid = g
            .session_hash
            .as_deref()
            .map(|h| super::backchannel::sid(&client.app.id, h, &m.salt));
        // What was actually done at the portal (RFC 8176 amr), never more.
        claims.acr = Some(g.acr.clone()).filter(|a| !a.is_empty());
        claims.amr = Some(g.amr.clone()).filter(|a| !a.is_empty());
        // OIDC Core 5.5: claims the RP asked for in the ID token itself, within the app's
        // release policy.
        if let Some(asked) = g
            .claims
            .as_deref()
            .and_then(|c| serde_json::from_str::<ClaimsRequest>(c).ok())
            .filter(|c| !c.id_token.is_empty())
        {
            let extra = super::profile::released_claims(
                p,
                client,
                g.user,
                &sub,
                &[],
                Some(&asked.id_token),
            )
            .await?;
            claims.extra = extra.into_iter().filter(|(k, _)| k != "sub").collect();
        }
        Some(
            key.sign_json(Some("JWT"), &claims)
                .map_err(|e| OAuthServiceError::Signing(e.to_string()))?,
        )
    } else {
        None
    };
    let event = audit::Event {
        actor: format!("client:{}", client.app.id),
        action: "oidc.token.issue".to_owned(),
        target: format!("user:{}", g.user.sourced_id),
        details: serde_json::json!({
            "grant": grant_type, "app": client.app.id, "scopes": g.scopes.join(" "),
            "format": client.settings.access_token_format, "idToken": id_token.is_some(),
        }),
    };
    let mut response = TokenResponse::bearer(access_token, ACCESS_TOKEN_LIFETIME as u64);
    response.refresh_token = Some(refresh_token);
    response.id_token = id_token;
    response.scope = Some(g.scopes.join(" "));
    Ok(UserTokens {
        response,
        rows: vec![base, refresh_row],
        event,
    })
}

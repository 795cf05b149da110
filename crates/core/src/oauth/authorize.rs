//! The authorization endpoint's decision (OIDC Core 3.1.2): validate the request against
//! the client, then the portal session (prompt, max_age), then the launch policy (audience,
//! second factor for school-affairs apps), then issue a one-time code.

use kakehashi_oidc::authorize::{
    self as rules, AuthorizationResponse, AuthorizeError, Prompt, UserFacingError,
};
use kakehashi_oidc::discovery::{ACR_MFA, ACR_PASSWORD};
use kakehashi_oidc::params::Params;
use kakehashi_oidc::{ErrorCode, OAuthError};
use kakehashi_store::oauth::{self as stored, CodeRow};
use kakehashi_store::{audit, StoreError};

use super::{token_hash, unix_of, OAuthServiceError, Provider, CODE_LIFETIME};
use crate::portal::access::{self, LaunchDecision};
use crate::portal::session::PortalSession;

/// What the endpoint does next.
#[derive(Debug, Clone)]
pub enum AuthorizeOutcome {
    /// An unknown client or an unregistered redirect URI: an error page, never a redirect
    /// (OIDC Core 3.1.2.6, RFC 6749 4.1.2.1).
    ShowError(UserFacingError),
    /// Back to the client: a code, or an OAuth error with `state` and `iss`.
    Respond(AuthorizationResponse),
    /// The user must sign in at the portal first; `fresh` when a live session is not enough
    /// (`prompt=login`, `max_age` elapsed: OIDC Core 3.1.2.1).
    Login { fresh: bool },
    /// A school-affairs app and a password-only session: the second-factor page, never a
    /// silent sign-in with less than the app requires.
    SecondFactorRequired {
        app: Box<kakehashi_store::identity::AppRow>,
    },
}

/// Parameters to drop from the authorization request when coming back from a fresh login,
/// so that the login just done satisfies it instead of asking again.
pub const FRESH_LOGIN_PARAMS: [&str; 3] = ["prompt", "max_age", "id_token_hint"];

/// Decides an authentication request for the browser's portal session (if any).
pub async fn authorize(
    p: &Provider<'_>,
    params: &Params,
    session: Option<&PortalSession>,
) -> Result<AuthorizeOutcome, OAuthServiceError> {
    let client = match params.get("client_id") {
        Some(id) if !params.is_repeated("client_id") => p.client(id).await?,
        _ => None,
    };
    let req = match rules::validate(params, client.as_ref().map(|c| &c.policy), p.issuer) {
        Ok(r) => r,
        Err(AuthorizeError::ShowToUser(e)) => return Ok(AuthorizeOutcome::ShowError(e)),
        Err(AuthorizeError::Redirect { response, .. }) => {
            return Ok(AuthorizeOutcome::Respond(response))
        }
    };
    let Some(client) = client else {
        // validate() refuses an unknown client; this is the same answer.
        return Ok(AuthorizeOutcome::ShowError(UserFacingError::UnknownClient(
            req.client_id,
        )));
    };
    let fail = |code: ErrorCode, d: &str| {
        Ok(AuthorizeOutcome::Respond(
            req.error_response(&OAuthError::new(code, d), p.issuer),
        ))
    };
    let now = p.now();
    let silent = req.has_prompt(Prompt::None);
    let Some(session) = session else {
        // OIDC Core 3.1.2.1: prompt=none must not show UI.
        return if silent {
            fail(ErrorCode::LoginRequired, "the user is not signed in")
        } else {
            Ok(AuthorizeOutcome::Login { fresh: false })
        };
    };
    let auth_time = unix_of(&session.auth_time);
    // max_age=0 always asks again, as Keycloak does (a login in the same second would
    // otherwise satisfy it); the way back from the login page drops max_age.
    if req.requires_fresh_login(auth_time, now) || req.max_age == Some(0) {
        return if silent {
            fail(ErrorCode::LoginRequired, "a fresh sign-in is required")
        } else {
            Ok(AuthorizeOutcome::Login { fresh: true })
        };
    }
    // OIDC Core 3.1.2.1 id_token_hint: a hint about another user (or not ours at all) means
    // the session is not the one the RP expects: sign in again, or login_required silently.
    if let Some(hint) = &req.id_token_hint {
        let keys = super::keyring_set(p)
            .await?
            .verification_keys(now)
            .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
        let same_user =
            match kakehashi_oidc::end_session::verify_id_token_hint(hint, &keys, p.issuer) {
                Ok(h) => h.sub == super::profile::subject(p, &client, &session.user).await?,
                Err(_) => false,
            };
        if !same_user {
            return if silent {
                fail(
                    ErrorCode::LoginRequired,
                    "the signed-in user is not the id_token_hint's",
                )
            } else {
                Ok(AuthorizeOutcome::Login { fresh: true })
            };
        }
    }
    let policy = crate::mfa::policy::load(p.store, p.tenant).await?;
    let mut decision = access::decide(&client.app, session, &policy, p.clock.now());
    // OIDC Core 3.1.2.1 acr_values / 5.5.1.1 claims: a request that accepts only the
    // second-factor acr is stepped up like a school-affairs app (or refused below when it
    // cannot be met); a request that also accepts the password acr is answered as it is.
    let (acr_values, essential) = req.requested_acr();
    let supported = [ACR_PASSWORD, ACR_MFA];
    let only_mfa = !acr_values.is_empty()
        && acr_values.iter().any(|v| v == ACR_MFA)
        && !acr_values.iter().any(|v| v == ACR_PASSWORD);
    let fresh_mfa = access::has_second_factor(&session.amr)
        && crate::mfa::factors::second_factor_fresh(
            session.second_factor_at.as_deref(),
            &session.ip,
            &policy,
            p.clock.now(),
        );
    if decision == LaunchDecision::Allowed && only_mfa && !fresh_mfa {
        decision = LaunchDecision::SecondFactorRequired;
    }
    match decision {
        LaunchDecision::Allowed => {}
        LaunchDecision::NotAllowed => {
            audit_refusal(p, session, &client.app.id, "not-allowed").await?;
            return fail(
                ErrorCode::AccessDenied,
                "this app is not available to the user's role",
            );
        }
        LaunchDecision::SecondFactorRequired => {
            audit_refusal(p, session, &client.app.id, "second-factor-required").await?;
            return if silent {
                fail(
                    ErrorCode::InteractionRequired,
                    "a second factor is required for this app",
                )
            } else {
                Ok(AuthorizeOutcome::SecondFactorRequired {
                    app: Box::new(client.app.clone()),
                })
            };
        }
    }
    // OIDC Core 5.5.1.1: an essential acr that the session does not meet is an error, not a
    // silent downgrade (Unmet Authentication Requirements 1.0 §2 names the error).
    if essential && !acr_values.contains(&session.acr) {
        let reason = if acr_values.iter().any(|v| supported.contains(&v.as_str())) {
            "the requested authentication context is not met by this sign-in"
        } else {
            "none of the requested authentication context classes is supported"
        };
        return fail(ErrorCode::UnmetAuthenticationRequirements, reason);
    }

    let code = super::random_value();
    let hash = token_hash(&code);
    let row = CodeRow {
        code_hash: hash.clone(),
        family_id: hash,
        client_id: client.app.id.clone(),
        user_sourced_id: session.user.sourced_id.clone(),
        session_hash: Some(session.id_hash.clone()),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.as_ref().map(|c| c.as_str().to_owned()),
        nonce: req.nonce.clone(),
        scopes: req.scopes.join(" "),
        claims: req
            .claims
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok()),
        auth_time: auth_time.unwrap_or(now),
        acr: session.acr.clone(),
        amr: serde_json::to_string(&session.amr).unwrap_or_else(|_| "[]".into()),
        expires_at: now + CODE_LIFETIME,
        consumed_at: None,
        created_at: p.clock.now_text(),
    };
    let event = audit::Event {
        actor: format!("user:{}/{}", p.tenant, session.user.sourced_id),
        action: "oidc.code.issue".to_owned(),
        target: format!("app:{}", client.app.id),
        details: serde_json::json!({
            "scopes": row.scopes, "pkce": row.code_challenge.is_some(),
            "responseMode": format!("{:?}", req.response_mode),
        }),
    };
    // Only writes: the code joins other requests' writes in one transaction (group commit).
    // Housekeeping on the way, once a minute per tenant and node: codes and tokens that
    // expired over a day ago are of no use (the day keeps recent replays recognisable).
    let sweep = p.store.due(
        &format!("oauth-expired:{}", p.tenant),
        std::time::Duration::from_secs(60),
    );
    let data = (p.tenant.clone(), p.clock.now_text(), now, row, event, sweep);
    p.store
        .group_write(data, |(tenant, at, now, row, event, sweep), batch| {
            Box::pin(async move {
                if *sweep {
                    stored::delete_expired(batch.conn(), tenant, now - 24 * 3600).await?;
                }
                stored::insert_code_later(batch, tenant, row);
                batch.audit(Some(tenant), at, event).await.map(|_| ())
            })
        })
        .await?;
    Ok(AuthorizeOutcome::Respond(
        req.success_response(&code, p.issuer),
    ))
}

async fn audit_refusal(
    p: &Provider<'_>,
    session: &PortalSession,
    app_id: &str,
    reason: &str,
) -> Result<(), OAuthServiceError> {
    let mut tx = p.store.begin().await?;
    p.audit(
        &mut tx,
        format!("user:{}/{}", p.tenant, session.user.sourced_id),
        "oidc.authorize.refused",
        format!("app:{app_id}"),
        serde_json::json!({ "reason": reason, "role": session.user.role }),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

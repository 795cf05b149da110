//! RP-Initiated Logout 1.0 and the end of the app sessions a portal session started.

use kakehashi_oidc::end_session::{self as rules, EndSessionError};
use kakehashi_oidc::params::Params;
use kakehashi_store::oauth as stored;
use kakehashi_store::{audit, Store, StoreError};

use super::{keyring_set, OAuthServiceError, Provider};
use crate::portal::session::{self, PortalSession};
use crate::Clock;

/// What the end-session endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Ask the user to confirm (the request does not prove it comes from the session's own
    /// relying party: RP-Initiated Logout 2, "the OP SHOULD ask the End-User"). `redirect`
    /// is where confirming leads (already checked against the client's registration).
    Confirm { redirect: Option<String> },
    /// Done: go to the client's `post_logout_redirect_uri` (with `state`), or show our page.
    /// With `saml_journey`, the browser first walks the SAML SPs of the session
    /// (`saml_idp::propagate`), whose last step leads to `redirect`.
    Done {
        redirect: Option<String>,
        ended_session: bool,
        saml_journey: Option<String>,
    },
}

/// Handles an end-session request. `confirmed` is set when the user confirmed on our page
/// (the caller checked the session's CSRF token).
pub async fn end_session(
    p: &Provider<'_>,
    params: &Params,
    session: Option<&PortalSession>,
    confirmed: bool,
) -> Result<Result<LogoutOutcome, EndSessionError>, OAuthServiceError> {
    let keys = keyring_set(p)
        .await?
        .verification_keys(p.now())
        .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
    let req = match rules::parse_end_session(params, &keys, p.issuer) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let client = match &req.client_id {
        Some(id) => p.client(id).await?,
        None => None,
    };
    // RP-Initiated Logout 3.1: the redirect must be registered for the client.
    let redirect = match req.post_logout_redirect(client.as_ref().map(|c| &c.policy)) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let Some(session) = session else {
        return Ok(Ok(LogoutOutcome::Done {
            redirect,
            ended_session: false,
            saml_journey: None,
        }));
    };
    // The hint proves the request comes from an RP this session signed in to: its `sub` is
    // the session user's `sub` for that client.
    let hint_matches = match (&req.id_token_hint, &client) {
        (Some(hint), Some(c)) => hint.sub == super::profile::subject(p, c, &session.user).await?,
        _ => false,
    };
    if !hint_matches && !confirmed {
        return Ok(Ok(LogoutOutcome::Confirm { redirect }));
    }
    // As the portal's own sign-out: the session, its OIDC tokens (and Logout Tokens for the
    // back-channel apps), and the SAML SPs told over the front channel before the RP's page.
    let saml_journey = session::logout(p.store, p.clock, session).await?;
    if let (Some(journey), Some(to)) = (&saml_journey, &redirect) {
        crate::saml_idp::propagate::finish_at(p.store, p.tenant, journey, to)
            .await
            .map_err(|e| crate::portal::PortalError::Saml(e.to_string()))?;
    }
    let mut tx = p.store.begin().await?;
    p.audit(
        &mut tx,
        format!("user:{}/{}", p.tenant, session.user.sourced_id),
        "oidc.logout",
        format!("user:{}", session.user.sourced_id),
        serde_json::json!({
            "client": req.client_id, "hint": req.id_token_hint.is_some(),
            "confirmed": confirmed, "redirect": redirect.is_some(),
            "samlLogout": saml_journey.is_some(),
        }),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Ok(LogoutOutcome::Done {
        redirect,
        ended_session: true,
        saml_journey,
    }))
}

/// Ends the OIDC app sessions a portal session started: every access and refresh token
/// issued from it is revoked, and a Logout Token is queued for each app with a back-channel
/// logout URI that received an ID token in it (audited with the clients concerned; the
/// server delivers the tokens, `backchannel::deliver_due`). Called by portal logout.
pub async fn end_portal_session_tokens(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
) -> Result<Vec<String>, StoreError> {
    let mut tx = store.begin().await?;
    let clients = end_session_tokens_in(
        &mut tx,
        store,
        clock,
        &session.tenant,
        &session.id_hash,
        &session.user.sourced_id,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(clients)
}

/// [`end_portal_session_tokens`] for the session `id_hash` of `user` inside the caller's
/// transaction (a factor reset ending sessions does it with the rest of the reset).
pub async fn end_session_tokens_in(
    tx: &mut kakehashi_store::Tx,
    store: &Store,
    clock: &dyn Clock,
    tenant: &kakehashi_store::TenantId,
    id_hash: &str,
    user: &str,
) -> Result<Vec<String>, StoreError> {
    let (clients, told) =
        revoke_and_queue(tx, tenant, id_hash, user, clock.now().unix_timestamp()).await?;
    if !clients.is_empty() || !told.is_empty() {
        audit::append(
            tx,
            store.backend(),
            Some(tenant),
            &clock.now_text(),
            &audit::Event {
                actor: format!("user:{tenant}/{user}"),
                action: "oidc.app_sessions.end".into(),
                target: format!("user:{user}"),
                details: serde_json::json!({ "clients": clients, "backchannel": told }),
            },
        )
        .await?;
    }
    Ok(clients)
}

/// The OIDC side of a portal session's end, not audited (the caller audits it with the rest
/// of what ended the session: a timeout, a login replacing it): Logout Tokens queued for the
/// back-channel apps and every token of the session revoked. Returns the clients whose tokens
/// were revoked and those to be told.
pub async fn revoke_and_queue(
    conn: &mut kakehashi_store::Conn,
    tenant: &kakehashi_store::TenantId,
    id_hash: &str,
    user: &str,
    now: i64,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    // Back-Channel Logout 1.0 section 2.5: the apps to tell, queued with the revocation so
    // that neither happens without the other.
    let told = super::backchannel::queue(conn, tenant, id_hash, user, now).await?;
    let clients = stored::revoke_session(conn, tenant, id_hash, now).await?;
    Ok((clients, told))
}

//! Portal sessions that time out tell their apps, as a logout does (Keycloak sends
//! back-channel logouts when a session expires; issue 4: "logout that ends every app session
//! it can").
//!
//! [`sweep`] runs on every node every few seconds (`kakehashi_server::backchannel`): it finds
//! sessions past their idle timeout (`idle_deadline`, migration 0018) or their absolute one
//! (`expires_at`) and ends each with [`end`] in one transaction: the session row is deleted by
//! a conditional DELETE that re-checks the timeout (the claim: of two nodes sharing a
//! PostgreSQL database, or a sweep and the session's own late request, exactly one ends it,
//! once), every OIDC token of the session is revoked, a Logout Token is queued for each app
//! with a `backchannel_logout_uri` that received an ID token in it (Back-Channel Logout 1.0
//! sections 2.4–2.6; delivered by `oauth::backchannel::deliver_due`), its SAML SP sessions are
//! forgotten (telling an SP needs the browser, which is not there), and `session.expire` is
//! audited. A request that finds its session timed out (`session::resume`) ends it the same way.

use kakehashi_store::sessions::{self, ExpiredSession};
use kakehashi_store::{audit, Store, StoreError};

use super::PortalError;
use crate::Clock;

/// How many timed-out sessions one sweep ends at most.
pub const BATCH: i64 = 100;

/// Ends the sessions that have timed out (at most [`BATCH`]); returns how many this call
/// ended. One session's error is logged and does not stop the others.
pub async fn sweep(store: &Store, clock: &dyn Clock) -> Result<usize, PortalError> {
    let now = clock.now();
    let found = sessions::timed_out(store, now.unix_timestamp(), &clock.now_text(), BATCH).await?;
    let mut ended = 0;
    for s in &found {
        match end(store, clock, s, true).await {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(tenant = %s.tenant, error = %e,
                "a timed-out portal session could not be ended"),
        }
    }
    Ok(ended)
}

/// Ends one timed-out session and its app sessions in one transaction, audited as
/// `session.expire`. With `recheck` the session is ended only if it is still timed out by its
/// stored deadlines (the sweep's claim); without, the caller has judged it
/// (`session::expiry`). `Ok(false)`: someone else ended it first, or it is active again.
pub async fn end(
    store: &Store,
    clock: &dyn Clock,
    s: &ExpiredSession,
    recheck: bool,
) -> Result<bool, PortalError> {
    let now = clock.now().unix_timestamp();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let claimed = if recheck {
        sessions::delete_timed_out(&mut tx, &s.tenant, &s.id_hash, now, &at).await?
    } else {
        sessions::delete(&mut tx, &s.tenant, &s.id_hash).await?
    };
    if !claimed {
        return Ok(false);
    }
    let (clients, told) = crate::oauth::logout::revoke_and_queue(
        &mut tx,
        &s.tenant,
        &s.id_hash,
        &s.user_sourced_id,
        now,
    )
    .await?;
    let saml = kakehashi_store::saml::delete_sp_sessions_of(&mut tx, &s.tenant, &s.id_hash).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&s.tenant),
        &at,
        &audit::Event {
            actor: "system:session-expiry".into(),
            action: "session.expire".into(),
            target: format!("user:{}", s.user_sourced_id),
            details: serde_json::json!({
                "reason": if s.absolute { "absolute" } else { "idle" },
                "clients": clients, "backchannel": told, "samlSessionsForgotten": saml,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(true)
}

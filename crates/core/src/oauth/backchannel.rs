//! OpenID Connect Back-Channel Logout 1.0: telling the apps a portal session signed in to that
//! it has ended, server to server.
//!
//! - [`sid`]: the session id an app sees in its ID tokens and Logout Tokens (section 2.1).
//! - [`queue`]: runs in the transaction that ends a portal session's app sessions; one row of
//!   `oidc_backchannel_logouts` per app that received an ID token in that session and
//!   registered a `backchannel_logout_uri` (section 2.5: "each RP that the OP knows has a
//!   session" with it).
//! - [`deliver_due`]: the server runs it off the request path (a spawned task, and a sweep
//!   every few seconds for retries and for sessions ended elsewhere). Each row is claimed by a
//!   conditional UPDATE (so nodes sharing a database never post the same token at once), the
//!   Logout Token is signed with the key that signs the app's ID tokens, POSTed
//!   (section 2.5) by the server's HTTP client ([`LogoutTokenPost`]) and each attempt is
//!   audited as `oidc.backchannel_logout`. No answer or a 5xx is retried ([`MAX_ATTEMPTS`] in
//!   all), a refusal (4xx) is not; nothing is reported to the user: their logout is done.

use std::future::Future;
use std::pin::Pin;

use kakehashi_oidc::claims::{self, LogoutTokenClaims, LOGOUT_TOKEN_TYP};
use kakehashi_oidc::Issuer;
use kakehashi_store::oauth::{self as stored, BackchannelLogoutRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};

use super::{keyring_set, random_value, token_hash, OAuthServiceError, Provider};
use crate::data_dir::MasterKey;
use crate::Clock;

/// How many times a Logout Token is tried before it is given up.
pub const MAX_ATTEMPTS: i64 = 3;
/// Seconds before a failed attempt is retried (times the attempts made so far). Also the
/// lease of a claimed row: a node that died mid-attempt leaves it to be retried then.
pub const RETRY_AFTER: i64 = 30;
/// How many rows one delivery round takes.
const BATCH: i64 = 50;

/// The server's HTTP client: POSTs `logout_token` as an `application/x-www-form-urlencoded`
/// body to `url` (section 2.5) with a bounded timeout; answers the HTTP status, or why no
/// answer came.
pub trait LogoutTokenPost: Send + Sync {
    fn post<'a>(
        &'a self,
        url: &'a str,
        logout_token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>>;
}

/// The `sid` of the portal session `session_hash` as the app `client_id` sees it, from the
/// tenant's secret salt (`kakehashi_oidc::claims::session_id`): per app, like a pairwise
/// `sub`, and never the session cookie or its stored hash.
pub fn sid(client_id: &str, session_hash: &str, salt: &str) -> String {
    claims::session_id(client_id, session_hash, salt.as_bytes())
}

/// Queues a Logout Token for each app that received an ID token in the portal session
/// `session_hash` and has a back-channel logout URI; returns their client ids. Call inside the
/// transaction that ends the session (before its tokens are forgotten).
pub async fn queue(
    tx: &mut kakehashi_store::Conn,
    tenant: &TenantId,
    session_hash: &str,
    user_sourced_id: &str,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let audience = stored::backchannel_audience(tx, tenant, session_hash).await?;
    let mut clients = Vec::with_capacity(audience.len());
    for (client_id, subject) in audience {
        // One row per session and app, however often the session is ended.
        let id = token_hash(&format!("{session_hash}\0{client_id}"));
        stored::queue_backchannel_logout(
            tx,
            &BackchannelLogoutRow {
                tenant: tenant.clone(),
                id,
                client_id: client_id.clone(),
                subject,
                session_hash: session_hash.to_owned(),
                user_sourced_id: user_sourced_id.to_owned(),
                created_at: now,
                attempts: 0,
            },
        )
        .await?;
        if !clients.contains(&client_id) {
            clients.push(client_id);
        }
    }
    Ok(clients)
}

/// What delivering needs, for every tenant.
pub struct Deliverer<'a> {
    pub store: &'a Store,
    pub master: &'a MasterKey,
    pub clock: &'a dyn Clock,
    pub cache: &'a crate::cache::ProviderCache,
    /// The server's public URL: the issuer of tenant `t` is `{public_url}/t/{t}`.
    pub public_url: &'a str,
    pub http: &'a dyn LogoutTokenPost,
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The RP answered 200 (or 204, which section 2.8 asks the OP to accept too).
    Delivered,
    /// No answer or a server error (5xx): retried unless it was the last attempt (section
    /// 2.5: retransmit only for "potentially recoverable errors", after a delay).
    Failed(String),
    /// The RP refused the token (400 and other statuses, section 2.8): sending it again would
    /// not help, so it is not retried.
    Refused(String),
    /// Nothing to send any more: the app was removed or no longer has a URI.
    Dropped(String),
}

/// Delivers the Logout Tokens that are due (each claimed first); returns how many attempts
/// were made. Errors of one row are logged and do not stop the others.
pub async fn deliver_due(d: &Deliverer<'_>) -> Result<usize, StoreError> {
    let now = d.clock.now().unix_timestamp();
    let due = stored::due_backchannel_logouts(d.store, now, BATCH).await?;
    let mut attempts = 0;
    for row in due {
        let retry_at = now + RETRY_AFTER * (row.attempts + 1);
        if !stored::claim_backchannel_logout(d.store, &row, now, retry_at).await? {
            continue;
        }
        attempts += 1;
        if let Err(e) = attempt(d, &row).await {
            tracing::warn!(tenant = %row.tenant, app = %row.client_id, error = %e,
                "back-channel logout attempt not recorded");
        }
    }
    Ok(attempts)
}

/// One attempt for a claimed row: sign and POST ([`send`]), then audit it and forget the row
/// unless it is retried. A failure before sending (keys, database) counts as an attempt too,
/// so a row never outlives [`MAX_ATTEMPTS`].
async fn attempt(d: &Deliverer<'_>, row: &BackchannelLogoutRow) -> Result<(), StoreError> {
    let number = row.attempts + 1;
    let (outcome, uri, status) = match send(d, row).await {
        Ok(sent) => sent,
        Err(e) => (Attempt::Failed(format!("before sending: {e}")), None, None),
    };
    let done = !matches!(outcome, Attempt::Failed(_)) || number >= MAX_ATTEMPTS;
    let (result, detail) = match &outcome {
        Attempt::Delivered => ("delivered", None),
        Attempt::Failed(why) if done => ("failed", Some(why.clone())),
        Attempt::Failed(why) => ("retry", Some(why.clone())),
        Attempt::Refused(why) => ("refused", Some(why.clone())),
        Attempt::Dropped(why) => ("dropped", Some(why.clone())),
    };
    let mut tx = d.store.begin().await?;
    if done {
        stored::delete_backchannel_logout(&mut tx, &row.tenant, &row.id).await?;
    }
    audit::append(
        &mut tx,
        d.store.backend(),
        Some(&row.tenant),
        &d.clock.now_text(),
        &audit::Event {
            actor: "system:backchannel-logout".into(),
            action: "oidc.backchannel_logout".into(),
            target: format!("app:{}", row.client_id),
            details: serde_json::json!({
                "app": row.client_id, "user": row.user_sourced_id, "result": result,
                "attempt": number, "uri": uri, "status": status, "error": detail,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Signs the Logout Token and POSTs it: how that went, the URI and the HTTP status.
async fn send(
    d: &Deliverer<'_>,
    row: &BackchannelLogoutRow,
) -> Result<(Attempt, Option<String>, Option<u16>), OAuthServiceError> {
    let issuer = Issuer::for_tenant(d.public_url, row.tenant.as_str())
        .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
    let p = Provider {
        store: d.store,
        master: d.master,
        clock: d.clock,
        tenant: &row.tenant,
        issuer: &issuer,
        cache: d.cache,
    };
    let client = p.client(&row.client_id).await?;
    let target = client
        .as_ref()
        .and_then(|c| c.settings.backchannel_logout_uri.clone());
    Ok(match (&client, target) {
        (None, _) => (Attempt::Dropped("the app was removed".into()), None, None),
        (Some(_), None) => (
            Attempt::Dropped("the app no longer has a back-channel logout URI".into()),
            None,
            None,
        ),
        (Some(c), Some(uri)) => {
            let token = logout_token(&p, c, row).await?;
            match d.http.post(&uri, &token).await {
                // Section 2.8: 200 on success; some frameworks answer 204, which the OP should
                // accept too.
                Ok(200 | 204) => (Attempt::Delivered, Some(uri), None),
                Ok(s) if s >= 500 => (Attempt::Failed(format!("HTTP {s}")), Some(uri), Some(s)),
                Ok(s) => (Attempt::Refused(format!("HTTP {s}")), Some(uri), Some(s)),
                Err(e) => (Attempt::Failed(e), Some(uri), None),
            }
        }
    })
}

/// The signed Logout Token for a queued row (section 2.4), with the key and algorithm of the
/// app's ID tokens.
async fn logout_token(
    p: &Provider<'_>,
    client: &super::clients::RegisteredClient,
    row: &BackchannelLogoutRow,
) -> Result<String, OAuthServiceError> {
    let keys = keyring_set(p).await?;
    let key = keys
        .for_client(client.policy.id_token_signed_response_alg)
        .map_err(|e| OAuthServiceError::Signing(e.to_string()))?;
    let salt = super::profile::salt(p).await?;
    let claims = LogoutTokenClaims::new(
        p.issuer.as_str(),
        &row.subject,
        &sid(&client.app.id, &row.session_hash, &salt),
        &client.app.id,
        &random_value(),
        p.now(),
    );
    key.sign_json(Some(LOGOUT_TOKEN_TYP), &claims)
        .map_err(|e| OAuthServiceError::Signing(e.to_string()))
}

//! Delivering OpenID Connect Back-Channel Logout Tokens off the request path. The Logout Tokens
//! are queued in the database by `kakehashi_core::oauth::backchannel::queue` when a portal
//! session ends; this module runs `deliver_due` in a spawned task right after a logout handled
//! here ([`deliver_soon`]), and every [`SWEEP_EVERY`] for retries and for sessions ended in
//! other ways or on other nodes ([`sweep`]). The same sweep first ends the portal sessions
//! that have timed out (`kakehashi_core::portal::expiry::sweep`, each claimed by a conditional
//! DELETE so that nodes sharing a database end it once), which queues their Logout Tokens. The POST goes through [`crate::http_client`]
//! (bounded time), in `spawn_blocking`. Nothing here can fail a user's logout.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kakehashi_core::oauth::backchannel::{self, Deliverer, LogoutTokenPost};
use kakehashi_core::SystemClock;

use crate::AppState;

/// How often the sweep looks for due Logout Tokens.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// The server's [`LogoutTokenPost`]: Back-Channel Logout 1.0 section 2.5, `logout_token` in
/// a form POST.
pub struct HttpLogoutPost;

impl LogoutTokenPost for HttpLogoutPost {
    fn post<'a>(
        &'a self,
        url: &'a str,
        logout_token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        let (url, token) = (url.to_owned(), logout_token.to_owned());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                crate::http_client::post_form(&url, &[("logout_token", &token)])
                    .map(|answer| answer.status)
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}

async fn deliver(st: &AppState) {
    let d = Deliverer {
        store: &st.store,
        master: &st.master_key,
        clock: &SystemClock,
        cache: &st.cache,
        public_url: &st.public_url,
        http: &HttpLogoutPost,
    };
    if let Err(e) = backchannel::deliver_due(&d).await {
        tracing::warn!(error = %e, "back-channel logout delivery failed");
    }
}

/// Delivers the Logout Tokens queued by a logout just handled, in a spawned task (the
/// response does not wait for the apps).
pub fn deliver_soon(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move { deliver(&st).await });
}

/// Ends timed-out portal sessions and delivers due Logout Tokens every [`SWEEP_EVERY`], for
/// as long as the server runs.
pub async fn sweep(st: AppState) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = kakehashi_core::portal::expiry::sweep(&st.store, &SystemClock).await {
            tracing::warn!(error = %e, "the portal session expiry sweep failed");
        }
        deliver(&st).await;
    }
}

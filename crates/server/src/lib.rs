//! Kakehashi's HTTP face: the axum router, shared state and operational endpoints.
//!
//! A request flows route → extractor → service in `kakehashi-core` → store → response; this
//! crate holds no SQL and no protocol rules of its own. Operational endpoints:
//! - `GET /healthz`: 200 only when the database answers (for load balancers).
//! - `GET /metrics`: Prometheus text exposition.
//!
//! Outbound HTTP (LTI tools' JWKS, Back-Channel Logout Tokens) goes through one small client,
//! `http_client`; Logout Tokens are delivered by `backchannel`, off the request path.

mod api;
mod backchannel;
mod console;
mod http_client;
mod lti;
mod metrics;
mod oidc;
mod portal;
mod saml;
mod xapi;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kakehashi_core::cache::ProviderCache;
use kakehashi_core::data_dir::MasterKey;
use kakehashi_core::mfa::webauthn::RelyingParty;
use kakehashi_store::Store;

pub use metrics::Metrics;

/// What every handler can reach. Nothing here is node-local state that another node would
/// need: sessions, keys and data live in the database; `cache` only holds copies of rows for
/// a few seconds (`kakehashi_core::cache`).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub public_url: String,
    pub metrics: Arc<Metrics>,
    /// Opens the signing keys sealed in the database.
    pub master_key: MasterKey,
    /// Short-lived copies of tenants, keys, JWKS, discovery and clients.
    pub cache: Arc<ProviderCache>,
    /// Fetches (and briefly caches) LTI tools' JWKS documents.
    pub lti_jwks: lti::HttpJwksFetch,
    /// The WebAuthn relying party for `public_url` (or why it could not be set up: then the
    /// second-factor endpoints answer 503 and the server log says why).
    pub relying_party: Arc<Result<RelyingParty, String>>,
}

impl AppState {
    pub fn new(store: Store, public_url: String, master_key: MasterKey) -> AppState {
        AppState {
            store,
            metrics: Arc::new(Metrics::default()),
            master_key,
            cache: Arc::new(ProviderCache::default()),
            lti_jwks: lti::HttpJwksFetch::default(),
            relying_party: Arc::new(
                RelyingParty::for_public_url(&public_url).map_err(|e| e.to_string()),
            ),
            public_url,
        }
    }
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(oidc::routes())
        .merge(xapi::routes())
        .merge(portal::routes())
        .merge(saml::routes())
        .merge(api::routes())
        .merge(console::routes())
        .merge(lti::routes())
        .layer(axum::middleware::from_fn(portal::http::with_request_ip))
        .layer(axum::middleware::from_fn(move |req, next| {
            metrics::count(metrics.clone(), req, next)
        }))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.store.ping().await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let db_up = state.store.ping().await;
    let body = state
        .metrics
        .render(db_up, state.store.backend(), state.store.group_stats());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Back-Channel Logout Tokens still to deliver (retries, sessions ended elsewhere).
    let sweep = tokio::spawn(backchannel::sweep(state.clone()));
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    sweep.abort();
    served
}

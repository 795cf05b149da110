//! The xAPI learning record store over HTTP: `/t/{tenant}/xapi/` with `statements`,
//! `activities`, `activities/state`, `activities/profile`, `agents`, `agents/profile` and
//! `about` (xAPI 1.0.3 Communication 2; IEEE 9274.1.1 4.1).
//!
//! One handler takes every request under the prefix so that the rules common to all
//! resources are applied once and in the spec's order: CORS preflight, the alternate request
//! syntax (Communication 1.3), authentication (Communication 4: 401 before anything else,
//! except on `about`), then `X-Experience-API-Version` (Communication 3.3: required, 400 when
//! missing or unsupported). Resource handlers are thin calls into `kakehashi_core::lrs`.

mod documents;
mod request;
mod response;
mod statements;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use kakehashi_core::lrs::access::authenticate_bearer;
use kakehashi_core::lrs::credentials::authenticate;
use kakehashi_core::lrs::{Authenticated, LrsError, StatementReach};
use kakehashi_core::SystemClock;
use kakehashi_oidc::Issuer;
use kakehashi_store::TenantId;
use kakehashi_xapi::scope::{Operation, Resource};
use kakehashi_xapi::{Version, XapiError};
use serde_json::json;

use crate::AppState;
use request::XapiRequest;

/// Statement requests with attachments can be large (Communication 1.5.2).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The LRS routes, to be merged into the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/xapi", any(handle_root))
        .route("/t/{tenant}/xapi/", any(handle_root))
        .route("/t/{tenant}/xapi/{*resource}", any(handle))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn handle_root(
    state: State<AppState>,
    Path(tenant): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        state,
        Path((tenant, String::new())),
        method,
        uri,
        headers,
        body,
    )
    .await
}

async fn handle(
    State(state): State<AppState>,
    Path((tenant, resource)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = headers.get("origin").cloned();
    let requested = headers
        .get("x-experience-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Version::parse_header(v).ok());
    let resource = resource.trim_end_matches('/').to_owned();
    let head = method == Method::HEAD;
    // The version line of the authenticated credential, for a request that names none.
    let mut credential_line = None;
    let r = if method == Method::OPTIONS {
        preflight()
    } else {
        match serve(
            &state,
            &tenant,
            &resource,
            method,
            uri.query(),
            &headers,
            body,
            &mut credential_line,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => response::error(&e),
        }
    };
    // Communication 3.3.s3.b1: the LRS answers with the version it speaks: the requested
    // line, else the credential's registered line, else the latest.
    let version_text = requested
        .or(credential_line)
        .map_or("2.0.0", Version::response_header);
    let mut r = response::finish(r, version_text, origin.as_ref());
    // Communication 2.1.3.s2.b5: every statements GET answers Consistent-Through, whatever
    // its status.
    if resource == "statements"
        && (head || r.status() != StatusCode::OK)
        && !r
            .headers()
            .contains_key("x-experience-api-consistent-through")
    {
        use kakehashi_core::Clock;
        let now = kakehashi_core::lrs::stored_text(kakehashi_core::SystemClock.now());
        response::set(r.headers_mut(), "x-experience-api-consistent-through", &now);
    }
    if head {
        *r.body_mut() = axum::body::Body::empty();
    }
    r
}

fn preflight() -> Response {
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    response::set(h, "access-control-allow-methods", response::ALLOW_METHODS);
    response::set(h, "access-control-allow-headers", response::ALLOW_HEADERS);
    response::set(h, "access-control-max-age", "86400");
    r
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    state: &AppState,
    tenant: &str,
    resource: &str,
    method: Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
    credential_line: &mut Option<Version>,
) -> Result<Response, LrsError> {
    let tenant =
        TenantId::parse(tenant).map_err(|_| LrsError::NotFound(format!("no tenant {tenant:?}")))?;
    let req = request::parse(method, query, headers, body)?;
    if resource == "about" {
        return about(&req);
    }
    let who = authenticated(state, &tenant, &req).await?;
    *credential_line = who.version_line;
    let version = match req.header("x-experience-api-version") {
        Some(v) => Version::parse_header(v)?,
        None => return Err(XapiError::Version("the header is required".into()).into()),
    };
    // Communication 4.2.s2: what the caller may do with this resource (a bearer token's
    // scopes, a read-only credential); other resources are 404 below.
    let reach = match Resource::of_path(resource) {
        Some(r) => {
            let op = if matches!(req.method, Method::PUT | Method::POST | Method::DELETE) {
                Operation::Write
            } else {
                Operation::Read
            };
            who.authorize(r, op)?
        }
        None => StatementReach::All,
    };
    let ctx = Ctx {
        state,
        who: &who,
        version,
        reach,
    };
    match resource {
        "statements" => statements::handle(&ctx, req).await,
        "activities" => documents::activities(&ctx, req).await,
        "agents" => documents::agents(&ctx, req).await,
        "activities/state" | "activities/profile" | "agents/profile" => {
            documents::handle(&ctx, resource, req).await
        }
        other => Err(LrsError::NotFound(format!("no xAPI resource {other:?}"))),
    }
}

/// What resource handlers need.
pub(crate) struct Ctx<'a> {
    pub state: &'a AppState,
    pub who: &'a Authenticated,
    pub version: Version,
    /// Which statements the caller may read (`statements/read/mine` narrows it).
    pub reach: StatementReach,
}

async fn authenticated(
    state: &AppState,
    tenant: &TenantId,
    req: &XapiRequest,
) -> Result<Authenticated, LrsError> {
    // Communication 4.1: HTTP Basic (a registered credential) or an OAuth 2.0 bearer token of
    // this tenant's OpenID Provider (client_credentials with xAPI scopes).
    if let Some(token) = request::bearer_token(req) {
        let issuer = Issuer::for_tenant(&state.public_url, tenant.as_str()).map_err(|e| {
            tracing::error!(error = %e, public_url = %state.public_url, "bad issuer");
            LrsError::InvalidToken("the server's public URL cannot be an issuer".into())
        })?;
        return authenticate_bearer(&state.store, &SystemClock, tenant, token, issuer.as_str())
            .await;
    }
    let (key, secret) = request::basic_credentials(req).ok_or_else(|| {
        LrsError::Unauthorized(
            "send HTTP Basic credentials (kakehashi lrs credential add) or an OAuth 2.0 bearer token"
                .into(),
        )
    })?;
    let home = format!("{}/t/{tenant}/xapi/", state.public_url);
    authenticate(&state.store, tenant, &key, &secret, &home).await
}

/// Communication 2.8: the versions this LRS speaks.
fn about(req: &XapiRequest) -> Result<Response, LrsError> {
    if req.method != Method::GET && req.method != Method::HEAD {
        return Err(LrsError::from(XapiError::invalid(
            "method",
            "about supports GET and HEAD only",
        )));
    }
    if let Some((k, _)) = req.params.first() {
        return Err(XapiError::invalid(format!("query.{k}"), "unknown parameter").into());
    }
    let versions: Vec<&str> = Version::SUPPORTED.iter().map(|v| v.as_str()).collect();
    Ok(axum::Json(json!({ "version": versions, "extensions": {} })).into_response())
}

/// 405 with the methods a resource takes.
pub(crate) fn not_allowed(allowed: &'static str) -> Response {
    let mut r = (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({ "error": format!("use one of {allowed}") })),
    )
        .into_response();
    response::set(r.headers_mut(), "allow", allowed);
    r
}

//! The LTI Advantage service endpoints: the token endpoint (OAuth error JSON, RFC 6749 5.2)
//! and NRPS / AGS (JSON with the services' media types; 401 without a valid token, 403 for
//! a missing scope, 404 for a class the tool has no deployment for).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kakehashi_core::lti::services::{self as core, LineItemFilter, Refusal};
use kakehashi_core::lti::token::{self, ServiceCaller, TokenError};
use kakehashi_core::lti::LtiServiceError;
use kakehashi_lti::services as media;
use kakehashi_oidc::Issuer;
use kakehashi_store::TenantId;
use serde::Deserialize;
use serde_json::Value;

use crate::oidc::{issuer_of, json_error, oauth_error, params_of, provider, tenant};
use crate::AppState;

/// `POST /t/{tenant}/lti/token`.
pub async fn token(State(st): State<AppState>, Path(raw): Path<String>, body: Bytes) -> Response {
    let (tenant, issuer) = match place(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    match token::token(&p, &params_of(&body), &st.lti_jwks).await {
        Ok(t) => (
            StatusCode::OK,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            axum::Json(t),
        )
            .into_response(),
        Err(TokenError::Protocol(e)) => oauth_error(&e),
        Err(TokenError::Internal(e)) => internal(e),
    }
}

async fn place(st: &AppState, raw: &str) -> Result<(TenantId, Issuer), Response> {
    let tenant = tenant(st, raw).await?;
    let issuer = issuer_of(st, &tenant)?;
    Ok((tenant, issuer))
}

fn internal(e: LtiServiceError) -> Response {
    tracing::error!(error = %e, "LTI service request failed");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "internal error",
    )
}

/// The tenant, issuer and calling tool, or the 401 (RFC 6750 3.1).
async fn caller(
    st: &AppState,
    raw: &str,
    headers: &HeaderMap,
) -> Result<(TenantId, Issuer, ServiceCaller), Response> {
    let (tenant, issuer) = place(st, raw).await?;
    let p = provider(st, &tenant, &issuer);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match token::caller(&p, auth).await {
        Ok(Some(c)) => Ok((tenant, issuer, c)),
        Ok(None) => {
            let mut r = json_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "a valid LTI access token is required (Authorization: Bearer)",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            Err(r)
        }
        Err(e) => Err(internal(e)),
    }
}

fn json_as(status: StatusCode, media_type: &'static str, v: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, media_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        v.to_string(),
    )
        .into_response()
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Scope(s) => {
            let mut resp = json_error(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &format!("the access token does not carry {s}"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer error=\"insufficient_scope\", scope=\"{s}\""
            )) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            resp
        }
        Refusal::NotFound => json_error(StatusCode::NOT_FOUND, "not_found", "not found"),
        Refusal::BadRequest(d) => json_error(StatusCode::BAD_REQUEST, "invalid_request", &d),
    }
}

fn answer<T>(
    r: Result<Result<T, Refusal>, LtiServiceError>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match r {
        Ok(Ok(v)) => ok(v),
        Ok(Err(refused)) => refusal(refused),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct MembershipQuery {
    role: Option<String>,
    limit: Option<i64>,
    page: Option<i64>,
}

/// NRPS 2.0 §2: `GET …/memberships`.
pub async fn memberships(
    State(st): State<AppState>,
    Path((raw, class)): Path<(String, String)>,
    Query(q): Query<MembershipQuery>,
    headers: HeaderMap,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(
        core::memberships(&p, &who, &class, q.role.as_deref(), q.limit, q.page).await,
        |page| paged(media::MEDIA_MEMBERSHIPS, page),
    )
}

/// A page of a list, with the next page in a `Link` header (NRPS 2.0 §2.4.1, AGS 2.0
/// §3.2.5, §3.3.4).
fn paged(media_type: &'static str, page: core::ListPage) -> Response {
    let mut r = json_as(StatusCode::OK, media_type, &page.body);
    if let Some(next) = page.next {
        if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    r
}

#[derive(Deserialize)]
pub struct LineItemQuery {
    resource_link_id: Option<String>,
    resource_id: Option<String>,
    tag: Option<String>,
    limit: Option<i64>,
    page: Option<i64>,
}

pub async fn line_items(
    State(st): State<AppState>,
    Path((raw, class)): Path<(String, String)>,
    Query(q): Query<LineItemQuery>,
    headers: HeaderMap,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    let f = LineItemFilter {
        resource_link_id: q.resource_link_id,
        resource_id: q.resource_id,
        tag: q.tag,
        limit: q.limit,
        page: q.page,
    };
    answer(core::list_line_items(&p, &who, &class, &f).await, |page| {
        paged(media::MEDIA_LINEITEMS, page)
    })
}

pub async fn create_line_item(
    State(st): State<AppState>,
    Path((raw, class)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(core::create_line_item(&p, &who, &class, &body).await, |v| {
        json_as(StatusCode::CREATED, media::MEDIA_LINEITEM, &v)
    })
}

pub async fn get_line_item(
    State(st): State<AppState>,
    Path((raw, class, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(core::get_line_item(&p, &who, &class, &id).await, |v| {
        json_as(StatusCode::OK, media::MEDIA_LINEITEM, &v)
    })
}

pub async fn update_line_item(
    State(st): State<AppState>,
    Path((raw, class, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(
        core::update_line_item(&p, &who, &class, &id, &body).await,
        |v| json_as(StatusCode::OK, media::MEDIA_LINEITEM, &v),
    )
}

pub async fn delete_line_item(
    State(st): State<AppState>,
    Path((raw, class, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(core::delete_line_item(&p, &who, &class, &id).await, |()| {
        StatusCode::NO_CONTENT.into_response()
    })
}

/// AGS 2.0 §3.4: `POST …/scores` → 204.
pub async fn post_score(
    State(st): State<AppState>,
    Path((raw, class, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(core::post_score(&p, &who, &class, &id, &body).await, |()| {
        StatusCode::NO_CONTENT.into_response()
    })
}

#[derive(Deserialize)]
pub struct ResultsQuery {
    user_id: Option<String>,
    limit: Option<i64>,
    page: Option<i64>,
}

pub async fn results(
    State(st): State<AppState>,
    Path((raw, class, id)): Path<(String, String, String)>,
    Query(q): Query<ResultsQuery>,
    headers: HeaderMap,
) -> Response {
    let (tenant, issuer, who) = match caller(&st, &raw, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    answer(
        core::results(&p, &who, &class, &id, q.user_id.as_deref(), q.limit, q.page).await,
        |page| paged(media::MEDIA_RESULTS, page),
    )
}

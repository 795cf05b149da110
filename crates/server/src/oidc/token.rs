//! `POST /t/{tenant}/token` (RFC 6749 3.2), `/revoke` (RFC 7009) and `/introspect`
//! (RFC 7662): form bodies in, JSON out, `Cache-Control: no-store` on every answer.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kakehashi_core::oauth::{resources, tokens};

use super::{endpoint_error, issuer_of, params_of, provider, tenant};
use crate::AppState;

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// A JSON body that must not be cached (RFC 6749 5.1).
fn no_store_json(body: String) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

macro_rules! provider_or_return {
    ($st:expr, $raw:expr, $tenant:ident, $issuer:ident) => {
        let $tenant = match tenant(&$st, &$raw).await {
            Ok(t) => t,
            Err(r) => return r,
        };
        let $issuer = match issuer_of(&$st, &$tenant) {
            Ok(i) => i,
            Err(r) => return r,
        };
    };
}

pub async fn token(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    provider_or_return!(st, raw, tenant, issuer);
    let p = provider(&st, &tenant, &issuer);
    match tokens::token(&p, authorization(&headers), &params_of(&body)).await {
        Ok(r) => no_store_json(r.to_json()),
        Err(e) => endpoint_error(e),
    }
}

pub async fn revoke(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    provider_or_return!(st, raw, tenant, issuer);
    let p = provider(&st, &tenant, &issuer);
    match resources::revoke(&p, authorization(&headers), &params_of(&body)).await {
        // RFC 7009 2.2: 200 whether or not the token was known.
        Ok(()) => {
            let mut resp = StatusCode::OK.into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => endpoint_error(e),
    }
}

pub async fn introspect(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    provider_or_return!(st, raw, tenant, issuer);
    let p = provider(&st, &tenant, &issuer);
    match resources::introspect(&p, authorization(&headers), &params_of(&body)).await {
        Ok(r) => no_store_json(r.to_json()),
        Err(e) => endpoint_error(e),
    }
}

//! `GET|POST /t/{tenant}/userinfo` (OIDC Core 5.3): a Bearer access token (RFC 6750 2.1, or
//! the form field `access_token` of RFC 6750 2.2 on POST) in, the released claims out.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kakehashi_core::oauth::resources;

use super::{endpoint_error, issuer_of, params_of, provider, tenant};
use crate::AppState;

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    (h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ")).then(|| h[7..].trim().to_owned())
}

async fn run(st: AppState, raw: String, token: Option<String>) -> Response {
    let tenant = match tenant(&st, &raw).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let issuer = match issuer_of(&st, &tenant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let p = provider(&st, &tenant, &issuer);
    match resources::userinfo(&p, token.as_deref()).await {
        Ok(claims) => {
            let mut resp = (
                StatusCode::OK,
                serde_json::Value::Object(claims).to_string(),
            )
                .into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => endpoint_error(e),
    }
}

pub async fn userinfo_get(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    run(st, raw, bearer(&headers)).await
}

pub async fn userinfo_post(
    State(st): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token =
        bearer(&headers).or_else(|| params_of(&body).get("access_token").map(str::to_owned));
    run(st, raw, token).await
}

//! Responses of the LRS: the error body (a JSON message naming the field), the headers
//! every response carries (`X-Experience-API-Version`, Communication 3.3; CORS so that
//! browser-based tools can call the LRS), and `multipart/mixed` statement results with
//! their attachments (Communication 2.1.3 `attachments=true`).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kakehashi_core::lrs::LrsError;
use serde_json::json;

pub const EXPOSE: &str = "ETag, Last-Modified, Content-Type, X-Experience-API-Version, X-Experience-API-Consistent-Through";
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, Accept-Language, X-Requested-With";
pub const ALLOW_METHODS: &str = "GET, HEAD, PUT, POST, DELETE, OPTIONS";

/// An error response. Store failures are logged and answered 500 without detail; every
/// other error is the client's and its message says which field broke which rule.
pub fn error(e: &LrsError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let message = match e {
        LrsError::Store(inner) => {
            tracing::error!(error = %inner, "LRS store error");
            "internal error; see the server log".to_owned()
        }
        other => other.to_string(),
    };
    let mut r = (status, axum::Json(json!({ "error": message }))).into_response();
    let h = r.headers_mut();
    let challenge = axum::http::header::WWW_AUTHENTICATE;
    match e {
        // RFC 6750 3.1: a bearer token that failed says why; a missing one gets both schemes.
        LrsError::InvalidToken(_) => {
            h.insert(
                challenge,
                HeaderValue::from_static("Bearer realm=\"xAPI\", error=\"invalid_token\""),
            );
        }
        LrsError::InsufficientScope { needed } => {
            if let Ok(v) = HeaderValue::from_str(&format!(
                "Bearer realm=\"xAPI\", error=\"insufficient_scope\", scope=\"{needed}\""
            )) {
                h.insert(challenge, v);
            }
        }
        _ if status == StatusCode::UNAUTHORIZED => {
            h.insert(
                challenge.clone(),
                HeaderValue::from_static("Basic realm=\"xAPI\""),
            );
            h.append(challenge, HeaderValue::from_static("Bearer realm=\"xAPI\""));
        }
        _ => {}
    }
    r
}

/// Adds the headers every LRS response carries.
pub fn finish(mut r: Response, version: &str, origin: Option<&HeaderValue>) -> Response {
    let h = r.headers_mut();
    set(h, "x-experience-api-version", version);
    match origin {
        Some(o) => {
            h.insert("access-control-allow-origin", o.clone());
            set(h, "access-control-allow-credentials", "true");
        }
        None => set(h, "access-control-allow-origin", "*"),
    }
    set(h, "access-control-expose-headers", EXPOSE);
    r
}

/// Sets a header from text that may come from data; an invalid value is skipped.
pub fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// The `Last-Modified` form (RFC 9110 IMF-fixdate) of an RFC 3339 instant.
pub fn http_date(rfc3339: &str) -> Option<String> {
    let t = kakehashi_xapi::formats::parse_timestamp(rfc3339)?;
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&fmt).ok()
}

/// A `multipart/mixed` body: the JSON first, then each attachment with its hash
/// (Communication 1.5.2). Returns the body and the boundary.
pub fn multipart(json: &[u8], attachments: &[(String, String, Vec<u8>)]) -> (Vec<u8>, String) {
    let boundary = format!("xapi-{}", uuid::Uuid::new_v4().simple());
    let mut out = Vec::with_capacity(json.len() + 256);
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(json);
    for (sha2, ct, bytes) in attachments {
        out.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {ct}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (out, boundary)
}

//! Turning an HTTP request into an [`XapiRequest`]: query and form decoding, the 1.0.3
//! alternate request syntax (Communication 1.3: `POST ?method=PUT` with the headers, the
//! parameters and the `content` in an `application/x-www-form-urlencoded` body), and HTTP
//! Basic credentials (Communication 4.1).

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use base64::Engine;
use kakehashi_xapi::XapiError;

/// A request after the alternate syntax has been undone.
#[derive(Debug)]
pub struct XapiRequest {
    pub method: Method,
    pub params: Vec<(String, String)>,
    /// Header values by lower-case name (the real headers, or those of the form).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl XapiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// Decodes `application/x-www-form-urlencoded` text (also used for query strings).
pub fn decode_form(text: &str) -> Result<Vec<(String, String)>, XapiError> {
    let mut out = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((unescape(k)?, unescape(v)?));
    }
    Ok(out)
}

fn unescape(s: &str) -> Result<String, XapiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| XapiError::invalid("query", "bad percent-encoding"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| XapiError::invalid("query", "is not UTF-8"))
}

/// Builds the request, undoing the alternate request syntax when `method` is given.
pub fn parse(
    method: Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<XapiRequest, XapiError> {
    let params = decode_form(query.unwrap_or(""))?;
    let mut hdrs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let alternate = params.iter().any(|(k, _)| k == "method");
    let is_2_0 = headers
        .get("x-experience-api-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with('2'));
    if !alternate || is_2_0 {
        return Ok(XapiRequest {
            method,
            params,
            headers: hdrs,
            body,
        });
    }
    // Communication 1.3 (1.0.3 only; removed in 2.0).
    if method != Method::POST {
        return Err(XapiError::invalid(
            "query.method",
            "is only allowed on POST (alternate request syntax)",
        ));
    }
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "method") {
        return Err(XapiError::invalid(
            format!("query.{k}"),
            "with the alternate request syntax every parameter goes in the form body",
        ));
    }
    let target = params
        .iter()
        .find(|(k, _)| k == "method")
        .map(|(_, v)| v.to_ascii_uppercase())
        .unwrap_or_default();
    let real = match target.as_str() {
        "GET" => Method::GET,
        "HEAD" => Method::HEAD,
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => {
            return Err(XapiError::invalid(
                "query.method",
                "must be GET, HEAD, PUT, POST or DELETE",
            ))
        }
    };
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(XapiError::invalid(
            "Content-Type",
            "must be application/x-www-form-urlencoded with the alternate request syntax",
        ));
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| XapiError::invalid("body", "is not UTF-8"))?;
    let form = decode_form(text)?;
    const HEADERS: [&str; 6] = [
        "authorization",
        "x-experience-api-version",
        "content-type",
        "content-length",
        "if-match",
        "if-none-match",
    ];
    let mut new_params = Vec::new();
    let mut content = Bytes::new();
    hdrs.retain(|(k, _)| k != "content-type");
    for (k, v) in form {
        let lower = k.to_ascii_lowercase();
        if lower == "content" {
            content = Bytes::from(v.into_bytes());
        } else if HEADERS.contains(&lower.as_str()) {
            hdrs.retain(|(h, _)| *h != lower);
            hdrs.push((lower, v));
        } else {
            new_params.push((k, v));
        }
    }
    if !hdrs.iter().any(|(k, _)| k == "content-type") && !content.is_empty() {
        hdrs.push(("content-type".into(), "application/json".into()));
    }
    Ok(XapiRequest {
        method: real,
        params: new_params,
        headers: hdrs,
        body: content,
    })
}

/// `(key, secret)` from `Authorization: Basic …`.
/// The token of `Authorization: Bearer TOKEN` (RFC 6750 2.1), if that is the scheme.
pub fn bearer_token(req: &XapiRequest) -> Option<&str> {
    let value = req.header("authorization")?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
}

pub fn basic_credentials(req: &XapiRequest) -> Option<(String, String)> {
    let value = req.header("authorization")?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (k, s) = text.split_once(':')?;
    Some((k.to_owned(), s.to_owned()))
}

//! `statements` (Communication 2.1; IEEE 9274.1.1 4.1.6.1): PUT, POST, GET/HEAD.

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use kakehashi_core::lrs::query::{self, Window};
use kakehashi_core::lrs::statements::{write, WriteRequest};
use kakehashi_core::lrs::{stored_text, LrsError};
use kakehashi_core::{Clock, SystemClock};
use kakehashi_xapi::formats::parse_uuid;
use kakehashi_xapi::output::{format_statement, parse_accept_language, StatementFormat};
use kakehashi_xapi::{multipart, parse_statement_query, StatementQuery, XapiError};
use serde_json::{json, Value};

use super::request::XapiRequest;
use super::{not_allowed, response, Ctx};

pub async fn handle(ctx: &Ctx<'_>, req: XapiRequest) -> Result<Response, LrsError> {
    match req.method {
        Method::PUT => put(ctx, req).await,
        Method::POST => post(ctx, req).await,
        Method::GET | Method::HEAD => get(ctx, req).await,
        _ => Ok(not_allowed("GET, HEAD, PUT, POST")),
    }
}

/// The statements and attachment parts of a PUT/POST body (JSON or multipart/mixed).
fn body_of(req: &XapiRequest) -> Result<(Value, Vec<multipart::AttachmentPart>), XapiError> {
    let ct = req.content_type();
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "multipart/mixed" {
        let r = multipart::parse_statement_request(ct, &req.body)?;
        return Ok((r.statements, r.attachments));
    }
    if !(media.is_empty() || media == "application/json") {
        return Err(XapiError::invalid(
            "Content-Type",
            "must be application/json or multipart/mixed",
        ));
    }
    let v = serde_json::from_slice(&req.body)
        .map_err(|e| XapiError::invalid("statement", format!("is not valid JSON: {e}")))?;
    Ok((v, Vec::new()))
}

async fn put(ctx: &Ctx<'_>, req: XapiRequest) -> Result<Response, LrsError> {
    let mut id = None;
    for (k, v) in &req.params {
        if k != "statementId" || id.is_some() {
            return Err(
                XapiError::invalid(format!("query.{k}"), "unknown or repeated parameter").into(),
            );
        }
        id = Some(
            parse_uuid(v)
                .ok_or_else(|| XapiError::invalid("query.statementId", "must be a UUID"))?,
        );
    }
    let id = id.ok_or_else(|| XapiError::invalid("query.statementId", "is required"))?;
    let (statements, attachments) = body_of(&req)?;
    if !statements.is_object() {
        return Err(XapiError::invalid("statement", "PUT takes a single statement object").into());
    }
    let w = WriteRequest {
        version: ctx.version,
        statements,
        attachments,
        put_id: Some(id),
    };
    write(&ctx.state.store, &SystemClock, ctx.who, w).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn post(ctx: &Ctx<'_>, req: XapiRequest) -> Result<Response, LrsError> {
    if let Some((k, _)) = req.params.first() {
        return Err(XapiError::invalid(
            format!("query.{k}"),
            "POST /statements takes no parameters",
        )
        .into());
    }
    let (statements, attachments) = body_of(&req)?;
    let w = WriteRequest {
        version: ctx.version,
        statements,
        attachments,
        put_id: None,
    };
    let ids = write(&ctx.state.store, &SystemClock, ctx.who, w).await?;
    Ok(axum::Json(ids).into_response())
}

async fn get(ctx: &Ctx<'_>, req: XapiRequest) -> Result<Response, LrsError> {
    let store = &ctx.state.store;
    let tenant = &ctx.who.tenant;
    // Consistent-Through is read before the query: everything stored up to it is visible.
    let consistent = stored_text(SystemClock.now());
    let (params, window): (Vec<(String, String)>, Option<Window>) =
        match req.params.iter().find(|(k, _)| k == "more") {
            Some((_, token)) if req.params.len() == 1 => {
                let (q, w) = query::decode_more(token)?;
                (q, Some(w))
            }
            Some(_) => {
                return Err(XapiError::invalid(
                    "query.more",
                    "cannot be combined with other parameters",
                )
                .into())
            }
            None => (req.params.clone(), None),
        };
    let langs = parse_accept_language(req.header("accept-language").unwrap_or(""));
    let (body, statements, format_single) = match parse_statement_query(&params)? {
        StatementQuery::Single {
            id,
            voided,
            format,
            attachments,
        } => {
            let s = query::by_id(store, tenant, &id, voided, &ctx.reach).await?;
            let mut shown = [s.clone()];
            if format == StatementFormat::Canonical {
                query::with_canonical_definitions(store, tenant, &mut shown).await?;
            }
            let out = format_statement(&shown[0], format, &langs);
            (out.clone(), attachments.then(|| vec![s]), true)
        }
        StatementQuery::Filter(f) => {
            let page = query::list(store, tenant, &f, window, &ctx.reach).await?;
            let more = page.next.map(|w| {
                format!(
                    "/t/{tenant}/xapi/statements?more={}",
                    query::encode_more(&params, w)
                )
            });
            let mut shown = page.statements.clone();
            if f.format == StatementFormat::Canonical {
                query::with_canonical_definitions(store, tenant, &mut shown).await?;
            }
            let list: Vec<Value> = shown
                .iter()
                .map(|s| format_statement(s, f.format, &langs))
                .collect();
            let attachments = f.attachments.then(|| page.statements.clone());
            (
                json!({ "statements": list, "more": more.unwrap_or_default() }),
                attachments,
                false,
            )
        }
    };
    let last_modified = if format_single {
        body.get("stored")
            .and_then(Value::as_str)
            .map(str::to_owned)
    } else {
        body.pointer("/statements/0/stored")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let json_bytes = body.to_string().into_bytes();
    let mut r = match statements {
        Some(list) => {
            let atts = query::attachments_of(store, tenant, &list).await?;
            let (bytes, boundary) = response::multipart(&json_bytes, &atts);
            let mut r = bytes.into_response();
            response::set(
                r.headers_mut(),
                "content-type",
                &format!("multipart/mixed; boundary={boundary}"),
            );
            r
        }
        None => {
            let mut r = json_bytes.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            r
        }
    };
    let h = r.headers_mut();
    response::set(h, "x-experience-api-consistent-through", &consistent);
    if let Some(date) = last_modified.as_deref().and_then(response::http_date) {
        response::set(h, "last-modified", &date);
    }
    Ok(r)
}

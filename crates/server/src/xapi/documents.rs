//! The document resources (`activities/state`, `activities/profile`, `agents/profile`;
//! Communication 2.3, 2.6, 2.7) and the Activities and Agents resources (2.5, 2.4).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use kakehashi_core::lrs::documents::{self, Fetched, Write};
use kakehashi_core::lrs::{query, LrsError};
use kakehashi_core::SystemClock;
use kakehashi_xapi::document::{
    parse_activity_params, parse_agents_params, parse_document_params, DocMethod, DocResource,
};
use kakehashi_xapi::person_from_agents;

use super::request::XapiRequest;
use super::{not_allowed, response, Ctx};

pub async fn handle(ctx: &Ctx<'_>, resource: &str, req: XapiRequest) -> Result<Response, LrsError> {
    let resource = match resource {
        "activities/state" => DocResource::State,
        "activities/profile" => DocResource::ActivityProfile,
        _ => DocResource::AgentProfile,
    };
    let method = match req.method {
        Method::GET => DocMethod::Get,
        Method::HEAD => DocMethod::Head,
        Method::PUT => DocMethod::Put,
        Method::POST => DocMethod::Post,
        Method::DELETE => DocMethod::Delete,
        _ => return Ok(not_allowed("GET, HEAD, PUT, POST, DELETE")),
    };
    let p = parse_document_params(resource, method, &req.params)?;
    let store = &ctx.state.store;
    match method {
        DocMethod::Get | DocMethod::Head => {
            match documents::get(store, &ctx.who.tenant, resource, &p).await? {
                Fetched::One(d) => {
                    let mut r = d.content.into_response();
                    let h = r.headers_mut();
                    response::set(h, "content-type", &d.content_type);
                    response::set(h, "etag", &d.etag);
                    if let Some(date) = response::http_date(&d.updated) {
                        response::set(h, "last-modified", &date);
                    }
                    Ok(r)
                }
                Fetched::Ids(ids) => Ok(axum::Json(ids).into_response()),
            }
        }
        DocMethod::Put | DocMethod::Post => {
            let ct = req.content_type().to_owned();
            let w = Write {
                method,
                body: &req.body,
                content_type: if ct.is_empty() {
                    "application/octet-stream"
                } else {
                    &ct
                },
                if_match: req.header("if-match"),
                if_none_match: req.header("if-none-match"),
                xapi_2_0: ctx.version.is_2_0(),
            };
            let tag = documents::write(store, &SystemClock, ctx.who, resource, &p, w).await?;
            let mut r = StatusCode::NO_CONTENT.into_response();
            response::set(r.headers_mut(), "etag", &tag);
            Ok(r)
        }
        DocMethod::Delete => {
            documents::delete(store, ctx.who, resource, &p, req.header("if-match")).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

/// GET `activities?activityId=…`: the canonical Activity object (Communication 2.5).
pub async fn activities(ctx: &Ctx<'_>, req: XapiRequest) -> Result<Response, LrsError> {
    if req.method != Method::GET && req.method != Method::HEAD {
        return Ok(not_allowed("GET, HEAD"));
    }
    let id = parse_activity_params(&req.params)?;
    let a = query::activity(&ctx.state.store, &ctx.who.tenant, &id).await?;
    Ok(axum::Json(a).into_response())
}

/// GET `agents?agent=…`: the Person object (Communication 2.4).
pub async fn agents(_ctx: &Ctx<'_>, req: XapiRequest) -> Result<Response, LrsError> {
    if req.method != Method::GET && req.method != Method::HEAD {
        return Ok(not_allowed("GET, HEAD"));
    }
    let (agent, _) = parse_agents_params(&req.params)?;
    Ok(axum::Json(person_from_agents(&[agent])).into_response())
}

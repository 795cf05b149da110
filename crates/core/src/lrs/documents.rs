//! The document resources: State (Communication 2.3), Activity Profile (2.6) and Agent
//! Profile (2.7). Concurrency per Communication 3.1: ETags are quoted SHA-1 of the content,
//! `If-Match`/`If-None-Match` give 412, a PUT over an existing profile document without
//! either header gives 409. POST merges JSON objects (Communication 2.2 / IEEE 9274.1.1
//! 4.1.6.2): both the stored and the new document must be JSON objects.

use base64::Engine;
use kakehashi_store::lrs::documents as db;
use kakehashi_store::lrs::{DocKey, Document};
use kakehashi_store::{Store, StoreError, TenantId};
use kakehashi_xapi::document::{
    check_preconditions, etag, merge_documents, DocMethod, DocParams, DocResource,
};
use kakehashi_xapi::scope::{Operation, Resource};
use kakehashi_xapi::XapiError;

use super::{stored_text, Authenticated, LrsError};
use crate::Clock;

/// A document as returned.
#[derive(Debug, Clone)]
pub struct Doc {
    pub content: Vec<u8>,
    pub content_type: String,
    pub etag: String,
    pub updated: String,
}

/// What a GET returns: one document, or the ids of a set.
#[derive(Debug)]
pub enum Fetched {
    One(Doc),
    Ids(Vec<String>),
}

/// A write: the body, its content type and the precondition headers.
#[derive(Debug)]
pub struct Write<'a> {
    pub method: DocMethod,
    pub body: &'a [u8],
    pub content_type: &'a str,
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    /// IEEE 9274.1.1 4.1.4 (xAPI 2.0) extends the 409 rule to State documents.
    pub xapi_2_0: bool,
}

fn key_of(resource: DocResource, p: &DocParams) -> DocKey {
    DocKey {
        kind: match resource {
            DocResource::State => "state",
            DocResource::ActivityProfile => "activity_profile",
            DocResource::AgentProfile => "agent_profile",
        },
        activity_id: p.activity_id.clone().unwrap_or_default(),
        agent: p.agent.as_ref().map(|a| a.key()).unwrap_or_default(),
        registration: p
            .registration
            .map(|r| r.hyphenated().to_string())
            .unwrap_or_default(),
    }
}

fn decode(d: Document) -> Result<Doc, LrsError> {
    let content = base64::engine::general_purpose::STANDARD
        .decode(&d.content_b64)
        .map_err(|e| StoreError::Corrupt {
            table: "xapi_documents",
            detail: e.to_string(),
        })?;
    Ok(Doc {
        content,
        content_type: d.content_type,
        etag: d.etag,
        updated: d.updated,
    })
}

fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// GET: one document (404 when absent) or the ids of the set (`since` honoured).
pub async fn get(
    store: &Store,
    tenant: &TenantId,
    resource: DocResource,
    p: &DocParams,
) -> Result<Fetched, LrsError> {
    let key = key_of(resource, p);
    match &p.doc_id {
        Some(id) => {
            let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
            match db::get(&mut conn, tenant, &key, id).await? {
                Some(d) => Ok(Fetched::One(decode(d)?)),
                None => Err(LrsError::NotFound(format!("no document {id:?}"))),
            }
        }
        None => {
            let since = p.since.map(stored_text);
            Ok(Fetched::Ids(
                db::ids(store, tenant, &key, since.as_deref()).await?,
            ))
        }
    }
}

/// PUT or POST one document; returns its new ETag.
pub async fn write(
    store: &Store,
    clock: &dyn Clock,
    who: &Authenticated,
    resource: DocResource,
    p: &DocParams,
    w: Write<'_>,
) -> Result<String, LrsError> {
    who.authorize(scope_resource(resource), Operation::Write)?;
    let Some(doc_id) = p.doc_id.as_deref() else {
        return Err(XapiError::invalid("query.stateId", "is required").into());
    };
    let key = key_of(resource, p);
    if w.method == DocMethod::Post && is_json(w.content_type) {
        // IEEE 9274.1.1 4.1.6.2: a JSON document must be a JSON object to be merged.
        match serde_json::from_slice::<serde_json::Value>(w.body) {
            Ok(serde_json::Value::Object(_)) => {}
            _ => {
                return Err(XapiError::invalid(
                    "document.body",
                    "must be a JSON object to be merged",
                )
                .into())
            }
        }
    }
    let mut tx = store.begin().await?;
    let current = db::get(&mut tx, tenant_of(who), &key, doc_id).await?;
    // Communication 3.1: profile documents need a precondition header on PUT when they exist.
    let require = resource != DocResource::State || w.xapi_2_0;
    check_preconditions(
        w.method,
        current.as_ref().map(|d| d.etag.as_str()),
        w.if_match,
        w.if_none_match,
        require,
    )?;
    // Communication 3.1 (1.0.3) / IEEE 9274.1.1 4.1.4: a profile PUT must carry If-Match or
    // If-None-Match; for a document that does not exist yet the request is malformed (400).
    if resource != DocResource::State
        && w.method == DocMethod::Put
        && current.is_none()
        && w.if_match.is_none()
        && w.if_none_match.is_none()
    {
        return Err(XapiError::invalid(
            "If-Match",
            "a PUT of a profile document needs If-Match or If-None-Match",
        )
        .into());
    }
    let (content, content_type) = match (&current, w.method) {
        (Some(old), DocMethod::Post) => {
            if !is_json(&old.content_type) || !is_json(w.content_type) {
                return Err(XapiError::invalid(
                    "document.body",
                    "POST merges JSON documents only: both the stored and the new document must be application/json",
                )
                .into());
            }
            let old = decode(old.clone())?;
            let merged = merge_documents(&old.content, w.body)?;
            (
                merged.to_string().into_bytes(),
                "application/json".to_owned(),
            )
        }
        _ => (w.body.to_vec(), w.content_type.to_owned()),
    };
    let tag = etag(&content);
    let doc = Document {
        doc_id: doc_id.to_owned(),
        content_b64: base64::engine::general_purpose::STANDARD.encode(&content),
        content_type,
        etag: tag.clone(),
        updated: stored_text(clock.now()),
    };
    db::put(&mut tx, tenant_of(who), &key, &doc).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(tag)
}

fn tenant_of(who: &Authenticated) -> &TenantId {
    &who.tenant
}

/// DELETE one document, or (State without stateId) all of the set.
pub async fn delete(
    store: &Store,
    who: &Authenticated,
    resource: DocResource,
    p: &DocParams,
    if_match: Option<&str>,
) -> Result<(), LrsError> {
    who.authorize(scope_resource(resource), Operation::Write)?;
    let key = key_of(resource, p);
    let mut tx = store.begin().await?;
    if let Some(id) = p.doc_id.as_deref() {
        let current = db::get(&mut tx, &who.tenant, &key, id).await?;
        check_preconditions(
            DocMethod::Delete,
            current.as_ref().map(|d| d.etag.as_str()),
            if_match,
            None,
            false,
        )?;
    }
    db::delete(&mut tx, &who.tenant, &key, p.doc_id.as_deref()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The resource whose scope (Communication 4.2.s2) governs a document resource.
pub fn scope_resource(r: DocResource) -> Resource {
    match r {
        DocResource::State => Resource::State,
        DocResource::ActivityProfile => Resource::ActivityProfile,
        DocResource::AgentProfile => Resource::AgentProfile,
    }
}

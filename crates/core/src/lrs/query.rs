//! Reading statements: by id (Communication 2.1.3, voided rules of Data 2.3.2), filtered
//! lists with stable `more` paging, and the attachments a response carries.
//!
//! Paging: the first page fixes a window of sequence numbers (up to the highest stored
//! then); the `more` token carries the original parameters and what remains of the window,
//! so later pages neither repeat nor skip statements whatever is stored meanwhile.

use base64::Engine;
use kakehashi_store::lrs::statements as db;
use kakehashi_store::lrs::{KeyFilter, StatementQuery as DbQuery};
use kakehashi_store::{Store, StoreError, TenantId};
use kakehashi_xapi::{Ifi, StatementFilter, XapiError};
use serde_json::{json, Value};

use super::{stored_text, LrsError, StatementReach};

/// The most statements one response carries (a `limit` of 0 or above means this).
pub const MAX_PAGE: u32 = 500;

/// One page of a list query.
#[derive(Debug)]
pub struct Page {
    pub statements: Vec<Value>,
    /// The window left, when there may be more.
    pub next: Option<Window>,
}

/// A remaining window of sequence numbers (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    pub min: i64,
    pub max: i64,
}

fn corrupt(e: serde_json::Error) -> LrsError {
    LrsError::Store(StoreError::Corrupt {
        table: "xapi_statements",
        detail: e.to_string(),
    })
}

/// One statement by id. With `voided` (voidedStatementId) only a voided statement is
/// returned; otherwise a voided one is 404 (Data 2.3.2.s3).
pub async fn by_id(
    store: &Store,
    tenant: &TenantId,
    id: &uuid::Uuid,
    voided: bool,
    reach: &StatementReach,
) -> Result<Value, LrsError> {
    let id = id.hyphenated().to_string();
    let not_found = || LrsError::NotFound(format!("no statement {id}"));
    let statement: Value = match db::get(store, tenant, &id).await? {
        Some((body, is_voided)) if is_voided == voided => {
            serde_json::from_str(&body).map_err(corrupt)?
        }
        _ => return Err(not_found()),
    };
    // `statements/read/mine`: another authority's statement is not found (nothing leaks).
    if let StatementReach::AuthoredBy(mine) = reach {
        let theirs = statement
            .get("authority")
            .and_then(Ifi::of)
            .map(|i| i.key());
        if theirs.as_deref() != Some(mine.as_str()) {
            return Err(not_found());
        }
    }
    Ok(statement)
}

/// A filtered list; `window` is `None` on the first page.
pub async fn list(
    store: &Store,
    tenant: &TenantId,
    f: &StatementFilter,
    window: Option<Window>,
    reach: &StatementReach,
) -> Result<Page, LrsError> {
    let window = match window {
        Some(w) => w,
        None => {
            let mut w = Window {
                min: 1,
                max: db::max_seq(store, tenant).await?,
            };
            if let Some(since) = f.since {
                w.min = db::first_seq_after(store, tenant, &stored_text(since))
                    .await?
                    .unwrap_or(i64::MAX);
            }
            if let Some(until) = f.until {
                w.max = w.max.min(
                    db::last_seq_until(store, tenant, &stored_text(until))
                        .await?
                        .unwrap_or(0),
                );
            }
            w
        }
    };
    let limit = if f.limit == 0 || f.limit > MAX_PAGE {
        MAX_PAGE
    } else {
        f.limit
    };
    if window.min > window.max {
        return Ok(Page {
            statements: Vec::new(),
            next: None,
        });
    }
    let mut keys = Vec::new();
    let key = |kind: &'static str, value: String| KeyFilter { kind, value };
    if let Some(a) = &f.agent {
        keys.push(key(if f.related_agents { "ra" } else { "a" }, a.key()));
    }
    if let Some(v) = &f.verb {
        keys.push(key("v", v.clone()));
    }
    if let Some(a) = &f.activity {
        keys.push(key(
            if f.related_activities { "ro" } else { "o" },
            a.clone(),
        ));
    }
    if let Some(r) = f.registration {
        keys.push(key("r", r.hyphenated().to_string()));
    }
    if let StatementReach::AuthoredBy(mine) = reach {
        keys.push(key("au", mine.clone()));
    }
    // Drive by the most selective key: an agent or registration before an activity or verb.
    keys.sort_by_key(|k| match k.kind {
        "r" => 0,
        "a" | "ra" => 1,
        "o" | "ro" => 2,
        "au" => 3,
        _ => 4,
    });
    let q = DbQuery {
        keys,
        min_seq: window.min,
        max_seq: window.max,
        ascending: f.ascending,
        limit: i64::from(limit) + 1,
    };
    let mut rows = db::query(store, tenant, &q).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = match (more, rows.last()) {
        (true, Some((last, _))) if f.ascending => Some(Window {
            min: last + 1,
            max: window.max,
        }),
        (true, Some((last, _))) => Some(Window {
            min: window.min,
            max: last - 1,
        }),
        _ => None,
    };
    let statements = rows
        .iter()
        .map(|(_, body)| serde_json::from_str(body).map_err(corrupt))
        .collect::<Result<Vec<Value>, _>>()?;
    Ok(Page { statements, next })
}

/// The `more` token: the original query parameters and the window left, base64url JSON.
pub fn encode_more(params: &[(String, String)], window: Window) -> String {
    let v = json!({ "q": params, "w": window });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Reads a `more` token back.
pub fn decode_more(token: &str) -> Result<(Vec<(String, String)>, Window), LrsError> {
    let bad = || {
        LrsError::from(XapiError::invalid(
            "query.more",
            "is not a token this LRS issued",
        ))
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| bad())?;
    #[derive(serde::Deserialize)]
    struct More {
        q: Vec<(String, String)>,
        w: Window,
    }
    let m: More = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok((m.q, m.w))
}

/// The attachments (`sha2`, content type, bytes) the statements refer to and the LRS holds
/// (Communication 2.1.3 `attachments=true`).
pub async fn attachments_of(
    store: &Store,
    tenant: &TenantId,
    statements: &[Value],
) -> Result<Vec<(String, String, Vec<u8>)>, LrsError> {
    let mut out: Vec<(String, String, Vec<u8>)> = Vec::new();
    for s in statements {
        for (_, a) in kakehashi_xapi::multipart::attachment_objects(s) {
            let Some(sha2) = a.get("sha2").and_then(Value::as_str) else {
                continue;
            };
            let sha2 = sha2.to_ascii_lowercase();
            if out.iter().any(|(h, _, _)| *h == sha2) {
                continue;
            }
            if let Some((ct, b64)) = db::attachment(store, tenant, &sha2).await? {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| StoreError::Corrupt {
                        table: "xapi_attachments",
                        detail: e.to_string(),
                    })?;
                out.push((sha2, ct, bytes));
            }
        }
    }
    Ok(out)
}

/// The canonical definition of an Activity, or just its id (Communication 2.5).
pub async fn activity(store: &Store, tenant: &TenantId, id: &str) -> Result<Value, LrsError> {
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let def = db::activity(&mut conn, tenant, id).await?;
    let mut out = json!({ "objectType": "Activity", "id": id });
    if let Some(text) = def {
        out["definition"] = serde_json::from_str(&text).map_err(corrupt)?;
    }
    Ok(out)
}

/// Gives the statements' Activities the LRS's canonical definitions (format=canonical,
/// Communication 2.1.3): one read of the definitions for the whole page.
pub async fn with_canonical_definitions(
    store: &Store,
    tenant: &TenantId,
    statements: &mut [Value],
) -> Result<(), LrsError> {
    let mut ids: Vec<String> = statements
        .iter()
        .flat_map(kakehashi_xapi::output::activity_ids_in)
        .collect();
    ids.sort();
    ids.dedup();
    let mut definitions = std::collections::HashMap::new();
    for (id, text) in db::activities(store, tenant, &ids).await? {
        let def: Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            table: "xapi_activities",
            detail: e.to_string(),
        })?;
        definitions.insert(id, def);
    }
    for s in statements {
        kakehashi_xapi::output::substitute_canonical(s, &definitions);
    }
    Ok(())
}

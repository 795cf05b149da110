//! Storing statements: PUT and POST, single and batch, all or nothing in one transaction
//! (Communication 2.1.1, 2.1.2).
//!
//! Order of checks: the rules of the statement (`kakehashi-xapi`: Data 2.2–2.6, attachments
//! and signatures), then against what is stored: an id already held must carry an equivalent
//! statement (Data 2.3.1: equivalent → no-op, different → 409), and a voiding statement must
//! not target a voiding statement (Data 2.3.2). Then `id`, `stored`, `timestamp`, `authority`
//! and `version` are set (Data 2.4) and the statement is indexed.

use std::collections::{BTreeSet, HashMap};

use base64::Engine;
use kakehashi_store::lrs::statements as db;
use kakehashi_store::lrs::{KeyFilter, StatementRow};
use kakehashi_store::{Store, StoreError, TenantId, Tx};
use kakehashi_xapi::multipart::AttachmentPart;
use kakehashi_xapi::scope::{Operation, Resource};
use kakehashi_xapi::validate::VOIDED_VERB;
use kakehashi_xapi::{
    index_statement, multipart, prepare_for_storage, signature, statements_equivalent,
    validate_statements, StorageStamp, Version, XapiError,
};
use serde_json::Value;
use uuid::Uuid;

use super::{signing, stored_text, Authenticated, LrsError};
use crate::Clock;

/// A statement write as the server received it.
#[derive(Debug)]
pub struct WriteRequest {
    pub version: Version,
    /// One statement object or a batch array.
    pub statements: Value,
    /// Attachment parts of a multipart/mixed request.
    pub attachments: Vec<AttachmentPart>,
    /// `statementId` of a PUT.
    pub put_id: Option<Uuid>,
}

/// Validates and stores in one transaction; returns the ids in request order.
pub async fn write(
    store: &Store,
    clock: &dyn Clock,
    who: &Authenticated,
    req: WriteRequest,
) -> Result<Vec<String>, LrsError> {
    let mut tx = store.begin().await?;
    let ids = write_in(&mut tx, clock, who, req).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(ids)
}

/// [`write`] inside the caller's transaction, so that statements can be part of a larger
/// change (an LTI score and its statement are stored together or not at all).
pub async fn write_in(
    tx: &mut Tx,
    clock: &dyn Clock,
    who: &Authenticated,
    req: WriteRequest,
) -> Result<Vec<String>, LrsError> {
    who.authorize(Resource::Statements, Operation::Write)?;
    // Communication 4.2.s2 `statements/read/mine`: each statement is indexed by the
    // authority stamped on it, so such a token can list only its own.
    let authority_key = who.authority_key();
    let mut body = req.statements;
    if let Some(put_id) = req.put_id {
        // Communication 2.1.1: PUT carries one statement; its id, if any, is the parameter's.
        let Some(o) = body.as_object_mut() else {
            return Err(
                XapiError::invalid("statement", "PUT takes a single statement object").into(),
            );
        };
        let put_text = put_id.hyphenated().to_string();
        match o.get("id").and_then(Value::as_str) {
            Some(id) if kakehashi_xapi::formats::parse_uuid(id) != Some(put_id) => {
                return Err(XapiError::invalid(
                    "statement.id",
                    "differs from the statementId parameter",
                )
                .into())
            }
            Some(_) => {}
            None => {
                o.insert("id".into(), Value::String(put_text));
            }
        }
    }
    validate_statements(&body, req.version)?;
    multipart::check_attachment_parts(&body, &req.attachments)?;
    let jws = signature::check_signatures(&body, &req.attachments)?;
    signing::verify_all(&jws)?;

    let mut list: Vec<Value> = match body {
        Value::Array(a) => a,
        other => vec![other],
    };
    if list.is_empty() {
        return Ok(Vec::new());
    }
    // Ids: the client's (lower-cased for storage keys) or new v4 UUIDs (Data 2.4.1).
    let mut ids = Vec::with_capacity(list.len());
    for s in &mut list {
        let id = match s.get("id").and_then(Value::as_str) {
            Some(id) => kakehashi_xapi::formats::parse_uuid(id)
                .map(|u| u.hyphenated().to_string())
                .ok_or_else(|| XapiError::invalid("statement.id", "must be a UUID"))?,
            None => Uuid::new_v4().hyphenated().to_string(),
        };
        if let Some(o) = s.as_object_mut() {
            o.insert("id".into(), Value::String(id.clone()));
        }
        ids.push(id);
    }
    let targets: Vec<String> = list
        .iter()
        .filter(|s| s.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED_VERB))
        .filter_map(|s| s.pointer("/object/id").and_then(Value::as_str))
        .filter_map(kakehashi_xapi::formats::parse_uuid)
        .map(|u| u.hyphenated().to_string())
        .collect();

    let mut lookup: Vec<String> = ids.clone();
    lookup.extend(targets.iter().cloned());
    let existing: HashMap<String, (String, bool)> = db::find_by_ids(&mut *tx, &who.tenant, &lookup)
        .await?
        .into_iter()
        .map(|(id, body, voided)| (id, (body, voided)))
        .collect();

    // Data 2.3.1: a held id with an equivalent statement is a no-op; otherwise 409.
    let mut fresh: Vec<(usize, Value)> = Vec::new();
    for (i, s) in list.into_iter().enumerate() {
        if let Some((stored, _)) = existing.get(&ids[i]) {
            let stored: Value = serde_json::from_str(stored).map_err(|e| StoreError::Corrupt {
                table: "xapi_statements",
                detail: e.to_string(),
            })?;
            if statements_equivalent(&s, &stored) {
                continue;
            }
            return Err(XapiError::Conflict(format!(
                "statement {} already exists with different content",
                ids[i]
            ))
            .into());
        }
        fresh.push((i, s));
    }
    // Data 2.3.2: a voiding statement cannot target a voiding statement.
    for (_, s) in &fresh {
        if s.pointer("/verb/id").and_then(Value::as_str) != Some(VOIDED_VERB) {
            continue;
        }
        let target = s
            .pointer("/object/id")
            .and_then(Value::as_str)
            .and_then(kakehashi_xapi::formats::parse_uuid)
            .map(|u| u.hyphenated().to_string())
            .unwrap_or_default();
        let targets_voiding = match existing.get(&target) {
            Some((body, _)) => {
                body.contains(VOIDED_VERB) && {
                    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                    v.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED_VERB)
                }
            }
            None => fresh.iter().any(|(j, t)| {
                ids[*j] == target
                    && t.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED_VERB)
            }),
        };
        if targets_voiding {
            return Err(XapiError::invalid(
                "statement.object.id",
                "a voiding statement cannot target another voiding statement (Data 2.3.2)",
            )
            .into());
        }
    }
    if fresh.is_empty() {
        return Ok(ids);
    }

    let first_seq = db::reserve_seqs(&mut *tx, &who.tenant, fresh.len() as i64).await?;
    // `stored` is taken after the counter: seq order is then stored order.
    let now = clock.now();
    let stored = stored_text(now);
    let now_ms = kakehashi_xapi::formats::parse_timestamp(&stored).unwrap_or(now);
    // Rows wait here and go in with a few multi-row INSERTs; a statement that refers to
    // another (StatementRef, voiding) first flushes them, as its target may be among them.
    let mut pending: Vec<(StatementRow, Vec<KeyFilter>)> = Vec::new();
    let mut activities = ActivityMerge::default();
    for (n, (i, s)) in fresh.into_iter().enumerate() {
        let stamp = StorageStamp {
            new_id: Uuid::nil(),
            now: now_ms,
            authority: Some(who.authority.clone()),
            version: req.version,
        };
        let s = prepare_for_storage(s, &stamp)?;
        let ix = index_statement(&s)?;
        let mut keys: BTreeSet<KeyFilter> = BTreeSet::new();
        let key = |kind: &'static str, value: &str| KeyFilter {
            kind,
            value: value.to_owned(),
        };
        for a in &ix.agents {
            keys.insert(key("a", a));
        }
        for a in ix.related_agents.iter().chain(ix.agents.iter()) {
            keys.insert(key("ra", a));
        }
        keys.insert(key("v", &ix.verb_id));
        if let Some(a) = &ix.object_activity {
            keys.insert(key("o", a));
            keys.insert(key("ro", a));
        }
        for a in &ix.related_activities {
            keys.insert(key("ro", a));
        }
        if let Some(r) = ix.registration {
            keys.insert(key("r", &r.hyphenated().to_string()));
        }
        // Communication 2.1.4: a statement targeting another meets the filters its target
        // meets; the target's keys are copied (with the target's own inherited ones).
        if let Some(target) = ix.statement_ref {
            db::insert_many(&mut *tx, &who.tenant, &pending).await?;
            pending.clear();
            let t = target.hyphenated().to_string();
            keys.extend(db::keys_of(&mut *tx, &who.tenant, &t).await?);
        }
        if !authority_key.is_empty() {
            keys.insert(key("au", &authority_key));
        }
        let keys: Vec<KeyFilter> = keys.into_iter().collect();
        let row = StatementRow {
            seq: first_seq + n as i64,
            id: ids[i].clone(),
            body: s.to_string(),
            actor: ix.actor.clone(),
            verb_id: ix.verb_id.clone(),
            activity_id: ix.object_activity.clone(),
            registration: ix.registration.map(|r| r.hyphenated().to_string()),
            voids: ix.voids.map(|v| v.hyphenated().to_string()),
            stored: stored.clone(),
        };
        if let Some(v) = &row.voids {
            // Its target was flushed above (a voiding statement is a StatementRef).
            db::mark_voided(&mut *tx, &who.tenant, v).await?;
        }
        pending.push((row, keys));
        // Communication 4.2.s2 `define`: without it the ids are kept but the canonical
        // Activity definitions are not updated.
        if who.may_define() {
            activities.merge(&mut *tx, &who.tenant, &s).await?;
        }
    }
    db::insert_many(&mut *tx, &who.tenant, &pending).await?;
    activities.write(&mut *tx, &who.tenant).await?;
    for p in &req.attachments {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&p.body);
        db::put_attachment(&mut *tx, &who.tenant, &p.sha2, &p.content_type, &b64).await?;
    }
    Ok(ids)
}

/// The canonical definitions of the Activities a request's statements define: the latest
/// definition sent wins property by property, language maps merge by tag (Communication
/// 2.5). Each Activity is read once per request and written once if it changed.
#[derive(Default)]
struct ActivityMerge {
    /// id → (definition as stored, definition after this request's statements)
    seen: HashMap<String, (Definition, Definition)>,
}

/// An Activity definition object.
type Definition = serde_json::Map<String, Value>;

impl ActivityMerge {
    async fn merge(
        &mut self,
        conn: &mut kakehashi_store::Tx,
        tenant: &TenantId,
        statement: &Value,
    ) -> Result<(), LrsError> {
        let Some(object) = statement.get("object") else {
            return Ok(());
        };
        if object
            .get("objectType")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "Activity")
        {
            return Ok(());
        }
        let (Some(id), Some(Value::Object(incoming))) = (
            object.get("id").and_then(Value::as_str),
            object.get("definition"),
        ) else {
            return Ok(());
        };
        if !self.seen.contains_key(id) {
            let stored = match db::activity(conn, tenant, id).await? {
                Some(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(o)) => o,
                    _ => serde_json::Map::new(),
                },
                None => serde_json::Map::new(),
            };
            self.seen.insert(id.to_owned(), (stored.clone(), stored));
        }
        let (_, merged) = self.seen.get_mut(id).expect("inserted above");
        for (k, v) in incoming {
            match (merged.get_mut(k), v) {
                (Some(Value::Object(old)), Value::Object(new))
                    if k == "name" || k == "description" =>
                {
                    for (tag, text) in new {
                        old.insert(tag.clone(), text.clone());
                    }
                }
                _ => {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }

    async fn write(
        self,
        conn: &mut kakehashi_store::Tx,
        tenant: &TenantId,
    ) -> Result<(), LrsError> {
        for (id, (stored, merged)) in self.seen {
            if merged != stored {
                db::put_activity(conn, tenant, &id, &Value::Object(merged).to_string()).await?;
            }
        }
        Ok(())
    }
}

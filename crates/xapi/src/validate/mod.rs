//! Statement validation: the structural rules an LRS enforces before storing
//! (Data 2.2 Formatting Requirements, 2.4 Statement Properties; IEEE 9274.1.1 4.2).
//!
//! Validation is strict (Data 2.2.s4.b8: unknown properties are rejected) and works on the
//! original `serde_json::Value`, so the statement can be stored exactly as received. The
//! first broken rule is returned with its path.

mod activity;
mod actor;
mod attachments;
mod common;
mod context;
mod result;

use serde_json::Value;

use crate::error::{Result, XapiError};
use crate::formats::{parse_timestamp, parse_uuid};
use crate::json::{at, idx, object, only_keys, opt_str, req_str, Obj};
use crate::version::{statement_version_allowed, Version};

pub use actor_api::{validate_agent, validate_agent_or_group};

/// The verb that voids a statement (Data 2.3.2).
pub const VOIDED_VERB: &str = "http://adlnet.gov/expapi/verbs/voided";

const STATEMENT_KEYS: [&str; 11] = [
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
];
/// Data 2.4.4.3.s8.b3: a SubStatement MUST NOT have id, stored, version or authority.
const SUBSTATEMENT_KEYS: [&str; 8] = [
    "objectType",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "attachments",
];

/// Validates one statement as received under `version`.
///
/// Errors name the path from `statement`, e.g. `statement.actor.mbox`.
pub fn validate_statement(statement: &Value, version: Version) -> Result<()> {
    let path = "statement";
    let o = object(statement, path)?;
    only_keys(o, &STATEMENT_KEYS, path)?;
    if let Some(id) = opt_str(o, "id", path)? {
        if parse_uuid(id).is_none() {
            return Err(XapiError::invalid(at(path, "id"), "must be a UUID"));
        }
    }
    body(o, path, version, false)?;
    for key in ["timestamp", "stored"] {
        timestamp(o, key, path)?;
    }
    if let Some(a) = o.get("authority") {
        actor::agent_or_group(a, &at(path, "authority"), actor::Role::Authority)?;
    }
    if let Some(v) = opt_str(o, "version", path)? {
        if !statement_version_allowed(v, version) {
            let allowed = if version.is_2_0() {
                "\"1.0.x\" or \"2.0.x\""
            } else {
                "\"1.0\" or \"1.0.x\""
            };
            return Err(XapiError::invalid(
                at(path, "version"),
                format!("must be {allowed}"),
            ));
        }
    }
    Ok(())
}

/// Validates a POST body: one statement object or an array of them. Paths of errors in an
/// array read `statements[i]...`. Ids repeated within the batch are rejected
/// (Communication 2.1.2: the suite rejects "a batch of two or more statements where the
/// same ID is used more than once").
pub fn validate_statements(body: &Value, version: Version) -> Result<()> {
    match body {
        Value::Array(items) => {
            let mut ids = std::collections::HashSet::new();
            for (i, s) in items.iter().enumerate() {
                let prefix = idx("statements", i);
                validate_statement(s, version).map_err(|e| e.within(&prefix))?;
                if let Some(id) = s.get("id").and_then(Value::as_str).and_then(parse_uuid) {
                    if !ids.insert(id) {
                        return Err(XapiError::invalid(
                            at(&prefix, "id"),
                            "is used twice in this batch",
                        ));
                    }
                }
            }
            Ok(())
        }
        other => validate_statement(other, version),
    }
}

/// The part shared by statements and SubStatements: actor, verb, object, result, context,
/// attachments.
fn body(o: &Obj, path: &str, version: Version, in_substatement: bool) -> Result<()> {
    let actor_v = o
        .get("actor")
        .ok_or_else(|| XapiError::invalid(at(path, "actor"), "is required"))?;
    actor::agent_or_group(actor_v, &at(path, "actor"), actor::Role::ActorLike)?;
    let verb_id = verb(o, path)?;
    let object_v = o
        .get("object")
        .ok_or_else(|| XapiError::invalid(at(path, "object"), "is required"))?;
    let object_type = statement_object(object_v, &at(path, "object"), version, in_substatement)?;
    if verb_id == VOIDED_VERB && object_type != "StatementRef" {
        // Data 2.3.2.s2.b1: a voiding statement's object is a StatementRef (XAPI-00017).
        return Err(XapiError::invalid(
            at(path, "object.objectType"),
            "a voiding statement's object must be a StatementRef",
        ));
    }
    if let Some(r) = o.get("result") {
        result::result(r, &at(path, "result"))?;
    }
    if let Some(c) = o.get("context") {
        context::context(c, &at(path, "context"), object_type == "Activity", version)?;
    }
    attachments::attachments(o, path)
}

/// Verb: `id` IRI (required) and `display` language map (Data 2.4.3; XAPI-00044/00045).
fn verb<'a>(o: &'a Obj, path: &str) -> Result<&'a str> {
    let p = at(path, "verb");
    let v = o
        .get("verb")
        .ok_or_else(|| XapiError::invalid(&p, "is required"))?;
    let vo = object(v, &p)?;
    only_keys(vo, &["id", "display"], &p)?;
    let id = req_str(vo, "id", &p)?;
    if !crate::formats::is_iri(id) {
        return Err(XapiError::invalid(
            at(&p, "id"),
            "must be an IRI with a scheme",
        ));
    }
    common::opt_language_map(vo, "display", &p)?;
    Ok(id)
}

/// The statement's object; returns its objectType (Data 2.4.4; XAPI-00046).
fn statement_object(
    v: &Value,
    path: &str,
    version: Version,
    in_substatement: bool,
) -> Result<&'static str> {
    let o = object(v, path)?;
    let t = common::object_type(
        o,
        path,
        &["Activity", "Agent", "Group", "SubStatement", "StatementRef"],
    )?;
    match t.unwrap_or("Activity") {
        "Activity" => activity::activity(v, path).map(|_| "Activity"),
        "Agent" => actor::agent_or_group(v, path, actor::Role::Object).map(|_| "Agent"),
        "Group" => actor::agent_or_group(v, path, actor::Role::Object).map(|_| "Group"),
        "StatementRef" => activity::statement_ref(v, path).map(|_| "StatementRef"),
        _ if in_substatement => Err(XapiError::invalid(
            at(path, "objectType"),
            "a SubStatement cannot contain a SubStatement",
        )),
        _ => substatement(o, path, version).map(|_| "SubStatement"),
    }
}

/// SubStatement (Data 2.4.4.3 "SubStatements"; XAPI-00066..00071).
fn substatement(o: &Obj, path: &str, version: Version) -> Result<()> {
    for forbidden in ["id", "stored", "version", "authority"] {
        if o.contains_key(forbidden) {
            return Err(XapiError::invalid(
                at(path, forbidden),
                "not allowed in a SubStatement",
            ));
        }
    }
    only_keys(o, &SUBSTATEMENT_KEYS, path)?;
    body(o, path, version, true)?;
    timestamp(o, "timestamp", path)
}

/// Timestamp-valued property (Data 2.4.7, 2.4.8, 4.5; XAPI-00022, XAPI-00123).
fn timestamp(o: &Obj, key: &str, path: &str) -> Result<()> {
    if let Some(t) = opt_str(o, key, path)? {
        if parse_timestamp(t).is_none() {
            return Err(XapiError::invalid(
                at(path, key),
                "must be an ISO 8601 date-time, e.g. 2024-04-01T09:00:00.000Z",
            ));
        }
    }
    Ok(())
}

/// Agent validation for parameters (`agent=` in queries and document resources).
mod actor_api {
    use super::actor::{agent_or_group, Role};
    use crate::error::Result;
    use serde_json::Value;

    /// An Agent (not a Group), as the State and Agent Profile resources require.
    pub fn validate_agent(v: &Value, path: &str) -> Result<()> {
        agent_or_group(v, path, Role::AgentOnly)
    }

    /// An Agent or Group, as the statement `agent` filter accepts.
    pub fn validate_agent_or_group(v: &Value, path: &str) -> Result<()> {
        agent_or_group(v, path, Role::ActorLike)
    }
}

#[cfg(test)]
mod tests;

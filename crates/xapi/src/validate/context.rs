//! Context (Data 2.4.6) including 2.0's `contextAgents` / `contextGroups`
//! (IEEE 9274.1.1 4.2.2.5).

use serde_json::Value;

use super::activity::{activity, statement_ref};
use super::actor::{agent_or_group, Role};
use super::common::extensions;
use crate::error::{Result, XapiError};
use crate::formats::{is_iri, is_language_tag, parse_uuid};
use crate::json::{at, idx, kind, object, only_keys, opt_array, opt_str, req_str};
use crate::version::Version;

const KEYS_1_0: [&str; 9] = [
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
];
const KEYS_2_0: [&str; 11] = [
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
    "contextAgents",
    "contextGroups",
];

/// Context. `object_is_activity` carries Data 2.4.6.s4.b1/b2: `revision` and `platform`
/// are only allowed when the statement's object is an Activity (XAPI-00084/00085).
pub(crate) fn context(
    v: &Value,
    path: &str,
    object_is_activity: bool,
    version: Version,
) -> Result<()> {
    let o = object(v, path)?;
    if version.is_2_0() {
        only_keys(o, &KEYS_2_0, path)?;
    } else {
        only_keys(o, &KEYS_1_0, path)?;
    }
    if let Some(r) = opt_str(o, "registration", path)? {
        if parse_uuid(r).is_none() {
            return Err(XapiError::invalid(
                at(path, "registration"),
                "must be a UUID",
            ));
        }
    }
    if let Some(i) = o.get("instructor") {
        agent_or_group(i, &at(path, "instructor"), Role::ActorLike)?;
    }
    if let Some(t) = o.get("team") {
        agent_or_group(t, &at(path, "team"), Role::Team)?;
    }
    if let Some(ca) = o.get("contextActivities") {
        context_activities(ca, &at(path, "contextActivities"))?;
    }
    for key in ["revision", "platform"] {
        if opt_str(o, key, path)?.is_some() && !object_is_activity {
            return Err(XapiError::invalid(
                at(path, key),
                "only allowed when the statement's object is an Activity",
            ));
        }
    }
    if let Some(l) = opt_str(o, "language", path)? {
        if !is_language_tag(l) {
            return Err(XapiError::invalid(
                at(path, "language"),
                "must be an RFC 5646 language tag",
            ));
        }
    }
    if let Some(s) = o.get("statement") {
        statement_ref(s, &at(path, "statement"))?;
    }
    extensions(o, "extensions", path)?;
    if let Some(list) = opt_array(o, "contextAgents", path)? {
        context_agents(list, &at(path, "contextAgents"), "contextAgent", "agent")?;
    }
    if let Some(list) = opt_array(o, "contextGroups", path)? {
        context_agents(list, &at(path, "contextGroups"), "contextGroup", "group")?;
    }
    Ok(())
}

/// contextActivities: keys parent/grouping/category/other, each an Activity or an array of
/// Activities (Data 2.4.6.2; XAPI-00093/00094).
fn context_activities(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(o, &["parent", "grouping", "category", "other"], path)?;
    for (k, val) in o {
        let p = at(path, k);
        match val {
            Value::Array(items) => {
                for (i, a) in items.iter().enumerate() {
                    activity(a, &idx(&p, i))?;
                }
            }
            Value::Object(_) => activity(val, &p)?,
            other => {
                return Err(XapiError::invalid(
                    p,
                    format!(
                        "must be an Activity or an array of Activities, got {}",
                        kind(other)
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// 2.0 contextAgents / contextGroups: arrays of `{objectType, agent|group, relevantTypes?}`;
/// `relevantTypes`, when present, is a non-empty array of IRIs (IEEE 9274.1.1 4.2.2.5).
fn context_agents(list: &[Value], path: &str, object_type: &str, member: &str) -> Result<()> {
    for (i, item) in list.iter().enumerate() {
        let p = idx(path, i);
        let o = object(item, &p)?;
        only_keys(o, &["objectType", member, "relevantTypes"], &p)?;
        let t = req_str(o, "objectType", &p)?;
        if t != object_type {
            return Err(XapiError::invalid(
                at(&p, "objectType"),
                format!("must be {object_type:?}, got {t:?}"),
            ));
        }
        let Some(who) = o.get(member) else {
            return Err(XapiError::invalid(at(&p, member), "is required"));
        };
        if member == "agent" {
            agent_or_group(who, &at(&p, member), Role::AgentOnly)?;
        } else {
            agent_or_group(who, &at(&p, member), Role::Team)?;
        }
        if let Some(types) = opt_array(o, "relevantTypes", &p)? {
            let tp = at(&p, "relevantTypes");
            if types.is_empty() {
                return Err(XapiError::invalid(tp, "must not be empty when present"));
            }
            for (j, t) in types.iter().enumerate() {
                if !t.as_str().is_some_and(is_iri) {
                    return Err(XapiError::invalid(idx(&tp, j), "must be an IRI"));
                }
            }
        }
    }
    Ok(())
}

//! Activities, Activity Definitions and interaction (cmi.interaction) definitions
//! (Data 2.4.4.1), and Statement References (Data 2.4.4.3).

use std::collections::HashSet;

use serde_json::Value;

use super::common::{extensions, object_type, opt_iri, opt_irl, opt_language_map};
use crate::error::{Result, XapiError};
use crate::formats::{is_iri, parse_uuid};
use crate::json::{at, idx, kind, object, only_keys, opt_array, opt_str, req_str, Obj};

/// An Activity: `objectType`? ("Activity"), `id` IRI (required), `definition`?
/// (Data 2.4.4.1 table; XAPI-00047/00048).
pub(crate) fn activity(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    object_type(o, path, &["Activity"])?;
    only_keys(o, &["objectType", "id", "definition"], path)?;
    let id = req_str(o, "id", path)?;
    if !is_iri(id) {
        return Err(XapiError::invalid(
            at(path, "id"),
            "must be an IRI with a scheme",
        ));
    }
    if let Some(d) = o.get("definition") {
        definition(d, &at(path, "definition"))?;
    }
    Ok(())
}

/// The interaction types of Data 2.4.4.1 "Interaction Activities" (exact case).
const INTERACTION_TYPES: [&str; 10] = [
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

/// Which interaction component lists each interaction type may carry
/// (Data 2.4.4.1 "Interaction Components" table).
fn components_allowed(interaction_type: &str) -> &'static [&'static str] {
    match interaction_type {
        "choice" | "sequencing" => &["choices"],
        "likert" => &["scale"],
        "matching" => &["source", "target"],
        "performance" => &["steps"],
        _ => &[],
    }
}

const COMPONENT_LISTS: [&str; 5] = ["choices", "scale", "source", "target", "steps"];

/// Activity Definition (Data 2.4.4.1 table "Activity Definition").
fn definition(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(
        o,
        &[
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            "choices",
            "scale",
            "source",
            "target",
            "steps",
        ],
        path,
    )?;
    opt_language_map(o, "name", path)?;
    opt_language_map(o, "description", path)?;
    opt_iri(o, "type", path)?;
    opt_irl(o, "moreInfo", path)?;
    extensions(o, "extensions", path)?;
    interaction(o, path)
}

/// Interaction properties only make sense with an `interactionType`
/// (Data 2.4.4.1 "Interaction Activities" requirements; suite "Activity Definition uses
/// correctResponsesPattern without interactionType").
fn interaction(o: &Obj, path: &str) -> Result<()> {
    let itype = opt_str(o, "interactionType", path)?;
    if let Some(t) = itype {
        if !INTERACTION_TYPES.contains(&t) {
            return Err(XapiError::invalid(
                at(path, "interactionType"),
                format!("must be one of {INTERACTION_TYPES:?} (case sensitive), got {t:?}"),
            ));
        }
    }
    if let Some(crp) = opt_array(o, "correctResponsesPattern", path)? {
        let p = at(path, "correctResponsesPattern");
        if itype.is_none() {
            return Err(XapiError::invalid(p, "requires \"interactionType\""));
        }
        for (i, r) in crp.iter().enumerate() {
            if !r.is_string() {
                return Err(XapiError::invalid(
                    idx(&p, i),
                    format!("must be a string, got {}", kind(r)),
                ));
            }
        }
    }
    for list in COMPONENT_LISTS {
        let Some(items) = opt_array(o, list, path)? else {
            continue;
        };
        let p = at(path, list);
        match itype {
            None => return Err(XapiError::invalid(p, "requires \"interactionType\"")),
            Some(t) if !components_allowed(t).contains(&list) => {
                return Err(XapiError::invalid(
                    p,
                    format!("not allowed for interactionType {t:?}"),
                ))
            }
            Some(_) => {}
        }
        components(items, &p)?;
    }
    Ok(())
}

/// Interaction Components: `id` string (required, distinct within the list) and
/// `description` language map (Data 2.4.4.1 "Interaction Components" requirements).
fn components(items: &[Value], path: &str) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = idx(path, i);
        let o = object(item, &p)?;
        only_keys(o, &["id", "description"], &p)?;
        let id = req_str(o, "id", &p)?;
        if id.is_empty() {
            return Err(XapiError::invalid(at(&p, "id"), "must not be empty"));
        }
        if !seen.insert(id) {
            return Err(XapiError::invalid(
                at(&p, "id"),
                format!("{id:?} is repeated; component ids must be distinct"),
            ));
        }
        opt_language_map(o, "description", &p)?;
    }
    Ok(())
}

/// A Statement Reference: `objectType` "StatementRef" (required) and `id` UUID
/// (Data 2.4.4.3 table; XAPI-00072/00073).
pub(crate) fn statement_ref(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(o, &["objectType", "id"], path)?;
    let t = req_str(o, "objectType", path)?;
    if t != "StatementRef" {
        return Err(XapiError::invalid(
            at(path, "objectType"),
            "must be \"StatementRef\"",
        ));
    }
    let id = req_str(o, "id", path)?;
    if parse_uuid(id).is_none() {
        return Err(XapiError::invalid(at(path, "id"), "must be a UUID"));
    }
    Ok(())
}

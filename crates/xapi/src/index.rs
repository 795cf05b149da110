//! The keys a store indexes a statement by, extracted once at write time so that the
//! GET /statements filters (Communication 2.1.3) become simple lookups.
//!
//! Definitions: `agent` matches the actor or the object (Agents and identified Groups,
//! by IFI); `related_agents` widens this to authority, context instructor and team, the
//! same properties inside a SubStatement, members of Groups, and (2.0) contextAgents and
//! contextGroups. `activity` matches the object's id; `related_activities` widens this to
//! the context activities and the SubStatement's object and context activities.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::agent::Ifi;
use crate::error::{Result, XapiError};
use crate::formats::parse_uuid;
use crate::validate::VOIDED_VERB;

/// Indexed keys of one stored statement. Agent keys are [`Ifi::key`] strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatementIndex {
    pub id: Option<uuid::Uuid>,
    /// IFI key of the actor (`None` for an anonymous Group).
    pub actor: Option<String>,
    pub verb_id: String,
    /// Object Activity id, if the object is an Activity.
    pub object_activity: Option<String>,
    /// `agent` filter matches: actor and object IFIs.
    pub agents: BTreeSet<String>,
    /// `related_agents` matches (a superset of `agents`).
    pub related_agents: BTreeSet<String>,
    /// `related_activities` matches (a superset of `object_activity`).
    pub related_activities: BTreeSet<String>,
    pub registration: Option<uuid::Uuid>,
    /// The statement this one voids (verb `voided`, object StatementRef; Data 2.3.2).
    pub voids: Option<uuid::Uuid>,
    /// Object StatementRef target (voiding or not), for "statements targeting" queries.
    pub statement_ref: Option<uuid::Uuid>,
}

/// Extracts the index of a validated statement.
pub fn index_statement(statement: &Value) -> Result<StatementIndex> {
    let o = statement
        .as_object()
        .ok_or_else(|| XapiError::invalid("statement", "must be an object"))?;
    let verb_id = o
        .get("verb")
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| XapiError::invalid("statement.verb.id", "is required"))?
        .to_string();
    let mut ix = StatementIndex {
        id: o.get("id").and_then(Value::as_str).and_then(parse_uuid),
        actor: o.get("actor").and_then(Ifi::of).map(|i| i.key()),
        verb_id,
        ..Default::default()
    };
    ix.registration = o
        .get("context")
        .and_then(|c| c.get("registration"))
        .and_then(Value::as_str)
        .and_then(parse_uuid);
    let object = o.get("object");
    match object
        .and_then(|ob| ob.get("objectType"))
        .and_then(Value::as_str)
    {
        Some("StatementRef") => {
            ix.statement_ref = object
                .and_then(|ob| ob.get("id"))
                .and_then(Value::as_str)
                .and_then(parse_uuid);
            if ix.verb_id == VOIDED_VERB {
                ix.voids = ix.statement_ref;
            }
        }
        Some("Agent") | Some("Group") | Some("SubStatement") => {}
        _ => {
            ix.object_activity = object
                .and_then(|ob| ob.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        }
    }
    for key in ["actor", "object"] {
        if let Some(i) = o.get(key).and_then(Ifi::of) {
            ix.agents.insert(i.key());
        }
    }
    collect(
        statement,
        &mut ix.related_agents,
        &mut ix.related_activities,
        true,
    );
    Ok(ix)
}

fn collect(s: &Value, agents: &mut BTreeSet<String>, activities: &mut BTreeSet<String>, top: bool) {
    let mut add_agent = |a: &Value| {
        if let Some(i) = Ifi::of(a) {
            agents.insert(i.key());
        }
        for m in a
            .get("member")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(i) = Ifi::of(m) {
                agents.insert(i.key());
            }
        }
    };
    for key in ["actor", "authority"] {
        if let Some(a) = s.get(key) {
            add_agent(a);
        }
    }
    if let Some(ctx) = s.get("context") {
        for key in ["instructor", "team"] {
            if let Some(a) = ctx.get(key) {
                add_agent(a);
            }
        }
        for (list, member) in [("contextAgents", "agent"), ("contextGroups", "group")] {
            for item in ctx
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(a) = item.get(member) {
                    add_agent(a);
                }
            }
        }
        if let Some(ca) = ctx.get("contextActivities").and_then(Value::as_object) {
            for v in ca.values() {
                let items: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                for a in items {
                    if let Some(id) = a.get("id").and_then(Value::as_str) {
                        activities.insert(id.to_string());
                    }
                }
            }
        }
    }
    if let Some(ob) = s.get("object") {
        match ob.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => add_agent(ob),
            Some("SubStatement") if top => collect(ob, agents, activities, false),
            Some("StatementRef") | Some("SubStatement") => {}
            _ => {
                if let Some(id) = ob.get("id").and_then(Value::as_str) {
                    activities.insert(id.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn related_agents_and_activities_follow_comm_2_1_3() {
        let s = json!({
            "id": "aa97b177-9383-4934-8543-0f91a7a02836",
            "actor": {"mbox": "mailto:a@example.jp"},
            "verb": {"id": "http://x.y/v"},
            "object": {"objectType": "SubStatement",
                "actor": {"mbox": "mailto:sub@example.jp"},
                "verb": {"id": "http://x.y/v2"},
                "object": {"id": "http://x.y/subobj"},
                "context": {"instructor": {"mbox": "mailto:t@example.jp"},
                    "contextActivities": {"parent": [{"id": "http://x.y/subparent"}]}}},
            "authority": {"mbox": "mailto:auth@example.jp"},
            "context": {"registration": "bb97b177-9383-4934-8543-0f91a7a02836",
                "team": {"objectType": "Group", "member": [{"mbox": "mailto:m@example.jp"}]},
                "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:ca@example.jp"}}],
                "contextActivities": {"category": {"id": "http://x.y/cat"}}}
        });
        let ix = index_statement(&s).unwrap();
        assert_eq!(ix.actor.as_deref(), Some("mbox:mailto:a@example.jp"));
        assert_eq!(ix.agents.len(), 1);
        for a in ["a", "sub", "t", "auth", "m", "ca"] {
            assert!(
                ix.related_agents
                    .contains(&format!("mbox:mailto:{a}@example.jp")),
                "{a}"
            );
        }
        for a in ["subobj", "subparent", "cat"] {
            assert!(
                ix.related_activities.contains(&format!("http://x.y/{a}")),
                "{a}"
            );
        }
        assert!(ix.object_activity.is_none());
        assert!(ix.registration.is_some());
    }

    #[test]
    fn voiding_target_is_extracted_data_2_3_2() {
        let s = json!({
            "actor": {"mbox": "mailto:a@example.jp"},
            "verb": {"id": VOIDED_VERB},
            "object": {"objectType": "StatementRef", "id": "aa97b177-9383-4934-8543-0f91a7a02836"}
        });
        let ix = index_statement(&s).unwrap();
        assert_eq!(ix.voids, ix.statement_ref);
        assert!(ix.voids.is_some());
    }
}

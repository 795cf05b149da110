//! Statement comparison (Data 2.3.1 "Statement Comparison Requirements"): used when a
//! statement arrives with an id the LRS already holds (same → 204, different → 409) and
//! when checking a signed statement against its JWS payload (Data 2.6.s5.b3.b2).
//!
//! Differences that the immutability exceptions (Data 2.3.1.b1–b7) could cause are ignored:
//! LRS-assigned `id`/`authority`/`stored`/`version` (and `timestamp` when one side lacks
//! it), Activity definitions, Verb display, timestamp serialization (compared as
//! instants), Group member order, attachments, e-mail domain case, and single-object vs
//! array contextActivities. 2.0 also ignores duration precision beyond 0.01 s
//! (IEEE 9274.1.1 4.2.7).

use serde_json::Value;

use crate::formats::{format_timestamp, normalize_mailto, parse_timestamp, truncate_duration};
use crate::normalize::normalize_context_activities;

/// True when the two statements are the same statement under Data 2.3.1.
pub fn statements_equivalent(a: &Value, b: &Value) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    if let (Some(ao), Some(bo)) = (a.as_object_mut(), b.as_object_mut()) {
        for key in ["authority", "stored", "version", "attachments"] {
            ao.remove(key);
            bo.remove(key);
        }
        for key in ["id", "timestamp"] {
            if ao.contains_key(key) != bo.contains_key(key) {
                ao.remove(key);
                bo.remove(key);
            }
        }
    }
    comparable(&mut a);
    comparable(&mut b);
    a == b
}

/// Rewrites a statement into a form where ignorable differences vanish.
fn comparable(s: &mut Value) {
    normalize_context_activities(s);
    let Some(o) = s.as_object_mut() else { return };
    if let Some(t) = o.get_mut("timestamp") {
        instant(t);
    }
    if let Some(id) = o.get_mut("id") {
        lower(id);
    }
    if let Some(v) = o.get_mut("verb").and_then(Value::as_object_mut) {
        v.remove("display");
    }
    for key in ["actor", "authority"] {
        if let Some(a) = o.get_mut(key) {
            agent(a);
        }
    }
    if let Some(d) = o.get_mut("result").and_then(|r| r.get_mut("duration")) {
        if let Some(s) = d.as_str() {
            *d = Value::String(truncate_duration(s));
        }
    }
    if let Some(obj) = o.get_mut("object") {
        match obj.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => agent(obj),
            Some("SubStatement") => {
                if let Some(so) = obj.as_object_mut() {
                    so.remove("attachments");
                }
                comparable(obj);
            }
            Some("StatementRef") => {
                if let Some(id) = obj.get_mut("id") {
                    lower(id);
                }
            }
            _ => activity(obj),
        }
    }
    if let Some(c) = o.get_mut("context").and_then(Value::as_object_mut) {
        for key in ["instructor", "team"] {
            if let Some(a) = c.get_mut(key) {
                agent(a);
            }
        }
        if let Some(r) = c.get_mut("registration") {
            lower(r);
        }
        if let Some(ca) = c
            .get_mut("contextActivities")
            .and_then(Value::as_object_mut)
        {
            for list in ca.values_mut() {
                if let Value::Array(items) = list {
                    items.iter_mut().for_each(activity);
                }
            }
        }
        for (key, member) in [("contextAgents", "agent"), ("contextGroups", "group")] {
            if let Some(Value::Array(items)) = c.get_mut(key) {
                for item in items {
                    if let Some(a) = item.get_mut(member) {
                        agent(a);
                    }
                }
            }
        }
    }
}

fn instant(t: &mut Value) {
    if let Some(parsed) = t.as_str().and_then(parse_timestamp) {
        *t = Value::String(format_timestamp(parsed));
    }
}

fn lower(v: &mut Value) {
    if let Some(s) = v.as_str() {
        *v = Value::String(s.to_ascii_lowercase());
    }
}

/// Data 2.3.1.b2: the Activity definition is not part of the statement.
fn activity(a: &mut Value) {
    if let Some(o) = a.as_object_mut() {
        o.remove("definition");
        if o.get("objectType").and_then(Value::as_str) == Some("Activity") {
            o.remove("objectType");
        }
    }
}

/// Agents: default objectType, mailto domain case; Groups: members in canonical order.
fn agent(a: &mut Value) {
    let Some(o) = a.as_object_mut() else { return };
    if !o.contains_key("objectType") {
        o.insert("objectType".into(), Value::String("Agent".into()));
    }
    if let Some(m) = o.get_mut("mbox") {
        if let Some(s) = m.as_str() {
            *m = Value::String(normalize_mailto(s));
        }
    }
    if let Some(s) = o.get_mut("mbox_sha1sum") {
        lower(s);
    }
    if let Some(Value::Array(members)) = o.get_mut("member") {
        members.iter_mut().for_each(agent);
        members.sort_by_key(|m| m.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "id": "aa97b177-9383-4934-8543-0f91a7a02836",
            "actor": {"mbox": "mailto:a@Example.jp", "name": "A"},
            "verb": {"id": "http://x.y/v", "display": {"en": "did"}},
            "object": {"id": "http://x.y/o", "definition": {"name": {"en": "O"}}},
            "timestamp": "2023-05-04T12:00:00-05:00",
            "result": {"duration": "P1DT12H36M0.12S"},
            "context": {"team": {"objectType": "Group", "member": [{"mbox": "mailto:x@y.z"}, {"mbox": "mailto:w@y.z"}]},
                "contextActivities": {"parent": {"id": "http://x.y/p"}}}
        })
    }

    #[test]
    fn immutability_exceptions_are_ignored_data_2_3_1() {
        let mut stored = base();
        stored["stored"] = json!("2024-01-01T00:00:00Z");
        stored["authority"] = json!({"mbox": "mailto:lrs@k.example"});
        stored["version"] = json!("1.0.0");
        stored["actor"]["mbox"] = json!("mailto:a@example.jp");
        stored["verb"]["display"] = json!({"ja": "した"});
        stored["object"]["definition"] = json!({"name": {"ja": "オ"}});
        stored["timestamp"] = json!("2023-05-04T17:00:00.000Z");
        stored["context"]["team"]["member"] =
            json!([{"mbox": "mailto:w@y.z"}, {"mbox": "mailto:x@y.z"}]);
        stored["context"]["contextActivities"]["parent"] = json!([{"id": "http://x.y/p"}]);
        stored["result"]["duration"] = json!("P1DT12H36M0.1237S");
        assert!(statements_equivalent(&base(), &stored));
    }

    #[test]
    fn real_differences_are_not_ignored_data_2_3_1_s9_b2() {
        let mut other = base();
        other["actor"]["name"] = json!("B");
        assert!(!statements_equivalent(&base(), &other));
        let mut other = base();
        other["result"]["duration"] = json!("PT36H36M0.12S");
        assert!(!statements_equivalent(&base(), &other));
        let mut other = base();
        other["timestamp"] = json!("2023-05-04T12:00:01-05:00");
        assert!(!statements_equivalent(&base(), &other));
    }
}

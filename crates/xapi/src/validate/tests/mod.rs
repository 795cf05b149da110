//! Statement validation tests, one per rule, named after it, citing the section; bad cases follow the ADL
//! conformance suite (`test/v1_0_3/configs`, `test/v2_0/configs`).

use super::*;
use serde_json::json;

const V1: Version = Version::V1_0_3;
const V2: Version = Version::V2_0_0;

fn base() -> Value {
    json!({
        "id": "aa97b177-9383-4934-8543-0f91a7a02836",
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.jp"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended", "ja-JP": "出席した"}},
        "object": {"objectType": "Activity", "id": "http://example.jp/activities/class-1",
            "definition": {"name": {"ja": "国語"}, "type": "http://adlnet.gov/expapi/activities/meeting"}},
        "timestamp": "2024-04-01T09:00:00.000+09:00"
    })
}

/// Sets `value` at a JSON pointer in the base statement (creating objects on the way).
fn with(pointer: &str, value: Value) -> Value {
    let mut s = base();
    set(&mut s, pointer, value);
    s
}

fn set(s: &mut Value, pointer: &str, value: Value) {
    let mut cur = s;
    let keys: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for k in &keys[..keys.len() - 1] {
        if cur.get(*k).is_none() {
            cur[*k] = json!({});
        }
        cur = &mut cur[*k];
    }
    cur[keys[keys.len() - 1]] = value;
}

fn without(key: &str) -> Value {
    let mut s = base();
    s.as_object_mut().map(|o| o.remove(key));
    s
}

#[track_caller]
fn ok(s: &Value, v: Version) {
    if let Err(e) = validate_statement(s, v) {
        panic!("expected valid, got {e}");
    }
}

#[track_caller]
fn bad(s: &Value, v: Version, path_prefix: &str) {
    match validate_statement(s, v) {
        Ok(()) => panic!("expected an error at {path_prefix}"),
        Err(XapiError::Invalid { path, .. }) => {
            assert!(
                path.starts_with(path_prefix),
                "error at {path}, expected {path_prefix}"
            )
        }
        Err(e) => panic!("unexpected {e}"),
    }
}

fn sub(extra: Value) -> Value {
    let mut ss = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:s@example.jp"},
        "verb": {"id": "http://x.y/v"}, "object": {"id": "http://x.y/o"}});
    if let (Some(o), Some(e)) = (ss.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    with("/object", ss)
}

mod actors;
mod context;
mod objects;

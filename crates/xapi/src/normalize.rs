//! Preparing a validated statement for storage: the properties the LRS assigns
//! (Data 2.3.1.b1: "id", "authority", "stored", "timestamp", "version") and the one
//! structural normalisation the specification asks for (single contextActivities objects
//! become arrays, Data 2.4.6.2.s5).
//!
//! Time and identifiers come from the caller ([`StorageStamp`]) so results are
//! deterministic in tests.

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{Result, XapiError};
use crate::formats::{format_timestamp, parse_timestamp};
use crate::version::Version;

/// What the LRS adds at storage time.
#[derive(Debug, Clone)]
pub struct StorageStamp {
    /// Used as `id` when the statement has none (a fresh UUID v4 from the caller).
    pub new_id: Uuid,
    /// The storage instant: `stored` always, and `timestamp` when absent (Data 2.4.7.s3,
    /// 2.4.8).
    pub now: OffsetDateTime,
    /// The authority derived from the credentials; when `Some` it replaces any
    /// authority in the statement (Data 2.4.9.s3: the LRS SHOULD overwrite it).
    pub authority: Option<Value>,
    /// The request's version, deciding the default `version` property.
    pub version: Version,
}

/// Returns the statement as it should be stored. Call after
/// [`crate::validate_statement`]; a non-object input is rejected, never panics.
pub fn prepare_for_storage(statement: Value, stamp: &StorageStamp) -> Result<Value> {
    let Value::Object(mut o) = statement else {
        return Err(XapiError::invalid("statement", "must be an object"));
    };
    if !o.contains_key("id") {
        o.insert("id".into(), json!(stamp.new_id.hyphenated().to_string()));
    }
    let stored = format_timestamp(stamp.now);
    match o
        .get("timestamp")
        .and_then(Value::as_str)
        .map(parse_timestamp)
    {
        None => {
            o.insert("timestamp".into(), json!(stored));
        }
        // IEEE 9274.1.1 4.2.4.2 (suite "checks if the LRS converts timestamps to UTC"):
        // 2.0 statements are stored with the instant expressed in UTC. 1.0.3 keeps the
        // client's serialization (Data 2.3.1.b4 allows either).
        Some(Some(t)) if stamp.version.is_2_0() => {
            o.insert("timestamp".into(), json!(format_timestamp(t)));
        }
        Some(Some(_)) => {}
        Some(None) => {
            return Err(XapiError::invalid(
                "statement.timestamp",
                "must be an ISO 8601 date-time",
            ))
        }
    }
    o.insert("stored".into(), json!(stored));
    if let Some(a) = &stamp.authority {
        o.insert("authority".into(), a.clone());
    }
    if !o.contains_key("version") {
        o.insert(
            "version".into(),
            json!(stamp.version.default_statement_version()),
        );
    }
    let mut v = Value::Object(o);
    normalize_context_activities(&mut v);
    if let Some(sub) = v
        .get_mut("object")
        .filter(|ob| ob.get("objectType").and_then(Value::as_str) == Some("SubStatement"))
    {
        normalize_context_activities(sub);
    }
    Ok(v)
}

/// Data 2.4.6.2.s5: "Single Activity objects are allowed as values so that 0.95 Statements
/// will be compatible with 1.0.0"; the LRS returns arrays.
pub fn normalize_context_activities(statement: &mut Value) {
    let Some(ca) = statement
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for v in ca.values_mut() {
        if v.is_object() {
            *v = Value::Array(vec![v.take()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn stamp(version: Version) -> StorageStamp {
        StorageStamp {
            new_id: Uuid::from_u128(0x1234),
            now: datetime!(2024-04-01 09:00:00.5 UTC),
            authority: Some(
                json!({"objectType": "Agent", "account": {"homePage": "https://k.example", "name": "tool"}}),
            ),
            version,
        }
    }

    fn minimal() -> Value {
        json!({
            "actor": {"mbox": "mailto:a@b.c"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"id": "http://example.jp/a"},
            "context": {"contextActivities": {"parent": {"id": "http://example.jp/p"}}}
        })
    }

    #[test]
    fn lrs_assigns_id_stored_timestamp_authority_version_data_2_3_1_b1() {
        let s = prepare_for_storage(minimal(), &stamp(Version::V1_0_3)).unwrap();
        assert_eq!(s["id"], "00000000-0000-0000-0000-000000001234");
        assert_eq!(s["stored"], "2024-04-01T09:00:00.500Z");
        assert_eq!(s["timestamp"], s["stored"]);
        assert_eq!(s["authority"]["account"]["name"], "tool");
        assert_eq!(s["version"], "1.0.0");
        let s = prepare_for_storage(minimal(), &stamp(Version::V2_0_0)).unwrap();
        assert_eq!(s["version"], "2.0.0");
    }

    #[test]
    fn existing_id_timestamp_and_version_are_kept_data_2_4_10() {
        let mut m = minimal();
        m["id"] = json!("aa97b177-9383-4934-8543-0f91a7a02836");
        m["timestamp"] = json!("2023-05-04T12:00:00-05:00");
        m["version"] = json!("1.0.3");
        let s = prepare_for_storage(m.clone(), &stamp(Version::V1_0_3)).unwrap();
        assert_eq!(s["id"], m["id"]);
        assert_eq!(s["timestamp"], m["timestamp"]);
        assert_eq!(s["version"], "1.0.3");
        let s = prepare_for_storage(m, &stamp(Version::V2_0_0)).unwrap();
        assert_eq!(s["timestamp"], "2023-05-04T17:00:00.000Z");
    }

    #[test]
    fn single_context_activity_becomes_array_data_2_4_6_2() {
        let s = prepare_for_storage(minimal(), &stamp(Version::V1_0_3)).unwrap();
        assert_eq!(
            s["context"]["contextActivities"]["parent"],
            json!([{"id": "http://example.jp/p"}])
        );
        let mut m = minimal();
        m["object"] = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:a@b.c"},
            "verb": {"id": "http://x.y/v"}, "object": {"id": "http://x.y/o"},
            "context": {"contextActivities": {"other": {"id": "http://x.y/z"}}}});
        let s = prepare_for_storage(m, &stamp(Version::V1_0_3)).unwrap();
        assert!(s["object"]["context"]["contextActivities"]["other"].is_array());
    }

    #[test]
    fn non_object_is_an_error_not_a_panic() {
        assert!(prepare_for_storage(json!([1]), &stamp(Version::V1_0_3)).is_err());
    }
}

//! Small strict readers over `serde_json::Value` that name the path of every failure.
//!
//! Data 2.2.s4.b1 (1.0.3): reject null values (except inside extensions), wrong types,
//! keys whose case differs from the specification and keys not allowed by it.

use serde_json::{Map, Value};

use crate::error::{Result, XapiError};

pub(crate) type Obj = Map<String, Value>;

/// Joins a path and a key: `statement` + `actor` -> `statement.actor`.
pub(crate) fn at(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

/// Joins a path and an index: `statement.attachments` + 2 -> `statement.attachments[2]`.
pub(crate) fn idx(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The value must be a JSON object.
pub(crate) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Obj> {
    v.as_object()
        .ok_or_else(|| XapiError::invalid(path, format!("must be an object, got {}", kind(v))))
}

/// The object may only hold `allowed` keys, none of them null (Data 2.2.s4.b1.b1/b5/b7).
pub(crate) fn only_keys(o: &Obj, allowed: &[&str], path: &str) -> Result<()> {
    for (k, v) in o {
        if !allowed.contains(&k.as_str()) {
            let hint = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(k))
                .map(|a| format!(" (keys are case sensitive: did you mean {a:?}?)"))
                .unwrap_or_default();
            return Err(XapiError::invalid(
                at(path, k),
                format!("property not allowed here{hint}"),
            ));
        }
        if v.is_null() {
            return Err(XapiError::invalid(at(path, k), "must not be null"));
        }
    }
    Ok(())
}

/// An optional string property.
pub(crate) fn opt_str<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a str>> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(XapiError::invalid(
            at(path, key),
            format!("must be a string, got {}", kind(v)),
        )),
    }
}

/// A required string property.
pub(crate) fn req_str<'a>(o: &'a Obj, key: &str, path: &str) -> Result<&'a str> {
    opt_str(o, key, path)?.ok_or_else(|| XapiError::invalid(at(path, key), "is required"))
}

/// An optional boolean property (Data 2.2.s4.b1.b3: `"true"` is not a boolean).
pub(crate) fn opt_bool(o: &Obj, key: &str, path: &str) -> Result<Option<bool>> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(XapiError::invalid(
            at(path, key),
            format!("must be a boolean, got {}", kind(v)),
        )),
    }
}

/// An optional number property (Data 2.2.s4.b1.b2: `"1"` is not a number).
pub(crate) fn opt_num(o: &Obj, key: &str, path: &str) -> Result<Option<f64>> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| XapiError::invalid(at(path, key), "must be a finite number")),
        Some(v) => Err(XapiError::invalid(
            at(path, key),
            format!("must be a number, got {}", kind(v)),
        )),
    }
}

/// An optional array property.
pub(crate) fn opt_array<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a Vec<Value>>> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(v) => Err(XapiError::invalid(
            at(path, key),
            format!("must be an array, got {}", kind(v)),
        )),
    }
}

/// Describes a JSON value's type for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

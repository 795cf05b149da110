//! Shared value types: language maps (Data 4.2), extensions (Data 4.1) and IRI-valued
//! properties.

use serde_json::Value;

use crate::error::{Result, XapiError};
use crate::formats::{is_iri, is_irl, is_language_tag};
use crate::json::{at, kind, object, opt_str, Obj};

/// A Language Map: an object whose keys are RFC 5646 tags and values strings
/// (Data 4.2; Data 2.2.s4.b2; XAPI-00121, XAPI-00013).
pub(crate) fn language_map(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path).map_err(|_| {
        XapiError::invalid(
            path,
            format!("must be a language map object, got {}", kind(v)),
        )
    })?;
    for (tag, text) in o {
        if !is_language_tag(tag) {
            return Err(XapiError::invalid(
                at(path, tag),
                "key must be an RFC 5646 language tag",
            ));
        }
        if !text.is_string() {
            return Err(XapiError::invalid(
                at(path, tag),
                format!("must be a string, got {}", kind(text)),
            ));
        }
    }
    Ok(())
}

/// An optional language-map property.
pub(crate) fn opt_language_map(o: &Obj, key: &str, path: &str) -> Result<()> {
    match o.get(key) {
        Some(v) => language_map(v, &at(path, key)),
        None => Ok(()),
    }
}

/// Extensions: an object keyed by IRIs; values are any JSON, null included
/// (Data 4.1.s3.b1, XAPI-00118/00119).
pub(crate) fn extensions(o: &Obj, key: &str, path: &str) -> Result<()> {
    let Some(v) = o.get(key) else { return Ok(()) };
    let p = at(path, key);
    let map = object(v, &p)?;
    for k in map.keys() {
        if !is_iri(k) {
            return Err(XapiError::invalid(
                at(&p, k),
                "extension key must be an IRI",
            ));
        }
    }
    Ok(())
}

/// An optional IRI property.
pub(crate) fn opt_iri<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a str>> {
    let s = opt_str(o, key, path)?;
    if let Some(s) = s {
        if !is_iri(s) {
            return Err(XapiError::invalid(
                at(path, key),
                "must be an IRI with a scheme",
            ));
        }
    }
    Ok(s)
}

/// An optional IRL property.
pub(crate) fn opt_irl<'a>(o: &'a Obj, key: &str, path: &str) -> Result<Option<&'a str>> {
    let s = opt_str(o, key, path)?;
    if let Some(s) = s {
        if !is_irl(s) {
            return Err(XapiError::invalid(
                at(path, key),
                "must be an IRL with a scheme",
            ));
        }
    }
    Ok(s)
}

/// Checks an enumerated `objectType` value, exact case (Data 2.2.s4.b1.b6).
pub(crate) fn object_type<'a>(o: &'a Obj, path: &str, allowed: &[&str]) -> Result<Option<&'a str>> {
    let t = opt_str(o, "objectType", path)?;
    if let Some(t) = t {
        if !allowed.contains(&t) {
            return Err(XapiError::invalid(
                at(path, "objectType"),
                format!("must be one of {allowed:?} (case sensitive), got {t:?}"),
            ));
        }
    }
    Ok(t)
}

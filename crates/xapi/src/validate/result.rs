//! Result and Score (Data 2.4.5).

use serde_json::Value;

use super::common::extensions;
use crate::error::{Result, XapiError};
use crate::formats::is_duration;
use crate::json::{at, object, only_keys, opt_bool, opt_num, opt_str};

/// Result: score, success, completion, response, duration, extensions
/// (Data 2.4.5 table; XAPI-00074..00078).
pub(crate) fn result(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(
        o,
        &[
            "score",
            "success",
            "completion",
            "response",
            "duration",
            "extensions",
        ],
        path,
    )?;
    if let Some(s) = o.get("score") {
        score(s, &at(path, "score"))?;
    }
    opt_bool(o, "success", path)?;
    opt_bool(o, "completion", path)?;
    opt_str(o, "response", path)?;
    if let Some(d) = opt_str(o, "duration", path)? {
        if !is_duration(d) {
            return Err(XapiError::invalid(
                at(path, "duration"),
                "must be an ISO 8601 duration (PnYnMnDTnHnMnS or PnW)",
            ));
        }
    }
    extensions(o, "extensions", path)
}

/// Score: scaled in [-1, 1]; min < max; min <= raw <= max (Data 2.4.5.1;
/// XAPI-00080..00083).
fn score(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(o, &["scaled", "raw", "min", "max"], path)?;
    let scaled = opt_num(o, "scaled", path)?;
    let raw = opt_num(o, "raw", path)?;
    let min = opt_num(o, "min", path)?;
    let max = opt_num(o, "max", path)?;
    if let Some(s) = scaled {
        if !(-1.0..=1.0).contains(&s) {
            return Err(XapiError::invalid(
                at(path, "scaled"),
                "must be between -1 and 1",
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo >= hi {
            return Err(XapiError::invalid(
                at(path, "min"),
                "must be less than \"max\"",
            ));
        }
    }
    if let Some(r) = raw {
        if min.is_some_and(|lo| r < lo) {
            return Err(XapiError::invalid(
                at(path, "raw"),
                "must not be less than \"min\"",
            ));
        }
        if max.is_some_and(|hi| r > hi) {
            return Err(XapiError::invalid(
                at(path, "raw"),
                "must not be greater than \"max\"",
            ));
        }
    }
    Ok(())
}

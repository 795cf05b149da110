//! Attachment metadata in statements (Data 2.4.11; XAPI-00102..00107).

use serde_json::Value;

use super::common::{language_map, opt_iri, opt_irl, opt_language_map};
use crate::error::{Result, XapiError};
use crate::formats::{is_media_type, is_sha2_hex};
use crate::json::{at, idx, object, only_keys, opt_array, req_str};

/// `attachments`: an array of Attachment objects.
pub(crate) fn attachments(o: &crate::json::Obj, path: &str) -> Result<()> {
    let Some(list) = opt_array(o, "attachments", path)? else {
        return Ok(());
    };
    let p = at(path, "attachments");
    for (i, a) in list.iter().enumerate() {
        attachment(a, &idx(&p, i))?;
    }
    Ok(())
}

/// One Attachment: usageType IRI, display language map, description?, contentType media
/// type, length integer >= 0, sha2 hex, fileUrl? IRL.
fn attachment(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(
        o,
        &[
            "usageType",
            "display",
            "description",
            "contentType",
            "length",
            "sha2",
            "fileUrl",
        ],
        path,
    )?;
    req_str(o, "usageType", path)?;
    opt_iri(o, "usageType", path)?;
    match o.get("display") {
        Some(d) => language_map(d, &at(path, "display"))?,
        None => return Err(XapiError::invalid(at(path, "display"), "is required")),
    }
    opt_language_map(o, "description", path)?;
    let ct = req_str(o, "contentType", path)?;
    if !is_media_type(ct) {
        return Err(XapiError::invalid(
            at(path, "contentType"),
            "must be an Internet media type (type/subtype)",
        ));
    }
    match o.get("length") {
        Some(Value::Number(n)) if n.as_u64().is_some() => {}
        Some(_) => {
            return Err(XapiError::invalid(
                at(path, "length"),
                "must be a non-negative integer",
            ))
        }
        None => return Err(XapiError::invalid(at(path, "length"), "is required")),
    }
    let sha2 = req_str(o, "sha2", path)?;
    if !is_sha2_hex(sha2) {
        return Err(XapiError::invalid(
            at(path, "sha2"),
            "must be the hex SHA-2 of the content",
        ));
    }
    opt_irl(o, "fileUrl", path)?;
    Ok(())
}

//! `multipart/mixed` statement requests with attachments (Communication 1.5.2; Data
//! 2.4.11; IEEE 9274.1.1 4.1.3): a small strict parser and the attachment/part matching
//! rules.
//!
//! Rules enforced (each rejected with 400 by the suite, XAPI-00128..00135):
//! the boundary is in the Content-Type header and used in the body; the first part is
//! `application/json` and holds the statement(s); every other part has
//! `Content-Transfer-Encoding: binary` and an `X-Experience-API-Hash` equal to the SHA-2 of
//! its body; every part matches an attachment's `sha2`; every attachment without `fileUrl`
//! has a part.

use serde_json::Value;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use crate::error::{Result, XapiError};
use crate::formats::hex;

/// One MIME part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Header (name, value) pairs in order; names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An attachment's raw content, keyed by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPart {
    /// Lower-case hex from `X-Experience-API-Hash` (verified against the body).
    pub sha2: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A parsed multipart statement request.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRequest {
    /// The first part, parsed: one statement object or an array.
    pub statements: Value,
    pub attachments: Vec<AttachmentPart>,
}

/// Extracts the `boundary` parameter of a `multipart/mixed` Content-Type header.
pub fn boundary(content_type: &str) -> Result<String> {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("multipart/mixed") {
        return Err(XapiError::invalid(
            "header.Content-Type",
            "must be multipart/mixed",
        ));
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("boundary") {
                let b = v.trim().trim_matches('"');
                if b.is_empty() || b.len() > 70 {
                    break;
                }
                return Ok(b.to_string());
            }
        }
    }
    Err(XapiError::invalid(
        "header.Content-Type",
        "multipart/mixed needs a boundary parameter",
    ))
}

/// Splits a body into parts (RFC 2046 5.1.1). Lines end in CRLF.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Result<Vec<Part>> {
    let err = |rule: &str| XapiError::invalid("multipart", rule.to_string());
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = if body.starts_with(&delim) {
        0
    } else {
        let mut with_crlf = b"\r\n".to_vec();
        with_crlf.extend_from_slice(&delim);
        find(body, &with_crlf, 0)
            .ok_or_else(|| err("the boundary from the Content-Type header is not in the body"))?
            + 2
    };
    let mut next_delim = b"\r\n".to_vec();
    next_delim.extend_from_slice(&delim);
    let mut parts = Vec::new();
    loop {
        pos += delim.len();
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return if parts.is_empty() {
                Err(err("no parts"))
            } else {
                Ok(parts)
            };
        }
        // transport padding, then CRLF
        let mut p = pos;
        while matches!(body.get(p), Some(b' ') | Some(b'\t')) {
            p += 1;
        }
        if !body[p..].starts_with(b"\r\n") {
            return Err(err("a boundary line must end with CRLF"));
        }
        let start = p + 2;
        let end =
            find(body, &next_delim, start).ok_or_else(|| err("the closing boundary is missing"))?;
        parts.push(part(&body[start..end], parts.len())?);
        pos = end + 2;
    }
}

fn part(raw: &[u8], n: usize) -> Result<Part> {
    let path = format!("multipart.part[{n}]");
    let (head, body) = if raw.starts_with(b"\r\n") {
        (&raw[..0], &raw[2..])
    } else {
        let split = find(raw, b"\r\n\r\n", 0)
            .ok_or_else(|| XapiError::invalid(&path, "headers must end with an empty line"))?;
        (&raw[..split], &raw[split + 4..])
    };
    let head = std::str::from_utf8(head)
        .map_err(|_| XapiError::invalid(&path, "headers must be ASCII"))?;
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| XapiError::invalid(&path, format!("malformed header line {line:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(Part {
        headers,
        body: body.to_vec(),
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The SHA-2 hex of `body` with the digest length implied by `like` (56/64/96/128 hex).
pub fn sha2_hex_like(body: &[u8], like: &str) -> String {
    match like.len() {
        56 => hex(&Sha224::digest(body)),
        96 => hex(&Sha384::digest(body)),
        128 => hex(&Sha512::digest(body)),
        _ => hex(&Sha256::digest(body)),
    }
}

/// Parses a multipart statement request given the Content-Type header and body, checking
/// the per-part rules. Call [`check_attachment_parts`] after validating the statements.
pub fn parse_statement_request(content_type: &str, body: &[u8]) -> Result<StatementRequest> {
    let b = boundary(content_type)?;
    let parts = parse_multipart(body, &b)?;
    let mut iter = parts.into_iter().enumerate();
    let Some((_, first)) = iter.next() else {
        return Err(XapiError::invalid("multipart", "no parts"));
    };
    let ct = first.header("Content-Type").unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return Err(XapiError::invalid(
            "multipart.part[0].Content-Type",
            "the first part must be application/json and hold the statements",
        ));
    }
    let statements: Value = serde_json::from_slice(&first.body)
        .map_err(|e| XapiError::invalid("multipart.part[0]", format!("is not valid JSON: {e}")))?;
    let mut attachments = Vec::new();
    for (i, p) in iter {
        let path = format!("multipart.part[{i}]");
        let content_type = p
            .header("Content-Type")
            .ok_or_else(|| XapiError::invalid(format!("{path}.Content-Type"), "is required"))?
            .to_string();
        match p.header("Content-Transfer-Encoding") {
            Some(v) if v.eq_ignore_ascii_case("binary") => {}
            _ => {
                return Err(XapiError::invalid(
                    format!("{path}.Content-Transfer-Encoding"),
                    "must be \"binary\"",
                ))
            }
        }
        let hash = p
            .header("X-Experience-API-Hash")
            .ok_or_else(|| {
                XapiError::invalid(format!("{path}.X-Experience-API-Hash"), "is required")
            })?
            .to_ascii_lowercase();
        if sha2_hex_like(&p.body, &hash) != hash {
            return Err(XapiError::invalid(
                format!("{path}.X-Experience-API-Hash"),
                "does not match the SHA-2 of the part's content",
            ));
        }
        attachments.push(AttachmentPart {
            sha2: hash,
            content_type,
            body: p.body,
        });
    }
    Ok(StatementRequest {
        statements,
        attachments,
    })
}

/// Every attachment object in the statements (SubStatements included), with its path.
pub fn attachment_objects(statements: &Value) -> Vec<(String, &Value)> {
    let list: Vec<&Value> = match statements {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let base = if statements.is_array() {
            format!("statements[{i}]")
        } else {
            "statement".into()
        };
        for (holder, path) in [
            (Some(*s), base.clone()),
            (s.get("object"), format!("{base}.object")),
        ] {
            let Some(h) = holder else { continue };
            for (j, a) in h
                .get("attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                out.push((format!("{path}.attachments[{j}]"), a));
            }
        }
    }
    out
}

/// Matches parts to attachment metadata: each attachment without `fileUrl` needs a part
/// with its `sha2`, and each part must belong to some attachment (Communication 1.5.2;
/// XAPI-00128 "excess multi-part sections"). Pass `&[]` for an `application/json` request.
pub fn check_attachment_parts(statements: &Value, parts: &[AttachmentPart]) -> Result<()> {
    let objects = attachment_objects(statements);
    for (path, a) in &objects {
        let sha2 = a
            .get("sha2")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if a.get("fileUrl").is_none() && !parts.iter().any(|p| p.sha2 == sha2) {
            return Err(XapiError::invalid(
                format!("{path}.sha2"),
                "no multipart/mixed part carries this attachment and it has no fileUrl",
            ));
        }
    }
    for (i, p) in parts.iter().enumerate() {
        let used = objects.iter().any(|(_, a)| {
            a.get("sha2")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(&p.sha2))
        });
        if !used {
            return Err(XapiError::invalid(
                format!("multipart.part[{}]", i + 1),
                "does not match the sha2 of any attachment in the statements",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const B: &str = "-------314159265358979323846";

    fn stmt(sha: &str) -> Value {
        json!({"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://x.y/v"}, "object": {"id": "http://x.y/o"},
            "attachments": [{"usageType": "http://x.y/u", "display": {"en": "t"}, "contentType": "text/plain",
                "length": 5, "sha2": sha}]})
    }

    fn body(statement: &Value, parts: &[(&str, &str)]) -> Vec<u8> {
        let mut m = format!("--{B}\r\nContent-Type: application/json\r\n\r\n{statement}\r\n");
        for (headers, content) in parts {
            m.push_str(&format!("--{B}\r\n{headers}\r\n\r\n{content}\r\n"));
        }
        m.push_str(&format!("--{B}--\r\n"));
        m.into_bytes()
    }

    fn ct() -> String {
        format!("multipart/mixed; boundary={B}")
    }

    #[test]
    fn well_formed_request_parses_comm_1_5_2() {
        let sha = sha2_hex_like(b"hello", "");
        let h = format!("Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha}");
        let r = parse_statement_request(&ct(), &body(&stmt(&sha), &[(&h, "hello")])).unwrap();
        assert_eq!(r.attachments[0].body, b"hello");
        check_attachment_parts(&r.statements, &r.attachments).unwrap();
    }

    #[test]
    fn missing_hash_header_is_rejected_xapi_00134() {
        let sha = sha2_hex_like(b"hello", "");
        let h = "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary";
        assert!(parse_statement_request(&ct(), &body(&stmt(&sha), &[(h, "hello")])).is_err());
    }

    #[test]
    fn hash_must_match_content_and_sha2() {
        let sha = sha2_hex_like(b"hello", "");
        let wrong = "b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89";
        let h = format!("Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {wrong}");
        assert!(parse_statement_request(&ct(), &body(&stmt(&sha), &[(&h, "hello")])).is_err());
    }

    #[test]
    fn transfer_encoding_must_be_binary_xapi_00135() {
        let sha = sha2_hex_like(b"hello", "");
        let h = format!("Content-Type: text/plain\r\nX-Experience-API-Hash: {sha}");
        assert!(parse_statement_request(&ct(), &body(&stmt(&sha), &[(&h, "hello")])).is_err());
    }

    #[test]
    fn first_part_must_be_json_and_boundary_must_exist() {
        let m = format!("--{B}\r\nContent-Type: text/plain\r\n\r\nhi\r\n--{B}--\r\n");
        assert!(parse_statement_request(&ct(), m.as_bytes()).is_err());
        assert!(parse_statement_request("multipart/mixed", &body(&stmt("x"), &[])).is_err());
        assert!(
            parse_statement_request("multipart/mixed; boundary=other", &body(&stmt("x"), &[]))
                .is_err()
        );
        assert!(parse_statement_request(&ct(), b"no boundary here").is_err());
    }

    #[test]
    fn attachments_and_parts_must_match_xapi_00128() {
        let sha = sha2_hex_like(b"hello", "");
        // attachment without a part and no fileUrl
        assert!(check_attachment_parts(&stmt(&sha), &[]).is_err());
        // fileUrl makes the part optional
        let mut s = stmt(&sha);
        s["attachments"][0]["fileUrl"] = json!("http://x.y/file");
        assert!(check_attachment_parts(&s, &[]).is_ok());
        // an excess part
        let extra = AttachmentPart {
            sha2: sha2_hex_like(b"other", ""),
            content_type: "text/plain".into(),
            body: b"other".to_vec(),
        };
        assert!(check_attachment_parts(&s, &[extra]).is_err());
    }
}

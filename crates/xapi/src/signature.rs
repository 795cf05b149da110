//! Signed statements (Data 2.6; IEEE 9274.1.1 4.2.4.4 / 4.2.7): finding the signature
//! attachment, parsing the JWS compact serialization, checking `alg` and that the payload
//! is the statement that was sent.
//!
//! Not done here: verifying the RSA signature against an `x5c` certificate
//! (Data 2.6.s5.b3.b3). That needs an RSA/X.509 backend; [`Jws::signing_input`],
//! [`Jws::signature`] and [`Jws::x5c`] give the server everything to do it with the
//! workspace's one crypto backend. The conformance suite's signed statements carry no
//! `x5c`, so they are fully checked by this module.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use crate::compare::statements_equivalent;
use crate::error::{Result, XapiError};
use crate::multipart::AttachmentPart;

/// usageType of a signature attachment (Data 2.6.s4.b1).
pub const SIGNATURE_USAGE_TYPE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// A parsed JWS in compact serialization (RFC 7515 7.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Jws {
    /// `RS256`, `RS384` or `RS512`.
    pub alg: String,
    pub header: Value,
    pub payload: Value,
    /// `BASE64URL(header) "." BASE64URL(payload)`, the bytes that were signed.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jws {
    /// Parses and checks a compact JWS: three base64url parts, a JSON header with an
    /// allowed `alg` (Data 2.6.s4.b4), a JSON object payload (Data 2.6.s4.b3).
    pub fn parse(text: &str, path: &str) -> Result<Jws> {
        let text = text.trim();
        let mut it = text.split('.');
        let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(XapiError::invalid(
                path,
                "must be a JWS in compact serialization (three dot-separated parts)",
            ));
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| XapiError::invalid(path, format!("JWS {what} is not base64url")))
        };
        let header: Value = serde_json::from_slice(&decode(h, "header")?)
            .map_err(|_| XapiError::invalid(path, "JWS header is not JSON"))?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| XapiError::invalid(path, "JWS header has no \"alg\""))?
            .to_string();
        if !matches!(alg.as_str(), "RS256" | "RS384" | "RS512") {
            return Err(XapiError::invalid(
                path,
                format!("JWS alg must be RS256, RS384 or RS512, got {alg:?}"),
            ));
        }
        let payload: Value = serde_json::from_slice(&decode(p, "payload")?).map_err(|_| {
            XapiError::invalid(
                path,
                "JWS payload is not a valid JSON serialization of a statement",
            )
        })?;
        if !payload.is_object() {
            return Err(XapiError::invalid(
                path,
                "JWS payload must be a statement object",
            ));
        }
        let signature = decode(s, "signature")?;
        if signature.is_empty() {
            return Err(XapiError::invalid(path, "JWS signature is empty"));
        }
        Ok(Jws {
            alg,
            header,
            payload,
            signing_input: format!("{h}.{p}"),
            signature,
        })
    }

    /// The DER certificates of the `x5c` header, if present (RFC 7515 4.1.6).
    pub fn x5c(&self) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(list) = self.header.get("x5c") else {
            return Ok(None);
        };
        let list = list
            .as_array()
            .ok_or_else(|| XapiError::invalid("jws.x5c", "must be an array"))?;
        list.iter()
            .map(|c| {
                c.as_str()
                    .and_then(|s| STANDARD.decode(s).ok())
                    .ok_or_else(|| {
                        XapiError::invalid("jws.x5c", "entries must be base64 DER certificates")
                    })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

/// Checks every signature attachment of one statement: contentType
/// `application/octet-stream`, the part present, the JWS well formed, and its payload
/// equivalent to the statement (Data 2.6.s5.b3; comparison per Data 2.3.1). Returns the
/// parsed signatures for optional certificate verification.
pub fn check_signed_statement(
    statement: &Value,
    parts: &[AttachmentPart],
    path: &str,
) -> Result<Vec<Jws>> {
    let mut out = Vec::new();
    let list = statement.get("attachments").and_then(Value::as_array);
    for (i, a) in list.into_iter().flatten().enumerate() {
        if a.get("usageType").and_then(Value::as_str) != Some(SIGNATURE_USAGE_TYPE) {
            continue;
        }
        let ap = format!("{path}.attachments[{i}]");
        if a.get("contentType").and_then(Value::as_str) != Some("application/octet-stream") {
            return Err(XapiError::invalid(
                format!("{ap}.contentType"),
                "a signature attachment must be application/octet-stream",
            ));
        }
        let sha2 = a.get("sha2").and_then(Value::as_str).unwrap_or("");
        let part = parts
            .iter()
            .find(|p| p.sha2.eq_ignore_ascii_case(sha2))
            .ok_or_else(|| {
                XapiError::invalid(format!("{ap}.sha2"), "the signature part is missing")
            })?;
        let text = std::str::from_utf8(&part.body)
            .map_err(|_| XapiError::invalid(&ap, "the JWS must be ASCII"))?;
        let jws = Jws::parse(text, &ap)?;
        if !statements_equivalent(&jws.payload, statement) {
            return Err(XapiError::invalid(
                &ap,
                "the JWS payload is not the statement that was sent (Data 2.6.s5.b3.b2)",
            ));
        }
        out.push(jws);
    }
    Ok(out)
}

/// Runs [`check_signed_statement`] on one statement or each statement of a batch.
pub fn check_signatures(statements: &Value, parts: &[AttachmentPart]) -> Result<Vec<Jws>> {
    match statements {
        Value::Array(items) => {
            let mut all = Vec::new();
            for (i, s) in items.iter().enumerate() {
                all.extend(check_signed_statement(
                    s,
                    parts,
                    &format!("statements[{i}]"),
                )?);
            }
            Ok(all)
        }
        s => check_signed_statement(s, parts, "statement"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multipart::sha2_hex_like;
    use serde_json::json;

    fn jws(alg: &str, payload: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
        let p = URL_SAFE_NO_PAD.encode(payload);
        format!(
            "{h}.{p}.{}",
            URL_SAFE_NO_PAD.encode(b"not-a-real-signature")
        )
    }

    fn statement() -> Value {
        json!({"id": "aa97b177-9383-4934-8543-0f91a7a02836", "actor": {"mbox": "mailto:a@b.c"},
            "verb": {"id": "http://x.y/v"}, "object": {"id": "http://x.y/o"}})
    }

    fn signed(sig: &str, content_type: &str) -> (Value, Vec<AttachmentPart>) {
        let sha = sha2_hex_like(sig.as_bytes(), "");
        let mut s = statement();
        s["attachments"] = json!([{"usageType": SIGNATURE_USAGE_TYPE, "display": {"en-US": "sig"},
            "contentType": content_type, "length": sig.len(), "sha2": sha}]);
        let part = AttachmentPart {
            sha2: sha,
            content_type: content_type.into(),
            body: sig.as_bytes().to_vec(),
        };
        (s, vec![part])
    }

    #[test]
    fn rs256_384_512_are_accepted_data_2_6_s4_b4() {
        for alg in ["RS256", "RS384", "RS512"] {
            let (s, parts) = signed(
                &jws(alg, &statement().to_string()),
                "application/octet-stream",
            );
            assert_eq!(check_signatures(&s, &parts).unwrap()[0].alg, alg);
        }
    }

    #[test]
    fn other_algorithms_are_rejected_data_2_6_s4_b4() {
        let (s, parts) = signed(
            &jws("HS256", &statement().to_string()),
            "application/octet-stream",
        );
        assert!(check_signatures(&s, &parts).is_err());
    }

    #[test]
    fn bad_content_type_is_rejected_xapi_00115() {
        let (s, parts) = signed(
            &jws("RS256", &statement().to_string()),
            "text/plain; charset=ascii",
        );
        assert!(check_signatures(&s, &parts).is_err());
    }

    #[test]
    fn invalid_json_payload_is_rejected_xapi_00116() {
        let broken = statement().to_string().replacen('"', "'", 1);
        let (s, parts) = signed(&jws("RS256", &broken), "application/octet-stream");
        assert!(check_signatures(&s, &parts).is_err());
        let (s, parts) = signed("not.a.jws.at.all", "application/octet-stream");
        assert!(check_signatures(&s, &parts).is_err());
    }

    #[test]
    fn payload_must_match_the_statement_data_2_6_s5_b3_b2() {
        let mut other = statement();
        other["verb"]["id"] = json!("http://x.y/other");
        let (s, parts) = signed(
            &jws("RS256", &other.to_string()),
            "application/octet-stream",
        );
        assert!(check_signatures(&s, &parts).is_err());
    }
}

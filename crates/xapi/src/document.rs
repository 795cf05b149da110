//! Document resources (State, Activity Profile, Agent Profile; Communication 2.2–2.7) and
//! the Activities/Agents resources: parameter validation, ETags, JSON merge on POST and
//! the concurrency rules (Communication 3.1; IEEE 9274.1.1 4.1.4).

use serde_json::Value;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::agent::{parse_agent_param, Ifi};
use crate::error::{Result, XapiError};
use crate::formats::{hex, is_iri, parse_timestamp, parse_uuid};

/// The quoted SHA-1 hex of a document's bytes. Communication 3.1 (1.0.3): "the value
/// should be calculated as a SHA1 hexadecimal value"; the 1.0.3 suite checks 40 hex digits
/// in quotes, the 2.0 suite any quoted value.
pub fn etag(content: &[u8]) -> String {
    format!("\"{}\"", hex(&Sha1::digest(content)))
}

/// POST to a document resource merges JSON objects: top-level properties of `incoming`
/// replace those of `existing` (Communication 2.2.s6 "JSON Procedure with Requirements").
/// Both must be JSON objects, else 400.
pub fn merge_documents(existing: &[u8], incoming: &[u8]) -> Result<Value> {
    let parse = |bytes: &[u8], what: &str| -> Result<serde_json::Map<String, Value>> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(XapiError::invalid(
                what,
                "POST can only merge JSON objects; use PUT to replace a non-JSON document",
            )),
        }
    };
    let mut merged = parse(existing, "document.stored")?;
    merged.extend(parse(incoming, "document.body")?);
    Ok(Value::Object(merged))
}

/// HTTP method of a document request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocMethod {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

/// Which document resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocResource {
    /// activities/state: activityId, agent, registration?, stateId.
    State,
    /// activities/profile: activityId, profileId.
    ActivityProfile,
    /// agents/profile: agent, profileId.
    AgentProfile,
}

/// Validated document parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DocParams {
    pub activity_id: Option<String>,
    pub agent: Option<Ifi>,
    pub registration: Option<Uuid>,
    /// `stateId` or `profileId`; `None` asks for the list of ids (GET) or, for State
    /// DELETE, all matching documents.
    pub doc_id: Option<String>,
    /// Only on list GETs: ids of documents stored after this instant.
    pub since: Option<OffsetDateTime>,
}

/// Validates document resource parameters (Communication 2.3 table, 2.6, 2.7):
/// required parameters present, values well-formed, no unknown parameters.
pub fn parse_document_params(
    resource: DocResource,
    method: DocMethod,
    params: &[(String, String)],
) -> Result<DocParams> {
    let (allowed, id_name): (&[&str], &str) = match resource {
        DocResource::State => (
            &["activityId", "agent", "registration", "stateId", "since"],
            "stateId",
        ),
        DocResource::ActivityProfile => (&["activityId", "profileId", "since"], "profileId"),
        DocResource::AgentProfile => (&["agent", "profileId", "since"], "profileId"),
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in params {
        if !allowed.contains(&k.as_str()) {
            return Err(XapiError::invalid(
                format!("query.{k}"),
                "unknown parameter",
            ));
        }
        if seen.contains(&k.as_str()) {
            return Err(XapiError::invalid(
                format!("query.{k}"),
                "given more than once",
            ));
        }
        seen.push(k);
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let activity_id = match get("activityId") {
        Some(a) if is_iri(a) => Some(a.to_string()),
        Some(_) => return Err(XapiError::invalid("query.activityId", "must be an IRI")),
        None if resource != DocResource::AgentProfile => {
            return Err(XapiError::invalid("query.activityId", "is required"))
        }
        None => None,
    };
    let agent = match get("agent") {
        Some(text) => Some(parse_agent_param(text, "query.agent")?.1),
        None if resource != DocResource::ActivityProfile => {
            return Err(XapiError::invalid("query.agent", "is required"))
        }
        None => None,
    };
    let registration = get("registration")
        .map(|r| {
            parse_uuid(r).ok_or_else(|| XapiError::invalid("query.registration", "must be a UUID"))
        })
        .transpose()?;
    let doc_id = get(id_name).map(str::to_string);
    let needs_id = match method {
        DocMethod::Put | DocMethod::Post => true,
        DocMethod::Delete => resource != DocResource::State,
        DocMethod::Get | DocMethod::Head => false,
    };
    if needs_id && doc_id.is_none() {
        return Err(XapiError::invalid(
            format!("query.{id_name}"),
            "is required",
        ));
    }
    let since = get("since")
        .map(|s| {
            parse_timestamp(s)
                .ok_or_else(|| XapiError::invalid("query.since", "must be an ISO 8601 timestamp"))
        })
        .transpose()?;
    if since.is_some() && (doc_id.is_some() || !matches!(method, DocMethod::Get | DocMethod::Head))
    {
        return Err(XapiError::invalid(
            "query.since",
            format!("only allowed when listing ids (GET without {id_name})"),
        ));
    }
    Ok(DocParams {
        activity_id,
        agent,
        registration,
        doc_id,
        since,
    })
}

/// Communication 3.1 / IEEE 9274.1.1 4.1.4 preconditions for a write (PUT, POST, DELETE).
///
/// `current` is the ETag of the stored document, if any. `require_header_on_put` is the
/// "PUT without If-Match/If-None-Match on an existing document → 409" rule (1.0.3: Activity
/// and Agent Profile resources; 2.0: all document resources).
pub fn check_preconditions(
    method: DocMethod,
    current: Option<&str>,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    require_header_on_put: bool,
) -> Result<()> {
    let matches = |header: &str, tag: &str| {
        header
            .split(',')
            .map(str::trim)
            .any(|h| h == "*" || h.trim_start_matches("W/") == tag)
    };
    if let Some(h) = if_match {
        let ok = current.is_some_and(|tag| matches(h, tag));
        if !ok {
            return Err(XapiError::PreconditionFailed(
                "If-Match does not match the current ETag".into(),
            ));
        }
    }
    if let Some(h) = if_none_match {
        let hit = match current {
            Some(tag) => matches(h, tag),
            None => false,
        };
        if hit {
            return Err(XapiError::PreconditionFailed(
                "If-None-Match: the document exists".into(),
            ));
        }
    }
    if method == DocMethod::Put
        && require_header_on_put
        && current.is_some()
        && if_match.is_none()
        && if_none_match.is_none()
    {
        return Err(XapiError::Conflict(
            "the document exists: send If-Match with its ETag, or If-None-Match: *".into(),
        ));
    }
    Ok(())
}

/// GET /activities: `activityId` IRI, required (Communication 2.5).
pub fn parse_activity_params(params: &[(String, String)]) -> Result<String> {
    single_param(params, "activityId").and_then(|a| {
        if is_iri(a) {
            Ok(a.to_string())
        } else {
            Err(XapiError::invalid("query.activityId", "must be an IRI"))
        }
    })
}

/// GET /agents: `agent` JSON Agent, required (Communication 2.4).
pub fn parse_agents_params(params: &[(String, String)]) -> Result<(Value, Ifi)> {
    parse_agent_param(single_param(params, "agent")?, "query.agent")
}

fn single_param<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str> {
    if let Some((k, _)) = params.iter().find(|(k, _)| k != name) {
        return Err(XapiError::invalid(
            format!("query.{k}"),
            "unknown parameter",
        ));
    }
    match params {
        [(_, v)] => Ok(v),
        [] => Err(XapiError::invalid(format!("query.{name}"), "is required")),
        _ => Err(XapiError::invalid(
            format!("query.{name}"),
            "given more than once",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }
    const AGENT: &str = r#"{"objectType":"Agent","mbox":"mailto:a@example.jp"}"#;

    #[test]
    fn etag_is_quoted_sha1_hex_comm_3_1() {
        assert_eq!(etag(b"abc"), "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
        assert_eq!(etag(b"").len(), 42);
    }

    #[test]
    fn post_merges_json_objects_only_comm_2_2() {
        let m = merge_documents(br#"{"a":1,"b":2}"#, br#"{"b":3,"c":4}"#).unwrap();
        assert_eq!(m, serde_json::json!({"a":1,"b":3,"c":4}));
        assert!(merge_documents(b"plain text", br#"{"a":1}"#).is_err());
        assert!(merge_documents(br#"{"a":1}"#, b"[1]").is_err());
    }

    #[test]
    fn state_params_required_and_validated_comm_2_3() {
        let ok = parse_document_params(
            DocResource::State,
            DocMethod::Put,
            &p(&[
                ("activityId", "http://x.y/a"),
                ("agent", AGENT),
                ("stateId", "s1"),
                ("registration", "aa97b177-9383-4934-8543-0f91a7a02836"),
            ]),
        )
        .unwrap();
        assert_eq!(ok.doc_id.as_deref(), Some("s1"));
        for bad in [
            vec![("agent", AGENT), ("stateId", "s1")],
            vec![("activityId", "http://x.y/a"), ("stateId", "s1")],
            vec![
                ("activityId", "not iri"),
                ("agent", AGENT),
                ("stateId", "s1"),
            ],
            vec![
                ("activityId", "http://x.y/a"),
                ("agent", r#"{"mbox":"x"}"#),
                ("stateId", "s1"),
            ],
            vec![
                ("activityId", "http://x.y/a"),
                ("agent", AGENT),
                ("stateId", "s1"),
                ("registration", "x"),
            ],
            vec![("activityId", "http://x.y/a"), ("agent", AGENT)],
            vec![
                ("activityId", "http://x.y/a"),
                ("agent", AGENT),
                ("stateId", "s1"),
                ("foo", "bar"),
            ],
        ] {
            assert!(
                parse_document_params(DocResource::State, DocMethod::Put, &p(&bad)).is_err(),
                "{bad:?}"
            );
        }
        let list = parse_document_params(
            DocResource::State,
            DocMethod::Get,
            &p(&[
                ("activityId", "http://x.y/a"),
                ("agent", AGENT),
                ("since", "2024-01-01T00:00:00Z"),
            ]),
        )
        .unwrap();
        assert!(list.since.is_some() && list.doc_id.is_none());
        assert!(parse_document_params(
            DocResource::State,
            DocMethod::Delete,
            &p(&[("activityId", "http://x.y/a"), ("agent", AGENT),])
        )
        .is_ok());
    }

    #[test]
    fn profile_params_comm_2_6_2_7() {
        assert!(parse_document_params(
            DocResource::ActivityProfile,
            DocMethod::Get,
            &p(&[("activityId", "http://x.y/a")])
        )
        .is_ok());
        assert!(parse_document_params(
            DocResource::ActivityProfile,
            DocMethod::Put,
            &p(&[("activityId", "http://x.y/a")])
        )
        .is_err());
        assert!(parse_document_params(
            DocResource::AgentProfile,
            DocMethod::Delete,
            &p(&[("agent", AGENT), ("profileId", "p")])
        )
        .is_ok());
        assert!(parse_document_params(
            DocResource::AgentProfile,
            DocMethod::Get,
            &p(&[("profileId", "p")])
        )
        .is_err());
        assert!(parse_activity_params(&p(&[("activityId", "http://x.y/a")])).is_ok());
        assert!(parse_activity_params(&p(&[])).is_err());
        assert!(parse_agents_params(&p(&[("agent", AGENT)])).is_ok());
        assert!(parse_agents_params(&p(&[("agent", AGENT), ("x", "y")])).is_err());
    }

    #[test]
    fn preconditions_comm_3_1() {
        let tag = "\"abc\"";
        assert!(check_preconditions(DocMethod::Put, Some(tag), Some(tag), None, true).is_ok());
        assert_eq!(
            check_preconditions(DocMethod::Put, Some(tag), Some("\"zzz\""), None, true)
                .unwrap_err()
                .status(),
            412
        );
        assert_eq!(
            check_preconditions(DocMethod::Put, Some(tag), None, Some("*"), true)
                .unwrap_err()
                .status(),
            412
        );
        assert!(check_preconditions(DocMethod::Put, None, None, Some("*"), true).is_ok());
        assert_eq!(
            check_preconditions(DocMethod::Put, Some(tag), None, None, true)
                .unwrap_err()
                .status(),
            409
        );
        assert!(check_preconditions(DocMethod::Put, Some(tag), None, None, false).is_ok());
        assert!(check_preconditions(DocMethod::Post, Some(tag), None, None, true).is_ok());
        assert_eq!(
            check_preconditions(DocMethod::Delete, None, Some(tag), None, true)
                .unwrap_err()
                .status(),
            412
        );
    }
}

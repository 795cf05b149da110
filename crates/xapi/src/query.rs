//! GET /statements query parameters (Communication 2.1.3; IEEE 9274.1.1 4.1.6.1).
//!
//! The server hands over the decoded `(name, value)` pairs; this module returns a typed
//! [`StatementQuery`] or the 400 the specification requires: unknown or wrongly-cased
//! parameters (Communication 3.2.s2.b1, 3.2.s3.b8), repeated parameters, both
//! `statementId` and `voidedStatementId`, or either of them combined with anything but
//! `format` and `attachments` (Communication 2.1.3.s1.b2).

use time::OffsetDateTime;
use uuid::Uuid;

use crate::agent::Ifi;
use crate::error::{Result, XapiError};
use crate::formats::{is_iri, parse_timestamp, parse_uuid};
use crate::output::StatementFormat;

/// A parsed GET /statements request.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementQuery {
    /// `statementId` or `voidedStatementId`: one statement.
    Single {
        id: Uuid,
        /// True for `voidedStatementId`: only a voided statement matches; for
        /// `statementId` a voided statement must *not* be returned (Data 2.3.2.s3).
        voided: bool,
        format: StatementFormat,
        attachments: bool,
    },
    /// A filtered list.
    Filter(StatementFilter),
}

/// The filters of a list query. Filters combine with AND. The store answers with
/// non-voided statements only, but statements *targeting* voided ones still match
/// (Communication 2.1.4 "Filter Conditions for StatementRefs").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatementFilter {
    /// Agent or identified Group IFI; matches actor or object, or with
    /// `related_agents` any of [`crate::StatementIndex::related_agents`].
    pub agent: Option<Ifi>,
    /// Verb id (exact).
    pub verb: Option<String>,
    /// Activity id; matches the object, or with `related_activities` any of
    /// [`crate::StatementIndex::related_activities`].
    pub activity: Option<String>,
    pub registration: Option<Uuid>,
    pub related_activities: bool,
    pub related_agents: bool,
    /// Only statements stored strictly after this instant.
    pub since: Option<OffsetDateTime>,
    /// Only statements stored at or before this instant.
    pub until: Option<OffsetDateTime>,
    /// Maximum number of statements; 0 means the server's maximum.
    pub limit: u32,
    pub format: StatementFormat,
    pub attachments: bool,
    /// Oldest first when true; newest first (the default) otherwise.
    pub ascending: bool,
}

const KNOWN: [&str; 14] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
];

/// Parses GET /statements parameters. Errors name the parameter as `query.<name>`.
pub fn parse_statement_query(params: &[(String, String)]) -> Result<StatementQuery> {
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in params {
        let p = format!("query.{name}");
        if !KNOWN.contains(&name.as_str()) {
            let hint = KNOWN
                .iter()
                .find(|k| k.eq_ignore_ascii_case(name))
                .map(|k| format!(" (parameter names are case sensitive: {k:?})"))
                .unwrap_or_default();
            return Err(XapiError::invalid(p, format!("unknown parameter{hint}")));
        }
        if seen.contains(&name.as_str()) {
            return Err(XapiError::invalid(p, "given more than once"));
        }
        seen.push(name);
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let format = match get("format") {
        None => StatementFormat::Exact,
        Some(f) => StatementFormat::parse(f)
            .ok_or_else(|| XapiError::invalid("query.format", "must be exact, ids or canonical"))?,
    };
    let attachments = boolean(get("attachments"), "attachments")?;

    let single = match (get("statementId"), get("voidedStatementId")) {
        (Some(_), Some(_)) => {
            return Err(XapiError::invalid(
                "query.voidedStatementId",
                "cannot be combined with statementId",
            ))
        }
        (Some(id), None) => Some(("statementId", id, false)),
        (None, Some(id)) => Some(("voidedStatementId", id, true)),
        (None, None) => None,
    };
    if let Some((name, id, voided)) = single {
        if let Some(other) = seen.iter().find(|n| {
            !matches!(
                **n,
                "statementId" | "voidedStatementId" | "format" | "attachments"
            )
        }) {
            return Err(XapiError::invalid(
                format!("query.{other}"),
                format!("cannot be combined with {name}"),
            ));
        }
        let id = parse_uuid(id)
            .ok_or_else(|| XapiError::invalid(format!("query.{name}"), "must be a UUID"))?;
        return Ok(StatementQuery::Single {
            id,
            voided,
            format,
            attachments,
        });
    }

    let agent = match get("agent") {
        None => None,
        Some(text) => {
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                XapiError::invalid(
                    "query.agent",
                    format!("must be an Agent or Group as JSON: {e}"),
                )
            })?;
            crate::validate::validate_agent_or_group(&v, "query.agent")?;
            Some(Ifi::of(&v).ok_or_else(|| {
                XapiError::invalid("query.agent", "must be an Agent or an identified Group")
            })?)
        }
    };
    let iri = |k: &str| -> Result<Option<String>> {
        match get(k) {
            Some(v) if is_iri(v) => Ok(Some(v.to_string())),
            Some(_) => Err(XapiError::invalid(format!("query.{k}"), "must be an IRI")),
            None => Ok(None),
        }
    };
    let time = |k: &str| -> Result<Option<OffsetDateTime>> {
        get(k)
            .map(|v| {
                parse_timestamp(v).ok_or_else(|| {
                    XapiError::invalid(format!("query.{k}"), "must be an ISO 8601 timestamp")
                })
            })
            .transpose()
    };
    let registration = get("registration")
        .map(|v| {
            parse_uuid(v).ok_or_else(|| XapiError::invalid("query.registration", "must be a UUID"))
        })
        .transpose()?;
    let limit = match get("limit") {
        None => 0,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| XapiError::invalid("query.limit", "must be a non-negative integer"))?,
    };
    Ok(StatementQuery::Filter(StatementFilter {
        agent,
        verb: iri("verb")?,
        activity: iri("activity")?,
        registration,
        related_activities: boolean(get("related_activities"), "related_activities")?,
        related_agents: boolean(get("related_agents"), "related_agents")?,
        since: time("since")?,
        until: time("until")?,
        limit,
        format,
        attachments,
        ascending: boolean(get("ascending"), "ascending")?,
    }))
}

/// `true` / `false` (Data 2.2.s4.b4: parameters are validated like statement values).
fn boolean(v: Option<&str>, name: &str) -> Result<bool> {
    match v {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(XapiError::invalid(
            format!("query.{name}"),
            "must be true or false",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<StatementQuery> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        parse_statement_query(&owned)
    }

    const ID: &str = "aa97b177-9383-4934-8543-0f91a7a02836";

    #[test]
    fn statement_id_alone_or_with_format_and_attachments_comm_2_1_3() {
        let r = q(&[
            ("statementId", ID),
            ("format", "ids"),
            ("attachments", "true"),
        ])
        .unwrap();
        assert!(matches!(
            r,
            StatementQuery::Single {
                voided: false,
                format: StatementFormat::Ids,
                attachments: true,
                ..
            }
        ));
        let r = q(&[("voidedStatementId", ID)]).unwrap();
        assert!(matches!(r, StatementQuery::Single { voided: true, .. }));
    }

    #[test]
    fn statement_id_with_other_params_is_rejected_comm_2_1_3() {
        for (k, v) in [
            ("agent", r#"{"mbox":"mailto:a@b.c"}"#),
            ("verb", "http://x.y/v"),
            ("activity", "http://x.y/a"),
            ("registration", ID),
            ("related_activities", "true"),
            ("related_agents", "true"),
            ("since", "2020-01-01T00:00:00Z"),
            ("until", "2020-01-01T00:00:00Z"),
            ("limit", "1"),
            ("ascending", "true"),
        ] {
            for single in ["statementId", "voidedStatementId"] {
                let e = q(&[(single, ID), (k, v)]).unwrap_err();
                assert_eq!(
                    e.to_string().split(':').next().unwrap(),
                    format!("query.{k}")
                );
            }
        }
        assert!(q(&[("statementId", ID), ("voidedStatementId", ID)]).is_err());
    }

    #[test]
    fn unknown_and_miscased_params_are_rejected_comm_3_2() {
        assert!(q(&[("foo", "bar")]).is_err());
        let e = q(&[("StatementId", ID)]).unwrap_err();
        assert!(e.to_string().contains("case sensitive"), "{e}");
        assert!(q(&[("limit", "1"), ("limit", "2")]).is_err());
    }

    #[test]
    fn parameter_values_are_validated_data_2_2_s4_b4() {
        assert!(q(&[("statementId", "not-a-uuid")]).is_err());
        assert!(q(&[("agent", "{bad json")]).is_err());
        assert!(q(&[("agent", r#"{"mbox":"a@b.c"}"#)]).is_err());
        assert!(q(&[("verb", "not an iri")]).is_err());
        assert!(q(&[("since", "yesterday")]).is_err());
        assert!(q(&[("limit", "-1")]).is_err());
        assert!(q(&[("ascending", "yes")]).is_err());
        assert!(q(&[("format", "Exact")]).is_err());
        assert!(q(&[("registration", "x")]).is_err());
    }

    #[test]
    fn filter_parses_all_fields() {
        let r = q(&[
            ("agent", r#"{"objectType":"Agent","mbox":"mailto:a@b.c"}"#),
            ("verb", "http://adlnet.gov/expapi/verbs/attended"),
            ("activity", "http://x.y/a"),
            ("registration", ID),
            ("related_activities", "true"),
            ("related_agents", "false"),
            ("since", "2020-01-01T00:00:00Z"),
            ("limit", "10"),
            ("format", "canonical"),
            ("ascending", "true"),
        ])
        .unwrap();
        let StatementQuery::Filter(f) = r else {
            panic!("expected a filter")
        };
        assert_eq!(f.agent.unwrap().key(), "mbox:mailto:a@b.c");
        assert_eq!(f.limit, 10);
        assert!(f.related_activities && !f.related_agents && f.ascending);
        assert_eq!(f.format, StatementFormat::Canonical);
        assert!(f.since.is_some() && f.until.is_none());
    }
}

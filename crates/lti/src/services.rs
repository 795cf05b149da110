//! LTI Advantage services: Names and Role Provisioning Services 2.0 and Assignment and Grade
//! Services 2.0 — their OAuth scopes, media types and documents.

use serde_json::{json, Map, Value};

pub const SCOPE_LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
pub const SCOPE_LINEITEM_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
pub const SCOPE_RESULT_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
pub const SCOPE_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
pub const SCOPE_NRPS: &str =
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

/// Every scope a tool may be granted, in the order the launch lists the AGS ones.
pub const AGS_SCOPES: [&str; 4] = [
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
];
pub const ALL_SCOPES: [&str; 5] = [
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCOPE_NRPS,
];

pub const MEDIA_MEMBERSHIPS: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";
pub const MEDIA_LINEITEM: &str = "application/vnd.ims.lis.v2.lineitem+json";
pub const MEDIA_LINEITEMS: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
pub const MEDIA_SCORE: &str = "application/vnd.ims.lis.v1.score+json";
pub const MEDIA_RESULTS: &str = "application/vnd.ims.lis.v2.resultcontainer+json";

/// RFC 6749 3.3: the requested scopes this platform knows, or the unknown one.
pub fn parse_scopes(requested: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !ALL_SCOPES.contains(&s) {
            return Err(s.to_owned());
        }
        if !out.iter().any(|x: &String| x == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// `true` when `granted` holds one of `any_of`.
pub fn has_scope(granted: &[String], any_of: &[&str]) -> bool {
    granted.iter().any(|g| any_of.contains(&g.as_str()))
}

/// One member of an NRPS membership container (NRPS 2.0 §2.2). Names and e-mail are present
/// only when the tool may receive them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub roles: Vec<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
}

impl Member {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), json!("Active"));
        m.insert("user_id".into(), json!(self.user_id));
        m.insert("roles".into(), json!(self.roles));
        for (k, v) in [
            ("name", &self.name),
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("email", &self.email),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }
}

/// NRPS 2.0 §2.1: the membership container of one page.
pub fn membership_container(
    url: &str,
    context: &crate::claims::Context,
    members: &[Member],
) -> Value {
    json!({
        "id": url,
        "context": { "id": context.id, "label": context.label, "title": context.title },
        "members": members.iter().map(Member::to_json).collect::<Vec<_>>(),
    })
}

/// A line item as the tool writes it (AGS 2.0 §3.2).
#[derive(Clone, Debug, PartialEq)]
pub struct LineItemInput {
    pub label: String,
    pub score_maximum: f64,
    pub resource_id: Option<String>,
    pub tag: Option<String>,
    pub resource_link_id: Option<String>,
    pub start_date_time: Option<String>,
    pub end_date_time: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("{0}")]
    Invalid(String),
}

fn invalid(s: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(s.into())
}

fn opt_text(v: &Value, k: &str) -> Result<Option<String>, ServiceError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

/// Parses a line item body (AGS 2.0 §3.2: `label` and `scoreMaximum > 0` are required).
pub fn parse_line_item(body: &[u8]) -> Result<LineItemInput, ServiceError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ServiceError::NotJson(e.to_string()))?;
    let label = opt_text(&v, "label")?
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| invalid("label is required (AGS 2.0 §3.2.4)"))?;
    let score_maximum = v
        .get("scoreMaximum")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0 && m.is_finite())
        .ok_or_else(|| invalid("scoreMaximum must be a number greater than 0 (AGS 2.0 §3.2.5)"))?;
    Ok(LineItemInput {
        label,
        score_maximum,
        resource_id: opt_text(&v, "resourceId")?,
        tag: opt_text(&v, "tag")?,
        resource_link_id: opt_text(&v, "resourceLinkId")?,
        start_date_time: opt_text(&v, "startDateTime")?,
        end_date_time: opt_text(&v, "endDateTime")?,
    })
}

/// A stored line item as JSON (AGS 2.0 §3.2).
pub fn line_item_json(id_url: &str, li: &LineItemInput) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id_url));
    m.insert("label".into(), json!(li.label));
    m.insert("scoreMaximum".into(), json!(li.score_maximum));
    for (k, v) in [
        ("resourceId", &li.resource_id),
        ("tag", &li.tag),
        ("resourceLinkId", &li.resource_link_id),
        ("startDateTime", &li.start_date_time),
        ("endDateTime", &li.end_date_time),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    Value::Object(m)
}

/// AGS 2.0 §3.4.5–3.4.6.
pub const ACTIVITY_PROGRESS: [&str; 5] = [
    "Initialized",
    "Started",
    "InProgress",
    "Submitted",
    "Completed",
];
pub const GRADING_PROGRESS: [&str; 5] = [
    "FullyGraded",
    "Pending",
    "PendingManual",
    "Failed",
    "NotReady",
];

/// A score as the tool posts it (AGS 2.0 §3.4).
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub user_id: String,
    pub score_given: Option<f64>,
    pub score_maximum: Option<f64>,
    pub comment: Option<String>,
    pub timestamp: String,
    pub activity_progress: String,
    pub grading_progress: String,
}

/// Parses a score (AGS 2.0 §3.4: `userId`, `timestamp`, `activityProgress`,
/// `gradingProgress` are required; `scoreGiven` needs `scoreMaximum`).
pub fn parse_score(body: &[u8]) -> Result<Score, ServiceError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ServiceError::NotJson(e.to_string()))?;
    let user_id = opt_text(&v, "userId")?.ok_or_else(|| invalid("userId is required"))?;
    let timestamp = opt_text(&v, "timestamp")?.ok_or_else(|| invalid("timestamp is required"))?;
    let activity_progress =
        opt_text(&v, "activityProgress")?.ok_or_else(|| invalid("activityProgress is required"))?;
    if !ACTIVITY_PROGRESS.contains(&activity_progress.as_str()) {
        return Err(invalid(format!(
            "activityProgress {activity_progress:?}: use one of {}",
            ACTIVITY_PROGRESS.join(", ")
        )));
    }
    let grading_progress =
        opt_text(&v, "gradingProgress")?.ok_or_else(|| invalid("gradingProgress is required"))?;
    if !GRADING_PROGRESS.contains(&grading_progress.as_str()) {
        return Err(invalid(format!(
            "gradingProgress {grading_progress:?}: use one of {}",
            GRADING_PROGRESS.join(", ")
        )));
    }
    let num = |k: &str| -> Result<Option<f64>, ServiceError> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(Some)
                .ok_or_else(|| invalid(format!("{k} must be a number ≥ 0"))),
        }
    };
    let score_given = num("scoreGiven")?;
    let score_maximum = num("scoreMaximum")?;
    if score_given.is_some() && score_maximum.is_none() {
        return Err(invalid("scoreGiven needs scoreMaximum (AGS 2.0 §3.4.2)"));
    }
    if score_maximum == Some(0.0) {
        return Err(invalid("scoreMaximum must be greater than 0"));
    }
    Ok(Score {
        user_id,
        score_given,
        score_maximum,
        comment: opt_text(&v, "comment")?,
        timestamp,
        activity_progress,
        grading_progress,
    })
}

/// A result (AGS 2.0 §3.3): the score scaled to the line item's maximum.
pub fn result_json(id_url: &str, line_item_url: &str, score: &Score, line_item_max: f64) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id_url));
    m.insert("scoreOf".into(), json!(line_item_url));
    m.insert("userId".into(), json!(score.user_id));
    if let (Some(g), Some(max)) = (score.score_given, score.score_maximum) {
        m.insert("resultScore".into(), json!(g / max * line_item_max));
        m.insert("resultMaximum".into(), json!(line_item_max));
    }
    if let Some(c) = &score.comment {
        m.insert("comment".into(), json!(c));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_3_3_unknown_scopes_are_named() {
        assert_eq!(
            parse_scopes(&format!("{SCOPE_SCORE} {SCOPE_NRPS} {SCOPE_SCORE}")).unwrap(),
            vec![SCOPE_SCORE.to_owned(), SCOPE_NRPS.to_owned()]
        );
        assert_eq!(parse_scopes("openid").unwrap_err(), "openid");
    }

    #[test]
    fn ags_3_2_line_items_need_a_label_and_a_positive_maximum() {
        assert!(parse_line_item(br#"{"label":"x","scoreMaximum":10}"#).is_ok());
        assert!(parse_line_item(br#"{"scoreMaximum":10}"#).is_err());
        assert!(parse_line_item(br#"{"label":"x","scoreMaximum":0}"#).is_err());
        assert!(parse_line_item(b"nope").is_err());
    }

    #[test]
    fn ags_3_4_scores_need_progress_and_a_maximum_with_a_given_score() {
        let ok = br#"{"userId":"u","timestamp":"2026-01-01T00:00:00Z","activityProgress":"Completed","gradingProgress":"FullyGraded","scoreGiven":7,"scoreMaximum":10}"#;
        let s = parse_score(ok).unwrap();
        assert_eq!(s.score_given, Some(7.0));
        let r = result_json("r", "li", &s, 100.0);
        assert_eq!(r["resultScore"], 70.0);
        let no_max = br#"{"userId":"u","timestamp":"t","activityProgress":"Completed","gradingProgress":"FullyGraded","scoreGiven":7}"#;
        assert!(parse_score(no_max).is_err());
        let bad = br#"{"userId":"u","timestamp":"t","activityProgress":"Done","gradingProgress":"FullyGraded"}"#;
        assert!(parse_score(bad).is_err());
    }
}

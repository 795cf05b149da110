//! Learning records for teachers: a class's pupils joined to the statements about them.
//!
//! The Japan profile identifies a learner in xAPI by an `account` agent whose `name` is the
//! pupil's `userMasterIdentifier` (pseudonymous; statements carry no names) and whose
//! `homePage` is the tenant's portal, i.e. its issuer `{public-url}/t/{tenant}` (with or
//! without the trailing slash) — what a tool learns from the portal's OpenID Connect `sub` when
//! the app is set to the userMasterIdentifier. The roster maps those back to pupils so that a
//! teacher sees a class: who has sent what, and when. Reading it is a staff read of personal
//! data, so every report is in the audit log.

use std::collections::HashMap;

use kakehashi_store::lrs::learners::{self as db, Pupil};
use kakehashi_store::{audit, StoreError, TenantId};
use serde::Serialize;
use serde_json::Value;

use super::LrsError;
use crate::clock::Clock;
use crate::Actor;

/// The newest statements shown with a report, unless the caller asks for another number.
pub const DEFAULT_RECENT: i64 = 50;
/// The most recent statements a report carries.
pub const MAX_RECENT: i64 = 500;

/// A pupil's line in the report.
#[derive(Clone, Debug, Serialize)]
pub struct PupilRecords {
    #[serde(flatten)]
    pub pupil: Pupil,
    /// Live (not voided) statements with this pupil as actor or object.
    pub statements: i64,
    /// When the latest of them was stored.
    pub last_stored: Option<String>,
}

/// One recent statement, reduced to what a teacher reads.
#[derive(Clone, Debug, Serialize)]
pub struct RecentStatement {
    pub username: String,
    pub stored: String,
    pub timestamp: Option<String>,
    pub verb: String,
    /// The verb's display in Japanese if there is one, else English, else any.
    pub verb_display: Option<String>,
    pub activity: Option<String>,
    pub activity_name: Option<String>,
    pub score_scaled: Option<f64>,
    pub success: Option<bool>,
    pub completion: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClassReport {
    pub class: String,
    pub pupils: Vec<PupilRecords>,
    /// Pupils without a userMasterIdentifier cannot be matched to statements.
    pub pupils_without_identifier: usize,
    pub recent: Vec<RecentStatement>,
}

/// The account agent keys a pupil is known by in the tenant's LRS.
fn keys_of(home_pages: &[String], umi: &str) -> Vec<String> {
    home_pages
        .iter()
        .map(|hp| {
            kakehashi_xapi::agent::Ifi::Account {
                home_page: hp.clone(),
                name: umi.to_owned(),
            }
            .key()
        })
        .collect()
}

/// The tenant's portal as an `account.homePage`: its issuer, with and without the slash.
pub fn home_pages(issuer: &str) -> Vec<String> {
    let bare = issuer.trim_end_matches('/').to_owned();
    vec![format!("{bare}/"), bare]
}

/// The class's pupils with their statement counts and the newest `recent` statements.
/// Audited as a read by `actor`.
pub async fn class_report(
    store: &kakehashi_store::Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    issuer: &str,
    class: &str,
    recent: i64,
) -> Result<ClassReport, LrsError> {
    let pupils = db::class_pupils(store, tenant, class).await?;
    if pupils.is_empty() && !class_exists(store, tenant, class).await? {
        return Err(LrsError::NotFound(format!("class {class}")));
    }
    let pages = home_pages(issuer);
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, p) in pupils.iter().enumerate() {
        if let Some(umi) = p
            .user_master_identifier
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            for k in keys_of(&pages, umi) {
                owner.insert(k, i);
            }
        }
    }
    let keys: Vec<String> = owner.keys().cloned().collect();
    let mut lines: Vec<PupilRecords> = pupils
        .iter()
        .map(|p| PupilRecords {
            pupil: p.clone(),
            statements: 0,
            last_stored: None,
        })
        .collect();
    for s in db::summaries(store, tenant, &keys).await? {
        let line = &mut lines[owner[&s.key]];
        line.statements += s.statements;
        if line.last_stored.as_deref() < Some(s.last_stored.as_str()) {
            line.last_stored = Some(s.last_stored);
        }
    }
    let mut recent_lines = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (key, body) in db::recent(store, tenant, &keys, recent.clamp(0, MAX_RECENT)).await? {
        let v: Value = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
            table: "xapi_statements",
            detail: e.to_string(),
        })?;
        // A statement about two pupils of the class comes once per pupil; show it once.
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !seen.insert(id) {
            continue;
        }
        recent_lines.push(reduce(&v, &pupils[owner[&key]].username));
    }
    let without = pupils
        .iter()
        .filter(|p| {
            p.user_master_identifier
                .as_deref()
                .is_none_or(str::is_empty)
        })
        .count();
    let mut tx = store.begin().await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &clock.now_text(),
        &audit::Event {
            actor: actor.0.clone(),
            action: "lrs.class_report.read".into(),
            target: format!("class:{class}"),
            details: serde_json::json!({ "pupils": pupils.len(), "recent": recent_lines.len() }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(ClassReport {
        class: class.to_owned(),
        pupils: lines,
        pupils_without_identifier: without,
        recent: recent_lines,
    })
}

async fn class_exists(
    store: &kakehashi_store::Store,
    tenant: &TenantId,
    class: &str,
) -> Result<bool, LrsError> {
    Ok(kakehashi_store::roster::record_is_active(store, tenant, "classes", class).await?)
}

/// A language map's Japanese text, else English, else the first.
fn pick(map: Option<&Value>) -> Option<String> {
    let m = map?.as_object()?;
    let by_prefix = |p: &str| {
        m.iter()
            .find(|(k, _)| k.to_ascii_lowercase().starts_with(p))
            .and_then(|(_, v)| v.as_str())
    };
    by_prefix("ja")
        .or_else(|| by_prefix("en"))
        .or_else(|| m.values().find_map(Value::as_str))
        .map(str::to_owned)
}

fn reduce(v: &Value, username: &str) -> RecentStatement {
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let activity = (v
        .pointer("/object/objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity")
        == "Activity")
        .then(|| text("/object/id"))
        .flatten();
    RecentStatement {
        username: username.to_owned(),
        stored: text("/stored").unwrap_or_default(),
        timestamp: text("/timestamp"),
        verb: text("/verb/id").unwrap_or_default(),
        verb_display: pick(v.pointer("/verb/display")),
        activity_name: activity
            .is_some()
            .then(|| pick(v.pointer("/object/definition/name")))
            .flatten(),
        activity,
        score_scaled: v.pointer("/result/score/scaled").and_then(Value::as_f64),
        success: v.pointer("/result/success").and_then(Value::as_bool),
        completion: v.pointer("/result/completion").and_then(Value::as_bool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_first_then_english() {
        let m = serde_json::json!({"en-US": "completed", "ja-JP": "完了した"});
        assert_eq!(pick(Some(&m)).as_deref(), Some("完了した"));
        let m = serde_json::json!({"fr": "terminé", "en": "completed"});
        assert_eq!(pick(Some(&m)).as_deref(), Some("completed"));
        assert_eq!(pick(None), None);
    }

    #[test]
    fn the_portal_is_the_home_page_with_or_without_slash() {
        assert_eq!(
            home_pages("https://p.example/t/city-a"),
            vec!["https://p.example/t/city-a/", "https://p.example/t/city-a"]
        );
        let keys = keys_of(&home_pages("https://p.example/t/city-a/"), "UMI1");
        assert_eq!(keys[1], "account:https://p.example/t/city-a|UMI1");
    }
}

//! Learning records joined to the roster: the pupils of a class with the statements whose
//! actor (or object) is their `account` agent. Read-only; the statements' own tables are in
//! [`super::statements`].

use sqlx::Row;

use crate::{Result, Store, TenantId};

/// An active pupil of a class, as the roster holds them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pupil {
    pub sourced_id: String,
    pub username: String,
    pub family_name: String,
    pub given_name: String,
    pub kana_family_name: Option<String>,
    pub kana_given_name: Option<String>,
    pub user_master_identifier: Option<String>,
}

/// The active pupils (role `student`) of the class, by username.
pub async fn class_pupils(store: &Store, tenant: &TenantId, class: &str) -> Result<Vec<Pupil>> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.sourced_id, u.username, u.family_name, u.given_name,
                u.kana_family_name, u.kana_given_name, u.user_master_identifier
         FROM memberships m
         JOIN users u ON u.tenant_id = m.tenant_id AND u.sourced_id = m.user_sourced_id
         WHERE m.tenant_id = $1 AND m.class_sourced_id = $2 AND m.active = 1
           AND m.role = 'student' AND u.active = 1
         ORDER BY u.username",
    )
    .bind(tenant.as_str())
    .bind(class)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Pupil {
                sourced_id: r.try_get("sourced_id")?,
                username: r.try_get("username")?,
                family_name: r.try_get("family_name")?,
                given_name: r.try_get("given_name")?,
                kana_family_name: r.try_get("kana_family_name")?,
                kana_given_name: r.try_get("kana_given_name")?,
                user_master_identifier: r.try_get("user_master_identifier")?,
            })
        })
        .collect()
}

/// Per agent key (`account:{homePage}|{name}`, see `kakehashi_xapi::agent`): how many live
/// (not voided) statements have that agent as actor or object, and the latest `stored`.
/// Voiding statements are not learning records and are left out (they carry their target's
/// keys, Communication 2.1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSummary {
    pub key: String,
    pub statements: i64,
    pub last_stored: String,
}

/// Keys per query (one bind each).
const KEYS_PER_QUERY: usize = 500;

fn marks(from: usize, n: usize) -> String {
    (0..n)
        .map(|i| format!("${}", from + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summaries of those `keys` that have statements.
pub async fn summaries(
    store: &Store,
    tenant: &TenantId,
    keys: &[String],
) -> Result<Vec<AgentSummary>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let sql = format!(
            "SELECT k.value AS value, COUNT(*) AS n, MAX(s.stored) AS last_stored
             FROM xapi_statement_keys k
             JOIN xapi_statements s ON s.tenant_id = k.tenant_id AND s.seq = k.seq
             WHERE k.tenant_id = $1 AND k.kind = 'a' AND k.value IN ({}) AND s.voided = 0 AND s.voids IS NULL
             GROUP BY k.value",
            marks(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(tenant.as_str());
        for k in chunk {
            q = q.bind(k);
        }
        for r in q.fetch_all(store.pool()).await? {
            out.push(AgentSummary {
                key: r.try_get("value")?,
                statements: r.try_get("n")?,
                last_stored: r.try_get("last_stored")?,
            });
        }
    }
    Ok(out)
}

/// The latest `limit` live statements (key, stored JSON) of any of `keys`, newest first.
/// `keys` are at most `KEYS_PER_QUERY` (a class).
pub async fn recent(
    store: &Store,
    tenant: &TenantId,
    keys: &[String],
    limit: i64,
) -> Result<Vec<(String, String)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys = &keys[..keys.len().min(KEYS_PER_QUERY)];
    let sql = format!(
        "SELECT k.value AS value, s.body AS body
         FROM xapi_statement_keys k
         JOIN xapi_statements s ON s.tenant_id = k.tenant_id AND s.seq = k.seq
         WHERE k.tenant_id = $1 AND k.kind = 'a' AND k.value IN ({}) AND s.voided = 0 AND s.voids IS NULL
         ORDER BY k.seq DESC
         LIMIT ${}",
        marks(2, keys.len()),
        keys.len() + 2
    );
    let mut q = sqlx::query(&sql).bind(tenant.as_str());
    for k in keys {
        q = q.bind(k);
    }
    q.bind(limit)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("value")?, r.try_get("body")?)))
        .collect()
}

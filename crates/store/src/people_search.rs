//! The people search of the console and the admin API: active people whose username, family
//! name, given name or either kana starts with one of the query's spellings, within the
//! caller's reach, a page at a time — in a bounded amount of work at 500,000 users.
//!
//! # Order and paging
//! Hits are ordered by their **match key**, then username: the key is the smallest of the
//! person's matching column values (searching 山 lists 山内, 山口, 山田… like a phone book;
//! an empty search lists by username). The cursor is the last hit's (key, username), so the
//! next page starts exactly after it whatever was inserted meanwhile.
//!
//! # Plan
//! - **Whole tenant** (and reaches of many schools): one query per (column, spelling), each a
//!   seek into its index `(tenant_id, column, username) WHERE active = 1` (migration 14) from
//!   `max(prefix, cursor)` reading at most a page of rows in order; the branches are merged
//!   here. A person found by several columns is kept only under its smallest key (the branch
//!   whose value *is* the key owns the row), so no one appears twice across pages. A branch
//!   that filled its page bounds what the merge may trust; if the trusted part is short, the
//!   full branches are read further.
//! - **A few schools, classes or oneself**: the members' ids come first (memberships
//!   indexes, at most a few thousand people), then those people by primary key, filtered by
//!   the spellings and sorted here.
//!
//! Prefix matches are index ranges `col >= q AND col < q'` ([`prefix_upper_bound`]), exact in
//! code-point order: SQLite compares text bytewise, PostgreSQL by the database's collation
//! (C or C.UTF-8, docs/CONSOLE.md).

use std::cmp::Ordering;

use crate::console::prefix_upper_bound;
use crate::roster::UserRow;
use crate::{Result, Store, TenantId};

const USER_COLUMNS: &str = "u.sourced_id, u.username, u.user_master_identifier, u.given_name,
    u.family_name, u.kana_given_name, u.kana_family_name, u.role, u.email, u.enabled, u.active";

/// The searched columns (each has an index `users_search_{column}`, the username
/// `users_username`).
const COLUMNS: [&str; 5] = [
    "username",
    "family_name",
    "given_name",
    "kana_family_name",
    "kana_given_name",
];

/// Reaches of more schools than this are searched through the column indexes (with a
/// membership check per row) rather than by listing their members first.
const MANY_SCHOOLS: usize = 8;

/// Who a people search may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeopleReach<'a> {
    /// Everyone of the tenant.
    Tenant,
    /// Members of these schools.
    Schools(&'a [String]),
    /// Members of these classes.
    Classes(&'a [String]),
    /// Only this person.
    Person(&'a str),
}

/// Where a page starts: just after the hit with this match key and username.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleCursor {
    pub key: String,
    pub username: String,
}

/// One hit and its match key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeopleHit {
    pub key: String,
    pub user: UserRow,
}

impl PeopleHit {
    /// The cursor of the page that follows this hit.
    pub fn cursor(&self) -> PeopleCursor {
        PeopleCursor {
            key: self.key.clone(),
            username: self.user.username.clone(),
        }
    }

    fn order(&self, other: &PeopleHit) -> Ordering {
        (self.key.as_str(), self.user.username.as_str())
            .cmp(&(other.key.as_str(), other.user.username.as_str()))
    }

    fn after(&self, cursor: &PeopleCursor) -> bool {
        (self.key.as_str(), self.user.username.as_str())
            > (cursor.key.as_str(), cursor.username.as_str())
    }
}

/// The value of a searched column of `u`.
fn column_value<'u>(u: &'u UserRow, column: &str) -> Option<&'u str> {
    match column {
        "username" => Some(&u.username),
        "family_name" => Some(&u.family_name),
        "given_name" => Some(&u.given_name),
        "kana_family_name" => u.kana_family_name.as_deref(),
        "kana_given_name" => u.kana_given_name.as_deref(),
        _ => None,
    }
}

/// The match key of `u` for `prefixes`: its smallest column value that starts with one of
/// them (the username when there are none); `None` when nothing matches.
pub fn match_key(u: &UserRow, prefixes: &[String]) -> Option<String> {
    if prefixes.is_empty() {
        return Some(u.username.clone());
    }
    COLUMNS
        .iter()
        .filter_map(|c| column_value(u, c))
        .filter(|v| prefixes.iter().any(|p| v.starts_with(p.as_str())))
        .min()
        .map(str::to_owned)
}

/// Up to `limit` hits after `after` (ordered by match key, then username), for the non-empty
/// `prefixes` (none: everyone in reach, by username).
pub async fn search_people(
    store: &Store,
    tenant: &TenantId,
    prefixes: &[String],
    reach: &PeopleReach<'_>,
    after: &PeopleCursor,
    limit: usize,
) -> Result<Vec<PeopleHit>> {
    let mut prefixes: Vec<String> = prefixes.iter().filter(|p| !p.is_empty()).cloned().collect();
    prefixes.sort();
    prefixes.dedup();
    if limit == 0 {
        return Ok(Vec::new());
    }
    match reach {
        PeopleReach::Schools([]) | PeopleReach::Classes([]) => Ok(Vec::new()),
        PeopleReach::Tenant => by_index(store, tenant, &prefixes, None, after, limit).await,
        PeopleReach::Schools(ids) if ids.len() > MANY_SCHOOLS => {
            by_index(store, tenant, &prefixes, Some(reach), after, limit).await
        }
        _ => by_members(store, tenant, &prefixes, reach, after, limit).await,
    }
}

/// SQL binding helper: pushes `v` and returns its placeholder.
fn bind(args: &mut Vec<String>, v: impl Into<String>) -> String {
    args.push(v.into());
    format!("${}", args.len())
}

/// The reach as an SQL condition on `u` (empty for the whole tenant).
fn reach_condition(reach: Option<&PeopleReach<'_>>, args: &mut Vec<String>) -> String {
    let (col, ids) = match reach {
        None | Some(PeopleReach::Tenant) => return String::new(),
        Some(PeopleReach::Person(id)) => {
            return format!(" AND u.sourced_id = {}", bind(args, *id));
        }
        Some(PeopleReach::Schools(ids)) => ("school_sourced_id", ids),
        Some(PeopleReach::Classes(ids)) => ("class_sourced_id", ids),
    };
    let list: Vec<String> = ids.iter().map(|i| bind(args, i.clone())).collect();
    format!(
        " AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = u.tenant_id
           AND m.user_sourced_id = u.sourced_id AND m.active = 1 AND m.{col} IN ({}))",
        list.join(", ")
    )
}

/// The whole tenant (or a wide reach): merged index seeks, one per (column, spelling).
async fn by_index(
    store: &Store,
    tenant: &TenantId,
    prefixes: &[String],
    reach: Option<&PeopleReach<'_>>,
    after: &PeopleCursor,
    limit: usize,
) -> Result<Vec<PeopleHit>> {
    // (column, prefix); the empty search is the username column from the start.
    let mut branches: Vec<(&str, Option<&str>)> = Vec::new();
    if prefixes.is_empty() {
        branches.push(("username", None));
    }
    for p in prefixes {
        for c in COLUMNS {
            branches.push((c, Some(p.as_str())));
        }
    }
    // Rows read per branch; grows when the trusted part of the merge is too short.
    let mut fetch = limit + 1;
    loop {
        let mut hits: Vec<PeopleHit> = Vec::new();
        // The last row of each branch that filled its page: beyond the smallest of these,
        // the merge does not know every row.
        let mut horizon: Option<PeopleHit> = None;
        for (column, prefix) in &branches {
            let rows = branch(store, tenant, column, *prefix, reach, after, fetch).await?;
            let full = rows.len() == fetch;
            let mut last = None;
            for user in rows {
                let value = column_value(&user, column).unwrap_or_default().to_owned();
                let owned = match_key(&user, prefixes).is_some_and(|k| k == value);
                let hit = PeopleHit { key: value, user };
                if owned {
                    hits.push(hit.clone());
                }
                last = Some(hit);
            }
            if full {
                if let Some(last) = last {
                    if horizon.as_ref().is_none_or(|h| last.order(h).is_lt()) {
                        horizon = Some(last);
                    }
                }
            }
        }
        hits.sort_by(|a, b| a.order(b).then(a.user.sourced_id.cmp(&b.user.sourced_id)));
        hits.dedup_by(|a, b| a.user.sourced_id == b.user.sourced_id && a.key == b.key);
        if let Some(h) = &horizon {
            hits.retain(|x| x.order(h).is_le());
        }
        if hits.len() >= limit || horizon.is_none() {
            hits.truncate(limit);
            return Ok(hits);
        }
        fetch *= 4;
    }
}

/// One index seek: active people whose `column` starts with `prefix` (any, when `None`),
/// after the cursor, in (column, username) order, at most `fetch`.
async fn branch(
    store: &Store,
    tenant: &TenantId,
    column: &str,
    prefix: Option<&str>,
    reach: Option<&PeopleReach<'_>>,
    after: &PeopleCursor,
    fetch: usize,
) -> Result<Vec<UserRow>> {
    let mut args = vec![tenant.as_str().to_owned()];
    let mut conditions = String::new();
    if let Some(p) = prefix {
        let lo = bind(&mut args, p);
        conditions.push_str(&format!(" AND u.{column} >= {lo}"));
        if let Some(hi) = prefix_upper_bound(p) {
            let hi = bind(&mut args, hi);
            conditions.push_str(&format!(" AND u.{column} < {hi}"));
        }
    }
    if *after != PeopleCursor::default() {
        let key = bind(&mut args, after.key.clone());
        let name = bind(&mut args, after.username.clone());
        // A row-value comparison, which SQLite and PostgreSQL both seek an index with.
        conditions.push_str(&format!(" AND (u.{column}, u.username) > ({key}, {name})"));
    }
    conditions.push_str(&reach_condition(reach, &mut args));
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u
         WHERE u.tenant_id = $1 AND u.active = 1{conditions}
         ORDER BY u.{column}, u.username LIMIT {fetch}"
    );
    let mut q = sqlx::query(&sql);
    for a in &args {
        q = q.bind(a);
    }
    let rows = q.fetch_all(store.pool()).await?;
    rows.iter().map(crate::roster::user_from_row).collect()
}

/// A narrow reach: its members' ids first (the memberships indexes), then those people by
/// primary key in chunks, filtered by the spellings; keyed, ordered and paged here. Two plain
/// index lookups rather than one join: PostgreSQL, left to plan the join, hash-joined every
/// user of the tenant (90 ms for a school's first page at 500,000 users).
async fn by_members(
    store: &Store,
    tenant: &TenantId,
    prefixes: &[String],
    reach: &PeopleReach<'_>,
    after: &PeopleCursor,
    limit: usize,
) -> Result<Vec<PeopleHit>> {
    let members: Vec<String> = match reach {
        PeopleReach::Person(id) => vec![(*id).to_owned()],
        PeopleReach::Schools(ids) | PeopleReach::Classes(ids) => {
            let col = if matches!(reach, PeopleReach::Schools(_)) {
                "school_sourced_id"
            } else {
                "class_sourced_id"
            };
            let mut args = vec![tenant.as_str().to_owned()];
            let list: Vec<String> = ids.iter().map(|i| bind(&mut args, i.clone())).collect();
            let sql = format!(
                "SELECT DISTINCT user_sourced_id FROM memberships
                 WHERE tenant_id = $1 AND active = 1 AND {col} IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query_scalar(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(store.pool()).await?
        }
        PeopleReach::Tenant => unreachable!("the whole tenant is searched by index"),
    };
    let mut hits = Vec::new();
    for chunk in members.chunks(500) {
        let mut args = vec![tenant.as_str().to_owned()];
        let ids: Vec<String> = chunk.iter().map(|i| bind(&mut args, i.clone())).collect();
        let mut any = Vec::new();
        for p in prefixes {
            let lo = bind(&mut args, p.clone());
            let hi = prefix_upper_bound(p).map(|h| bind(&mut args, h));
            for c in COLUMNS {
                any.push(match &hi {
                    Some(hi) => format!("(u.{c} >= {lo} AND u.{c} < {hi})"),
                    None => format!("u.{c} >= {lo}"),
                });
            }
        }
        let matching = if any.is_empty() {
            String::new()
        } else {
            format!(" AND ({})", any.join(" OR "))
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u
             WHERE u.tenant_id = $1 AND u.sourced_id IN ({}) AND u.active = 1{matching}",
            ids.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for a in &args {
            q = q.bind(a);
        }
        for r in &q.fetch_all(store.pool()).await? {
            let user = crate::roster::user_from_row(r)?;
            if let Some(key) = match_key(&user, prefixes) {
                let hit = PeopleHit { key, user };
                if hit.after(after) {
                    hits.push(hit);
                }
            }
        }
    }
    hits.sort_by(|a, b| a.order(b));
    hits.truncate(limit);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str, family: &str, kana: Option<&str>) -> UserRow {
        UserRow {
            sourced_id: format!("id-{username}"),
            username: username.into(),
            user_master_identifier: None,
            given_name: "花子".into(),
            family_name: family.into(),
            kana_given_name: None,
            kana_family_name: kana.map(str::to_owned),
            role: "student".into(),
            email: None,
            enabled: true,
            active: true,
        }
    }

    #[test]
    fn the_match_key_is_the_smallest_matching_value() {
        let u = user("yamada01", "山田", Some("やまだ"));
        assert_eq!(match_key(&u, &["山".into()]).as_deref(), Some("山田"));
        assert_eq!(match_key(&u, &["やま".into()]).as_deref(), Some("やまだ"));
        assert_eq!(
            match_key(&u, &["y".into(), "やま".into()]).as_deref(),
            Some("yamada01")
        );
        assert_eq!(match_key(&u, &["田".into()]), None);
        assert_eq!(match_key(&u, &[]).as_deref(), Some("yamada01"));
        // Kana the roster left out never match.
        assert_eq!(match_key(&user("x", "X", None), &["や".into()]), None);
    }
}

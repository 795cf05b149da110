//! People: the search (by the start of a name, its kana or the username), a person's record,
//! a temporary password and lifting a lockout — each within the caller's reach
//! ([`super::authz`]). Every staff read of someone else's personal data is audited
//! (`console.people.search` with the ids shown, `console.person.view` with the person as
//! target), so "who viewed this person" has an answer.

use base64::Engine as _;
use kakehashi_store::console::{self as stored};
use kakehashi_store::people_search::{search_people, PeopleCursor};
use kakehashi_store::roster::UserRow;
use kakehashi_store::{audit, Store, StoreError};

use super::authz::{PersonAction, Principal, TenantAction};
use super::{page_size, ConsoleError, Page};
use crate::portal::launcher::{self, LauncherApp};
use crate::Clock;

/// The longest search text accepted.
pub const MAX_QUERY_CHARS: usize = 64;

/// The spellings a search text is looked up under: as typed, lower-cased (usernames), with
/// full-width ASCII folded (a Japanese keyboard's ｍｉｎａｍｉ), and hiragana and katakana
/// swapped (kana columns hold either, depending on the school-affairs system).
pub fn spellings(query: &str) -> Vec<String> {
    let typed: String = query
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect();
    let mut out = vec![typed.clone(), typed.to_lowercase()];
    let swap = |c: char| match c {
        'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        c => c,
    };
    let katakana: String = typed
        .chars()
        .map(|c| {
            if ('ぁ'..='ゖ').contains(&c) {
                swap(c)
            } else {
                c
            }
        })
        .collect();
    let hiragana: String = typed
        .chars()
        .map(|c| {
            if ('ァ'..='ヶ').contains(&c) {
                swap(c)
            } else {
                c
            }
        })
        .collect();
    out.push(katakana);
    out.push(hiragana);
    out.retain(|s| !s.is_empty());
    out.sort();
    out.dedup();
    out
}

/// The page cursor as text: base64url of the JSON array `[key, username]`.
fn encode_cursor(c: &PeopleCursor) -> String {
    let json = serde_json::json!([c.key, c.username]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(text: &str) -> Option<PeopleCursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let (key, username): (String, String) = serde_json::from_slice(&bytes).ok()?;
    Some(PeopleCursor { key, username })
}

/// A search hit: enough to pick the right person, nothing more.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PersonSummary {
    pub sourced_id: String,
    pub username: String,
    pub family_name: String,
    pub given_name: String,
    pub kana_family_name: Option<String>,
    pub kana_given_name: Option<String>,
    pub role: String,
}

impl From<UserRow> for PersonSummary {
    fn from(u: UserRow) -> Self {
        PersonSummary {
            sourced_id: u.sourced_id,
            username: u.username,
            family_name: u.family_name,
            given_name: u.given_name,
            kana_family_name: u.kana_family_name,
            kana_given_name: u.kana_given_name,
            role: u.role,
        }
    }
}

/// Searches people within the caller's reach; hits come by match key (the matching name,
/// kana or username, like a phone book), then username. `after` is the `next` of the
/// previous page (an opaque cursor).
pub async fn search(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    query: &str,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<PersonSummary>, ConsoleError> {
    by.require(TenantAction::SearchPeople)?;
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ConsoleError::Invalid(format!(
            "the search text is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let cursor = match after.filter(|a| !a.is_empty()) {
        Some(a) => decode_cursor(a).ok_or_else(|| {
            ConsoleError::Invalid("`after` is not the `next` of a people search".into())
        })?,
        None => PeopleCursor::default(),
    };
    let limit = page_size(limit) as usize;
    let reach = by.people_reach();
    let mut hits = search_people(
        store,
        &by.tenant,
        &spellings(query),
        &reach.as_store(),
        &cursor,
        limit + 1,
    )
    .await?;
    let next = if hits.len() > limit {
        hits.truncate(limit);
        hits.last().map(|h| encode_cursor(&h.cursor()))
    } else {
        None
    };
    let rows: Vec<UserRow> = hits.into_iter().map(|h| h.user).collect();
    let shown: Vec<&str> = rows.iter().map(|u| u.sourced_id.as_str()).collect();
    if !shown.is_empty() {
        record_read(
            store,
            clock,
            by,
            "console.people.search",
            "people".into(),
            serde_json::json!({ "query": query, "shown": shown }),
        )
        .await?;
    }
    Ok(Page {
        items: rows.into_iter().map(PersonSummary::from).collect(),
        next,
    })
}

/// A class or school membership, with titles for people to read.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Membership {
    pub class_sourced_id: String,
    pub class_title: String,
    pub school_sourced_id: String,
    pub school_name: String,
    pub role: String,
}

/// Everything the console shows about a person.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PersonRecord {
    pub person: UserRow,
    pub memberships: Vec<Membership>,
    /// Explicit admin grants: (role, school).
    pub admin_roles: Vec<(String, String)>,
    /// The apps their launcher shows.
    pub apps: Vec<String>,
    pub last_sign_in: Option<String>,
}

/// The person `sourced_id`, within the caller's reach (else not found), audited.
pub async fn view(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
) -> Result<PersonRecord, ConsoleError> {
    let person = find(store, by, sourced_id, PersonAction::View).await?;
    let memberships =
        kakehashi_store::roster::memberships_of(store, &by.tenant, sourced_id).await?;
    let class_ids: Vec<String> = memberships
        .iter()
        .map(|m| m.class_sourced_id.clone())
        .collect();
    let mut school_ids: Vec<String> = memberships
        .iter()
        .map(|m| m.school_sourced_id.clone())
        .collect();
    school_ids.sort();
    school_ids.dedup();
    let classes = stored::titles(store, &by.tenant, "classes", &class_ids).await?;
    let schools = stored::titles(store, &by.tenant, "orgs", &school_ids).await?;
    let title = |list: &[(String, String)], id: &str| {
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let memberships = memberships
        .iter()
        .map(|m| Membership {
            class_title: title(&classes, &m.class_sourced_id),
            school_name: title(&schools, &m.school_sourced_id),
            class_sourced_id: m.class_sourced_id.clone(),
            school_sourced_id: m.school_sourced_id.clone(),
            role: m.role.clone(),
        })
        .collect();
    let admin_roles = stored::grants(store, &by.tenant, Some(&format!("user:{sourced_id}")))
        .await?
        .into_iter()
        .map(|g| (g.role, g.school_sourced_id))
        .collect();
    let apps = launcher::apps_for(store, &by.tenant, &person.role)
        .await?
        .into_iter()
        .map(|a: LauncherApp| a.name)
        .collect();
    let last_sign_in = stored::last_sign_in(store, &by.tenant, sourced_id).await?;
    record_read(
        store,
        clock,
        by,
        "console.person.view",
        format!("user:{sourced_id}"),
        serde_json::json!({ "username": person.username }),
    )
    .await?;
    Ok(PersonRecord {
        person,
        memberships,
        admin_roles,
        apps,
        last_sign_in,
    })
}

/// Sets a temporary password for a person within the caller's reach (teachers: their pupils).
pub async fn set_temporary_password(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
    password: &str,
) -> Result<(), ConsoleError> {
    let person = find(store, by, sourced_id, PersonAction::ManageSignIn).await?;
    crate::passwords::set_password(
        store,
        clock,
        &by.actor,
        &by.tenant,
        &person.username,
        password,
    )
    .await?;
    Ok(())
}

/// Lifts a person's lockout; returns how many locks were lifted.
pub async fn unlock(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
) -> Result<i64, ConsoleError> {
    let person = find(store, by, sourced_id, PersonAction::ManageSignIn).await?;
    let done =
        crate::portal::login::unlock(store, clock, &by.tenant, &person.username, &by.actor).await?;
    Ok(done.locks_lifted)
}

/// An active person of the tenant the caller may act on, or not found / forbidden.
pub(crate) async fn find(
    store: &Store,
    by: &Principal,
    sourced_id: &str,
    action: PersonAction,
) -> Result<UserRow, ConsoleError> {
    let person = stored::person(store, &by.tenant, sourced_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ConsoleError::NotFound(format!("person {sourced_id}")))?;
    by.require_person(store, action, &person).await?;
    Ok(person)
}

/// Audits a read of personal data by someone other than the person themselves.
pub(crate) async fn record_read(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    action: &str,
    target: String,
    details: serde_json::Value,
) -> Result<(), ConsoleError> {
    let own = by
        .user
        .as_ref()
        .is_some_and(|u| target == format!("user:{}", u.sourced_id));
    if own {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&by.tenant),
        &clock.now_text(),
        &audit::Event {
            actor: by.actor.0.clone(),
            action: action.into(),
            target,
            details,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_looked_up_as_typed_lowercased_and_in_both_kana() {
        let s = spellings(" たなか ");
        assert!(
            s.contains(&"たなか".to_owned()) && s.contains(&"タナカ".to_owned()),
            "{s:?}"
        );
        let s = spellings("ヨシダ");
        assert!(s.contains(&"よしだ".to_owned()), "{s:?}");
        let s = spellings("ＭＩＮＡＭＩ.s01");
        assert!(s.contains(&"minami.s01".to_owned()), "{s:?}");
        assert!(spellings("  ").is_empty());
    }
}

/// A sign-in (or failed attempt) of the caller, from the audit log.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SignIn {
    pub at: String,
    pub succeeded: bool,
    pub ip: String,
    pub user_agent: String,
}

/// The caller's own sign-ins, newest first (a pupil's "my sign-in history").
pub async fn my_sign_ins(
    store: &Store,
    by: &Principal,
    before: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<SignIn>, ConsoleError> {
    let Some(me) = &by.user else {
        return Err(ConsoleError::Forbidden(
            "only a person has a sign-in history".into(),
        ));
    };
    let before = match before.filter(|b| !b.is_empty()) {
        None => 0,
        Some(b) => b
            .parse::<i64>()
            .map_err(|_| ConsoleError::Invalid(format!("bad page cursor {b:?}")))?,
    };
    let limit = page_size(limit);
    let filter = stored::AuditFilter {
        action_prefix: "portal.login".into(),
        target: format!("user:{}", me.sourced_id),
        ..stored::AuditFilter::default()
    };
    let mut rows = stored::search_audit(store, &by.tenant, &filter, before, limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            SignIn {
                succeeded: e.action == "portal.login",
                at: e.at,
                ip: s("ip"),
                user_agent: s("userAgent"),
            }
        })
        .collect();
    Ok(Page { items, next })
}

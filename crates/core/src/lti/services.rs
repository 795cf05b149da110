//! LTI Advantage services for a tool's bearer token: NRPS 2.0 memberships of a class, and
//! AGS 2.0 line items, scores and results. A tool reaches a class only through one of its
//! deployments (tenant-wide, or the class's school); each score is also recorded as an xAPI
//! statement in the tenant's LRS.

use kakehashi_lti::claims::Context;
use kakehashi_lti::roles;
use kakehashi_lti::services::{
    self as svc, line_item_json, parse_line_item, parse_score, result_json, LineItemInput, Member,
};
use kakehashi_store::lti::{self as stored, ClassMember, LineItemRow, ScoreRow, ToolRow};
use kakehashi_store::{audit, StoreError};
use serde_json::{json, Value};

use super::launch::{context_of, pick_deployment, tool_of};
use super::token::ServiceCaller;
use super::{subject, Endpoints, LtiServiceError};
use crate::oauth::Provider;

/// A refusal in the service's terms (the server maps it to a status and a JSON body).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the access token does not carry {0}")]
    Scope(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
}

type Outcome<T> = Result<Result<T, Refusal>, LtiServiceError>;

/// The caller's tool, when one of its deployments reaches `class`.
async fn reach(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
) -> Result<Option<(kakehashi_store::identity::AppRow, ToolRow)>, LtiServiceError> {
    let Some((app, tool)) = tool_of(p, &caller.app_id).await? else {
        return Ok(None);
    };
    let Some(school) = stored::school_of_class(p.store, p.tenant, class).await? else {
        return Ok(None);
    };
    let deployments = stored::deployments_of(p.store, p.tenant, &app.id).await?;
    Ok(pick_deployment(&deployments, Some(&school)).map(|_| (app, tool)))
}

fn need(caller: &ServiceCaller, any_of: &[&'static str]) -> Result<(), Refusal> {
    if svc::has_scope(&caller.scopes, any_of) {
        Ok(())
    } else {
        Err(Refusal::Scope(any_of[0]))
    }
}

/// A page of a service's list (memberships, line items, results).
pub struct ListPage {
    pub body: Value,
    /// The next page, for a `Link: <…>; rel="next"` header (NRPS 2.0 §2.4.1, AGS 2.0
    /// §3.2.5 and §3.3.4).
    pub next: Option<String>,
}

/// Page `page` (from 0) of `limit` items of a list that is already filtered; `url_of(page)`
/// is the URL of a page (it carries the caller's filters).
fn page_of(
    items: Vec<Value>,
    limit: Option<i64>,
    page: Option<i64>,
    url_of: impl Fn(i64, i64) -> String,
) -> ListPage {
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let page = page.unwrap_or(0).max(0);
    let start = usize::try_from(page.saturating_mul(limit)).unwrap_or(usize::MAX);
    let more = items.len() > start.saturating_add(limit as usize);
    let body: Vec<Value> = items.into_iter().skip(start).take(limit as usize).collect();
    ListPage {
        body: Value::Array(body),
        next: more.then(|| url_of(limit, page + 1)),
    }
}

/// The query string of a list's page: the filters the caller gave, then `limit` and `page`.
fn page_query(base: &str, filters: &[(&str, Option<&str>)], limit: i64, page: i64) -> String {
    let mut q = format!("{base}?limit={limit}&page={page}");
    for (k, v) in filters {
        if let Some(v) = v {
            q.push_str(&format!("&{k}={}", super::enc(v)));
        }
    }
    q
}

/// NRPS 2.0: `GET …/contexts/{class}/memberships?role=…&limit=…&page=…`.
pub async fn memberships(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    role: Option<&str>,
    limit: Option<i64>,
    page: Option<i64>,
) -> Outcome<ListPage> {
    if let Err(r) = need(caller, &[svc::SCOPE_NRPS]) {
        return Ok(Err(r));
    }
    let Some((app, tool)) = reach(p, caller, class).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    let filter = match role {
        Some(r) => match roles::enrollment_roles_for_filter(r) {
            Some(list) => Some(list),
            None => return Ok(Err(Refusal::BadRequest(format!("unknown role {r:?}")))),
        },
        None => None,
    };
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let page = page.unwrap_or(0).max(0);
    // One extra row tells whether another page follows.
    let mut rows = stored::class_members(
        p.store,
        p.tenant,
        class,
        filter.as_deref(),
        page * limit,
        limit + 1,
    )
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let salt = crate::oauth::profile::salt(p).await?;
    let members: Vec<Member> = rows
        .iter()
        .map(|m| Member {
            user_id: subject(&app.subject_type, &app.id, &m.user, &salt),
            roles: roles::launch_roles(&m.user.role, Some(&m.role)),
            name: tool
                .send_name
                .then(|| format!("{} {}", m.user.family_name, m.user.given_name)),
            given_name: tool.send_name.then(|| m.user.given_name.clone()),
            family_name: tool.send_name.then(|| m.user.family_name.clone()),
            email: if tool.send_email {
                m.user.email.clone()
            } else {
                None
            },
        })
        .collect();
    let e = Endpoints::new(p.issuer.as_str());
    let url = e.memberships(class);
    let context = context_of(p, class).await?;
    let query = |pg: i64| {
        let mut q = format!("{url}?limit={limit}&page={pg}");
        if let Some(r) = role {
            q.push_str(&format!("&role={}", super::enc(r)));
        }
        q
    };
    Ok(Ok(ListPage {
        body: svc::membership_container(&query(page), &context, &members),
        next: more.then(|| query(page + 1)),
    }))
}

fn input_of(row: &LineItemRow) -> LineItemInput {
    LineItemInput {
        label: row.label.clone(),
        score_maximum: row.score_maximum.parse().unwrap_or(1.0),
        resource_id: row.resource_id.clone(),
        tag: row.tag.clone(),
        resource_link_id: row.resource_link_id.clone(),
        start_date_time: row.start_date_time.clone(),
        end_date_time: row.end_date_time.clone(),
    }
}

/// Line item filters (AGS 2.0 §3.2.3) and paging (§3.2.5: `limit`, then `Link` rel="next").
#[derive(Clone, Debug, Default)]
pub struct LineItemFilter {
    pub resource_link_id: Option<String>,
    pub resource_id: Option<String>,
    pub tag: Option<String>,
    pub limit: Option<i64>,
    pub page: Option<i64>,
}

/// `GET …/lineitems`.
pub async fn list_line_items(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    f: &LineItemFilter,
) -> Outcome<ListPage> {
    if let Err(r) = need(caller, &[svc::SCOPE_LINEITEM, svc::SCOPE_LINEITEM_READONLY]) {
        return Ok(Err(r));
    }
    if reach(p, caller, class).await?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    let e = Endpoints::new(p.issuer.as_str());
    let items: Vec<Value> = stored::line_items(p.store, p.tenant, Some(&caller.app_id), class)
        .await?
        .iter()
        .filter(|r| f.resource_link_id.is_none() || r.resource_link_id == f.resource_link_id)
        .filter(|r| f.resource_id.is_none() || r.resource_id == f.resource_id)
        .filter(|r| f.tag.is_none() || r.tag == f.tag)
        .map(|r| line_item_json(&e.line_item(class, &r.id), &input_of(r)))
        .collect();
    let base = e.line_items(class);
    let filters = [
        ("resource_link_id", f.resource_link_id.as_deref()),
        ("resource_id", f.resource_id.as_deref()),
        ("tag", f.tag.as_deref()),
    ];
    Ok(Ok(page_of(items, f.limit, f.page, |limit, page| {
        page_query(&base, &filters, limit, page)
    })))
}

/// `POST …/lineitems` (AGS 2.0 §3.2.7): 201 with the new line item.
pub async fn create_line_item(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    body: &[u8],
) -> Outcome<Value> {
    if let Err(r) = need(caller, &[svc::SCOPE_LINEITEM]) {
        return Ok(Err(r));
    }
    if reach(p, caller, class).await?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    let input = match parse_line_item(body) {
        Ok(i) => i,
        Err(e) => return Ok(Err(Refusal::BadRequest(e.to_string()))),
    };
    let row = LineItemRow {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: caller.app_id.clone(),
        class_sourced_id: class.to_owned(),
        label: input.label.clone(),
        score_maximum: input.score_maximum.to_string(),
        resource_id: input.resource_id.clone(),
        tag: input.tag.clone(),
        resource_link_id: input.resource_link_id.clone(),
        start_date_time: input.start_date_time.clone(),
        end_date_time: input.end_date_time.clone(),
        created_at: p.clock.now_text(),
    };
    let mut tx = p.store.begin().await?;
    stored::insert_line_item(&mut tx, p.tenant, &row).await?;
    audit_in(p, &mut tx, caller, "lti.lineitem.create", &row.id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let e = Endpoints::new(p.issuer.as_str());
    Ok(Ok(line_item_json(&e.line_item(class, &row.id), &input)))
}

async fn audit_in(
    p: &Provider<'_>,
    tx: &mut kakehashi_store::Tx,
    caller: &ServiceCaller,
    action: &str,
    line_item: &str,
) -> Result<(), StoreError> {
    audit::append(
        tx,
        p.store.backend(),
        Some(p.tenant),
        &p.clock.now_text(),
        &audit::Event {
            actor: format!("client:{}", caller.app_id),
            action: action.into(),
            target: format!("lineitem:{line_item}"),
            details: json!({}),
        },
    )
    .await
    .map(|_| ())
}

/// `GET …/lineitems/{id}`.
pub async fn get_line_item(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    id: &str,
) -> Outcome<Value> {
    if let Err(r) = need(caller, &[svc::SCOPE_LINEITEM, svc::SCOPE_LINEITEM_READONLY]) {
        return Ok(Err(r));
    }
    if reach(p, caller, class).await?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    let Some(row) = stored::get_line_item(p.store, p.tenant, &caller.app_id, class, id).await?
    else {
        return Ok(Err(Refusal::NotFound));
    };
    let e = Endpoints::new(p.issuer.as_str());
    Ok(Ok(line_item_json(&e.line_item(class, id), &input_of(&row))))
}

/// `PUT …/lineitems/{id}` (AGS 2.0 §3.2.8).
pub async fn update_line_item(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    id: &str,
    body: &[u8],
) -> Outcome<Value> {
    if let Err(r) = need(caller, &[svc::SCOPE_LINEITEM]) {
        return Ok(Err(r));
    }
    if reach(p, caller, class).await?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    let input = match parse_line_item(body) {
        Ok(i) => i,
        Err(e) => return Ok(Err(Refusal::BadRequest(e.to_string()))),
    };
    let Some(old) = stored::get_line_item(p.store, p.tenant, &caller.app_id, class, id).await?
    else {
        return Ok(Err(Refusal::NotFound));
    };
    let row = LineItemRow {
        label: input.label.clone(),
        score_maximum: input.score_maximum.to_string(),
        resource_id: input.resource_id.clone(),
        tag: input.tag.clone(),
        resource_link_id: input
            .resource_link_id
            .clone()
            .or(old.resource_link_id.clone()),
        start_date_time: input.start_date_time.clone(),
        end_date_time: input.end_date_time.clone(),
        ..old
    };
    let mut tx = p.store.begin().await?;
    if !stored::update_line_item(&mut tx, p.tenant, &row).await? {
        return Ok(Err(Refusal::NotFound));
    }
    audit_in(p, &mut tx, caller, "lti.lineitem.update", id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let e = Endpoints::new(p.issuer.as_str());
    Ok(Ok(line_item_json(&e.line_item(class, id), &input_of(&row))))
}

/// `DELETE …/lineitems/{id}` (AGS 2.0 §3.2.9).
pub async fn delete_line_item(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    id: &str,
) -> Outcome<()> {
    if let Err(r) = need(caller, &[svc::SCOPE_LINEITEM]) {
        return Ok(Err(r));
    }
    if reach(p, caller, class).await?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    let mut tx = p.store.begin().await?;
    if !stored::delete_line_item(&mut tx, p.tenant, &caller.app_id, class, id).await? {
        return Ok(Err(Refusal::NotFound));
    }
    audit_in(p, &mut tx, caller, "lti.lineitem.delete", id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Ok(()))
}

/// The class member a tool's `userId` names (the `sub` it was given).
async fn member_by_user_id(
    p: &Provider<'_>,
    app: &kakehashi_store::identity::AppRow,
    class: &str,
    user_id: &str,
) -> Result<Option<ClassMember>, LtiServiceError> {
    let salt = crate::oauth::profile::salt(p).await?;
    let members = stored::class_members(p.store, p.tenant, class, None, 0, 100_000).await?;
    Ok(members
        .into_iter()
        .find(|m| subject(&app.subject_type, &app.id, &m.user, &salt) == user_id))
}

/// `POST …/lineitems/{id}/scores` (AGS 2.0 §3.4): stored (the latest by timestamp) and, in
/// the same transaction, recorded as an xAPI statement in the tenant's LRS — both or neither.
pub async fn post_score(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    id: &str,
    body: &[u8],
) -> Outcome<()> {
    if let Err(r) = need(caller, &[svc::SCOPE_SCORE]) {
        return Ok(Err(r));
    }
    let Some((app, _)) = reach(p, caller, class).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    let Some(line_item) =
        stored::get_line_item(p.store, p.tenant, &caller.app_id, class, id).await?
    else {
        return Ok(Err(Refusal::NotFound));
    };
    let score = match parse_score(body) {
        Ok(s) => s,
        Err(e) => return Ok(Err(Refusal::BadRequest(e.to_string()))),
    };
    // AGS 2.0 §3.4.1: an ISO 8601 date-time with a time zone (what the statement's
    // timestamp needs too, xAPI Data 2.4.7).
    if kakehashi_xapi::formats::parse_timestamp(&score.timestamp).is_none() {
        return Ok(Err(Refusal::BadRequest(format!(
            "timestamp {:?} is not an ISO 8601 date-time with a time zone (AGS 2.0 §3.4.1)",
            score.timestamp
        ))));
    }
    let Some(member) = member_by_user_id(p, &app, class, &score.user_id).await? else {
        return Ok(Err(Refusal::BadRequest(format!(
            "userId {:?} is not a member of this class",
            score.user_id
        ))));
    };
    let row = ScoreRow {
        line_item_id: id.to_owned(),
        user_sourced_id: member.user.sourced_id.clone(),
        user_id: score.user_id.clone(),
        score_given: score.score_given.map(|v| v.to_string()),
        score_maximum: score.score_maximum.map(|v| v.to_string()),
        comment: score.comment.clone(),
        activity_progress: score.activity_progress.clone(),
        grading_progress: score.grading_progress.clone(),
        timestamp: score.timestamp.clone(),
        updated_at: p.clock.now_text(),
    };
    let e = Endpoints::new(p.issuer.as_str());
    let statement = score_statement(
        p.issuer.as_str(),
        &app.name,
        &e.line_item(class, id),
        &line_item,
        &context_of(p, class).await?,
        &member,
        &score,
    );
    let mut tx = p.store.begin().await?;
    let taken = stored::put_score(&mut tx, p.tenant, &row).await?;
    audit_in(p, &mut tx, caller, "lti.score", id).await?;
    if taken {
        record_statement(p, &mut tx, &app.id, statement).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Ok(()))
}

/// The xAPI statement of a score: the learner (by `userMasterIdentifier`, else sourcedId, as
/// an account of the portal), `scored` the line item, in the class.
fn score_statement(
    issuer: &str,
    tool_name: &str,
    line_item_url: &str,
    li: &LineItemRow,
    class: &Context,
    m: &ClassMember,
    s: &svc::Score,
) -> Value {
    let who = m
        .user
        .user_master_identifier
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| m.user.sourced_id.clone());
    let mut result = serde_json::Map::new();
    if let (Some(g), Some(max)) = (s.score_given, s.score_maximum) {
        // xAPI Data 2.4.5.1.1: raw lies between min and max when they are given; AGS allows
        // extra credit (scoreGiven above scoreMaximum), then the statement leaves max out.
        let mut score = json!({ "raw": g, "min": 0, "scaled": (g / max).clamp(-1.0, 1.0) });
        if g <= max {
            score["max"] = json!(max);
        }
        result.insert("score".into(), score);
    }
    result.insert(
        "completion".into(),
        json!(matches!(
            s.activity_progress.as_str(),
            "Completed" | "Submitted"
        )),
    );
    if let Some(c) = &s.comment {
        result.insert("response".into(), json!(c));
    }
    json!({
        "actor": { "objectType": "Agent", "account": { "homePage": issuer, "name": who } },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/scored", "display": { "en-US": "scored", "ja-JP": "採点された" } },
        "object": {
            "objectType": "Activity", "id": line_item_url,
            "definition": { "name": { "ja-JP": li.label }, "type": "http://adlnet.gov/expapi/activities/assessment" }
        },
        "result": Value::Object(result),
        "context": {
            "platform": tool_name,
            "contextActivities": { "grouping": [{ "objectType": "Activity", "id": format!("{issuer}/classes/{}", super::enc(&class.id)), "definition": { "name": { "ja-JP": class.title } } }] }
        },
        "timestamp": s.timestamp,
    })
}

/// Writes a score's statement inside the score's transaction, with the tool as authority.
async fn record_statement(
    p: &Provider<'_>,
    tx: &mut kakehashi_store::Tx,
    app_id: &str,
    statement: Value,
) -> Result<(), LtiServiceError> {
    use crate::lrs::{Access, Authenticated, Version};
    let who = Authenticated {
        tenant: p.tenant.clone(),
        key: format!("lti:{app_id}"),
        access: Access::Credential { read_only: false },
        authority: json!({
            "objectType": "Agent",
            "account": { "homePage": p.issuer.as_str(), "name": format!("lti-tool:{app_id}") }
        }),
        version_line: None,
    };
    let req = crate::lrs::statements::WriteRequest {
        version: Version::V1_0_3,
        statements: statement,
        attachments: vec![],
        put_id: None,
    };
    crate::lrs::statements::write_in(tx, p.clock, &who, req)
        .await
        .map_err(|e| LtiServiceError::Statement(e.to_string()))?;
    Ok(())
}

/// `GET …/lineitems/{id}/results` (AGS 2.0 §3.3), optionally for one `user_id`.
pub async fn results(
    p: &Provider<'_>,
    caller: &ServiceCaller,
    class: &str,
    id: &str,
    user_id: Option<&str>,
    limit: Option<i64>,
    page: Option<i64>,
) -> Outcome<ListPage> {
    if let Err(r) = need(caller, &[svc::SCOPE_RESULT_READONLY]) {
        return Ok(Err(r));
    }
    if reach(p, caller, class).await?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    let Some(li) = stored::get_line_item(p.store, p.tenant, &caller.app_id, class, id).await?
    else {
        return Ok(Err(Refusal::NotFound));
    };
    let e = Endpoints::new(p.issuer.as_str());
    let li_url = e.line_item(class, id);
    let max: f64 = li.score_maximum.parse().unwrap_or(1.0);
    let list: Vec<Value> = stored::scores(p.store, p.tenant, id)
        .await?
        .iter()
        .filter(|s| user_id.is_none_or(|u| s.user_id == u))
        .map(|s| {
            let score = svc::Score {
                user_id: s.user_id.clone(),
                score_given: s.score_given.as_deref().and_then(|v| v.parse().ok()),
                score_maximum: s.score_maximum.as_deref().and_then(|v| v.parse().ok()),
                comment: s.comment.clone(),
                timestamp: s.timestamp.clone(),
                activity_progress: s.activity_progress.clone(),
                grading_progress: s.grading_progress.clone(),
            };
            result_json(
                &format!("{li_url}/results/{}", super::enc(&s.user_id)),
                &li_url,
                &score,
                max,
            )
        })
        .collect();
    // AGS 2.0 §3.3.4: results page like line items.
    let base = format!("{li_url}/results");
    Ok(Ok(page_of(list, limit, page, |limit, page| {
        page_query(&base, &[("user_id", user_id)], limit, page)
    })))
}

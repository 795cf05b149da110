//! What the launcher shows of LTI in a user's classes: the resource links placed there (by
//! Deep Linking), and, for the class's teachers, the tools they can add content from.

use kakehashi_store::identity;
use kakehashi_store::lti::{self as stored, ResourceLinkRow};
use kakehashi_store::roster;
use kakehashi_store::{Store, StoreError, TenantId};

use crate::portal::launcher;

/// One class's materials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassMaterials {
    pub class_id: String,
    pub class_title: String,
    pub links: Vec<ResourceLinkRow>,
    /// `(tool id, tool name)` a teacher may add content from (Deep Linking).
    pub add_from: Vec<(String, String)>,
}

/// The classes of `user` that have materials or where they may add some.
pub async fn materials_for(
    store: &Store,
    tenant: &TenantId,
    user: &roster::UserRow,
) -> Result<Vec<ClassMaterials>, StoreError> {
    let memberships = roster::memberships_of(store, tenant, &user.sourced_id).await?;
    if memberships.is_empty() {
        return Ok(Vec::new());
    }
    let apps = identity::list_apps(store, tenant).await?;
    let tools = stored::list_tools(store, tenant).await?;
    let dl_tools: Vec<(String, String)> = tools
        .iter()
        .filter(|t| t.deep_linking_url.is_some())
        .filter_map(|t| apps.iter().find(|a| a.id == t.app_id))
        .filter(|a| launcher::allowed(a, &user.role))
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let mut out = Vec::new();
    for m in &memberships {
        let links: Vec<ResourceLinkRow> = stored::resource_links_of_classes(
            store,
            tenant,
            std::slice::from_ref(&m.class_sourced_id),
        )
        .await?
        .into_iter()
        .filter(|l| {
            apps.iter()
                .any(|a| a.id == l.app_id && launcher::allowed(a, &user.role))
        })
        .collect();
        let add_from = if kakehashi_lti::roles::is_instructor(&m.role) {
            dl_tools.clone()
        } else {
            Vec::new()
        };
        if links.is_empty() && add_from.is_empty() {
            continue;
        }
        let title =
            kakehashi_store::oauth::roster_fields(store, tenant, "classes", &m.class_sourced_id)
                .await?
                .and_then(|f| serde_json::from_str::<Vec<(String, String)>>(&f).ok())
                .and_then(|pairs| {
                    pairs
                        .into_iter()
                        .find(|(k, _)| k == "title")
                        .map(|(_, v)| v)
                })
                .unwrap_or_else(|| m.class_sourced_id.clone());
        out.push(ClassMaterials {
            class_id: m.class_sourced_id.clone(),
            class_title: title,
            links,
            add_from,
        });
    }
    Ok(out)
}

/// One line item of a class with its scores, as the class's teacher sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineItemResults {
    pub tool_name: String,
    pub label: String,
    pub score_maximum: String,
    /// `(family name, given name, score given, activity progress, timestamp)` per pupil.
    pub scores: Vec<(String, String, Option<String>, String, String)>,
}

/// The results of a class for one of its teachers (`None` when `user` does not teach it).
/// A staff read of pupils' marks: audited (`lti.results.view`).
pub async fn results_for(
    store: &Store,
    clock: &dyn crate::Clock,
    tenant: &TenantId,
    user: &roster::UserRow,
    class: &str,
) -> Result<Option<Vec<LineItemResults>>, StoreError> {
    let teaches = roster::memberships_of(store, tenant, &user.sourced_id)
        .await?
        .iter()
        .any(|m| m.class_sourced_id == class && kakehashi_lti::roles::is_instructor(&m.role));
    if !teaches {
        return Ok(None);
    }
    let apps = identity::list_apps(store, tenant).await?;
    let members = stored::class_members(store, tenant, class, None, 0, 100_000).await?;
    let mut out = Vec::new();
    for li in stored::line_items(store, tenant, None, class).await? {
        let mut scores = Vec::new();
        for s in stored::scores(store, tenant, &li.id).await? {
            let Some(m) = members
                .iter()
                .find(|m| m.user.sourced_id == s.user_sourced_id)
            else {
                continue;
            };
            scores.push((
                m.user.family_name.clone(),
                m.user.given_name.clone(),
                s.score_given.clone(),
                s.activity_progress.clone(),
                s.timestamp.clone(),
            ));
        }
        out.push(LineItemResults {
            tool_name: apps
                .iter()
                .find(|a| a.id == li.app_id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            label: li.label.clone(),
            score_maximum: li.score_maximum.clone(),
            scores,
        });
    }
    let mut tx = store.begin().await?;
    kakehashi_store::audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &clock.now_text(),
        &kakehashi_store::audit::Event {
            actor: format!("user:{tenant}/{}", user.sourced_id),
            action: "lti.results.view".into(),
            target: format!("class:{class}"),
            details: serde_json::json!({ "lineItems": out.len() }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(out))
}

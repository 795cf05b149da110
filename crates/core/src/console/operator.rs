//! The platform operator's read-only cross-tenant overview (`/t/T/console/operator`): per
//! tenant its id and name, how many active people, apps and LTI tools it has, its last roster
//! import (when, by whom, from what) and whether its audit chain verifies. Counts and
//! operational facts only — no person's data, no names of people, nothing to change.
//!
//! Who: the command line's operator, or a person of tenant T holding the explicit grant
//! `platform-operator` (`kakehashi admin grant --role platform-operator --tenant T
//! --username U`, given only at the command line). A tenant admin without it is refused (403).
//! Each view is audited as a cross-tenant read: `console.operator.overview` in the platform
//! chain (the tenants listed) and `console.operator.read` in each listed tenant's own chain, so
//! every board of education sees in its log who looked at its figures.
//!
//! The overview pages on the server, by tenant id (`after`, `limit` as every console list):
//! only the tenants of the page are counted, verified and audited.

use kakehashi_store::console::{self as stored, TenantCounts};
use kakehashi_store::{audit, tenants, Store, StoreError, TenantId};

use super::authz::Principal;
use super::{page_size, ConsoleError, Page};
use crate::Clock;

/// A tenant's last roster import.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastImport {
    pub at: String,
    pub actor: String,
    pub source: String,
}

/// The state of a tenant's audit chain, recomputed from its first row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainStatus {
    pub rows: u64,
    /// `None`: intact. Otherwise the first row that is not what the chain says.
    pub first_break_seq: Option<i64>,
    pub problem: Option<String>,
}

/// One line of the overview.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantOverview {
    pub id: TenantId,
    pub name: String,
    pub users: i64,
    pub apps: i64,
    pub lti_tools: i64,
    pub last_import: Option<LastImport>,
    pub audit_chain: ChainStatus,
}

/// The figures of the tenants after `after` (a page of at most `limit`), in tenant id order;
/// audited (see the module documentation).
pub async fn overview(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<TenantOverview>, ConsoleError> {
    by.require_platform_operator()?;
    let limit = page_size(limit);
    let mut page = tenants::list_after(store, after.unwrap_or(""), limit + 1).await?;
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|t| t.id.as_str().to_owned())
    } else {
        None
    };
    let mut out = Vec::new();
    for t in page {
        let TenantCounts {
            users,
            apps,
            lti_tools,
        } = stored::tenant_counts(store, &t.id).await?;
        let last_import = stored::imports(store, &t.id, "", 1)
            .await?
            .into_iter()
            .next()
            .map(|(_, at, actor, source, _)| LastImport { at, actor, source });
        let v = audit::verify_tenant(store, &t.id).await?;
        out.push(TenantOverview {
            id: t.id,
            name: t.name,
            users,
            apps,
            lti_tools,
            last_import,
            audit_chain: ChainStatus {
                rows: v.rows,
                first_break_seq: v.first_break.as_ref().map(|b| b.seq),
                problem: v.first_break.map(|b| b.problem),
            },
        });
    }
    out.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let at = clock.now_text();
    let ids: Vec<&str> = out.iter().map(|t| t.id.as_str()).collect();
    let mut tx = store.begin().await?;
    audit::append(
        &mut tx,
        store.backend(),
        None,
        &at,
        &audit::Event {
            actor: by.actor.0.clone(),
            action: "console.operator.overview".into(),
            target: "platform".into(),
            details: serde_json::json!({ "tenants": ids }),
        },
    )
    .await?;
    for t in &out {
        audit::append(
            &mut tx,
            store.backend(),
            Some(&t.id),
            &at,
            &audit::Event {
                actor: by.actor.0.clone(),
                action: "console.operator.read".into(),
                target: format!("tenant:{}", t.id),
                details: serde_json::json!({ "seen": ["counts", "lastImport", "auditChain"] }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Page { items: out, next })
}

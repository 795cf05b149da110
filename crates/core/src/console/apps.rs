//! The app catalog in the console and the API (tenant admins): the same `crate::apps`
//! service the command line uses, a page at a time.

use kakehashi_store::identity::AppRow;
use kakehashi_store::Store;

use super::authz::{Principal, TenantAction};
use super::{page_size, ConsoleError, Page};

/// The tenant's apps by id after `after`.
pub async fn list(
    store: &Store,
    by: &Principal,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<AppRow>, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let limit = page_size(limit) as usize;
    let mut all = crate::apps::list(store, &by.tenant)
        .await
        .map_err(|e| ConsoleError::Invalid(e.to_string()))?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let after = after.unwrap_or("");
    let mut items: Vec<AppRow> = all.into_iter().filter(|a| a.id.as_str() > after).collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|a| a.id.clone())
    } else {
        None
    };
    Ok(Page { items, next })
}

//! The `demo` tenant: a small generated roster (two schools, classes, teachers and pupils with
//! Japanese names and kana) so that a newcomer has something to look at on first start.

use kakehashi_oneroster::generate;
use kakehashi_store::{Store, StoreError, TenantId};

use crate::roster_import::{self, ImportError, ImportRequest, ImportSummary, Quiet};
use crate::tenants::{self, TenantError};
use crate::{Actor, Clock};

pub const DEMO_TENANT: &str = "demo";

/// Creates the demo tenant and imports the demo roster, unless the tenant already exists.
/// Returns the import summary when it did something.
pub async fn ensure(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Option<ImportSummary>, ImportError> {
    let id = TenantId::parse(DEMO_TENANT).map_err(|e| {
        ImportError::Store(StoreError::Corrupt {
            table: "tenants",
            detail: e.to_string(),
        })
    })?;
    let actor = Actor("system:demo".to_owned());
    match tenants::add(store, clock, &actor, &id, "デモ市教育委員会").await {
        Ok(_) => {}
        Err(TenantError::Exists(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let roster = generate::small_demo();
    let req = ImportRequest {
        tenant: &id,
        actor: &actor,
        source_label: "demo roster",
        dry_run: false,
    };
    let mut tx = store.begin().await?;
    let summary = roster_import::apply(&mut tx, store, clock, &req, &roster, 0, &Quiet).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(summary))
}

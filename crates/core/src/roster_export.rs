//! The tenant's roster as a OneRoster 1.2 CSV package: every active row of every entity, in
//! the order it was imported, each with the columns it came with. Exporting, importing the
//! result into an empty tenant and exporting again gives the same bytes.

use std::collections::BTreeMap;

use kakehashi_oneroster::{Entity, ProcessingMode, Roster};
use kakehashi_store::roster as stored;
use kakehashi_store::{Store, StoreError, TenantId};

use crate::tenants::{self, TenantError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the tenant's active roster. Entities with rows are `bulk`, the others `absent`.
pub async fn export(store: &Store, tenant: &TenantId) -> Result<Roster, ExportError> {
    tenants::require(store, tenant).await?;
    let mut modes = BTreeMap::new();
    let mut tables = BTreeMap::new();
    for entity in Entity::ALL {
        let rows = stored::active_records(store, tenant, entity).await?;
        if rows.is_empty() {
            modes.insert(entity, ProcessingMode::Absent);
            continue;
        }
        let records = rows
            .iter()
            .enumerate()
            .map(|(i, r)| r.to_record(i as u64 + 2))
            .collect::<Result<Vec<_>, _>>()?;
        modes.insert(entity, ProcessingMode::Bulk);
        tables.insert(entity, records);
    }
    Ok(Roster {
        modes,
        manifest: Vec::new(),
        tables,
    })
}

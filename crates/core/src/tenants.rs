//! Creating and listing tenants. Creating one is audited on the platform chain and opens the
//! tenant's own chain.

use kakehashi_store::{audit, tenants, Store, StoreError, TenantId};

use crate::{Actor, Clock};

pub use kakehashi_store::tenants::Tenant;

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("tenant {0} already exists")]
    Exists(TenantId),
    #[error(
        "tenant {0} does not exist (create it with `kakehashi tenant add --id {0} --name NAME`)"
    )]
    Unknown(TenantId),
    #[error("the tenant name must not be empty")]
    EmptyName,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &TenantId,
    name: &str,
) -> Result<Tenant, TenantError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TenantError::EmptyName);
    }
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !tenants::insert(&mut tx, id, name, &at).await? {
        return Err(TenantError::Exists(id.clone()));
    }
    let event = audit::Event {
        actor: actor.0.clone(),
        action: "tenant.create".into(),
        target: format!("tenant:{id}"),
        details: serde_json::json!({ "name": name }),
    };
    audit::append(&mut tx, store.backend(), None, &at, &event).await?;
    audit::append(&mut tx, store.backend(), Some(id), &at, &event).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Tenant {
        id: id.clone(),
        name: name.to_owned(),
        created_at: at,
    })
}

pub async fn list(store: &Store) -> Result<Vec<Tenant>, TenantError> {
    Ok(tenants::list(store).await?)
}

/// The tenant, or [`TenantError::Unknown`].
pub async fn require(store: &Store, id: &TenantId) -> Result<Tenant, TenantError> {
    tenants::get(store, id)
        .await?
        .ok_or_else(|| TenantError::Unknown(id.clone()))
}

//! Explicit admin grants (`kakehashi admin grant|revoke|list`): who is a tenant admin or a
//! school admin, person or API client, and which people may open the read-only cross-tenant
//! operator overview (`platform-operator`, command line only). Every change is audited in its transaction.

use kakehashi_store::console::{self as stored, GrantRow};
use kakehashi_store::{audit, identity, roster, Store, StoreError, TenantId};

use super::authz::{AdminRole, Principal, Standing, TenantAction};
use super::ConsoleError;
use crate::Clock;

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grantee {
    /// A person of the tenant, by username.
    Username(String),
    /// An OIDC client of the tenant's catalog, by client id (the admin API).
    Client(String),
}

/// Resolves the grantee to its stored subject (`user:ID` / `client:ID`), refusing unknown ones.
async fn subject_of(
    store: &Store,
    tenant: &TenantId,
    who: &Grantee,
) -> Result<String, ConsoleError> {
    match who {
        Grantee::Username(name) => roster::find_user_by_username(store, tenant, name)
            .await?
            .map(|u| format!("user:{}", u.sourced_id))
            .ok_or_else(|| ConsoleError::NotFound(format!("no active user {name:?} in tenant {tenant}"))),
        Grantee::Client(id) => identity::get_app(store, tenant, id)
            .await?
            .filter(|a| a.protocol == "oidc" && a.client_secret_hash.is_some())
            .map(|a| format!("client:{}", a.id))
            .ok_or_else(|| {
                ConsoleError::NotFound(format!(
                    "no confidential OIDC client {id:?} in tenant {tenant} (register one with kakehashi app add --protocol oidc)"
                ))
            }),
    }
}

/// Checks the role/school pair: a school admin names an existing school, a tenant admin none.
async fn school_of(
    store: &Store,
    tenant: &TenantId,
    role: AdminRole,
    school: Option<&str>,
) -> Result<String, ConsoleError> {
    match (role, school) {
        (AdminRole::TenantAdmin | AdminRole::PlatformOperator, None) => Ok(String::new()),
        (AdminRole::TenantAdmin | AdminRole::PlatformOperator, Some(_)) => Err(
            ConsoleError::Invalid("--school is only for --role school-admin".into()),
        ),
        (AdminRole::SchoolAdmin, None) => Err(ConsoleError::Invalid(
            "--role school-admin needs --school SOURCEDID".into(),
        )),
        (AdminRole::SchoolAdmin, Some(s)) => {
            if stored::school_exists(store, tenant, s).await? {
                Ok(s.to_owned())
            } else {
                Err(ConsoleError::NotFound(format!(
                    "no active school (org of type school) {s:?} in tenant {tenant}"
                )))
            }
        }
    }
}

/// `platform-operator` looks across every tenant: only the command line's operator gives it
/// (a tenant admin cannot raise anyone, themselves included, above their tenant), and only to
/// a person (the admin API is per tenant).
fn operator_rules(by: &Principal, who: &Grantee, role: AdminRole) -> Result<(), ConsoleError> {
    if role != AdminRole::PlatformOperator {
        return Ok(());
    }
    if by.standing != Standing::PlatformOperator {
        return Err(ConsoleError::Forbidden(
            "platform-operator is given only at the command line (kakehashi admin grant)".into(),
        ));
    }
    if matches!(who, Grantee::Client(_)) {
        return Err(ConsoleError::Invalid(
            "--role platform-operator is for a person (--username): the admin API is per tenant"
                .into(),
        ));
    }
    Ok(())
}

/// Gives `who` the role. `Ok(false)` when they already had it.
pub async fn grant(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    who: &Grantee,
    role: AdminRole,
    school: Option<&str>,
) -> Result<bool, ConsoleError> {
    by.require(TenantAction::ManageGrants)?;
    operator_rules(by, who, role)?;
    let tenant = &by.tenant;
    let subject = subject_of(store, tenant, who).await?;
    let school = school_of(store, tenant, role, school).await?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let added = stored::insert_grant(
        &mut tx,
        tenant,
        &GrantRow {
            subject: subject.clone(),
            role: role.as_str().into(),
            school_sourced_id: school.clone(),
            granted_at: at.clone(),
            granted_by: by.actor.0.clone(),
        },
    )
    .await?;
    if added {
        audit::append(
            &mut tx,
            store.backend(),
            Some(tenant),
            &at,
            &audit::Event {
                actor: by.actor.0.clone(),
                action: "console.grant.add".into(),
                target: subject,
                details: serde_json::json!({ "role": role.as_str(), "school": school }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(added)
}

/// Takes the role away. `Ok(false)` when they did not have it.
pub async fn revoke(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    who: &Grantee,
    role: AdminRole,
    school: Option<&str>,
) -> Result<bool, ConsoleError> {
    by.require(TenantAction::ManageGrants)?;
    operator_rules(by, who, role)?;
    let tenant = &by.tenant;
    let subject = subject_of(store, tenant, who).await?;
    let school = school.unwrap_or("").to_owned();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let removed = stored::delete_grant(&mut tx, tenant, &subject, role.as_str(), &school).await?;
    if removed {
        audit::append(
            &mut tx,
            store.backend(),
            Some(tenant),
            &at,
            &audit::Event {
                actor: by.actor.0.clone(),
                action: "console.grant.remove".into(),
                target: subject,
                details: serde_json::json!({ "role": role.as_str(), "school": school }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(removed)
}

/// Every grant of the tenant.
pub async fn list(store: &Store, by: &Principal) -> Result<Vec<GrantRow>, ConsoleError> {
    by.require(TenantAction::ManageGrants)?;
    Ok(stored::grants(store, &by.tenant, None).await?)
}

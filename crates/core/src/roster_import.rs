//! Applying a OneRoster package to a tenant: the import policy.
//!
//! OneRoster 1.2 CSV §2.1.1 (processing modes):
//! - `bulk`: the file is the whole set of that entity for the tenant. Rows not in the file are
//!   deactivated (kept and audited, never deleted); rows in it are created or updated.
//! - `delta`: rows are upserted; `status=tobedeleted` deactivates a row.
//! - `absent`: the tenant's rows of that entity are left as they are.
//!
//! The package is validated first, with references checked against what the tenant already
//! holds; any error aborts before anything is written. Everything, including the audit entry
//! and the import history, is written in one transaction: an import is applied whole or not
//! at all. A dry run does the same work and rolls back.

use std::collections::{BTreeMap, HashMap, HashSet};

use kakehashi_oneroster::{self as oneroster, Entity, ProcessingMode, Record, Roster, RowStatus};
use kakehashi_store::roster::{self as stored, MembershipRow, StoredRecord, UserRow};
use kakehashi_store::{audit, identity, Store, StoreError, TenantId, Tx};

use crate::passwords::{self, PasswordError};
use crate::tenants::{self, TenantError};
use crate::{Actor, Clock};

/// What an import did (or, in a dry run, would do) to one entity.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EntityCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deactivated: u64,
}

/// The result of an import.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub tenant: TenantId,
    pub dry_run: bool,
    /// Per entity file present in the package, in dependency order.
    pub entities: BTreeMap<Entity, EntityCounts>,
    /// Warnings the validator reported (the import went ahead).
    pub warnings: u64,
    /// The first rows created, updated and deactivated per entity (at most
    /// [`CHANGED_ROWS_SHOWN`] of each), for a preview people read before applying. Not part
    /// of the audit row or the history (the counts are).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub changes: BTreeMap<Entity, ChangedRows>,
}

/// How many rows of each kind of change a summary names.
pub const CHANGED_ROWS_SHOWN: usize = 100;

/// Rows named in a summary: `(sourcedId, what people call it)` — a username, a title, a name.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangedRows {
    pub created: Vec<(String, String)>,
    pub updated: Vec<(String, String)>,
    pub deactivated: Vec<(String, String)>,
}

impl ChangedRows {
    fn push(list: &mut Vec<(String, String)>, id: &str, label: String) {
        if list.len() < CHANGED_ROWS_SHOWN {
            list.push((id.to_owned(), label));
        }
    }
}

/// The column people know a row of `entity` by.
fn label_column(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::Users => Some("username"),
        Entity::Orgs => Some("name"),
        Entity::Classes | Entity::Courses | Entity::AcademicSessions => Some("title"),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the package has {} error(s); nothing was imported", .0.errors)]
    Invalid(oneroster::Report),
    #[error(transparent)]
    Read(#[from] oneroster::ReadError),
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stages an import goes through, for a progress display.
pub trait Progress: Sync {
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
}

/// No progress display.
pub struct Quiet;
impl Progress for Quiet {}

pub struct ImportRequest<'a> {
    pub tenant: &'a TenantId,
    pub actor: &'a Actor,
    /// Where the package came from, for the history (a file name).
    pub source_label: &'a str,
    pub dry_run: bool,
}

/// The tenant's active ids, for references a package leaves to the database.
struct TenantIds(HashMap<Entity, HashSet<String>>);

impl oneroster::ExistingIds for TenantIds {
    fn contains(&self, entity: Entity, sourced_id: &str) -> bool {
        self.0.get(&entity).is_some_and(|s| s.contains(sourced_id))
    }
}

/// Validates the package at `source` against the tenant and applies it.
pub async fn import_package(
    store: &Store,
    clock: &dyn Clock,
    req: &ImportRequest<'_>,
    source: &oneroster::Source,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    tenants::require(store, req.tenant).await?;
    let mut tx = store.begin().await?;
    let mut ids = HashMap::new();
    for entity in Entity::ALL {
        ids.insert(
            entity,
            stored::active_ids(&mut tx, req.tenant, entity).await?,
        );
    }
    let existing = TenantIds(ids);
    progress.stage("validate", 0);
    let options = oneroster::Options {
        existing: Some(&existing),
        ..oneroster::Options::default()
    };
    let (roster, report) = oneroster::read(source, &options)?;
    if !report.is_valid() {
        return Err(ImportError::Invalid(report));
    }
    let summary = apply(
        &mut tx,
        store,
        clock,
        req,
        &roster,
        report.warnings,
        progress,
    )
    .await?;
    if req.dry_run {
        tx.rollback().await.map_err(StoreError::from)?;
    } else {
        tx.commit().await.map_err(StoreError::from)?;
        // The planner's statistics follow the roster (Store::analyze); after the commit,
        // so that the import stays one atomic change whatever happens here (a failure is
        // only logged: the data is in).
        progress.stage("analyze", 0);
        if let Err(e) = store
            .analyze(&["roster_records", "users", "memberships"])
            .await
        {
            tracing::warn!(error = %e, "ANALYZE after the import failed; queries may be slow until autovacuum analyses the tables");
        }
    }
    Ok(summary)
}

/// Applies an already validated roster (the demo data, or a package read by
/// [`import_package`]) inside `tx`.
pub async fn apply(
    tx: &mut Tx,
    store: &Store,
    clock: &dyn Clock,
    req: &ImportRequest<'_>,
    roster: &Roster,
    warnings: u64,
    progress: &dyn Progress,
) -> Result<ImportSummary, ImportError> {
    let at = clock.now_text();
    let primary_roles = primary_roles(roster);
    let mut entities = BTreeMap::new();
    let mut changes = BTreeMap::new();
    for entity in Entity::ALL {
        let mode = roster.mode(entity);
        if mode == ProcessingMode::Absent {
            continue;
        }
        let records = roster.records(entity);
        progress.stage(entity.file_stem(), records.len() as u64);
        let target = Target {
            tenant: req.tenant,
            entity,
            mode,
            at: &at,
            primary_roles: &primary_roles,
        };
        let (counts, changed) = apply_entity(tx, &target, records, progress).await?;
        entities.insert(entity, counts);
        if changed != ChangedRows::default() {
            changes.insert(entity, changed);
        }
    }
    let summary = ImportSummary {
        tenant: req.tenant.clone(),
        dry_run: req.dry_run,
        entities,
        warnings,
        changes,
    };
    let details = serde_json::json!({
        "source": req.source_label,
        "dryRun": req.dry_run,
        "counts": summary.entities.iter().map(|(e, c)| (e.file_stem(), c)).collect::<BTreeMap<_, _>>(),
    });
    let import_id = uuid::Uuid::new_v4().to_string();
    stored::record_import(
        tx,
        req.tenant,
        &import_id,
        &at,
        &req.actor.0,
        req.source_label,
        &details,
    )
    .await?;
    audit::append(
        tx,
        store.backend(),
        Some(req.tenant),
        &at,
        &audit::Event {
            actor: req.actor.0.clone(),
            action: "roster.import".into(),
            target: format!("import:{import_id}"),
            details,
        },
    )
    .await?;
    Ok(summary)
}

/// The primary role (roles.csv, `roleType=primary`) of each user the package gives one, the
/// last row winning as it does in `set_roles`. A user created by users.csv gets it at once,
/// so that the roles step, which still decides every role, finds nothing left to change.
fn primary_roles(roster: &Roster) -> HashMap<&str, &str> {
    let mut roles = HashMap::new();
    if roster.mode(Entity::Roles) == ProcessingMode::Absent {
        return roles;
    }
    for r in roster.records(Entity::Roles) {
        if r.status == Some(RowStatus::ToBeDeleted) || r.get("roleType") != Some("primary") {
            continue;
        }
        if let (Some(user), Some(role)) = (r.get("userSourcedId"), r.get("role")) {
            roles.insert(user, role);
        }
    }
    roles
}

/// Where and how one entity file is applied.
struct Target<'a> {
    tenant: &'a TenantId,
    entity: Entity,
    mode: ProcessingMode,
    at: &'a str,
    primary_roles: &'a HashMap<&'a str, &'a str>,
}

async fn apply_entity(
    tx: &mut Tx,
    target: &Target<'_>,
    records: &[Record],
    progress: &dyn Progress,
) -> Result<(EntityCounts, ChangedRows), ImportError> {
    let Target {
        tenant,
        entity,
        mode,
        at,
        ..
    } = *target;
    let existing = stored::load_all(tx, tenant, entity).await?;
    let mut counts = EntityCounts::default();
    let mut changed = ChangedRows::default();
    let label_of = |r: &Record| {
        label_column(entity)
            .and_then(|c| r.get(c))
            .unwrap_or_default()
            .to_owned()
    };
    let mut writes: Vec<StoredRecord> = Vec::with_capacity(records.len());
    let mut written: Vec<&Record> = Vec::with_capacity(records.len());
    let mut deactivate: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::with_capacity(records.len());
    // Bulk gives the tenant's rows the file's order. While the file's rows are unchanged and
    // already stored in that order (a nightly re-import of the same roster), they keep their
    // place and are not rewritten; from the first row that breaks the run, every row is
    // written at the end, in file order, as before.
    let mut in_place = mode == ProcessingMode::Bulk;
    let mut last_position = i64::MIN;
    // What the projections are given: every row written, and the rows kept in place, whose
    // primary role and initial password (if any) are applied as when they were rewritten.
    let mut projected: Vec<&Record> = Vec::with_capacity(records.len());
    for r in records {
        seen.insert(&r.sourced_id);
        let old = existing.get(&r.sourced_id);
        if r.status == Some(RowStatus::ToBeDeleted) {
            // Delta §2.1.1: tobedeleted removes the row from the tenant's active roster.
            if old.is_some_and(|o| o.record.active) {
                counts.deactivated += 1;
                ChangedRows::push(&mut changed.deactivated, &r.sourced_id, label_of(r));
                deactivate.push(r.sourced_id.clone());
            }
            continue;
        }
        let new = StoredRecord::from_record(entity, r);
        match old {
            None => {
                counts.created += 1;
                ChangedRows::push(&mut changed.created, &r.sourced_id, label_of(r));
            }
            Some(o) if o.record == new => {
                counts.unchanged += 1;
                // In delta mode an unchanged row keeps its place; bulk rewrites the order.
                if mode == ProcessingMode::Delta {
                    continue;
                }
                if in_place && o.position > last_position {
                    last_position = o.position;
                    projected.push(r);
                    continue;
                }
            }
            Some(_) => {
                counts.updated += 1;
                ChangedRows::push(&mut changed.updated, &r.sourced_id, label_of(r));
            }
        }
        in_place = false;
        writes.push(new);
        written.push(r);
        projected.push(r);
    }
    if mode == ProcessingMode::Bulk {
        // Bulk §2.1.1: the file is the whole set; what disappeared is deactivated.
        let mut gone: Vec<&String> = existing
            .values()
            .filter(|o| o.record.active && !seen.contains(o.record.sourced_id.as_str()))
            .map(|o| &o.record.sourced_id)
            .collect();
        gone.sort();
        counts.deactivated += gone.len() as u64;
        for id in gone.iter().take(CHANGED_ROWS_SHOWN) {
            let label = existing
                .get(id.as_str())
                .and_then(|o| o.record.to_record(0).ok())
                .map(|r| label_of(&r))
                .unwrap_or_default();
            ChangedRows::push(&mut changed.deactivated, id, label);
        }
        deactivate.extend(gone.into_iter().cloned());
    }
    let first = stored::next_position(tx, tenant, entity).await?;
    stored::write_records(tx, tenant, entity, &writes, first, at).await?;
    write_projection(tx, target, &written, &projected).await?;
    stored::deactivate(tx, tenant, entity, &deactivate, at).await?;
    progress.advance(records.len() as u64);
    Ok((counts, changed))
}

/// Keeps the typed tables (`users`, `memberships`) in step with the rows just written
/// (`records`) and the rows of the file that are now the tenant's (`projected`: those written
/// and those a bulk file left in place, unchanged).
async fn write_projection(
    tx: &mut Tx,
    target: &Target<'_>,
    records: &[&Record],
    projected: &[&Record],
) -> Result<(), ImportError> {
    let (tenant, at) = (target.tenant, target.at);
    match target.entity {
        Entity::Users => {
            let users: Vec<UserRow> = records
                .iter()
                .map(|r| user_row(r, target.primary_roles))
                .collect();
            stored::write_users(tx, tenant, &users, at).await?;
            set_initial_passwords(tx, tenant, projected, at).await?;
        }
        Entity::Roles => {
            // The primary role of a user is what the portal shows and authorises by.
            let roles: Vec<(&str, &str)> = projected
                .iter()
                .filter(|r| r.get("roleType") == Some("primary"))
                .filter_map(|r| Some((r.get("userSourcedId")?, r.get("role")?)))
                .collect();
            stored::set_roles(tx, tenant, &roles).await?;
        }
        Entity::Enrollments => {
            let rows: Vec<MembershipRow> = records
                .iter()
                .map(|r| MembershipRow {
                    enrollment_id: r.sourced_id.clone(),
                    user_sourced_id: r.get("userSourcedId").unwrap_or_default().to_owned(),
                    class_sourced_id: r.get("classSourcedId").unwrap_or_default().to_owned(),
                    school_sourced_id: r.get("schoolSourcedId").unwrap_or_default().to_owned(),
                    role: r.get("role").unwrap_or_default().to_owned(),
                    active: true,
                })
                .collect();
            stored::write_memberships(tx, tenant, &rows).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A `password` column is an initial password: hashed (argon2id) into the credentials, never
/// kept in the roster row (see `StoredRecord::from_record`).
async fn set_initial_passwords(
    tx: &mut Tx,
    tenant: &TenantId,
    records: &[&Record],
    at: &str,
) -> Result<(), ImportError> {
    let plain: Vec<(String, String)> = records
        .iter()
        .filter_map(|r| Some((r.sourced_id.clone(), r.get("password")?.to_owned())))
        .collect();
    for (user, phc) in passwords::hash_many(&plain)? {
        identity::set_password_hash(tx, tenant, &user, &phc, at).await?;
    }
    Ok(())
}

fn user_row(r: &Record, primary_roles: &HashMap<&str, &str>) -> UserRow {
    let text = |k: &str| r.get(k).unwrap_or_default().to_owned();
    let opt = |k: &str| r.get(k).map(str::to_owned);
    UserRow {
        sourced_id: r.sourced_id.clone(),
        username: text("username"),
        user_master_identifier: opt("userMasterIdentifier"),
        given_name: text("givenName"),
        family_name: text("familyName"),
        kana_given_name: opt("metadata.jp.kanaGivenName"),
        kana_family_name: opt("metadata.jp.kanaFamilyName"),
        // From roles.csv (primary role): given to a new user, kept on conflict, then set by
        // `set_roles` where roles.csv changes it.
        role: primary_roles
            .get(r.sourced_id.as_str())
            .map_or_else(String::new, |&r| r.to_owned()),
        email: opt("email"),
        enabled: r.get("enabledUser") != Some("false"),
        active: true,
    }
}

//! Whether a reference resolves: the package-wide state of ids seen so far and the rule for
//! ids a package leaves to the tenant's database.
//!
//! CSV binding §2.1.1: a `bulk` file is the complete set, so a reference into it must be in
//! it. A `delta` or `absent` file leaves the rest to what the receiver already holds, so a
//! reference not in the package must already exist in the tenant: checked against
//! [`ExistingIds`] when the caller has a database, otherwise reported as a warning.

use std::collections::BTreeMap;

use crate::diag::{At, Sink};
use crate::ids::IdSet;
use crate::manifest::mode_str;
use crate::model::{Entity, ProcessingMode};

/// Existing ids in the tenant, for references a delta package leaves to the database.
pub trait ExistingIds {
    fn contains(&self, entity: Entity, sourced_id: &str) -> bool;
}

/// Files other files point to; their ids are kept exactly.
pub fn is_target(entity: Entity) -> bool {
    matches!(
        entity,
        Entity::AcademicSessions
            | Entity::Orgs
            | Entity::Courses
            | Entity::Classes
            | Entity::Users
            | Entity::UserProfiles
    )
}

pub struct Resolver<'o> {
    pub modes: BTreeMap<Entity, ProcessingMode>,
    pub existing: Option<&'o dyn ExistingIds>,
    pub ids: BTreeMap<Entity, IdSet>,
}

impl Resolver<'_> {
    pub fn mode(&self, e: Entity) -> ProcessingMode {
        self.modes
            .get(&e)
            .copied()
            .unwrap_or(ProcessingMode::Absent)
    }

    /// Checks one reference `id` in column `at.field` to a row of `target`.
    pub fn check(&self, sink: &mut Sink, at: At<'_>, target: Entity, id: &str) {
        if self
            .ids
            .get(&target)
            .is_some_and(|s| s.contains(id.as_bytes()))
        {
            return;
        }
        let file = target.file_name();
        match self.mode(target) {
            ProcessingMode::Bulk => sink.error(
                at,
                "REF-MISSING",
                format!("{} `{id}` is not in {file} (which is bulk, so it must hold every row)", at.field),
            ),
            mode => match self.existing {
                Some(ex) if ex.contains(target, id) => {}
                Some(_) => sink.error(
                    at,
                    "REF-MISSING",
                    format!(
                        "{} `{id}` is neither in this package nor already in the tenant ({file} is {})",
                        at.field,
                        mode_str(mode)
                    ),
                ),
                None => sink.warning(
                    at,
                    "REF-EXTERNAL",
                    format!(
                        "{} `{id}` is not in this package ({file} is {}); it must already exist in the tenant when the package is imported",
                        at.field,
                        mode_str(mode)
                    ),
                ),
            },
        }
    }
}

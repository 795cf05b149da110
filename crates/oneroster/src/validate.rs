//! The two entry points that read a package: [`validate`] (streaming, keeps no rows) and
//! [`read`] (keeps every row). Both run the same checks in the same order: the manifest, then
//! each present file in dependency order (`Entity::ALL`), so that every reference to another
//! file can be checked the moment it is read.

use std::collections::BTreeMap;

use crate::diag::{Report, Sink};
use crate::manifest;
use crate::model::{Entity, ProcessingMode, Roster};
use crate::refs::{ExistingIds, Resolver};
use crate::scan;
use crate::source::{Package, ReadError, Source};

/// How to validate.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Diagnostics kept in the report; the counts go on past it. Default 1000.
    pub max_diagnostics: usize,
    /// The tenant's ids, for references a delta package leaves to the database. `None` (the
    /// `validate` command, which has no database) turns such references into warnings.
    pub existing: Option<&'a dyn ExistingIds>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            max_diagnostics: 1000,
            existing: None,
        }
    }
}

impl<'a> Options<'a> {
    pub fn new() -> Options<'a> {
        Options::default()
    }
}

/// Checks a package without keeping its rows: memory grows with the number of distinct ids in
/// the files other files point to, not with the number of rows.
pub fn validate(source: &Source, opts: &Options<'_>) -> Result<Report, ReadError> {
    run(source, opts, false).map(|(_, report)| report)
}

/// Checks a package and returns all its rows. Apply the roster only if `report.is_valid()`.
pub fn read(source: &Source, opts: &Options<'_>) -> Result<(Roster, Report), ReadError> {
    run(source, opts, true)
}

fn run(source: &Source, opts: &Options<'_>, keep: bool) -> Result<(Roster, Report), ReadError> {
    let mut pkg = Package::open(source)?;
    let mut sink = Sink::new(opts.max_diagnostics);
    let files = pkg.root_files()?;
    let Some(m) = manifest::read(&mut pkg, &files, &mut sink)? else {
        return Ok((Roster::default(), sink.finish()));
    };
    let mut refs = Resolver {
        modes: m.modes.clone(),
        existing: opts.existing,
        ids: BTreeMap::new(),
    };
    let mut tables = BTreeMap::new();
    for entity in Entity::ALL {
        if refs.mode(entity) == ProcessingMode::Absent || !files.contains(&entity.file_name()) {
            continue;
        }
        let mut rows = Vec::new();
        scan::scan_file(
            &mut pkg,
            entity,
            &mut refs,
            &mut sink,
            keep.then_some(&mut rows),
        )?;
        if keep {
            tables.insert(entity, rows);
        }
    }
    let roster = Roster {
        modes: m.modes,
        manifest: m.rows,
        tables,
    };
    Ok((roster, sink.finish()))
}

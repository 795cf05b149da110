//! `manifest.csv` (OneRoster 1.2 CSV binding §2.1.1): which version the package follows and,
//! for every file, whether it is `bulk`, `delta` or `absent`. This module reads and checks it,
//! and compares it with the files actually in the package.

use std::collections::BTreeMap;

use crate::csvio::{self, Encoding, Next, Start};
use crate::diag::{At, Sink};
use crate::model::{Entity, ProcessingMode};
use crate::source::{Package, ReadError};

pub const FILE: &str = "manifest.csv";

/// `file.X` properties of OneRoster 1.2 that Kakehashi does not read (gradebook and resources
/// services, CSV binding §2.1.1).
pub const OTHER_FILES: &[&str] = &[
    "categories",
    "classResources",
    "courseResources",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "scoreScales",
    "userResources",
];

/// Properties other than `file.X` that the binding defines.
const OTHER_PROPERTIES: &[&str] = &[
    "manifest.version",
    "oneroster.version",
    "source.systemName",
    "source.systemCode",
];

pub struct Manifest {
    pub modes: BTreeMap<Entity, ProcessingMode>,
    pub rows: Vec<(String, String)>,
}

fn parse_mode(v: &str) -> Option<ProcessingMode> {
    match v {
        "bulk" => Some(ProcessingMode::Bulk),
        "delta" => Some(ProcessingMode::Delta),
        "absent" => Some(ProcessingMode::Absent),
        _ => None,
    }
}

/// Reads `manifest.csv`; `None` when it is missing or unusable (reported).
pub fn read(
    pkg: &mut Package,
    root_files: &[String],
    sink: &mut Sink,
) -> Result<Option<Manifest>, ReadError> {
    let nested: Vec<String> = pkg
        .all_zip_names()
        .into_iter()
        .filter(|n| n.ends_with("/manifest.csv"))
        .collect();
    let parsed = pkg.with_file(FILE, |r| parse(r, sink))?;
    let Some(parsed) = parsed else {
        let hint = match nested.first() {
            Some(n) => format!(
                " (the zip has `{n}`: put the CSV files at the root of the zip, not in a folder)"
            ),
            None => String::new(),
        };
        sink.error(
            At::file(FILE),
            "MANIFEST-MISSING",
            format!("the package has no manifest.csv at its root (CSV binding §2.1){hint}"),
        );
        return Ok(None);
    };
    let Some(manifest) = parsed else {
        return Ok(None);
    };
    check_files(&manifest, root_files, sink);
    Ok(Some(manifest))
}

fn parse(r: &mut dyn std::io::Read, sink: &mut Sink) -> Option<Manifest> {
    let at0 = At::file(FILE);
    let mut stream = match csvio::open(r) {
        Ok(Start::Csv(s)) => s,
        Ok(Start::Utf16) => {
            sink.error(
                at0,
                "ENC-UTF16",
                "the file is UTF-16; OneRoster CSV must be UTF-8",
            );
            return None;
        }
        Err(e) => {
            sink.error(at0, "CSV-SYNTAX", format!("cannot read the file: {e}"));
            return None;
        }
    };
    let mut header: Vec<String> = Vec::new();
    let (mut name_col, mut value_col) = (None, None);
    let mut rows: Vec<(String, String, u64)> = Vec::new();
    loop {
        match stream.next(FILE, sink) {
            Next::Record => {}
            Next::End => break,
            Next::Broken => return None,
        }
        let line = stream.line();
        match csvio::check_encoding(&stream.record, FILE, line, &header, sink) {
            Encoding::Utf8 => {}
            Encoding::BadRecord => continue,
            Encoding::ShiftJis => return None,
        }
        if header.is_empty() {
            header = stream
                .record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            name_col = header.iter().position(|h| h == "propertyName");
            value_col = header.iter().position(|h| h == "value");
            if name_col.is_none() || value_col.is_none() {
                sink.error(
                    At {
                        file: FILE,
                        line: 1,
                        column: 0,
                        field: "",
                    },
                    "MANIFEST-HEADER",
                    format!(
                        "the header must be `propertyName,value` (CSV binding §2.1.1), found `{}`",
                        header.join(",")
                    ),
                );
                return None;
            }
            continue;
        }
        let (Some(n), Some(v)) = (name_col, value_col) else {
            return None;
        };
        let name = csvio::field(&stream.record, n).trim().to_owned();
        let value = csvio::field(&stream.record, v).trim().to_owned();
        if name.is_empty() && value.is_empty() {
            continue;
        }
        rows.push((name, value, line));
    }
    if header.is_empty() {
        sink.error(
            at0,
            "FILE-EMPTY",
            "manifest.csv is empty; it needs a header and rows",
        );
        return None;
    }
    Some(check_rows(rows, sink))
}

fn check_rows(rows: Vec<(String, String, u64)>, sink: &mut Sink) -> Manifest {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut modes = BTreeMap::new();
    for (name, value, line) in &rows {
        let at = At {
            file: FILE,
            line: *line,
            column: 2,
            field: "value",
        };
        if let Some(first) = seen.insert(name.clone(), *line) {
            sink.error(
                At {
                    column: 1,
                    field: "propertyName",
                    ..at
                },
                "MANIFEST-DUPLICATE",
                format!("`{name}` is given twice (first on line {first}); give it once"),
            );
            continue;
        }
        if let Some(stem) = name.strip_prefix("file.") {
            let mode = parse_mode(value);
            if mode.is_none() {
                sink.error(
                    at,
                    "MANIFEST-MODE",
                    format!("`{name}` is `{value}`; it must be bulk, delta or absent (CSV binding §2.1.1)"),
                );
            }
            if let Some(entity) = Entity::from_file_stem(stem) {
                modes.insert(entity, mode.unwrap_or(ProcessingMode::Absent));
            } else if OTHER_FILES.contains(&stem) {
                if mode.is_some_and(|m| m != ProcessingMode::Absent) {
                    sink.warning(
                        at,
                        "MANIFEST-UNSUPPORTED",
                        format!("{stem}.csv is `{value}`, but Kakehashi reads rostering files only; it is ignored"),
                    );
                }
            } else {
                sink.warning(
                    At {
                        column: 1,
                        field: "propertyName",
                        ..at
                    },
                    "MANIFEST-UNKNOWN-PROPERTY",
                    format!("`{name}` is not a file of OneRoster 1.2; it is ignored"),
                );
            }
            continue;
        }
        match name.as_str() {
            "manifest.version" if value != "1.0" => sink.error(
                at,
                "MANIFEST-VERSION",
                format!("manifest.version is `{value}`; it must be 1.0 (CSV binding §2.1.1)"),
            ),
            "oneroster.version" if !value.starts_with("1.2") => sink.error(
                at,
                "MANIFEST-VERSION",
                format!("oneroster.version is `{value}`; this reader takes OneRoster 1.2 packages"),
            ),
            n if OTHER_PROPERTIES.contains(&n) => {}
            _ => sink.warning(
                At {
                    column: 1,
                    field: "propertyName",
                    ..at
                },
                "MANIFEST-UNKNOWN-PROPERTY",
                format!("`{name}` is not a manifest property of OneRoster 1.2; it is kept"),
            ),
        }
    }
    let end = rows.last().map_or(1, |r| r.2);
    for required in ["manifest.version", "oneroster.version"] {
        if !seen.contains_key(required) {
            sink.error(
                At {
                    file: FILE,
                    line: end,
                    column: 0,
                    field: "",
                },
                "MANIFEST-REQUIRED",
                format!("the row `{required}` is missing (CSV binding §2.1.1)"),
            );
        }
    }
    for entity in Entity::ALL {
        if let std::collections::btree_map::Entry::Vacant(slot) = modes.entry(entity) {
            slot.insert(ProcessingMode::Absent);
            sink.error(
                At { file: FILE, line: end, column: 0, field: "" },
                "MANIFEST-REQUIRED",
                format!(
                    "the row `file.{}` is missing; every file needs a row with bulk, delta or absent (CSV binding §2.1.1)",
                    entity.file_stem()
                ),
            );
        }
    }
    Manifest {
        modes,
        rows: rows.into_iter().map(|(n, v, _)| (n, v)).collect(),
    }
}

/// Compares the manifest with the files in the package.
fn check_files(m: &Manifest, root_files: &[String], sink: &mut Sink) {
    for (&entity, &mode) in &m.modes {
        let name = entity.file_name();
        let present = root_files.contains(&name);
        match mode {
            ProcessingMode::Bulk | ProcessingMode::Delta if !present => sink.error(
                At::file(&name),
                "MANIFEST-FILE-MISSING",
                format!(
                    "manifest.csv says file.{} is {}, but the package has no {name}",
                    entity.file_stem(),
                    mode_str(mode)
                ),
            ),
            ProcessingMode::Absent if present => sink.warning(
                At::file(&name),
                "MANIFEST-FILE-ABSENT",
                format!(
                    "{name} is in the package but manifest.csv says file.{} is absent; the file is not read",
                    entity.file_stem()
                ),
            ),
            _ => {}
        }
    }
    for f in root_files {
        let stem = f.strip_suffix(".csv");
        let known = f == FILE
            || stem
                .is_some_and(|s| Entity::from_file_stem(s).is_some() || OTHER_FILES.contains(&s));
        if !known {
            sink.warning(
                At::file(f),
                "PACKAGE-UNKNOWN-FILE",
                format!("{f} is not a file of OneRoster 1.2; it is ignored"),
            );
        }
    }
}

pub fn mode_str(mode: ProcessingMode) -> &'static str {
    match mode {
        ProcessingMode::Bulk => "bulk",
        ProcessingMode::Delta => "delta",
        ProcessingMode::Absent => "absent",
    }
}

//! One pass over one data file: the header (CSV binding §3: columns found by name), then every
//! row, streamed through one reused `csv::ByteRecord`. Memory stays bounded by the id sets,
//! not by the rows; rows are only kept when the caller asked for them ([`crate::read`]).
//!
//! Duplicate sourcedIds in files nothing points to are found with 64-bit hashes and confirmed
//! by a second pass over the file that only looks at the suspect rows ([`confirm_dups`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use crate::csvio::{self, CsvStream, Encoding, Next, Start};
use crate::diag::{At, Sink};
use crate::ids::{self, HashSeen, IdSet, Suspects};
use crate::model::{Entity, ProcessingMode, Record, RowStatus};
use crate::refs::{self, Resolver};
use crate::rules::{self, Cell, Deferred};
use crate::schema::{self, Column, Kind};
use crate::source::{Package, ReadError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Special {
    SourcedId,
    Status,
    DateLastModified,
    Other,
}

struct Plan {
    name: String,
    /// `name` for the rows: the schema's own `'static` name when the column is known.
    column: Cow<'static, str>,
    spec: Option<&'static Column>,
    special: Special,
}

/// What a scan of one file leaves for later.
struct Scanned {
    /// Exact ids when other files point to this one.
    ids: Option<IdSet>,
    deferred: Vec<Deferred>,
    dup_suspects: Option<(usize, Suspects)>,
    umi_suspects: Option<(usize, Suspects)>,
}

/// Scans `entity`'s file and leaves its ids in `refs`; rows go to `records` when given.
pub fn scan_file(
    pkg: &mut Package,
    entity: Entity,
    refs: &mut Resolver<'_>,
    sink: &mut Sink,
    records: Option<&mut Vec<Record>>,
) -> Result<(), ReadError> {
    let file = entity.file_name();
    let mode = refs.mode(entity);
    let scanned = pkg.with_file(&file, |r| {
        let mut scan = FileScan {
            entity,
            file: &file,
            mode,
            sink,
            refs,
            records,
        };
        scan.run(r)
    })?;
    let Some(Some(scanned)) = scanned else {
        return Ok(());
    };
    if let Some(ids) = scanned.ids {
        refs.ids.insert(entity, ids);
    }
    for d in scanned.deferred {
        let at = At {
            file: &file,
            line: d.line,
            column: d.column,
            field: d.field,
        };
        refs.check(sink, at, entity, &d.id);
    }
    for (col, suspects, rule, what) in [
        scanned
            .dup_suspects
            .map(|(c, s)| (c, s, "ROW-DUP-ID", "sourcedId")),
        scanned
            .umi_suspects
            .map(|(c, s)| (c, s, "JP-UMI-DUPLICATE", "userMasterIdentifier")),
    ]
    .into_iter()
    .flatten()
    {
        confirm_dups(pkg, &file, col, &suspects, rule, what, sink)?;
    }
    Ok(())
}

struct FileScan<'a, 'o> {
    entity: Entity,
    file: &'a str,
    mode: ProcessingMode,
    sink: &'a mut Sink,
    refs: &'a Resolver<'o>,
    records: Option<&'a mut Vec<Record>>,
}

impl FileScan<'_, '_> {
    fn run(&mut self, r: &mut dyn Read) -> Option<Scanned> {
        let at0 = At::file(self.file);
        let mut stream = match csvio::open(r) {
            Ok(Start::Csv(s)) => s,
            Ok(Start::Utf16) => {
                self.sink.error(
                    at0,
                    "ENC-UTF16",
                    "the file is UTF-16; OneRoster CSV must be UTF-8 (save it as CSV UTF-8)",
                );
                return None;
            }
            Err(e) => {
                self.sink
                    .error(at0, "CSV-SYNTAX", format!("cannot read the file: {e}"));
                return None;
            }
        };
        let plans = self.header(&mut stream)?;
        self.rows(&mut stream, &plans)
    }

    fn header(&mut self, stream: &mut CsvStream<'_>) -> Option<Vec<Plan>> {
        match stream.next(self.file, self.sink) {
            Next::Record => {}
            Next::End => {
                self.sink.error(
                    At::file(self.file),
                    "FILE-EMPTY",
                    "the file is empty; it needs at least the header row (CSV binding §3)",
                );
                return None;
            }
            Next::Broken => return None,
        }
        match csvio::check_encoding(&stream.record, self.file, 1, &[], self.sink) {
            Encoding::Utf8 => {}
            Encoding::BadRecord | Encoding::ShiftJis => return None,
        }
        let names: Vec<String> = (0..stream.record.len())
            .map(|i| csvio::field(&stream.record, i).to_owned())
            .collect();
        let mut plans: Vec<Plan> = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let at = At {
                file: self.file,
                line: 1,
                column: i as u64 + 1,
                field: name,
            };
            let mut spec = schema::column(self.entity, name);
            if let Some(first) = names[..i].iter().position(|n| n == name) {
                self.sink.error(
                    at,
                    "HDR-DUPLICATE",
                    format!(
                        "column `{name}` appears twice (also column {}); give each column once",
                        first + 1
                    ),
                );
                spec = None;
            } else if spec.is_none() && !name.starts_with("metadata.") {
                self.sink.warning(
                    at,
                    "HDR-UNKNOWN",
                    format!(
                        "column `{name}` is not a column of {} in OneRoster 1.2; extensions must be named metadata.* (CSV binding §3). It is kept but not checked",
                        self.file
                    ),
                );
            }
            let special = match (name.as_str(), spec.is_some()) {
                ("sourcedId", true) => Special::SourcedId,
                ("status", true) => Special::Status,
                ("dateLastModified", true) => Special::DateLastModified,
                _ => Special::Other,
            };
            plans.push(Plan {
                name: name.clone(),
                column: spec.map_or_else(|| Cow::Owned(name.clone()), |s| Cow::Borrowed(s.name)),
                spec,
                special,
            });
        }
        for c in schema::columns(self.entity).iter().filter(|c| c.canonical) {
            if names.iter().any(|n| n == c.name) {
                continue;
            }
            let at = At {
                file: self.file,
                line: 1,
                column: 0,
                field: c.name,
            };
            let delta_needs = self.mode == ProcessingMode::Delta
                && matches!(c.name, "status" | "dateLastModified");
            if c.required || delta_needs {
                self.sink.error(
                    at,
                    "HDR-MISSING",
                    format!(
                        "the header has no `{}` column, which {} requires",
                        c.name, self.file
                    ),
                );
            } else if !c.name.starts_with("metadata.") {
                self.sink.warning(
                    at,
                    "HDR-OPTIONAL-MISSING",
                    format!("the header has no `{}` column; OneRoster 1.2 lists every column in the header, even when empty", c.name),
                );
            }
        }
        for (old, new) in [
            ("metadata.jp.ShussekiNo", "metadata.jp.shussekiNo"),
            ("metadata.jp.PublicFlg", "metadata.jp.publicFlg"),
        ] {
            if names.iter().any(|n| n == old) && names.iter().any(|n| n == new) {
                self.sink.warning(
                    At { file: self.file, line: 1, column: 0, field: new },
                    "JP-MIXED-GENERATION",
                    format!("both `{old}` (Japan Profile) and `{new}` (K-12 Schools Profile) are present; use one generation"),
                );
            }
        }
        Some(plans)
    }

    fn rows(&mut self, stream: &mut CsvStream<'_>, plans: &[Plan]) -> Option<Scanned> {
        let sourced_col = plans.iter().position(|p| p.special == Special::SourcedId);
        let umi_col = plans
            .iter()
            .position(|p| p.spec.is_some_and(|s| s.kind == Kind::Uuid));
        let (start_col, end_col) = {
            let find = |n: &str| plans.iter().position(|p| p.spec.is_some() && p.name == n);
            (
                find("startDate").or_else(|| find("beginDate")),
                find("endDate"),
            )
        };
        let header: Vec<String> = plans.iter().map(|p| p.name.clone()).collect();
        let target = refs::is_target(self.entity);
        let mut ids = target.then(IdSet::new);
        let mut seen = (!target).then(HashSeen::new);
        let mut umis = umi_col.map(|_| HashSeen::new());
        let mut deferred = Vec::new();
        while let Next::Record = stream.next(self.file, self.sink) {
            let line = stream.line();
            let record = &stream.record;
            if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
                continue; // a blank line
            }
            if let Some(i) = sourced_col.filter(|&i| i < record.len()) {
                let id = record.get(i).unwrap_or_default();
                if !id.is_empty() {
                    if let Some(set) = ids.as_mut() {
                        if let Some(first) = set.insert(id, line) {
                            self.sink.error(
                                At { file: self.file, line, column: i as u64 + 1, field: "sourcedId" },
                                "ROW-DUP-ID",
                                format!(
                                    "sourcedId `{}` is also on line {first}; sourcedIds must be unique in a file",
                                    String::from_utf8_lossy(id)
                                ),
                            );
                        }
                    } else if let Some(s) = seen.as_mut() {
                        s.insert(id);
                    }
                }
            }
            if record.len() != plans.len() {
                let (column, what) = if record.len() < plans.len() {
                    (record.len() as u64 + 1, "fewer")
                } else {
                    (plans.len() as u64 + 1, "more")
                };
                self.sink.error(
                    At { file: self.file, line, column, field: "" },
                    "ROW-FIELD-COUNT",
                    format!(
                        "the row has {} fields, {what} than the {} columns of the header (a comma or quote out of place?)",
                        record.len(),
                        plans.len()
                    ),
                );
                continue;
            }
            match csvio::check_encoding(record, self.file, line, &header, self.sink) {
                Encoding::Utf8 => {}
                Encoding::BadRecord => continue,
                Encoding::ShiftJis => return None,
            }
            if let (Some(i), Some(u)) = (umi_col, umis.as_mut()) {
                let v = csvio::field(record, i);
                if !v.is_empty() {
                    u.insert(v.to_ascii_lowercase().as_bytes());
                }
            }
            self.row(record, line, plans, &mut deferred);
            if let (Some(s), Some(e)) = (start_col, end_col) {
                let at = At {
                    file: self.file,
                    line,
                    column: e as u64 + 1,
                    field: "endDate",
                };
                rules::date_order(
                    at,
                    csvio::field(record, s),
                    csvio::field(record, e),
                    self.sink,
                );
            }
            if let Some(out) = self.records.as_deref_mut() {
                out.push(to_record(record, line, plans));
            }
        }
        let dup_suspects = seen
            .filter(HashSeen::has_suspects)
            .zip(sourced_col)
            .map(|(s, c)| (c, s.into_suspects()));
        let umi_suspects = umis
            .filter(HashSeen::has_suspects)
            .zip(umi_col)
            .map(|(s, c)| (c, s.into_suspects()));
        Some(Scanned {
            ids,
            deferred,
            dup_suspects,
            umi_suspects,
        })
    }

    fn row(
        &mut self,
        record: &csv::ByteRecord,
        line: u64,
        plans: &[Plan],
        deferred: &mut Vec<Deferred>,
    ) {
        for (i, plan) in plans.iter().enumerate() {
            let Some(spec) = plan.spec else { continue };
            let value = csvio::field(record, i);
            let at = At {
                file: self.file,
                line,
                column: i as u64 + 1,
                field: spec.name,
            };
            if value.is_empty() {
                let delta_needs = self.mode == ProcessingMode::Delta
                    && matches!(plan.special, Special::Status | Special::DateLastModified);
                if delta_needs {
                    self.sink.error(
                        at,
                        "ROW-DELTA-REQUIRED",
                        format!("{} is empty; in a delta file every row needs status and dateLastModified (CSV binding §2.1.1)", spec.name),
                    );
                } else if spec.required {
                    self.sink.error(
                        at,
                        "ROW-REQUIRED",
                        format!("{} is required but empty", spec.name),
                    );
                }
                continue;
            }
            if plan.special == Special::SourcedId && spec.kind == Kind::Text {
                continue; // uniqueness is checked in `rows`
            }
            let cell = Cell {
                entity: self.entity,
                at,
                value,
            };
            rules::check(&cell, spec.kind, self.sink, self.refs, deferred, spec.name);
        }
    }
}

fn to_record(record: &csv::ByteRecord, line: u64, plans: &[Plan]) -> Record {
    let mut out = Record {
        line,
        sourced_id: String::new(),
        status: None,
        date_last_modified: None,
        fields: Vec::with_capacity(plans.len()),
    };
    for (i, plan) in plans.iter().enumerate() {
        let v = csvio::field(record, i);
        match plan.special {
            Special::SourcedId => out.sourced_id = v.to_owned(),
            Special::Status => {
                out.status = match v {
                    "active" => Some(RowStatus::Active),
                    "tobedeleted" => Some(RowStatus::ToBeDeleted),
                    _ => None,
                }
            }
            Special::DateLastModified => {
                out.date_last_modified = (!v.is_empty()).then(|| v.to_owned());
            }
            Special::Other => out.fields.push((plan.column.clone(), v.to_owned())),
        }
    }
    out
}

/// The exact second pass: rows whose key (column `col`) hashed into `suspects` are compared
/// as text, and real duplicates are reported with both lines.
fn confirm_dups(
    pkg: &mut Package,
    file: &str,
    col: usize,
    suspects: &Suspects,
    rule: &str,
    what: &str,
    sink: &mut Sink,
) -> Result<(), ReadError> {
    let found = pkg.with_file(file, |r| {
        let mut lines: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
        let mut quiet = Sink::new(0);
        let Ok(Start::Csv(mut stream)) = csvio::open(r) else {
            return lines;
        };
        let mut first = true;
        while let Next::Record = stream.next(file, &mut quiet) {
            if std::mem::take(&mut first) {
                continue;
            }
            let Some(raw) = stream.record.get(col) else {
                continue;
            };
            let key = if what == "sourcedId" {
                raw.to_vec()
            } else {
                raw.to_ascii_lowercase()
            };
            if !key.is_empty() && ids::in_suspects(suspects, &key) {
                lines.entry(key).or_default().push(stream.line());
            }
        }
        lines
    })?;
    let mut dups: Vec<(Vec<u8>, Vec<u64>)> = found
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, l)| l.len() > 1)
        .collect();
    dups.sort_by_key(|(_, l)| l[0]);
    for (key, lines) in dups {
        for &line in &lines[1..] {
            sink.error(
                At {
                    file,
                    line,
                    column: col as u64 + 1,
                    field: what,
                },
                rule,
                format!(
                    "{what} `{}` is also on line {}; it must be unique in the file",
                    String::from_utf8_lossy(&key),
                    lines[0]
                ),
            );
        }
    }
    Ok(())
}

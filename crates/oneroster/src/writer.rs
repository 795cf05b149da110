//! Writing a [`Roster`] as a OneRoster 1.2 CSV package, the same bytes every time.
//!
//! Byte format (see `docs/ONEROSTER.md`): UTF-8 without BOM; records end in CRLF as in
//! RFC 4180 §2, which the CSV binding §2 refers to; a field is quoted only when it holds a
//! comma, a double quote, CR or LF, or starts or ends with a space or tab; quotes are doubled.
//! Each data file's header is [`header`] for the entity, then the extra columns its rows carry
//! in first-seen order. Rows keep the order they have in the roster. Zip entries are written in
//! manifest-then-dependency order, deflated, dated 1980-01-01 00:00, mode 0644.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::manifest::{mode_str, OTHER_FILES};
use crate::model::{Entity, ProcessingMode, Record, Roster};
use crate::schema::header;

const EOL: &[u8] = b"\r\n";

/// The mode a file is written with: as the roster says; a table without a mode is bulk.
fn mode(roster: &Roster, e: Entity) -> ProcessingMode {
    match roster.modes.get(&e) {
        Some(&m) => m,
        None if roster.tables.contains_key(&e) => ProcessingMode::Bulk,
        None => ProcessingMode::Absent,
    }
}

/// Writes `manifest.csv` and every bulk or delta file into `dir` (created if needed).
pub fn write_dir(roster: &Roster, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut out = BufWriter::new(File::create(dir.join("manifest.csv"))?);
    write_manifest(roster, &mut out)?;
    out.flush()?;
    for entity in files(roster) {
        let mut out =
            BufWriter::with_capacity(1 << 20, File::create(dir.join(entity.file_name()))?);
        write_table(roster, entity, &mut out)?;
        out.flush()?;
    }
    Ok(())
}

/// Writes the package as one zip file at `path`.
pub fn write_zip(roster: &Roster, path: &Path) -> io::Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    zip.start_file("manifest.csv", options)
        .map_err(io::Error::other)?;
    write_manifest(roster, &mut zip)?;
    for entity in files(roster) {
        zip.start_file(entity.file_name(), options)
            .map_err(io::Error::other)?;
        write_table(roster, entity, &mut zip)?;
    }
    let mut file = zip.finish().map_err(io::Error::other)?;
    file.flush()
}

fn files(roster: &Roster) -> impl Iterator<Item = Entity> + '_ {
    Entity::ALL
        .into_iter()
        .filter(move |&e| mode(roster, e) != ProcessingMode::Absent)
}

/// `manifest.csv`: versions, a `file.X` row for every file OneRoster 1.2 defines (in the
/// binding's alphabetical order), then the roster's other manifest rows in their order, with
/// `source.systemName` = Kakehashi when the roster has none.
fn write_manifest(roster: &Roster, w: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<(String, String)> = vec![
        ("manifest.version".into(), "1.0".into()),
        ("oneroster.version".into(), "1.2".into()),
    ];
    let mut stems: Vec<&str> = Entity::ALL.iter().map(|e| e.file_stem()).collect();
    stems.extend_from_slice(OTHER_FILES);
    stems.sort_by_key(|s| s.to_ascii_lowercase());
    for stem in stems {
        let m = Entity::from_file_stem(stem).map_or(ProcessingMode::Absent, |e| mode(roster, e));
        rows.push((format!("file.{stem}"), mode_str(m).into()));
    }
    let others: Vec<&(String, String)> = roster
        .manifest
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("file.") && k != "manifest.version" && k != "oneroster.version"
        })
        .collect();
    if !others.iter().any(|(k, _)| k == "source.systemName") {
        rows.push(("source.systemName".into(), "Kakehashi".into()));
    }
    rows.extend(others.into_iter().cloned());
    write_row(w, ["propertyName", "value"])?;
    for (k, v) in &rows {
        write_row(w, [k.as_str(), v.as_str()])?;
    }
    Ok(())
}

/// The header of `entity`'s file for these rows: canonical, then extras in first-seen order.
pub fn columns_for(entity: Entity, rows: &[Record]) -> Vec<&str> {
    let mut cols: Vec<&str> = header(entity).to_vec();
    for r in rows {
        for (k, _) in &r.fields {
            if !cols.contains(&k.as_ref()) {
                cols.push(k);
            }
        }
    }
    cols
}

fn write_table(roster: &Roster, entity: Entity, w: &mut dyn Write) -> io::Result<()> {
    let rows = roster.records(entity);
    let cols = columns_for(entity, rows);
    write_row(w, cols.iter().copied())?;
    let pos: HashMap<&str, usize> = cols.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut values: Vec<&str> = vec![""; cols.len()];
    for r in rows {
        values.iter_mut().for_each(|v| *v = "");
        values[0] = &r.sourced_id;
        values[1] = r.status.map_or("", |s| s.as_str());
        values[2] = r.date_last_modified.as_deref().unwrap_or("");
        for (k, v) in &r.fields {
            if let Some(&i) = pos.get(k.as_ref()) {
                if i > 2 {
                    values[i] = v;
                }
            }
        }
        write_row(w, values.iter().copied())?;
    }
    Ok(())
}

fn write_row<'a>(w: &mut dyn Write, fields: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write_field(w, f)?;
    }
    w.write_all(EOL)
}

fn needs_quotes(f: &str) -> bool {
    f.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        || f.starts_with([' ', '\t'])
        || f.ends_with([' ', '\t'])
}

fn write_field(w: &mut dyn Write, f: &str) -> io::Result<()> {
    if !needs_quotes(f) {
        return w.write_all(f.as_bytes());
    }
    w.write_all(b"\"")?;
    for (i, part) in f.split('"').enumerate() {
        if i > 0 {
            w.write_all(b"\"\"")?;
        }
        w.write_all(part.as_bytes())?;
    }
    w.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(f: &str) -> String {
        let mut v = Vec::new();
        write_field(&mut v, f).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(field("山田"), "山田");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field(" lead"), "\" lead\"");
        assert_eq!(field("two\r\nlines"), "\"two\r\nlines\"");
    }
}

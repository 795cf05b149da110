//! Helpers: copy a fixture package to a temporary directory, edit one file, validate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kakehashi_oneroster::{validate, Diagnostic, Options, Report, Severity, Source};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A writable copy of fixture `name`.
pub fn copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    (tmp, dir)
}

/// Replaces `from` by `to` in `file` (which must contain `from`).
pub fn replace(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

pub fn append(dir: &Path, file: &str, line: &str) {
    let path = dir.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(line);
    text.push('\n');
    std::fs::write(&path, text).unwrap();
}

pub fn check(dir: &Path) -> Report {
    validate(&Source::open(dir).unwrap(), &Options::default()).unwrap()
}

pub fn check_with(dir: &Path, opts: &Options<'_>) -> Report {
    validate(&Source::open(dir).unwrap(), opts).unwrap()
}

/// The diagnostics of `rule`, asserting there is at least one.
pub fn find<'a>(report: &'a Report, rule: &str) -> Vec<&'a Diagnostic> {
    let found: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == rule)
        .collect();
    assert!(!found.is_empty(), "no {rule} in {:#?}", report.diagnostics);
    found
}

/// Exactly one diagnostic of `rule`, at `file:line:column`, with `severity`.
pub fn one<'a>(
    report: &'a Report,
    rule: &str,
    at: (&str, u64, u64),
    severity: Severity,
) -> &'a Diagnostic {
    let found = find(report, rule);
    assert_eq!(found.len(), 1, "{found:#?}");
    let d = found[0];
    assert_eq!((d.file.as_str(), d.line, d.column), at, "{d}");
    assert_eq!(d.severity, severity, "{d}");
    d
}

pub fn clean(report: &Report) {
    assert_eq!(
        report.errors + report.warnings,
        0,
        "{:#?}",
        report.diagnostics
    );
}

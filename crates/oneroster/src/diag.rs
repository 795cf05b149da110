//! What validation reports: one [`Diagnostic`] per problem, gathered into a [`Report`] that
//! keeps the first `max_diagnostics` and counts all of them.
//!
//! Positions follow the file as a person opens it in an editor: line 1 is the header row of a
//! CSV file, column 1 its first field. Problems with a whole file (missing, wrong encoding, not
//! in the manifest) use line 0 and column 0; problems with a whole header column use line 1 and
//! that column.

use std::fmt;

/// How bad a problem is: an `Error` stops an import, a `Warning` does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a package.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// File name inside the package, e.g. `users.csv`.
    pub file: String,
    /// 1-based line (1 = header row); 0 for the whole file.
    pub line: u64,
    /// 1-based column (1 = first field); 0 for the whole row or file.
    pub column: u64,
    /// Header name of the column, `""` when the problem is not about one column.
    pub field: String,
    /// Stable rule id, listed in `docs/ONEROSTER.md`.
    pub rule: String,
    pub message: String,
    pub severity: Severity,
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COLUMN: RULE-ID: message` (the severity is in [`Diagnostic::severity`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.rule, self.message
        )
    }
}

/// The outcome of validating a package.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The first diagnostics found, at most `Options::max_diagnostics` of them.
    pub diagnostics: Vec<Diagnostic>,
    /// Errors found in all, also those past the cap.
    pub errors: u64,
    /// Warnings found in all, also those past the cap.
    pub warnings: u64,
}

impl Report {
    /// `true` when there is no error (warnings do not count).
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// Diagnostics with a given rule id (handy in tests and for summaries).
    pub fn with_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Diagnostic> + 'a {
        self.diagnostics.iter().filter(move |d| d.rule == rule)
    }
}

/// Where a diagnostic points.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<'a> {
    pub file: &'a str,
    pub line: u64,
    pub column: u64,
    pub field: &'a str,
}

impl<'a> At<'a> {
    pub fn file(file: &'a str) -> At<'a> {
        At {
            file,
            line: 0,
            column: 0,
            field: "",
        }
    }
}

/// Collects diagnostics up to a cap and counts them all.
#[derive(Debug)]
pub(crate) struct Sink {
    cap: usize,
    report: Report,
}

impl Sink {
    pub fn new(cap: usize) -> Sink {
        Sink {
            cap,
            report: Report::default(),
        }
    }

    pub fn error(&mut self, at: At<'_>, rule: &str, message: impl Into<String>) {
        self.push(at, rule, message.into(), Severity::Error);
    }

    pub fn warning(&mut self, at: At<'_>, rule: &str, message: impl Into<String>) {
        self.push(at, rule, message.into(), Severity::Warning);
    }

    /// `true` once the cap is reached: callers may skip building messages, but must still
    /// call [`Sink::error`]/[`Sink::warning`] so that the counts stay right.
    pub fn full(&self) -> bool {
        self.report.diagnostics.len() >= self.cap
    }

    fn push(&mut self, at: At<'_>, rule: &str, message: String, severity: Severity) {
        match severity {
            Severity::Error => self.report.errors += 1,
            Severity::Warning => self.report.warnings += 1,
        }
        if self.full() {
            return;
        }
        self.report.diagnostics.push(Diagnostic {
            file: at.file.to_owned(),
            line: at.line,
            column: at.column,
            field: at.field.to_owned(),
            rule: rule.to_owned(),
            message,
            severity,
        });
    }

    pub fn finish(self) -> Report {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_column_rule_message() {
        let mut sink = Sink::new(10);
        let at = At {
            file: "users.csv",
            line: 3,
            column: 2,
            field: "status",
        };
        sink.error(at, "ROW-ENUM", "bad");
        sink.warning(at, "REF-EXTERNAL", "later");
        let r = sink.finish();
        assert_eq!(r.diagnostics[0].to_string(), "users.csv:3:2: ROW-ENUM: bad");
        assert_eq!(
            r.diagnostics[1].to_string(),
            "users.csv:3:2: REF-EXTERNAL: later"
        );
    }

    #[test]
    fn the_cap_keeps_counting() {
        let mut sink = Sink::new(2);
        for _ in 0..5 {
            sink.error(At::file("a.csv"), "X", "x");
        }
        let r = sink.finish();
        assert_eq!(r.diagnostics.len(), 2);
        assert_eq!(r.errors, 5);
        assert!(!r.is_valid());
    }
}

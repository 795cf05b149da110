//! The roster as OneRoster 1.2 CSV exchanges it: one [`Record`] per CSV row, grouped per file.
//!
//! Kakehashi keeps every column a file carried (including unknown `metadata.*` columns) so that
//! an export gives back what was imported. Typed access goes through [`Record::get`] by header
//! name; the validator has already checked the values by then.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The data files of a OneRoster 1.2 CSV package (OneRoster 1.2 CSV binding §2.1), in the
/// order an importer must apply them (references point backwards in this list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Entity {
    AcademicSessions,
    Orgs,
    Courses,
    Classes,
    Users,
    Demographics,
    UserProfiles,
    Roles,
    Enrollments,
}

impl Entity {
    /// Every entity, in dependency order.
    pub const ALL: [Entity; 9] = [
        Entity::AcademicSessions,
        Entity::Orgs,
        Entity::Courses,
        Entity::Classes,
        Entity::Users,
        Entity::Demographics,
        Entity::UserProfiles,
        Entity::Roles,
        Entity::Enrollments,
    ];

    /// The name used in `manifest.csv` (`file.<name>`) and, with `.csv`, as the file name.
    pub fn file_stem(self) -> &'static str {
        match self {
            Entity::AcademicSessions => "academicSessions",
            Entity::Orgs => "orgs",
            Entity::Courses => "courses",
            Entity::Classes => "classes",
            Entity::Users => "users",
            Entity::Demographics => "demographics",
            Entity::UserProfiles => "userProfiles",
            Entity::Roles => "roles",
            Entity::Enrollments => "enrollments",
        }
    }

    pub fn file_name(self) -> String {
        format!("{}.csv", self.file_stem())
    }

    pub fn from_file_stem(stem: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.file_stem() == stem)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_stem())
    }
}

/// `file.X` in the manifest (OneRoster 1.2 CSV §2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessingMode {
    Bulk,
    Delta,
    Absent,
}

/// `status` of a row (OneRoster 1.2 CSV §2.2: `active` or `tobedeleted`, commonly empty in bulk).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Active,
    ToBeDeleted,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Active => "active",
            RowStatus::ToBeDeleted => "tobedeleted",
        }
    }
}

/// One CSV row of a data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based line of the row in its file (line 1 is the header).
    pub line: u64,
    pub sourced_id: String,
    /// `None` when the column was empty (allowed in bulk files).
    pub status: Option<RowStatus>,
    /// ISO 8601 date-time as written, `None` when empty.
    pub date_last_modified: Option<String>,
    /// Every other column of the row, `(header, value)`, in the file's header order. Empty
    /// values are kept as `""`. Header names the binding defines are shared (`'static`), so
    /// that a large roster does not hold a copy of every header in every row.
    pub fields: Vec<(Cow<'static, str>, String)>,
}

impl Record {
    /// The value of a column by its header name; `None` if the file had no such column or the
    /// value is empty.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == column)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// A whole package as read from a zip or a directory. Only valid packages are returned by the
/// reader, so every reference resolves within the package or is left to the importer to check
/// against what the tenant already holds (delta files).
#[derive(Clone, Debug, Default)]
pub struct Roster {
    /// `file.X` for every entity (absent ones included).
    pub modes: BTreeMap<Entity, ProcessingMode>,
    /// Every manifest row, `(propertyName, value)`, in file order.
    pub manifest: Vec<(String, String)>,
    /// Rows of each file that was present (`bulk` or `delta`).
    pub tables: BTreeMap<Entity, Vec<Record>>,
}

impl Roster {
    pub fn mode(&self, entity: Entity) -> ProcessingMode {
        self.modes
            .get(&entity)
            .copied()
            .unwrap_or(ProcessingMode::Absent)
    }

    pub fn records(&self, entity: Entity) -> &[Record] {
        self.tables.get(&entity).map(Vec::as_slice).unwrap_or(&[])
    }
}

//! OneRoster 1.2 CSV, Japan Profile: read, validate and write roster packages.
//!
//! This crate owns the rules of the format and nothing else: it does no database work and no
//! networking. See `docs/ONEROSTER.md` for the rule ids it reports.

pub mod model;

pub use model::{Entity, ProcessingMode, Record, Roster, RowStatus};

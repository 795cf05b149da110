//! OneRoster 1.2 CSV, Japan Profile: read, validate and write roster packages.
//!
//! This crate owns the rules of the format and nothing else: it does no database work and no
//! networking. See `docs/ONEROSTER.md` for the rule ids it reports and the specs they come
//! from.
//!
//! * [`validate`] streams a package and reports every problem (up to a cap) with file, line
//!   and column; [`read`] does the same and keeps the rows as a [`Roster`].
//! * [`write_dir`] and [`write_zip`] write a roster back, byte for byte the same for the same
//!   roster.
//! * [`generate`] makes realistic Japanese rosters for demos and benchmarks.

mod csvio;
mod diag;
pub mod generate;
mod ids;
mod manifest;
pub mod model;
mod refs;
mod rules;
mod scan;
mod schema;
mod source;
mod text;
mod validate;
mod values;
mod writer;

pub use diag::{Diagnostic, Report, Severity};
pub use model::{Entity, ProcessingMode, Record, Roster, RowStatus};
pub use refs::ExistingIds;
pub use schema::header;
pub use source::{
    ReadError, Source, MAX_COMPRESSION_RATIO, MAX_ENTRY_BYTES, MAX_TOTAL_BYTES, MAX_ZIP_ENTRIES,
};
pub use validate::{read, validate, Options};
pub use writer::{write_dir, write_zip};

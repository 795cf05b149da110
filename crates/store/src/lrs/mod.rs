//! The xAPI learning record store's tables (migration `0002_lrs.sql`): credentials,
//! statements with their filter keys, activities, documents and attachments; `learners` joins
//! statements to the roster (a class's pupils by their `account` agents).
//!
//! Pure persistence: the xAPI rules (validation, conflicts, voiding, paging tokens) live in
//! `kakehashi-core::lrs` and `kakehashi-xapi`. Every function takes the [`crate::TenantId`] and
//! every query has it in its `WHERE` clause.
//!
//! Bytes (documents, attachments) are stored as base64 text so that one schema and one code
//! path serve SQLite and PostgreSQL.

pub mod credentials;
pub mod documents;
pub mod learners;
pub mod statements;

pub use credentials::Credential;
pub use documents::{DocKey, Document};
pub use statements::{KeyFilter, StatementQuery, StatementRow};

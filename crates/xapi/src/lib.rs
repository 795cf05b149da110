//! # kakehashi-xapi
//!
//! The rules of xAPI 1.0.3 and xAPI 2.0 (IEEE 9274.1.1-2023) for Kakehashi's learning record
//! store, with no HTTP and no database: what a statement may look like, how it is
//! normalised before storage and formatted after, how query and document parameters are
//! read, how multipart attachments and signed statements are checked.
//!
//! The server parses the request into plain values (header strings, query pairs, body
//! bytes), calls this crate, and maps [`XapiError`] to the response. The store persists
//! the JSON this crate returns and indexes it with [`StatementIndex`].
//!
//! Invariants: no I/O, no clock and no randomness inside (the caller passes `now` and new
//! ids), no panics on input.

pub mod agent;
pub mod compare;
pub mod document;
pub mod error;
pub mod formats;
pub mod index;
mod json;
pub mod multipart;
pub mod normalize;
pub mod output;
pub mod query;
pub mod scope;
pub mod signature;
pub mod validate;
pub mod version;

pub use agent::{parse_agent_param, person_from_agents, Ifi};
pub use compare::statements_equivalent;
pub use error::{Result, XapiError};
pub use index::{index_statement, StatementIndex};
pub use normalize::{prepare_for_storage, StorageStamp};
pub use output::{format_statement, parse_accept_language, StatementFormat};
pub use query::{parse_statement_query, StatementFilter, StatementQuery};
pub use validate::{validate_statement, validate_statements};
pub use version::Version;

//! XML plumbing: safe reading ([`parse`]), writing with escaping ([`write`]) and Exclusive XML
//! Canonicalization ([`c14n`]).

pub mod c14n;
pub mod parse;
pub mod write;

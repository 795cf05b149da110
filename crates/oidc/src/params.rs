//! Request parameters as received (query string or form body), with the RFC 6749 3.1 rules
//! that apply to every endpoint: a parameter sent without a value is treated as omitted, and
//! no parameter may appear more than once.

use std::collections::BTreeMap;

/// Parameters of one request, keyed by name; remembers names that were repeated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Collects `(name, value)` pairs, e.g. from `url::form_urlencoded::parse`.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut params = Params::default();
        for (name, value) in pairs {
            let (name, value) = (name.into(), value.into());
            // RFC 6749 3.1: "Parameters sent without a value MUST be treated as if they were
            // omitted from the request."
            if value.is_empty() {
                continue;
            }
            match params.values.entry(name) {
                std::collections::btree_map::Entry::Occupied(e) => {
                    if !params.repeated.contains(e.key()) {
                        params.repeated.push(e.key().clone());
                    }
                }
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        params
    }

    /// Parses an `application/x-www-form-urlencoded` body or query string.
    pub fn from_urlencoded(input: &str) -> Self {
        Self::from_pairs(url::form_urlencoded::parse(input.as_bytes()).into_owned())
    }

    /// The value of `name`, or `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// True when `name` was sent more than once (RFC 6749 3.1: "MUST NOT be included more
    /// than once").
    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|n| n == name)
    }

    /// The first repeated parameter name, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }
}

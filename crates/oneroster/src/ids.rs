//! Compact sets of sourcedIds for checking references and uniqueness over millions of rows
//! without keeping a `String` per row.
//!
//! * [`IdSet`] is exact: ids live back to back in one byte arena, a hash table maps a 64-bit
//!   hash to the id's place and first line. Used for the files other files point to
//!   (sessions, orgs, courses, classes, users, userProfiles).
//! * [`HashSeen`] keeps only 64-bit hashes. A repeated hash marks a *suspect*; the caller
//!   confirms suspects with a second, exact pass over the file (see `scan::confirm_dups`).
//!   Used for the big files nothing points to (enrollments, roles, demographics) and for
//!   `userMasterIdentifier`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hash of bytes: 8 bytes at a time through a folded 128-bit multiply. Not resistant to
/// crafted collisions; a collision only costs the second pass some time, never a wrong result.
pub fn hash(bytes: &[u8]) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    fn fold(a: u64, b: u64) -> u64 {
        let r = u128::from(a).wrapping_mul(u128::from(b));
        (r as u64) ^ ((r >> 64) as u64)
    }
    let mut h = (bytes.len() as u64) ^ P0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = fold(h ^ w, P1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = fold(h ^ u64::from_le_bytes(buf), P1);
    }
    fold(h ^ P0, P1 ^ (bytes.len() as u64))
}

/// A `Hasher` for keys that already are good hashes.
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with this; keep something sensible anyway.
        self.0 = hash(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Build = BuildHasherDefault<Prehashed>;

#[derive(Clone, Copy)]
struct Slot {
    start: u64,
    len: u32,
    line: u32,
}

/// An exact set of ids, each with the line it was first seen on.
#[derive(Default)]
pub struct IdSet {
    arena: Vec<u8>,
    slots: HashMap<u64, Slot, Build>,
    /// Ids whose hash collides with a different id (practically never used).
    overflow: HashMap<Box<[u8]>, u64>,
}

impl IdSet {
    pub fn new() -> IdSet {
        IdSet::default()
    }

    fn bytes(&self, s: Slot) -> &[u8] {
        let start = s.start as usize;
        &self.arena[start..start + s.len as usize]
    }

    /// Adds `id` seen on `line`; returns the earlier line if it was there already.
    pub fn insert(&mut self, id: &[u8], line: u64) -> Option<u64> {
        let h = hash(id);
        if let Some(&slot) = self.slots.get(&h) {
            if self.bytes(slot) == id {
                return Some(u64::from(slot.line));
            }
            if let Some(&first) = self.overflow.get(id) {
                return Some(first);
            }
            self.overflow.insert(id.into(), line);
            return None;
        }
        let slot = Slot {
            start: self.arena.len() as u64,
            len: u32::try_from(id.len()).unwrap_or(u32::MAX),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        };
        self.arena.extend_from_slice(&id[..slot.len as usize]);
        self.slots.insert(h, slot);
        None
    }

    pub fn contains(&self, id: &[u8]) -> bool {
        match self.slots.get(&hash(id)) {
            Some(&slot) => self.bytes(slot) == id || self.overflow.contains_key(id),
            None => false,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len() + self.overflow.len()
    }
}

/// Hashes seen so far, and the hashes seen more than once.
#[derive(Default)]
pub struct HashSeen {
    seen: HashSet<u64, Build>,
    suspects: HashSet<u64, Build>,
}

impl HashSeen {
    pub fn new() -> HashSeen {
        HashSeen::default()
    }

    pub fn insert(&mut self, key: &[u8]) {
        let h = hash(key);
        if !self.seen.insert(h) {
            self.suspects.insert(h);
        }
    }

    pub fn has_suspects(&self) -> bool {
        !self.suspects.is_empty()
    }

    #[cfg(test)]
    pub fn is_suspect(&self, key: &[u8]) -> bool {
        self.suspects.contains(&hash(key))
    }

    /// Frees the big set before the confirming pass.
    pub fn into_suspects(self) -> HashSet<u64, Build> {
        self.suspects
    }
}

/// Whether `key` hashes into `suspects` (for the confirming pass).
pub fn in_suspects(suspects: &HashSet<u64, Build>, key: &[u8]) -> bool {
    suspects.contains(&hash(key))
}

pub type Suspects = HashSet<u64, Build>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_set_is_exact_and_remembers_the_first_line() {
        let mut s = IdSet::new();
        assert_eq!(s.insert(b"u-1", 2), None);
        assert_eq!(s.insert(b"u-2", 3), None);
        assert_eq!(s.insert(b"u-1", 9), Some(2));
        assert!(s.contains(b"u-2"));
        assert!(!s.contains(b"u-3"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn hash_seen_flags_repeats() {
        let mut s = HashSeen::new();
        s.insert(b"e-1");
        s.insert(b"e-2");
        assert!(!s.has_suspects());
        s.insert(b"e-1");
        assert!(s.is_suspect(b"e-1"));
        assert!(!s.is_suspect(b"e-2"));
    }

    #[test]
    fn hash_spreads_similar_ids() {
        let a: HashSet<u64> = (0..100_000)
            .map(|i| hash(format!("enr-{i:08}").as_bytes()))
            .collect();
        assert_eq!(a.len(), 100_000);
    }
}

//! Short-lived, node-local copies of what the OpenID Provider reads on nearly every request and
//! what rarely changes: that a tenant exists (and its name), its published JWKS, its signing
//! keys (unsealing them with the master key is the expensive part), its pairwise salt and its
//! client registrations.
//!
//! Why this does not break "no node-local state": every entry is only a copy of database rows,
//! dropped after [`TTL`] (a few seconds), so a change made on another node (or by the command
//! line, a separate process) is seen here within that time; a change made through this node is
//! invalidated at once where that is easy ([`ProviderCache::forget_tenant`]). Why each copy is
//! safe for that long:
//! - **JWKS and key set.** A key is published as `next` for at least
//!   `RotationPolicy::min_next_published` (`kakehashi keys rotate --min-published-seconds`,
//!   default 86,400 s; rotations are refused before then, see `keyring::rotate`) before it may
//!   sign, so a JWKS cached for [`TTL`] always already lists any key another node starts
//!   signing with. After a rotation elsewhere this node may sign with the old `current` key for
//!   at most [`TTL`]; that key stays published as `retired` for
//!   `RotationPolicy::retired_published` (default 86,400 s), so those tokens still verify.
//!   An operator may force `--min-published-seconds 0` (an emergency rotation); the key it
//!   promotes was still published as `next` ever since the rotation before, so only two
//!   rotations within [`TTL`] of each other could make a node sign with a `kid` a peer's
//!   cached JWKS does not list yet, and only for the rest of that [`TTL`].
//! - **Clients.** A secret change, a redirect URI change or a disabled app takes effect on
//!   every node within [`TTL`].
//! - **Tenants.** Only existing tenants are cached: a new tenant is seen at once.
//! - **Pairwise salt.** Written once (`INSERT … ON CONFLICT DO NOTHING`) and never changed.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kakehashi_oidc::KeySet;
use kakehashi_store::TenantId;

use crate::oauth::clients::RegisteredClient;

/// How long a cached copy lives.
pub const TTL: Duration = Duration::from_secs(5);

/// Entries past this count are dropped wholesale (expired or not) before an insert, so a
/// flood of distinct keys (client ids, say) cannot grow memory without bound.
const MAX_ENTRIES: usize = 4096;

/// A map whose entries expire after a fixed time (monotonic clock).
pub struct TtlMap<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlMap {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The live entry for `key`, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        self.get_at(key, Instant::now())
    }

    fn get_at(&self, key: &K, now: Instant) -> Option<V> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((at, v)) if now.saturating_duration_since(*at) < self.ttl => Some(v.clone()),
            _ => None,
        }
    }

    pub fn insert(&self, key: K, value: V) {
        self.insert_at(key, value, Instant::now());
    }

    fn insert_at(&self, key: K, value: V, now: Instant) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| now.saturating_duration_since(*at) < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key, (now, value));
    }

    pub fn remove_where(&self, mut f: impl FnMut(&K) -> bool) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|k, _| !f(k));
    }
}

/// The OpenID Provider's caches, shared by every request of one node.
pub struct ProviderCache {
    /// Existing tenants and their display names.
    pub tenants: TtlMap<TenantId, String>,
    /// Each tenant's discovery document, serialized.
    pub discovery: TtlMap<TenantId, Arc<String>>,
    /// Each tenant's JWKS document, serialized.
    pub jwks: TtlMap<TenantId, Arc<String>>,
    /// Each tenant's signing keys, unsealed.
    pub key_sets: TtlMap<TenantId, Arc<KeySet>>,
    /// Each tenant's pairwise salt.
    pub salts: TtlMap<TenantId, String>,
    /// Registered clients by (tenant, client_id); unknown ids are not cached.
    /// Shared, not cloned, on every hit (a registration is a few dozen strings).
    pub clients: TtlMap<(TenantId, String), Arc<RegisteredClient>>,
}

impl Default for ProviderCache {
    fn default() -> Self {
        ProviderCache::with_ttl(TTL)
    }
}

impl ProviderCache {
    pub fn with_ttl(ttl: Duration) -> Self {
        ProviderCache {
            tenants: TtlMap::new(ttl),
            discovery: TtlMap::new(ttl),
            jwks: TtlMap::new(ttl),
            key_sets: TtlMap::new(ttl),
            // Never changes once written; the TTL only bounds how long a dropped tenant's
            // salt lingers.
            salts: TtlMap::new(ttl.max(Duration::from_secs(300))),
            clients: TtlMap::new(ttl),
        }
    }

    /// Drops everything cached about `tenant` (after a change made through this node).
    pub fn forget_tenant(&self, tenant: &TenantId) {
        self.tenants.remove_where(|t| t == tenant);
        self.discovery.remove_where(|t| t == tenant);
        self.jwks.remove_where(|t| t == tenant);
        self.key_sets.remove_where(|t| t == tenant);
        self.clients.remove_where(|(t, _)| t == tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let m: TtlMap<&str, u32> = TtlMap::new(Duration::from_secs(5));
        let t0 = Instant::now();
        m.insert_at("a", 1, t0);
        assert_eq!(m.get_at(&"a", t0 + Duration::from_secs(4)), Some(1));
        assert_eq!(m.get_at(&"a", t0 + Duration::from_secs(5)), None);
        assert_eq!(m.get_at(&"b", t0), None);
    }

    #[test]
    fn forgetting_a_tenant_drops_only_its_entries() {
        let c = ProviderCache::default();
        let a = TenantId::parse("a").unwrap();
        let b = TenantId::parse("b").unwrap();
        c.tenants.insert(a.clone(), "A".into());
        c.tenants.insert(b.clone(), "B".into());
        c.jwks.insert(a.clone(), Arc::new("{}".into()));
        c.forget_tenant(&a);
        assert_eq!(c.tenants.get(&a), None);
        assert_eq!(c.jwks.get(&a), None);
        assert_eq!(c.tenants.get(&b), Some("B".into()));
    }

    #[test]
    fn the_map_stays_bounded() {
        let m: TtlMap<usize, usize> = TtlMap::new(Duration::from_secs(5));
        for i in 0..(MAX_ENTRIES * 2) {
            m.insert(i, i);
        }
        assert!(m.entries.lock().unwrap().len() <= MAX_ENTRIES);
        assert_eq!(m.get(&(MAX_ENTRIES * 2 - 1)), Some(MAX_ENTRIES * 2 - 1));
    }
}

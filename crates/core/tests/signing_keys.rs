//! A tenant's signing keys on first use (`keyring`), on SQLite and PostgreSQL: requests that
//! all arrive before the keys exist get the same JWKS, and exactly one current and one next
//! key per algorithm is made (the others wait for that one generation instead of each making
//! a set and throwing it away).

use kakehashi_core::clock::SystemClock;
use kakehashi_core::data_dir::MasterKey;
use kakehashi_core::{keyring, tenants, Actor};
use kakehashi_store::testing::TestDb;
use kakehashi_store::TenantId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_uses_make_one_current_and_one_next_key_per_algorithm() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let master = MasterKey::from_bytes([7; 32]);
        let t = TenantId::parse("city-keys").unwrap();
        tenants::add(&store, &SystemClock, &Actor("test".into()), &t, "鍵市")
            .await
            .unwrap();
        let started: Vec<_> = (0..8)
            .map(|_| {
                let (store, master, t) = (store.clone(), master.clone(), t.clone());
                tokio::spawn(async move { keyring::jwks(&store, &master, &SystemClock, &t).await })
            })
            .collect();
        let mut sets = Vec::new();
        for s in started {
            sets.push(serde_json::to_string(&s.await.unwrap().unwrap()).unwrap());
        }
        assert!(
            sets.windows(2).all(|w| w[0] == w[1]),
            "{}: {sets:?}",
            db.label
        );
        let mut conn = store.pool().acquire().await.unwrap();
        let rows = kakehashi_store::keys::load(&mut conn, &t).await.unwrap();
        let mut kinds: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.alg.clone(), r.state.clone()))
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                ("ES256", "current"),
                ("ES256", "next"),
                ("RS256", "current"),
                ("RS256", "next")
            ]
            .map(|(a, s)| (a.to_owned(), s.to_owned())),
            "{}",
            db.label
        );
        // RS256 and ES256, current and next, all published (OIDC Core 10.1.1: the next key
        // is in the JWKS before it signs).
        assert_eq!(sets[0].matches("\"kid\"").count(), 4, "{}", db.label);
    }
}

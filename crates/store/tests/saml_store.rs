//! The SAML IdP's tables on SQLite and PostgreSQL: the AuthnRequest replay cache refuses a
//! second use of an ID and forgets expired ones, pending requests are answered once, pairwise
//! NameIDs are stable, and tenant A sees nothing of tenant B in any of them.

use kakehashi_store::saml::{self, IdpKeyRow, PendingRow};
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Store, TenantId};

async fn two_tenants(db: &TestDb) -> (Store, TenantId, TenantId) {
    let store = db.open().await;
    let a = TenantId::parse("city-a").unwrap();
    let b = TenantId::parse("city-b").unwrap();
    let mut tx = store.begin().await.unwrap();
    for t in [&a, &b] {
        kakehashi_store::tenants::insert(&mut tx, t, "教育委員会", "2026-04-01T00:00:00.000Z")
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    (store, a, b)
}

#[tokio::test]
async fn a_request_id_is_accepted_once_per_sp_and_tenant_until_it_expires() {
    for db in TestDb::both().await {
        let label = db.label;
        let (store, a, b) = two_tenants(&db).await;
        let sp = "https://koumu.example.jp/sp";
        assert!(saml::remember_request_id(&store, &a, sp, "_r1", 1000, 500)
            .await
            .unwrap());
        assert!(
            !saml::remember_request_id(&store, &a, sp, "_r1", 1000, 600)
                .await
                .unwrap(),
            "{label}: a replay"
        );
        // Another SP, another tenant: their own ID spaces.
        assert!(saml::remember_request_id(
            &store,
            &a,
            "https://other.example/sp",
            "_r1",
            1000,
            600
        )
        .await
        .unwrap());
        assert!(saml::remember_request_id(&store, &b, sp, "_r1", 1000, 600)
            .await
            .unwrap());
        // After expiry the row is dropped; the request itself would fail the age check by then.
        assert!(saml::remember_request_id(&store, &a, sp, "_r1", 3000, 1001)
            .await
            .unwrap());
        store.close().await;
    }
}

#[tokio::test]
async fn pending_requests_are_answered_once_and_stay_in_their_tenant() {
    for db in TestDb::both().await {
        let label = db.label;
        let (store, a, b) = two_tenants(&db).await;
        let p = PendingRow {
            id: "p1".into(),
            app_id: "app".into(),
            request: "{}".into(),
            created_at: 100,
            expires_at: 200,
        };
        saml::insert_pending(&store, &a, &p).await.unwrap();
        assert_eq!(
            saml::pending(&store, &a, "p1", 150).await.unwrap(),
            Some(p.clone())
        );
        assert_eq!(
            saml::pending(&store, &b, "p1", 150).await.unwrap(),
            None,
            "{label}"
        );
        assert_eq!(
            saml::pending(&store, &a, "p1", 201).await.unwrap(),
            None,
            "expired"
        );
        let mut tx = store.begin().await.unwrap();
        assert!(!saml::take_pending(&mut tx, &b, "p1").await.unwrap());
        assert!(saml::take_pending(&mut tx, &a, "p1").await.unwrap());
        assert!(
            !saml::take_pending(&mut tx, &a, "p1").await.unwrap(),
            "once"
        );
        tx.commit().await.unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn persistent_name_ids_are_created_once_per_sp_and_user() {
    for db in TestDb::both().await {
        let (store, a, b) = two_tenants(&db).await;
        let sp = "https://koumu.example.jp/sp";
        let at = "2026-04-01T00:00:00.000Z";
        let first = saml::name_id(&store, &a, sp, "u1", "n-1", at)
            .await
            .unwrap();
        assert_eq!(first, "n-1");
        assert_eq!(
            saml::name_id(&store, &a, sp, "u1", "n-2", at)
                .await
                .unwrap(),
            "n-1"
        );
        assert_eq!(
            saml::name_id(&store, &a, "https://x.example", "u1", "n-3", at)
                .await
                .unwrap(),
            "n-3"
        );
        assert_eq!(
            saml::name_id(&store, &b, sp, "u1", "n-4", at)
                .await
                .unwrap(),
            "n-4"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn idp_keys_are_per_tenant() {
    for db in TestDb::both().await {
        let (store, a, b) = two_tenants(&db).await;
        let row = IdpKeyRow {
            kid: "k1".into(),
            state: "current".into(),
            published_at: 100,
            retired_until: None,
            private_key_sealed: "v1.sealed".into(),
            certificate_pem: "-----BEGIN CERTIFICATE-----".into(),
            created_at: "2026-04-01T00:00:00.000Z".into(),
        };
        let mut tx = store.begin().await.unwrap();
        saml::insert_idp_key(&mut tx, &a, &row).await.unwrap();
        assert_eq!(saml::idp_keys(&mut tx, &a).await.unwrap(), vec![row]);
        assert!(saml::idp_keys(&mut tx, &b).await.unwrap().is_empty());
        tx.commit().await.unwrap();
        store.close().await;
    }
}

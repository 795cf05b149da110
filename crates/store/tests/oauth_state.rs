//! The OpenID Provider's state machines in the store, on SQLite and PostgreSQL: one-time
//! codes (RFC 6749 4.1.2), refresh-token rotation with reuse detection (RFC 9700 4.14.2),
//! the private_key_jwt jti cache (OIDC Core 9) and the tenant boundary.

use kakehashi_store::oauth::{self, CodeRedemption, CodeRow, RefreshRotation, TokenRow};
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Store, TenantId};

async fn tenant(store: &Store, id: &str) -> TenantId {
    let t = TenantId::parse(id).unwrap();
    let mut tx = store.begin().await.unwrap();
    kakehashi_store::tenants::insert(&mut tx, &t, id, "2026-04-01T00:00:00.000Z")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    t
}

fn code(hash: &str) -> CodeRow {
    CodeRow {
        code_hash: hash.into(),
        family_id: format!("fam-{hash}"),
        client_id: "rp".into(),
        user_sourced_id: "u1".into(),
        session_hash: Some("sess".into()),
        redirect_uri: "https://rp.example/cb".into(),
        code_challenge: None,
        nonce: None,
        scopes: "openid".into(),
        claims: None,
        auth_time: 100,
        acr: "pwd".into(),
        amr: "[\"pwd\"]".into(),
        expires_at: 160,
        consumed_at: None,
        created_at: "2026-04-01T00:00:00.000Z".into(),
    }
}

fn token(hash: &str, kind: &str, family: &str) -> TokenRow {
    TokenRow {
        token_hash: hash.into(),
        kind: kind.into(),
        family_id: family.into(),
        client_id: "rp".into(),
        user_sourced_id: Some("u1".into()),
        session_hash: Some("sess".into()),
        subject: "sub".into(),
        scopes: "openid".into(),
        claims: None,
        auth_time: Some(100),
        acr: None,
        amr: None,
        jti: None,
        issued_at: 100,
        expires_at: 10_000,
        rotated_at: None,
        revoked_at: None,
    }
}

#[tokio::test]
async fn rfc6749_4_1_2_codes_are_one_time_and_tenant_scoped() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let a = tenant(&store, "city-a").await;
        let b = tenant(&store, "city-b").await;
        let mut conn = store.pool().acquire().await.unwrap();
        oauth::insert_code(&mut conn, &a, &code("c1"))
            .await
            .unwrap();
        // Tenant B does not know tenant A's code.
        assert_eq!(
            oauth::redeem_code(&mut conn, &b, "c1", 120).await.unwrap(),
            CodeRedemption::Unknown,
            "{}",
            db.label
        );
        assert!(matches!(
            oauth::redeem_code(&mut conn, &a, "c1", 120).await.unwrap(),
            CodeRedemption::Redeemed(c) if c.client_id == "rp"
        ));
        assert!(matches!(
            oauth::redeem_code(&mut conn, &a, "c1", 121).await.unwrap(),
            CodeRedemption::Replayed(c) if c.consumed_at == Some(120)
        ));
    }
}

#[tokio::test]
async fn rfc9700_4_14_2_rotated_refresh_token_reuse_is_detected_and_family_revoked() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let a = tenant(&store, "city-a").await;
        let mut conn = store.pool().acquire().await.unwrap();
        oauth::insert_token(&mut conn, &a, &token("at1", "access", "f"))
            .await
            .unwrap();
        oauth::insert_token(&mut conn, &a, &token("rt1", "refresh", "f"))
            .await
            .unwrap();
        assert!(matches!(
            oauth::rotate_refresh(&mut conn, &a, "rt1", 200)
                .await
                .unwrap(),
            RefreshRotation::Rotated(_)
        ));
        oauth::insert_token(&mut conn, &a, &token("rt2", "refresh", "f"))
            .await
            .unwrap();
        // An access token is not a refresh token.
        assert_eq!(
            oauth::rotate_refresh(&mut conn, &a, "at1", 200)
                .await
                .unwrap(),
            RefreshRotation::Invalid
        );
        assert!(matches!(
            oauth::rotate_refresh(&mut conn, &a, "rt1", 201)
                .await
                .unwrap(),
            RefreshRotation::Reused(_)
        ));
        assert_eq!(
            oauth::revoke_family(&mut conn, &a, "f", 201).await.unwrap(),
            3
        );
        assert_eq!(
            oauth::rotate_refresh(&mut conn, &a, "rt2", 202)
                .await
                .unwrap(),
            RefreshRotation::Invalid,
            "{}: the family is revoked",
            db.label
        );
        let clients = oauth::revoke_session(&mut conn, &a, "sess", 203)
            .await
            .unwrap();
        assert!(clients.is_empty(), "already revoked");
    }
}

#[tokio::test]
async fn oidc_core_9_assertion_jti_is_used_once_and_salts_are_stable() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let a = tenant(&store, "city-a").await;
        assert!(oauth::first_assertion_use(&store, &a, "rp", "j1", 500, 100)
            .await
            .unwrap());
        assert!(
            !oauth::first_assertion_use(&store, &a, "rp", "j1", 500, 101)
                .await
                .unwrap()
        );
        assert!(
            oauth::first_assertion_use(&store, &a, "other", "j1", 500, 101)
                .await
                .unwrap()
        );
        let s1 = oauth::pairwise_salt(&store, &a, "first", "t")
            .await
            .unwrap();
        let s2 = oauth::pairwise_salt(&store, &a, "second", "t")
            .await
            .unwrap();
        assert_eq!((s1.as_str(), s2.as_str()), ("first", "first"));
    }
}

#[tokio::test]
async fn rfc6749_4_1_2_two_connections_racing_for_one_code_one_wins() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let a = tenant(&store, "city-a").await;
        for i in 0..5 {
            let hash = format!("race-{i}");
            let mut conn = store.pool().acquire().await.unwrap();
            oauth::insert_code(&mut conn, &a, &code(&hash))
                .await
                .unwrap();
            drop(conn);
            let redeem = || async {
                let mut tx = store.begin().await.unwrap();
                let r = oauth::redeem_code(&mut tx, &a, &hash, 120).await.unwrap();
                tx.commit().await.unwrap();
                r
            };
            let (x, y) = tokio::join!(redeem(), redeem());
            let wins = [&x, &y]
                .iter()
                .filter(|r| matches!(r, CodeRedemption::Redeemed(_)))
                .count();
            assert_eq!(wins, 1, "{}: {x:?} / {y:?}", db.label);
        }
    }
}

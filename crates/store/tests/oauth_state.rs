//! The OpenID Provider's state machines in the store, on SQLite and PostgreSQL: one-time
//! codes (RFC 6749 4.1.2), refresh-token rotation with reuse detection (RFC 9700 4.14.2),
//! the private_key_jwt jti cache (OIDC Core 9) and the tenant boundary.

use kakehashi_store::oauth::{self, CodeRedemption, CodeRow, RefreshRotation, TokenRow};
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Backend, Store, TenantId};
use sqlx::Row;

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

/// The `CREATE INDEX` text of `name`, as the database keeps it.
async fn index_definition(store: &Store, conn: &mut sqlx::AnyConnection, name: &str) -> String {
    let sql = match store.backend() {
        Backend::Sqlite => "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1",
        Backend::Postgres => "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
    };
    sqlx::query_scalar(sql)
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// The lines of the query plan of `sql` (PostgreSQL told not to scan tables, which for a
/// table of a few rows it would rather do).
async fn plan(store: &Store, conn: &mut sqlx::AnyConnection, sql: &str) -> Vec<String> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let prefix = match store.backend() {
        Backend::Sqlite => "EXPLAIN QUERY PLAN",
        Backend::Postgres => {
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await
                .unwrap();
            "EXPLAIN"
        }
    };
    let rows = sqlx::query(&format!("{prefix} {sql}"))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let column = match store.backend() {
        Backend::Sqlite => "detail",
        Backend::Postgres => "QUERY PLAN",
    };
    rows.iter()
        .map(|r| r.try_get::<String, _>(column).unwrap())
        .collect()
}

/// Migrations 0019 and 0020: the session and family indexes hold only the tokens that have a
/// session or a user; portal logout and family revocation still find theirs through them,
/// and leave a client's own (client_credentials) tokens alone.
#[tokio::test]
async fn session_and_family_indexes_leave_out_a_client_s_own_tokens_and_are_still_used() {
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
        let own = |hash: &str| TokenRow {
            session_hash: None,
            user_sourced_id: None,
            client_id: "lrs-client".into(),
            ..token(hash, "access", &format!("cc-{hash}"))
        };
        oauth::insert_token(&mut conn, &a, &own("cc1"))
            .await
            .unwrap();
        oauth::insert_token(&mut conn, &a, &own("cc2"))
            .await
            .unwrap();
        for (index, condition, query) in [
            (
                "oauth_tokens_session",
                "session_hash IS NOT NULL",
                "SELECT DISTINCT client_id FROM oauth_tokens
                 WHERE tenant_id = 'city-a' AND session_hash = 'sess' AND revoked_at IS NULL",
            ),
            (
                "oauth_tokens_family",
                "user_sourced_id IS NOT NULL",
                "UPDATE oauth_tokens SET revoked_at = 1
                 WHERE tenant_id = 'city-a' AND family_id = 'f' AND user_sourced_id IS NOT NULL
                   AND revoked_at IS NULL",
            ),
        ] {
            let definition = index_definition(&store, &mut conn, index).await;
            assert!(
                definition.contains("WHERE") && definition.contains(condition),
                "{}: {definition}",
                db.label
            );
            let lines = plan(&store, &mut conn, query).await;
            assert!(
                lines.iter().any(|l| l.contains(index)),
                "{}: {index} unused: {lines:?}",
                db.label
            );
        }
        // A client's own token: its "family" is itself, revoked one by one (RFC 7009).
        assert_eq!(
            oauth::revoke_family(&mut conn, &a, "cc-cc1", 250)
                .await
                .unwrap(),
            0,
            "{}",
            db.label
        );
        let clients = oauth::revoke_session(&mut conn, &a, "sess", 300)
            .await
            .unwrap();
        assert_eq!(clients, vec!["rp".to_owned()], "{}", db.label);
        for (hash, revoked) in [("at1", Some(300)), ("rt1", Some(300)), ("cc1", None)] {
            let row = oauth::find_token(&mut conn, &a, hash)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.revoked_at, revoked, "{}: {hash}", db.label);
        }
        assert_eq!(
            oauth::revoke_family(&mut conn, &a, "f", 400).await.unwrap(),
            0,
            "{}: already revoked with the session",
            db.label
        );
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

async fn oidc_app(store: &Store, t: &TenantId, id: &str, backchannel: Option<&str>) {
    let mut tx = store.begin().await.unwrap();
    let row = kakehashi_store::identity::AppRow {
        id: id.into(),
        name: id.into(),
        protocol: "oidc".into(),
        security_class: "learning".into(),
        audience: "all".into(),
        public_client: false,
        client_secret_hash: None,
        redirect_uris: vec!["https://rp.example/cb".into()],
        saml_entity_id: None,
        saml_acs_url: None,
        saml_metadata: None,
        subject_type: "pairwise".into(),
        icon_type: None,
        icon_base64: None,
        created_at: "2026-04-01T00:00:00.000Z".into(),
    };
    assert!(kakehashi_store::identity::insert_app(&mut tx, t, &row)
        .await
        .unwrap());
    let settings = oauth::OidcSettingsRow {
        backchannel_logout_uri: backchannel.map(str::to_owned),
        ..Default::default()
    };
    assert!(oauth::set_oidc_settings(&mut tx, t, id, &settings)
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn backchannel_logout_2_5_apps_with_an_id_token_are_queued_once_and_claimed_once() {
    for db in TestDb::both().await {
        let label = db.label;
        let store = db.open().await;
        let a = tenant(&store, "city-a").await;
        let b = tenant(&store, "city-b").await;
        oidc_app(&store, &a, "rp", Some("https://rp.example/bcl")).await;
        oidc_app(&store, &a, "rp-no-openid", Some("https://x.example/bcl")).await;
        oidc_app(&store, &a, "rp-no-uri", None).await;
        oidc_app(&store, &b, "rp", Some("https://rp.example/bcl")).await;
        let mut conn = store.pool().acquire().await.unwrap();
        for (hash, client, scopes) in [
            ("t1", "rp", "profile openid"),
            ("t2", "rp-no-openid", "openidx roster"),
            ("t3", "rp-no-uri", "openid"),
        ] {
            let t = TokenRow {
                client_id: client.into(),
                scopes: scopes.into(),
                subject: format!("sub-{client}"),
                ..token(hash, "access", "f")
            };
            oauth::insert_token(&mut conn, &a, &t).await.unwrap();
        }
        // Only the app that got an ID token (scope openid) and has a URI; in tenant A only.
        assert_eq!(
            oauth::backchannel_audience(&mut conn, &a, "sess")
                .await
                .unwrap(),
            vec![("rp".to_owned(), "sub-rp".to_owned())],
            "{label}"
        );
        assert!(oauth::backchannel_audience(&mut conn, &b, "sess")
            .await
            .unwrap()
            .is_empty());
        let row = oauth::BackchannelLogoutRow {
            tenant: a.clone(),
            id: "n1".into(),
            client_id: "rp".into(),
            subject: "sub-rp".into(),
            session_hash: "sess".into(),
            user_sourced_id: "u1".into(),
            created_at: 100,
            attempts: 0,
        };
        // Ending the session twice queues one delivery.
        oauth::queue_backchannel_logout(&mut conn, &row)
            .await
            .unwrap();
        oauth::queue_backchannel_logout(&mut conn, &row)
            .await
            .unwrap();
        drop(conn);
        assert_eq!(
            oauth::due_backchannel_logouts(&store, 99, 10)
                .await
                .unwrap()
                .len(),
            0
        );
        let due = oauth::due_backchannel_logouts(&store, 100, 10)
            .await
            .unwrap();
        assert_eq!(due, vec![row.clone()], "{label}");
        // Two deliverers (nodes) seeing the same due row: one claims it.
        assert!(oauth::claim_backchannel_logout(&store, &due[0], 100, 130)
            .await
            .unwrap());
        assert!(!oauth::claim_backchannel_logout(&store, &due[0], 100, 130)
            .await
            .unwrap());
        assert!(oauth::due_backchannel_logouts(&store, 129, 10)
            .await
            .unwrap()
            .is_empty());
        // Not delivered: due again after its retry time, one attempt counted.
        let again = oauth::due_backchannel_logouts(&store, 130, 10)
            .await
            .unwrap();
        assert_eq!(again[0].attempts, 1, "{label}");
        let mut conn = store.pool().acquire().await.unwrap();
        oauth::delete_backchannel_logout(&mut conn, &a, "n1")
            .await
            .unwrap();
        drop(conn);
        assert!(oauth::due_backchannel_logouts(&store, 1000, 10)
            .await
            .unwrap()
            .is_empty());
    }
}

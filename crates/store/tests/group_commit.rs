//! Group commit (`Store::group_write`): concurrent requests' writes share transactions, yet
//! each request is atomic on its own and answered only after its rows are committed, and the
//! audit chain stays exactly what single appends make. Same steps on SQLite and PostgreSQL.

use kakehashi_store::audit::{self, Event};
use kakehashi_store::oauth::{self, TokenRow};
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Store, TenantId};

async fn fresh(db: &TestDb) -> (Store, TenantId) {
    let store = db.open().await;
    let t = TenantId::parse("city-a").unwrap();
    let mut tx = store.begin().await.unwrap();
    kakehashi_store::tenants::insert(&mut tx, &t, "A市教育委員会", "2026-04-01T00:00:00.000Z")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (store, t)
}

fn token(hash: &str) -> TokenRow {
    TokenRow {
        token_hash: hash.into(),
        kind: "access".into(),
        family_id: format!("fam-{hash}"),
        client_id: "m2m".into(),
        user_sourced_id: None,
        session_hash: None,
        subject: "m2m".into(),
        scopes: "statements/write".into(),
        claims: None,
        auth_time: None,
        acr: None,
        amr: None,
        jti: None,
        issued_at: 100,
        expires_at: 10_000,
        rotated_at: None,
        revoked_at: None,
    }
}

fn event(i: usize) -> Event {
    Event {
        actor: "client:m2m".into(),
        action: "oidc.token.issue".into(),
        target: format!("token-{i}"),
        details: serde_json::json!({"i": i, "名前": "𠮷田"}),
    }
}

/// What one request writes: a token row, then its audit row, both queued for the batch's
/// multi-row INSERTs (as the token endpoint does), so a duplicate fails at the batch's end.
type Write = (TenantId, TokenRow, Event);

async fn write(store: &Store, w: Write) -> kakehashi_store::Result<()> {
    store
        .group_write(w, |(tenant, row, event), batch| {
            Box::pin(async move {
                oauth::insert_token_later(batch, tenant, row);
                batch
                    .audit(Some(tenant), "2026-04-01T00:00:00.000Z", event)
                    .await
                    .map(|_| ())
            })
        })
        .await
}

async fn has_token(store: &Store, t: &TenantId, hash: &str) -> bool {
    let mut conn = store.pool().acquire().await.unwrap();
    oauth::find_token(&mut conn, t, hash)
        .await
        .unwrap()
        .is_some()
}

async fn audit_rows(store: &Store) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE chain = 'city-a'")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_writes_all_commit_and_the_chain_verifies() {
    for db in TestDb::both().await {
        let (store, t) = fresh(&db).await;
        // One append the ordinary way first, so the batch continues an existing head.
        let mut tx = store.begin().await.unwrap();
        audit::append(
            &mut tx,
            store.backend(),
            Some(&t),
            "2026-04-01T00:00:00.000Z",
            &event(0),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let tasks: Vec<_> = (1..=300)
            .map(|i| {
                let (store, t) = (store.clone(), t.clone());
                tokio::spawn(
                    async move { write(&store, (t, token(&format!("h{i}")), event(i))).await },
                )
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // Answered only after commit: every row is visible to a fresh read at once.
        for i in 1..=300 {
            assert!(
                has_token(&store, &t, &format!("h{i}")).await,
                "{}: token h{i}",
                db.label
            );
        }
        assert_eq!(audit_rows(&store).await, 301, "{}", db.label);
        let stats = store.group_stats();
        assert_eq!(stats.writes, 300, "{}", db.label);
        if store.backend() == kakehashi_store::Backend::Sqlite {
            // 300 writes queued at once share transactions (else this test proves nothing).
            assert!(stats.transactions < 300, "{}: {stats:?}", db.label);
        }
        let v = audit::verify(&store).await.unwrap();
        assert_eq!(v.first_break, None, "{}", db.label);

        // And an ordinary append after the batches continues the chain.
        let mut tx = store.begin().await.unwrap();
        let e = audit::append(
            &mut tx,
            store.backend(),
            Some(&t),
            "2026-04-01T00:00:00.000Z",
            &event(301),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(e.seq, 302, "{}", db.label);
        assert_eq!(
            audit::verify(&store).await.unwrap().first_break,
            None,
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn a_failing_write_fails_alone_and_leaves_nothing_behind() {
    for db in TestDb::both().await {
        let (store, t) = fresh(&db).await;
        write(&store, (t.clone(), token("taken"), event(0)))
            .await
            .unwrap();
        // Many writes at once; every twentieth reuses a token hash that exists (a unique
        // violation), so it fails inside a batch shared with others.
        let tasks: Vec<_> = (1..=60)
            .map(|i| {
                let (store, t) = (store.clone(), t.clone());
                let hash = if i % 20 == 0 {
                    "taken".to_owned()
                } else {
                    format!("h{i}")
                };
                tokio::spawn(async move { (i, write(&store, (t, token(&hash), event(i))).await) })
            })
            .collect();
        let mut failed = vec![];
        for task in tasks {
            let (i, result) = task.await.unwrap();
            if result.is_err() {
                failed.push(i);
            }
        }
        assert_eq!(failed, vec![20, 40, 60], "{}", db.label);
        // The 57 others and the first one committed, each with its audit row; the three that
        // failed left neither a token nor an audit row.
        assert_eq!(audit_rows(&store).await, 58, "{}", db.label);
        for i in (1..=60).filter(|i| i % 20 != 0) {
            assert!(has_token(&store, &t, &format!("h{i}")).await);
        }
        assert_eq!(
            audit::verify(&store).await.unwrap().first_break,
            None,
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn a_write_that_fails_after_its_first_row_is_undone_whole() {
    for db in TestDb::both().await {
        let (store, t) = fresh(&db).await;
        // Token inserted, then its second statement fails: the token row must not survive.
        let result = store
            .group_write((t.clone(), token("half")), |(tenant, row), batch| {
                Box::pin(async move {
                    oauth::insert_token(batch.conn(), tenant, row).await?;
                    oauth::insert_token(batch.conn(), tenant, row).await
                })
            })
            .await;
        assert!(result.is_err(), "{}", db.label);
        assert!(
            !has_token(&store, &t, "half").await,
            "{}: half a write was committed",
            db.label
        );
        write(&store, (t.clone(), token("next"), event(1)))
            .await
            .unwrap();
        assert_eq!(audit_rows(&store).await, 1, "{}", db.label);
    }
}

/// A write that revokes a token family (as a replayed authorization code does) after another
/// write of its batch issued a token of that family: the revocation reaches the queued token,
/// and each request gets the value its own write returned.
#[tokio::test]
async fn a_revocation_reaches_tokens_queued_earlier_in_its_batch_and_each_write_answers() {
    for db in TestDb::both().await {
        let (store, t) = fresh(&db).await;
        // A user's grant (families are revoked for users' grants: a replayed code).
        let first = TokenRow {
            user_sourced_id: Some("u1".into()),
            ..token("first")
        };
        let issue = store.group_write_returning((t.clone(), first), |(tenant, row), b| {
            Box::pin(async move {
                oauth::insert_token_later(b, tenant, row);
                Ok(format!("issued {}", row.token_hash))
            })
        });
        let revoke = store.group_write_returning(t.clone(), |tenant, b| {
            Box::pin(async move {
                b.insert_queued_now().await?;
                oauth::revoke_family(b.conn(), tenant, "fam-first", 200).await
            })
        });
        // SQLite: both queued before the committer runs, so one batch, issue first.
        // PostgreSQL: a transaction each, run concurrently, so one after the other here (there
        // the replay's UPDATE of the code waits on the first use's row lock instead).
        let (issued, revoked) = if db.label == "sqlite" {
            tokio::join!(issue, revoke)
        } else {
            let issued = issue.await;
            (issued, revoke.await)
        };
        assert_eq!(issued.unwrap(), "issued first", "{}", db.label);
        assert_eq!(
            revoked.unwrap(),
            1,
            "{}: the queued token was not revoked",
            db.label
        );
        let mut conn = store.pool().acquire().await.unwrap();
        let row = oauth::find_token(&mut conn, &t, "first").await.unwrap();
        assert_eq!(row.unwrap().revoked_at, Some(200), "{}", db.label);
    }
}

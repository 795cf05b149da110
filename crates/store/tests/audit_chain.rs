//! The audit log is append-only and hash-chained: any edit, removal or reordering is found by
//! `verify`, and the row it names is the first one affected. Same steps on SQLite and PostgreSQL.

use kakehashi_store::audit::{self, Event};
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Store, TenantId};

async fn append_n(store: &Store, tenant: &TenantId, n: usize) {
    for i in 0..n {
        let mut tx = store.begin().await.unwrap();
        audit::append(
            &mut tx,
            store.backend(),
            Some(tenant),
            &kakehashi_store::now_rfc3339(),
            &Event {
                actor: "cli".into(),
                action: "test.event".into(),
                target: format!("row-{i}"),
                details: serde_json::json!({"i": i, "名前": "𠮷田"}),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn fresh(db: &TestDb) -> (Store, TenantId) {
    let store = db.open().await;
    let t = TenantId::parse("city-a").unwrap();
    let mut tx = store.begin().await.unwrap();
    kakehashi_store::tenants::insert(&mut tx, &t, "A市教育委員会", "2026-04-01T00:00:00.000Z")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    append_n(&store, &t, 5).await;
    (store, t)
}

async fn exec(store: &Store, sql: &str) {
    sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
}

#[tokio::test]
async fn intact_chain_verifies() {
    for db in TestDb::both().await {
        let (store, _) = fresh(&db).await;
        let v = audit::verify(&store).await.unwrap();
        assert_eq!(v.first_break, None, "{}", db.label);
        assert_eq!(v.rows, 5, "{}", db.label);
    }
}

#[tokio::test]
async fn edited_row_is_named() {
    for db in TestDb::both().await {
        let (store, _) = fresh(&db).await;
        exec(
            &store,
            "UPDATE audit_log SET target = 'forged' WHERE chain = 'city-a' AND seq = 3",
        )
        .await;
        let b = audit::verify(&store)
            .await
            .unwrap()
            .first_break
            .expect(db.label);
        assert_eq!((b.chain.as_str(), b.seq), ("city-a", 3), "{}", db.label);
        assert!(b.problem.contains("edited"), "{}", b.problem);
    }
}

#[tokio::test]
async fn removed_row_is_named() {
    for db in TestDb::both().await {
        let (store, _) = fresh(&db).await;
        exec(
            &store,
            "DELETE FROM audit_log WHERE chain = 'city-a' AND seq = 2",
        )
        .await;
        let b = audit::verify(&store)
            .await
            .unwrap()
            .first_break
            .expect(db.label);
        assert_eq!(b.seq, 2, "{}", db.label);
        assert!(b.problem.contains("missing"), "{}", b.problem);
    }
}

#[tokio::test]
async fn reordered_rows_are_named() {
    for db in TestDb::both().await {
        let (store, _) = fresh(&db).await;
        // Swap the contents of rows 2 and 4 while keeping their sequence numbers.
        exec(
            &store,
            "UPDATE audit_log SET seq = -2 WHERE chain = 'city-a' AND seq = 2",
        )
        .await;
        exec(
            &store,
            "UPDATE audit_log SET seq = 2 WHERE chain = 'city-a' AND seq = 4",
        )
        .await;
        exec(
            &store,
            "UPDATE audit_log SET seq = 4 WHERE chain = 'city-a' AND seq = -2",
        )
        .await;
        let b = audit::verify(&store)
            .await
            .unwrap()
            .first_break
            .expect(db.label);
        assert_eq!(b.seq, 2, "{}", db.label);
        assert!(b.problem.contains("reordered"), "{}", b.problem);
    }
}

#[tokio::test]
async fn removed_tail_is_detected() {
    for db in TestDb::both().await {
        let (store, _) = fresh(&db).await;
        exec(
            &store,
            "DELETE FROM audit_log WHERE chain = 'city-a' AND seq = 5",
        )
        .await;
        let b = audit::verify(&store)
            .await
            .unwrap()
            .first_break
            .expect(db.label);
        assert_eq!(b.seq, 5, "{}", db.label);
    }
}

#[tokio::test]
async fn appends_from_many_tasks_keep_one_chain() {
    for db in TestDb::both().await {
        let (store, t) = fresh(&db).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (s, t) = (store.clone(), t.clone());
                tokio::spawn(async move { append_n(&s, &t, 5).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let v = audit::verify(&store).await.unwrap();
        assert_eq!(v.first_break, None, "{}", db.label);
        assert_eq!(v.rows, 45, "{}", db.label);
    }
}

#[tokio::test]
async fn tenants_are_listed_and_ids_unique() {
    for db in TestDb::both().await {
        let (store, t) = fresh(&db).await;
        let mut tx = store.begin().await.unwrap();
        let again = kakehashi_store::tenants::insert(&mut tx, &t, "dup", "x")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(!again, "{}", db.label);
        let all = kakehashi_store::tenants::list(&store).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name, "A市教育委員会", "{}", db.label);
    }
}

#[test]
fn tenant_id_syntax() {
    for ok in ["demo", "a", "city-01", &"x".repeat(40)] {
        assert!(TenantId::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["", "Demo", "a_b", "東京", "a b", &"x".repeat(41)] {
        assert!(TenantId::parse(bad).is_err(), "{bad}");
    }
}

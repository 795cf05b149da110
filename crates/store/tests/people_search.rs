//! The people search pages exactly (crates/store/src/people_search.rs), on SQLite and
//! PostgreSQL: every page of every query, at several page sizes and reaches, is what a brute
//! force over all users says — ordered by match key then username, each person once, nobody
//! in reach missed, nobody out of reach or inactive shown — including many people sharing a
//! family name (the case the index seeks exist for) and people matched by two columns.

use kakehashi_store::people_search::{
    match_key, search_people, PeopleCursor, PeopleHit, PeopleReach,
};
use kakehashi_store::roster::{self, UserRow};
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Store, TenantId};

const FAMILIES: [(&str, &str); 6] = [
    ("山田", "ヤマダ"),
    ("山口", "ヤマグチ"),
    ("山", "やま"),
    ("𠮷田", "ヨシダ"),
    ("やまだ", "やまだ"),
    ("Yamamoto", "ヤマモト"),
];
const GIVEN: [(&str, &str); 4] = [
    ("花子", "ハナコ"),
    ("山太郎", "ヤマタロウ"),
    ("yama", "ヤマ"),
    ("一郎", "イチロウ"),
];

fn people() -> Vec<UserRow> {
    (0..240)
        .map(|i| {
            let (family, kana_family) = FAMILIES[i % FAMILIES.len()];
            let (given, kana_given) = GIVEN[(i / 7) % GIVEN.len()];
            UserRow {
                sourced_id: format!("u{i:03}"),
                // Usernames that also start like the names for some people.
                username: if i % 5 == 0 {
                    format!("yama{:03}", 240 - i)
                } else {
                    format!("p{:03}", (i * 37) % 240)
                },
                user_master_identifier: None,
                given_name: given.into(),
                family_name: family.into(),
                kana_given_name: (i % 11 != 0).then(|| kana_given.into()),
                kana_family_name: (i % 13 != 0).then(|| kana_family.into()),
                role: if i % 10 == 0 { "teacher" } else { "student" }.into(),
                email: None,
                enabled: true,
                // Some people have left: never shown.
                active: i % 17 != 3,
            }
        })
        .collect()
}

/// School of a person: sch-0 … sch-2; class: cls-0 … cls-5.
fn school_of(i: usize) -> String {
    format!("sch-{}", i % 3)
}
fn class_of(i: usize) -> String {
    format!("cls-{}", i % 6)
}

async fn seeded(db: &TestDb) -> (Store, TenantId) {
    let store = db.open().await;
    let t = TenantId::parse("city-a").unwrap();
    let at = "2026-04-01T00:00:00.000Z";
    let mut tx = store.begin().await.unwrap();
    kakehashi_store::tenants::insert(&mut tx, &t, "A市教育委員会", at)
        .await
        .unwrap();
    roster::write_users(&mut tx, &t, &people(), at)
        .await
        .unwrap();
    for i in 0..240 {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, enrollment_id, user_sourced_id, class_sourced_id,
               school_sourced_id, role, active)
             VALUES ($1, $2, $3, $4, $5, 'student', 1)",
        )
        .bind(t.as_str())
        .bind(format!("e{i}"))
        .bind(format!("u{i:03}"))
        .bind(class_of(i))
        .bind(school_of(i))
        .execute(&mut **tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    (store, t)
}

fn expected(prefixes: &[String], in_reach: impl Fn(usize) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = people()
        .into_iter()
        .enumerate()
        .filter(|(i, u)| u.active && in_reach(*i))
        .filter_map(|(_, u)| match_key(&u, prefixes).map(|k| (k, u.username)))
        .collect();
    out.sort();
    out
}

async fn all_pages(
    store: &Store,
    t: &TenantId,
    prefixes: &[String],
    reach: &PeopleReach<'_>,
    page: usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut after = PeopleCursor::default();
    for _ in 0..1000 {
        let hits: Vec<PeopleHit> = search_people(store, t, prefixes, reach, &after, page)
            .await
            .unwrap();
        assert!(hits.len() <= page);
        let Some(last) = hits.last() else { break };
        after = last.cursor();
        out.extend(hits.into_iter().map(|h| (h.key, h.user.username)));
    }
    out
}

#[tokio::test]
async fn every_page_is_what_a_brute_force_says_on_both_databases() {
    for db in TestDb::both().await {
        let label = db.label;
        let (store, t) = seeded(&db).await;
        let queries: Vec<Vec<String>> = vec![
            vec![],
            vec!["山".into()],
            vec!["山田".into()],
            vec!["やま".into(), "ヤマ".into()],
            vec!["ヤ".into(), "や".into()],
            vec!["yama".into(), "Yama".into()],
            vec!["𠮷".into()],
            vec!["p1".into()],
            vec!["nobody".into()],
        ];
        let schools = ["sch-1".to_owned()];
        let many_schools: Vec<String> = (0..12).map(|s| format!("sch-{}", s % 3)).collect();
        let classes = ["cls-2".to_owned(), "cls-5".to_owned()];
        for q in &queries {
            let want_all = expected(q, |_| true);
            for page in [1, 7, 50, 500] {
                let got = all_pages(&store, &t, q, &PeopleReach::Tenant, page).await;
                assert_eq!(got, want_all, "{label}: tenant, {q:?}, page {page}");
            }
            let got = all_pages(&store, &t, q, &PeopleReach::Schools(&schools), 7).await;
            assert_eq!(got, expected(q, |i| i % 3 == 1), "{label}: school, {q:?}");
            // Many schools take the index path with a membership check per row.
            let got = all_pages(&store, &t, q, &PeopleReach::Schools(&many_schools), 7).await;
            assert_eq!(got, want_all, "{label}: many schools, {q:?}");
            let got = all_pages(&store, &t, q, &PeopleReach::Classes(&classes), 3).await;
            assert_eq!(
                got,
                expected(q, |i| i % 6 == 2 || i % 6 == 5),
                "{label}: classes, {q:?}"
            );
            let got = all_pages(&store, &t, q, &PeopleReach::Person("u004"), 3).await;
            assert_eq!(got, expected(q, |i| i == 4), "{label}: oneself, {q:?}");
        }
        // Many people share 山田: the pages still come in order with nobody twice.
        let yamada = all_pages(&store, &t, &["山田".into()], &PeopleReach::Tenant, 5).await;
        assert!(yamada.len() > 30, "{label}: {}", yamada.len());
        store.close().await;
    }
}

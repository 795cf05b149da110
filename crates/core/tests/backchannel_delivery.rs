//! Back-Channel Logout 1.0 delivery (`oauth::backchannel`) on SQLite and PostgreSQL, with a
//! scripted HTTP client and a fixed clock: a Logout Token is queued for the app that got an ID
//! token in the session that ended, POSTed once, retried after no answer (section 2.5: only
//! after recoverable errors, with a delay) and given up after `MAX_ATTEMPTS`; a refusal (4xx,
//! section 2.8) is not retried; every attempt is audited.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use kakehashi_core::cache::ProviderCache;
use kakehashi_core::clock::FixedClock;
use kakehashi_core::data_dir::MasterKey;
use kakehashi_core::oauth::backchannel::{self, Deliverer, LogoutTokenPost, MAX_ATTEMPTS};
use kakehashi_store::oauth as stored;
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Store, TenantId};
use time::macros::datetime;
use time::Duration;

mod support;

/// Answers each POST with the next scripted answer and remembers what was sent.
struct Scripted {
    answers: Mutex<Vec<Result<u16, String>>>,
    sent: Mutex<Vec<(String, String)>>,
}

impl Scripted {
    fn new(mut answers: Vec<Result<u16, String>>) -> Scripted {
        answers.reverse();
        Scripted {
            answers: Mutex::new(answers),
            sent: Mutex::new(Vec::new()),
        }
    }
    fn sent(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl LogoutTokenPost for Scripted {
    fn post<'a>(
        &'a self,
        url: &'a str,
        logout_token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        self.sent
            .lock()
            .unwrap()
            .push((url.to_owned(), logout_token.to_owned()));
        let answer = self
            .answers
            .lock()
            .unwrap()
            .pop()
            .unwrap_or(Err("no more answers".into()));
        Box::pin(async move { answer })
    }
}

/// The demo tenant with one back-channel app that a teacher signed in to from session `sess`
/// (a token row with scope openid), and that session's Logout Token queued.
async fn queued(store: &Store, clock: &FixedClock) -> (TenantId, String) {
    let (tenant, app) = support::demo_with_backchannel_app(store, clock).await;
    let now = clock.0.unix_timestamp();
    let user = kakehashi_store::roster::find_user_by_username(store, &tenant, "minami.t01")
        .await
        .unwrap()
        .expect("the demo teacher");
    let mut tx = store.begin().await.unwrap();
    let token = support::openid_token("h1", &app, &user.sourced_id, "sess", now);
    stored::insert_token(&mut tx, &tenant, &token)
        .await
        .unwrap();
    let told = backchannel::queue(&mut tx, &tenant, "sess", &user.sourced_id, now)
        .await
        .unwrap();
    assert_eq!(told, vec![app.clone()]);
    // Ending the same session again queues nothing more.
    backchannel::queue(&mut tx, &tenant, "sess", &user.sourced_id, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (tenant, app)
}

async fn results(store: &Store, tenant: &TenantId) -> Vec<(String, i64)> {
    let rows = kakehashi_store::audit::recent(store, Some(tenant), 100)
        .await
        .unwrap();
    let mut out: Vec<(String, i64)> = rows
        .into_iter()
        .filter(|e| e.action == "oidc.backchannel_logout")
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.details).unwrap();
            (
                d["result"].as_str().unwrap().to_owned(),
                d["attempt"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort_by_key(|(_, n)| *n);
    out
}

#[tokio::test]
async fn backchannel_logout_2_5_no_answer_is_retried_after_a_delay_then_given_up() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let cache = ProviderCache::default();
        let master = MasterKey::from_bytes([7; 32]);
        let t0 = datetime!(2026-04-08 08:00:00 UTC);
        let (tenant, _) = queued(&store, &FixedClock(t0)).await;
        let http = Scripted::new(vec![
            Err("connection refused".into()),
            Ok(503),
            Err("timed out".into()),
            Ok(200),
        ]);
        let at = |secs: i64| FixedClock(t0 + Duration::seconds(secs));
        let deliver = |clock: FixedClock| {
            let (store, master, cache, http) = (&store, &master, &cache, &http);
            async move {
                backchannel::deliver_due(&Deliverer {
                    store,
                    master,
                    clock: &clock,
                    cache,
                    public_url: "http://127.0.0.1:8080",
                    http,
                })
                .await
                .unwrap()
            }
        };
        assert_eq!(deliver(at(0)).await, 1, "{}", db.label);
        // Not again before its retry time (RETRY_AFTER = 30 s after the first attempt).
        assert_eq!(deliver(at(29)).await, 0);
        assert_eq!(deliver(at(30)).await, 1);
        assert_eq!(deliver(at(89)).await, 0, "then 60 s");
        assert_eq!(deliver(at(90)).await, 1);
        // MAX_ATTEMPTS reached: given up, never sent again.
        assert_eq!(deliver(at(10_000)).await, 0);
        assert_eq!(http.sent(), MAX_ATTEMPTS as usize);
        assert_eq!(
            results(&store, &tenant).await,
            vec![
                ("retry".to_owned(), 1),
                ("retry".to_owned(), 2),
                ("failed".to_owned(), 3)
            ],
            "{}",
            db.label
        );
        let (url, token) = http.sent.lock().unwrap()[0].clone();
        assert_eq!(url, "https://rp.example/bcl");
        assert_eq!(token.split('.').count(), 3, "a compact JWS");
    }
}

#[tokio::test]
async fn backchannel_logout_2_8_a_refusal_is_not_retried() {
    for db in TestDb::both().await {
        let store = db.open().await;
        let cache = ProviderCache::default();
        let master = MasterKey::from_bytes([7; 32]);
        let t0 = datetime!(2026-04-08 08:00:00 UTC);
        let (tenant, _) = queued(&store, &FixedClock(t0)).await;
        let http = Scripted::new(vec![Ok(400)]);
        let d = Deliverer {
            store: &store,
            master: &master,
            clock: &FixedClock(t0),
            cache: &cache,
            public_url: "http://127.0.0.1:8080",
            http: &http,
        };
        assert_eq!(backchannel::deliver_due(&d).await.unwrap(), 1);
        let later = FixedClock(t0 + Duration::seconds(1000));
        let d = Deliverer { clock: &later, ..d };
        assert_eq!(backchannel::deliver_due(&d).await.unwrap(), 0);
        assert_eq!(http.sent(), 1);
        assert_eq!(
            results(&store, &tenant).await,
            vec![("refused".to_owned(), 1)],
            "{}",
            db.label
        );
    }
}

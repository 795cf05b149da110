//! A portal session that ends without a logout still ends its app sessions, on SQLite and
//! PostgreSQL with a fixed clock: one that times out (idle or absolute, `portal::expiry`) and
//! one replaced by a new login in the same browser (`portal::login`). Either way every OIDC
//! token of the session is revoked and a Logout Token is queued for each app with a
//! back-channel logout URI that received an ID token in it, for that session (OpenID Connect
//! Back-Channel Logout 1.0 section 2.5: "each RP that the OP knows has a session" with it;
//! section 2.4: the token names the session by its `sid`, derived from the session's hash).

use kakehashi_core::clock::FixedClock;
use kakehashi_core::portal::login::{self, LoginAttempt, LoginOutcome};
use kakehashi_core::portal::token::SessionToken;
use kakehashi_core::portal::{expiry, session};
use kakehashi_store::oauth as stored;
use kakehashi_store::testing::TestDb;
use kakehashi_store::{Backend, Store, TenantId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

mod support;

const TEACHER: &str = "minami.t01";
const TEACHER_PASSWORD: &str = "demo-teacher-2026";
const PUPIL: &str = "minami.s01";
const PUPIL_PASSWORD: &str = "demo1234";
/// The default timeouts (`PortalPolicy::DEFAULT`): staff idle 30 min, pupils absolute 8 h.
const STAFF_IDLE: i64 = 30 * 60;
const PUPIL_ABSOLUTE: i64 = 8 * 3600;

const T0: OffsetDateTime = datetime!(2026-04-08 08:00:00 UTC);

fn at(secs: i64) -> FixedClock {
    FixedClock(T0 + Duration::seconds(secs))
}

/// The demo tenant, its back-channel app and the teacher signed in at T0 with the app
/// holding the access token `hash` from that session.
async fn teacher_in_app(store: &Store, hash: &str) -> (TenantId, String, SessionToken) {
    let (tenant, app) = support::demo_with_backchannel_app(store, &at(0)).await;
    let teacher = sign_in(store, &at(0), &tenant, TEACHER, TEACHER_PASSWORD, None).await;
    app_signed_in(store, &tenant, &app, &teacher, hash).await;
    (tenant, app, teacher)
}

/// Signs `username` in at `clock` (replacing `replaces`): the session token.
async fn sign_in(
    store: &Store,
    clock: &FixedClock,
    tenant: &TenantId,
    username: &str,
    password: &str,
    replaces: Option<&SessionToken>,
) -> SessionToken {
    let outcome = login::attempt(
        store,
        clock,
        &LoginAttempt {
            tenant,
            username,
            password,
            ip: "192.0.2.10",
            user_agent: "test",
            replaces,
            device: None,
        },
    )
    .await
    .expect("login runs");
    match outcome {
        LoginOutcome::Success { token, .. } => token,
        other => panic!("login of {username} failed: {other:?}"),
    }
}

/// The app got an ID token (and an access token `hash`) in the session `token`.
async fn app_signed_in(
    store: &Store,
    tenant: &TenantId,
    app: &str,
    token: &SessionToken,
    hash: &str,
) {
    let now = T0.unix_timestamp();
    let session = token.id_hash();
    let user: String = kakehashi_store::sessions::find(store, tenant, &session)
        .await
        .unwrap()
        .expect("a live session")
        .0
        .user_sourced_id;
    let mut tx = store.begin().await.unwrap();
    let token = support::openid_token(hash, app, &user, &session, now);
    stored::insert_token(&mut tx, tenant, &token).await.unwrap();
    tx.commit().await.unwrap();
}

/// The session `token` is used at each of `minutes` (after T0), and is live each time.
async fn active(
    store: &Store,
    tenant: &TenantId,
    token: &SessionToken,
    minutes: impl Iterator<Item = i64>,
) {
    for m in minutes {
        let live = session::resume(store, &at(m * 60), tenant, token)
            .await
            .unwrap();
        assert!(live.is_some(), "active at {m} min");
    }
}

async fn revoked(store: &Store, tenant: &TenantId, hash: &str) -> bool {
    let mut conn = store.pool().acquire().await.unwrap();
    stored::find_token(&mut conn, tenant, hash)
        .await
        .unwrap()
        .expect("token row")
        .revoked_at
        .is_some()
}

/// The sessions (their hashes) with a Logout Token queued for `app`.
async fn queued_for(store: &Store, app: &str) -> Vec<String> {
    let due = stored::due_backchannel_logouts(store, i64::MAX, 100)
        .await
        .unwrap();
    let mut s: Vec<String> = due
        .into_iter()
        .filter(|r| r.client_id == app)
        .map(|r| r.session_hash)
        .collect();
    s.sort();
    s
}

/// The details of the tenant's audit rows with `action`, oldest first.
async fn audited(store: &Store, tenant: &TenantId, action: &str) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = kakehashi_store::audit::recent(store, Some(tenant), 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    rows.reverse();
    rows
}

#[tokio::test]
async fn backchannel_logout_2_5_a_session_that_times_out_tells_its_apps_once() {
    for db in TestDb::both().await {
        let label = db.label;
        let store = db.open().await;
        // A second node on the same database (PostgreSQL); SQLite has one process's store.
        let node2 = if store.backend() == Backend::Postgres {
            db.open().await
        } else {
            store.clone()
        };
        let (tenant, app, teacher) = teacher_in_app(&store, "t-access").await;
        let pupil = sign_in(&store, &at(0), &tenant, PUPIL, PUPIL_PASSWORD, None).await;
        app_signed_in(&store, &tenant, &app, &pupil, "p-access").await;

        // The pupil stays active (every 20 minutes); the teacher does not.
        active(&store, &tenant, &pupil, (20..=60).step_by(20)).await;
        // One second before the teacher's idle timeout nothing has timed out.
        assert_eq!(
            expiry::sweep(&store, &at(STAFF_IDLE - 1)).await.unwrap(),
            0,
            "{label}"
        );
        assert!(queued_for(&store, &app).await.is_empty(), "{label}");

        // At the idle timeout: two nodes sweep at once; the session is ended exactly once.
        let idle_over = at(STAFF_IDLE);
        let (a, b) = tokio::join!(
            expiry::sweep(&store, &idle_over),
            expiry::sweep(&node2, &idle_over),
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "{label}: claimed by one node");
        assert!(revoked(&store, &tenant, "t-access").await, "{label}");
        assert!(!revoked(&store, &tenant, "p-access").await, "{label}");
        assert_eq!(
            queued_for(&store, &app).await,
            vec![teacher.id_hash()],
            "{label}: a Logout Token for the teacher's session (section 2.4: its sid)"
        );
        let expired = audited(&store, &tenant, "session.expire").await;
        assert_eq!(expired.len(), 1, "{label}: {expired:?}");
        assert_eq!(expired[0]["reason"], "idle");
        assert_eq!(expired[0]["backchannel"], serde_json::json!([app.clone()]));
        assert_eq!(expired[0]["clients"], serde_json::json!([app.clone()]));
        assert!(
            kakehashi_store::sessions::find(&store, &tenant, &teacher.id_hash())
                .await
                .unwrap()
                .is_none(),
            "{label}: the session row is gone"
        );
        // Done once: later sweeps (and the browser coming back) find nothing more to do.
        assert_eq!(expiry::sweep(&store, &at(STAFF_IDLE + 5)).await.unwrap(), 0);
        assert!(
            session::resume(&store, &at(STAFF_IDLE + 6), &tenant, &teacher)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(audited(&store, &tenant, "session.expire").await.len(), 1);

        // The pupil, active to the end, reaches the absolute timeout (8 h).
        active(&store, &tenant, &pupil, (100..=460).step_by(40)).await;
        assert_eq!(
            expiry::sweep(&store, &at(PUPIL_ABSOLUTE - 1))
                .await
                .unwrap(),
            0,
            "{label}: active and before its absolute timeout"
        );
        assert_eq!(
            expiry::sweep(&store, &at(PUPIL_ABSOLUTE)).await.unwrap(),
            1,
            "{label}"
        );
        assert!(revoked(&store, &tenant, "p-access").await, "{label}");
        let mut both = vec![teacher.id_hash(), pupil.id_hash()];
        both.sort();
        assert_eq!(queued_for(&store, &app).await, both, "{label}");
        let expired = audited(&store, &tenant, "session.expire").await;
        assert_eq!(expired.len(), 2, "{label}: {expired:?}");
        assert_eq!(expired[1]["reason"], "absolute");
    }
}

#[tokio::test]
async fn backchannel_logout_2_5_a_session_found_timed_out_by_its_own_request_tells_its_apps() {
    for db in TestDb::both().await {
        let label = db.label;
        let store = db.open().await;
        let (tenant, app, teacher) = teacher_in_app(&store, "t-access").await;
        // The browser comes back after the idle timeout, before any sweep ran.
        let back = session::resume(&store, &at(STAFF_IDLE + 1), &tenant, &teacher)
            .await
            .unwrap();
        assert!(back.is_none(), "{label}");
        assert!(revoked(&store, &tenant, "t-access").await, "{label}");
        assert_eq!(queued_for(&store, &app).await, vec![teacher.id_hash()]);
        let expired = audited(&store, &tenant, "session.expire").await;
        assert_eq!(expired.len(), 1, "{label}");
        assert_eq!(expired[0]["reason"], "idle");
        // The sweep does not end it again.
        assert_eq!(expiry::sweep(&store, &at(STAFF_IDLE + 5)).await.unwrap(), 0);
        assert_eq!(audited(&store, &tenant, "session.expire").await.len(), 1);
    }
}

#[tokio::test]
async fn backchannel_logout_2_5_a_session_replaced_by_a_new_login_tells_its_apps() {
    for db in TestDb::both().await {
        let label = db.label;
        let store = db.open().await;
        let (tenant, app, old) = teacher_in_app(&store, "old-access").await;
        // The same browser signs in again (here as another user): the old session ends.
        let new = sign_in(&store, &at(60), &tenant, PUPIL, PUPIL_PASSWORD, Some(&old)).await;
        assert_ne!(new.id_hash(), old.id_hash());
        assert!(session::resume(&store, &at(61), &tenant, &old)
            .await
            .unwrap()
            .is_none());
        assert!(revoked(&store, &tenant, "old-access").await, "{label}");
        // Section 2.4: the Logout Token carries the old session's sid (derived from its hash).
        assert_eq!(
            queued_for(&store, &app).await,
            vec![old.id_hash()],
            "{label}"
        );
        let logins = audited(&store, &tenant, "portal.login").await;
        let last = logins.last().expect("the second login");
        assert_eq!(last["replacedSession"], true, "{label}: {last}");
        assert_eq!(
            last["replacedSessionApps"]["backchannel"],
            serde_json::json!([app])
        );
        // A login without a previous session replaces nothing.
        sign_in(&store, &at(120), &tenant, TEACHER, TEACHER_PASSWORD, None).await;
        assert_eq!(queued_for(&store, &app).await.len(), 1, "{label}");
    }
}

#[tokio::test]
async fn the_same_user_signing_in_again_keeps_the_apps_of_the_session_it_replaces() {
    // Re-authentication (prompt=login, max_age, a step-up) is not a logout: as Keycloak keeps
    // its session, the apps' tokens move to the new session, no Logout Token is sent
    // (Back-Channel Logout 1.0 section 2.5 is about sessions that end), and a later logout of
    // the new session ends them.
    for db in TestDb::both().await {
        let label = db.label;
        let store = db.open().await;
        let (tenant, app, old) = teacher_in_app(&store, "kept-access").await;
        let new = sign_in(
            &store,
            &at(60),
            &tenant,
            TEACHER,
            TEACHER_PASSWORD,
            Some(&old),
        )
        .await;
        assert_ne!(new.id_hash(), old.id_hash(), "{label}: a fresh session id");
        assert!(session::resume(&store, &at(61), &tenant, &old)
            .await
            .unwrap()
            .is_none());
        assert!(!revoked(&store, &tenant, "kept-access").await, "{label}");
        assert!(queued_for(&store, &app).await.is_empty(), "{label}");
        let logins = audited(&store, &tenant, "portal.login").await;
        let last = logins.last().expect("the second login");
        assert_eq!(last["replacedSession"], true, "{label}: {last}");
        assert_eq!(last["replacedSessionApps"]["sameUser"], true, "{label}");
        assert_eq!(last["replacedSessionApps"]["kept"], 1, "{label}");

        let live = session::resume(&store, &at(62), &tenant, &new)
            .await
            .unwrap()
            .expect("the new session");
        session::logout(&store, &at(63), &live).await.unwrap();
        assert!(revoked(&store, &tenant, "kept-access").await, "{label}");
        assert_eq!(
            queued_for(&store, &app).await,
            vec![new.id_hash()],
            "{label}"
        );
    }
}

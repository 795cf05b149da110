//! The console's role model at each boundary, on SQLite and PostgreSQL: a teacher cannot see
//! another school's pupils (nor another class's), a school admin cannot see another school, a
//! tenant admin cannot see another tenant, a pupil sees only themselves; the command line
//! (the platform operator) reaches every tenant. Every staff read is in the audit log.

use kakehashi_core::console::authz::{AdminRole, PersonAction, Principal, Standing};
use kakehashi_core::console::grants::{self, Grantee};
use kakehashi_core::console::{audit_log, classes, people, ConsoleError};
use kakehashi_core::{demo, roster_import, tenants, Actor, SystemClock};
use kakehashi_store::console::AuditFilter;
use kakehashi_store::testing::TestDb;
use kakehashi_store::{roster, Store, TenantId};

fn t(id: &str) -> TenantId {
    TenantId::parse(id).expect("tenant id")
}

fn operator(tenant: &str) -> Principal {
    Principal::platform_operator(&t(tenant), Actor("cli:test".into()))
}

/// `demo` (from `serve --demo`) and `city-b`, holding the same generated roster.
async fn two_tenants(db: &TestDb) -> Store {
    let store = db.open().await;
    demo::ensure(&store, &SystemClock)
        .await
        .expect("demo tenant");
    let b = t("city-b");
    let actor = Actor("cli:test".into());
    tenants::add(&store, &SystemClock, &actor, &b, "B市教育委員会")
        .await
        .expect("tenant b");
    let req = roster_import::ImportRequest {
        tenant: &b,
        actor: &actor,
        source_label: "test",
        dry_run: false,
    };
    let mut tx = store.begin().await.expect("begin");
    roster_import::apply(
        &mut tx,
        &store,
        &SystemClock,
        &req,
        &kakehashi_oneroster::generate::small_demo(),
        0,
        &roster_import::Quiet,
    )
    .await
    .expect("import b");
    tx.commit().await.expect("commit");
    store
}

async fn person_principal(store: &Store, tenant: &str, username: &str) -> Principal {
    let user = roster::find_user_by_username(store, &t(tenant), username)
        .await
        .expect("lookup")
        .unwrap_or_else(|| panic!("no user {username}"));
    Principal::of_person(store, &t(tenant), user)
        .await
        .expect("principal")
}

async fn usernames(store: &Store, by: &Principal, q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = people::search(store, &SystemClock, by, q, after.as_deref(), Some(7))
            .await
            .expect("search");
        out.extend(page.items.into_iter().map(|p| p.username));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    out
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, ConsoleError>) -> bool {
    matches!(r, Err(ConsoleError::NotFound(_)))
}

#[tokio::test]
async fn each_role_sees_only_its_reach_on_both_databases() {
    for db in TestDb::both().await {
        let label = db.label;
        let store = two_tenants(&db).await;

        // A teacher: the pupils of their own class, not the next class, not another school.
        let teacher = person_principal(&store, "demo", "minami.t01").await;
        assert!(
            matches!(teacher.standing, Standing::Teacher { .. }),
            "{label}"
        );
        let seen = usernames(&store, &teacher, "minami.s").await;
        assert_eq!(
            seen,
            (1..=10)
                .map(|n| format!("minami.s{n:02}"))
                .collect::<Vec<_>>(),
            "{label}: minami.t01 teaches 5年1組 (s01–s10)"
        );
        assert!(
            usernames(&store, &teacher, "kita.").await.is_empty(),
            "{label}"
        );
        assert!(
            people::view(&store, &SystemClock, &teacher, "usr-minami-s01")
                .await
                .is_ok(),
            "{label}"
        );
        for other in ["usr-kita-s01", "usr-minami-s11", "usr-minami-t02"] {
            assert!(
                is_not_found(people::view(&store, &SystemClock, &teacher, other).await),
                "{label}: teacher must not see {other}"
            );
        }
        assert!(
            is_not_found(classes::pupils(&store, &SystemClock, &teacher, "cls-kita-5-1").await),
            "{label}"
        );
        let (_, pupils) = classes::pupils(&store, &SystemClock, &teacher, "cls-minami-5-1")
            .await
            .expect("own class");
        assert_eq!(pupils.len(), 10, "{label}");
        // …and may unlock their own pupil, but nobody else.
        assert!(
            people::unlock(&store, &SystemClock, &teacher, "usr-minami-s01")
                .await
                .is_ok()
        );
        assert!(is_not_found(
            people::unlock(&store, &SystemClock, &teacher, "usr-kita-s01").await
        ));
        assert!(
            audit_log::search(&store, &teacher, &AuditFilter::default(), None, None)
                .await
                .is_err()
        );

        // A school admin: their school, every class of it, nothing of the other school.
        let op = operator("demo");
        grants::grant(
            &store,
            &SystemClock,
            &op,
            &Grantee::Username("minami.t03".into()),
            AdminRole::SchoolAdmin,
            Some("sch-minami"),
        )
        .await
        .expect("grant school admin");
        let school = person_principal(&store, "demo", "minami.t03").await;
        let seen = usernames(&store, &school, "").await;
        assert_eq!(
            seen.len(),
            23,
            "{label}: 3 teachers + 20 pupils of みなみ小: {seen:?}"
        );
        assert!(seen.iter().all(|u| u.starts_with("minami.")), "{label}");
        assert!(
            usernames(&store, &school, "kita").await.is_empty(),
            "{label}"
        );
        assert!(is_not_found(
            people::view(&store, &SystemClock, &school, "usr-kita-t01").await
        ));
        assert!(
            classes::pupils(&store, &SystemClock, &school, "cls-minami-5-2")
                .await
                .is_ok()
        );
        assert!(is_not_found(
            classes::pupils(&store, &SystemClock, &school, "cls-kita-5-2").await
        ));

        // A tenant admin of city-b: all of city-b, nothing of demo (the same ids exist there,
        // so what they see is city-b's rows, never demo's).
        grants::grant(
            &store,
            &SystemClock,
            &operator("city-b"),
            &Grantee::Username("kita.t01".into()),
            AdminRole::TenantAdmin,
            None,
        )
        .await
        .expect("grant tenant admin");
        let b_admin = person_principal(&store, "city-b", "kita.t01").await;
        assert_eq!(b_admin.standing, Standing::TenantAdmin);
        assert_eq!(usernames(&store, &b_admin, "").await.len(), 46, "{label}");
        let rows = audit_log::search(&store, &b_admin, &AuditFilter::default(), None, Some(200))
            .await
            .expect("audit of b");
        assert!(rows.items.iter().all(|e| e.chain == "city-b"), "{label}");
        // Nothing the tenant admin of city-b did shows in demo's log.
        let demo_rows = audit_log::search(
            &store,
            &op,
            &AuditFilter {
                actor: b_admin.actor.0.clone(),
                ..AuditFilter::default()
            },
            None,
            None,
        )
        .await
        .expect("demo audit");
        assert!(demo_rows.items.is_empty(), "{label}");
        // Grants are per tenant: the same username in demo is only a teacher there.
        let demo_user = roster::find_user_by_username(&store, &t("demo"), "kita.t01")
            .await
            .unwrap()
            .unwrap();
        let in_demo = Principal::of_person(&store, &t("demo"), demo_user)
            .await
            .unwrap();
        assert!(
            matches!(in_demo.standing, Standing::Teacher { .. }),
            "{label}"
        );

        // A pupil: only themselves.
        let pupil = person_principal(&store, "demo", "minami.s01").await;
        assert!(people::search(&store, &SystemClock, &pupil, "", None, None)
            .await
            .is_err());
        assert!(people::view(&store, &SystemClock, &pupil, "usr-minami-s01")
            .await
            .is_ok());
        assert!(is_not_found(
            people::view(&store, &SystemClock, &pupil, "usr-minami-s02").await
        ));
        let me = pupil.user.clone().unwrap();
        assert!(!pupil
            .may(&store, PersonAction::ManageSignIn, &me)
            .await
            .unwrap());

        // The platform operator reaches both tenants.
        assert_eq!(usernames(&store, &operator("demo"), "").await.len(), 46);
        assert_eq!(usernames(&store, &operator("city-b"), "").await.len(), 46);

        // Every staff read of someone else is in the log: who viewed minami.s01?
        let about = audit_log::about_person(&store, &op, "usr-minami-s01", None, Some(200))
            .await
            .expect("about");
        let viewers: Vec<(&str, &str)> = about
            .items
            .iter()
            .map(|e| (e.actor.as_str(), e.action.as_str()))
            .collect();
        assert!(
            viewers.contains(&("user:demo/usr-minami-t01", "console.person.view")),
            "{label}: {viewers:?}"
        );
        assert!(
            viewers.contains(&("user:demo/usr-minami-t01", "portal.unlock")),
            "{label}: {viewers:?}"
        );
        // The pupil looking at themselves is not a staff read.
        assert!(
            !viewers
                .iter()
                .any(|(a, _)| *a == "user:demo/usr-minami-s01"),
            "{label}"
        );
        let chain = audit_log::verify(&store, &op).await.expect("verify");
        assert!(chain.first_break.is_none(), "{label}: {chain:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn search_by_kana_in_either_script_and_by_name() {
    let db = TestDb::sqlite().await;
    let store = two_tenants(&db).await;
    let op = operator("demo");
    // minami.s01 is 𠮷田 (ヨシダ) in the demo roster.
    let by_name = usernames(&store, &op, "𠮷").await;
    assert!(by_name.contains(&"minami.s01".to_owned()), "{by_name:?}");
    let by_katakana = usernames(&store, &op, "ヨシ").await;
    let by_hiragana = usernames(&store, &op, "よし").await;
    assert!(
        by_katakana.contains(&"minami.s01".to_owned()),
        "{by_katakana:?}"
    );
    assert_eq!(by_katakana, by_hiragana);
    let fullwidth = usernames(&store, &op, "ＭＩＮＡＭＩ.Ｓ0").await;
    assert_eq!(fullwidth.len(), 9, "{fullwidth:?}");
}

#[tokio::test]
async fn grants_need_a_real_school_and_an_admin_to_give_them() {
    let db = TestDb::sqlite().await;
    let store = two_tenants(&db).await;
    let op = operator("demo");
    let who = Grantee::Username("minami.t02".into());
    let r = grants::grant(
        &store,
        &SystemClock,
        &op,
        &who,
        AdminRole::SchoolAdmin,
        Some("sch-nowhere"),
    )
    .await;
    assert!(is_not_found(r));
    let r = grants::grant(
        &store,
        &SystemClock,
        &op,
        &who,
        AdminRole::SchoolAdmin,
        None,
    )
    .await;
    assert!(matches!(r, Err(ConsoleError::Invalid(_))));
    let r = grants::grant(
        &store,
        &SystemClock,
        &op,
        &who,
        AdminRole::SchoolAdmin,
        Some("org-demo-city"),
    )
    .await;
    assert!(is_not_found(r), "a district is not a school");
    // A teacher cannot give themselves a role.
    let teacher = person_principal(&store, "demo", "minami.t02").await;
    let r = grants::grant(
        &store,
        &SystemClock,
        &teacher,
        &who,
        AdminRole::TenantAdmin,
        None,
    )
    .await;
    assert!(matches!(r, Err(ConsoleError::Forbidden(_))));
    assert!(grants::grant(
        &store,
        &SystemClock,
        &op,
        &who,
        AdminRole::TenantAdmin,
        None
    )
    .await
    .unwrap());
    assert!(!grants::grant(
        &store,
        &SystemClock,
        &op,
        &who,
        AdminRole::TenantAdmin,
        None
    )
    .await
    .unwrap());
    assert!(grants::revoke(
        &store,
        &SystemClock,
        &op,
        &who,
        AdminRole::TenantAdmin,
        None
    )
    .await
    .unwrap());
    let back = person_principal(&store, "demo", "minami.t02").await;
    assert!(matches!(back.standing, Standing::Teacher { .. }));
}

fn is_forbidden<T>(r: Result<T, ConsoleError>) -> bool {
    matches!(r, Err(ConsoleError::Forbidden(_)))
}

/// Second factors, the MFA policy, LTI tools and app changes at each boundary: a tenant admin
/// may; a school admin may see and reset the factors of their school's people but not of
/// another admin, nor anyone of another school, and none of the tenant-wide settings; a
/// teacher none of it.
#[tokio::test]
async fn factors_policy_tools_and_app_changes_at_each_boundary_on_both_databases() {
    use kakehashi_core::console::{apps, lti_tools, mfa};
    for db in TestDb::both().await {
        let label = db.label;
        let store = two_tenants(&db).await;
        let op = operator("demo");
        for (user, role, school) in [
            ("minami.t03", AdminRole::TenantAdmin, None),
            ("minami.t02", AdminRole::SchoolAdmin, Some("sch-minami")),
        ] {
            grants::grant(
                &store,
                &SystemClock,
                &op,
                &Grantee::Username(user.into()),
                role,
                school,
            )
            .await
            .expect("grant");
        }
        let admin = person_principal(&store, "demo", "minami.t03").await;
        let school = person_principal(&store, "demo", "minami.t02").await;
        let teacher = person_principal(&store, "demo", "minami.t01").await;

        // A person's factors.
        let clock = SystemClock;
        assert!(mfa::factors_of(&store, &clock, &admin, "usr-minami-t01")
            .await
            .is_ok());
        assert!(mfa::factors_of(&store, &clock, &school, "usr-minami-t01")
            .await
            .is_ok());
        assert!(
            is_forbidden(mfa::factors_of(&store, &clock, &school, "usr-minami-t03").await),
            "{label}: another admin's factors"
        );
        assert!(is_not_found(
            mfa::factors_of(&store, &clock, &school, "usr-kita-t01").await
        ));
        assert!(
            is_forbidden(mfa::factors_of(&store, &clock, &teacher, "usr-minami-s01").await),
            "{label}: a teacher sees their pupil, not their factors"
        );
        assert!(is_forbidden(
            mfa::reset_factors(&store, &clock, &teacher, "usr-minami-s01", "lost").await
        ));
        assert!(matches!(
            mfa::reset_factors(&store, &clock, &admin, "usr-minami-t01", " ").await,
            Err(ConsoleError::Invalid(m)) if m.starts_with("reason:")
        ));
        // One key: the reset's rule, the reach checked before the key.
        assert!(
            is_not_found(
                mfa::remove_factor(&store, &clock, &school, "usr-kita-t01", "k", "lost").await
            ),
            "{label}: a school admin cannot remove a key outside their schools"
        );
        assert!(is_forbidden(
            mfa::remove_factor(&store, &clock, &school, "usr-minami-t03", "k", "lost").await
        ));
        assert!(is_forbidden(
            mfa::remove_factor(&store, &clock, &teacher, "usr-minami-s01", "k", "lost").await
        ));
        assert!(matches!(
            mfa::remove_factor(&store, &clock, &admin, "usr-minami-t01", "k", " ").await,
            Err(ConsoleError::Invalid(m)) if m.starts_with("reason:")
        ));
        assert!(is_not_found(
            mfa::remove_factor(&store, &clock, &admin, "usr-minami-t01", "k", "lost").await
        ));
        let done = mfa::reset_factors(&store, &clock, &school, "usr-minami-t01", "lost key")
            .await
            .expect("a school admin resets their teacher's factors");
        assert_eq!(done.credentials_removed, 0, "{label}");

        // Tenant-wide: the MFA policy, LTI tools, app changes.
        for who in [&school, &teacher] {
            assert!(is_forbidden(mfa::get_policy(&store, who).await), "{label}");
            assert!(is_forbidden(lti_tools::list(&store, who, None, None).await));
            assert!(is_forbidden(
                lti_tools::remove(&store, &clock, who, "x").await
            ));
            assert!(is_forbidden(
                apps::update(&store, &clock, who, "x", apps::AppPatch::default()).await
            ));
        }
        let p = mfa::get_policy(&store, &admin).await.expect("policy");
        mfa::set_policy(&store, &clock, &admin, &p)
            .await
            .expect("set");
        assert!(lti_tools::list(&store, &admin, None, None).await.is_ok());
        assert!(is_not_found(
            apps::update(
                &store,
                &clock,
                &admin,
                "no-such-app",
                apps::AppPatch::default()
            )
            .await
        ));
    }
}

/// `me`: the devices are always the caller's own. A pupil cannot forget a classmate's device
/// (404, and it stays); an API client has no devices (404); forgetting is audited.
#[tokio::test]
async fn a_person_forgets_only_their_own_devices_on_both_databases() {
    use kakehashi_core::console::me;
    use kakehashi_core::mfa::risk;
    for db in TestDb::both().await {
        let label = db.label;
        let store = two_tenants(&db).await;
        let demo = t("demo");
        for (user, device) in [
            ("usr-minami-s01", "aa01"),
            ("usr-minami-s01", "aa02"),
            ("usr-minami-s02", "bb01"),
        ] {
            risk::remember_device(&store, &SystemClock, &demo, user, device, "Tablet/1.0")
                .await
                .expect("remember");
        }
        let s01 = person_principal(&store, "demo", "minami.s01").await;
        let s02 = person_principal(&store, "demo", "minami.s02").await;
        let mine = me::devices(&store, &s01, Some("aa02")).await.expect("mine");
        assert_eq!(mine.len(), 2, "{label}");
        assert!(mine
            .iter()
            .any(|d| d.this_device && d.id == risk::device_hash("aa02")));
        assert_eq!(mine[0].user_agent.as_deref(), Some("Tablet/1.0"));
        let theirs = risk::device_hash("bb01");
        assert!(is_not_found(
            me::forget_device(&store, &SystemClock, &s01, &theirs).await
        ));
        assert!(is_not_found(
            me::forget_device(&store, &SystemClock, &s01, "not-a-hash").await
        ));
        assert_eq!(me::devices(&store, &s02, None).await.unwrap().len(), 1);
        me::forget_device(&store, &SystemClock, &s01, &risk::device_hash("aa01"))
            .await
            .expect("forget own");
        assert_eq!(me::devices(&store, &s01, None).await.unwrap().len(), 1);
        assert!(
            !risk::device_known(&store, &demo, "usr-minami-s01", Some("aa01"))
                .await
                .unwrap(),
            "{label}: a new device again"
        );
        let client = Principal {
            user: None,
            actor: Actor("client:boe".into()),
            ..operator("demo")
        };
        assert!(is_not_found(me::devices(&store, &client, None).await));
        let rows = audit_log::search(
            &store,
            &operator("demo"),
            &AuditFilter {
                action_prefix: "console.me.device.forget".into(),
                ..AuditFilter::default()
            },
            None,
            None,
        )
        .await
        .expect("audit");
        assert_eq!(rows.items.len(), 1, "{label}");
        assert_eq!(rows.items[0].target, "user:usr-minami-s01");
    }
}

/// The operator overview: only for the command line or a person holding the explicit
/// `platform-operator` grant (which only the command line gives, never to a client, and which
/// raises nobody within a tenant); a tenant admin without it is refused; every view is in the
/// platform chain and in each tenant's own chain.
#[tokio::test]
async fn the_operator_overview_needs_the_explicit_grant_on_both_databases() {
    use kakehashi_core::console::operator;
    for db in TestDb::both().await {
        let label = db.label;
        let store = two_tenants(&db).await;
        let op = operator("demo");
        let clock = SystemClock;
        grants::grant(
            &store,
            &clock,
            &op,
            &Grantee::Username("minami.t03".into()),
            AdminRole::TenantAdmin,
            None,
        )
        .await
        .expect("tenant admin");
        let admin = person_principal(&store, "demo", "minami.t03").await;
        assert!(
            is_forbidden(operator::overview(&store, &clock, &admin, None, None).await),
            "{label}: a tenant admin without the grant"
        );
        assert!(
            is_forbidden(
                grants::grant(
                    &store,
                    &clock,
                    &admin,
                    &Grantee::Username("minami.t03".into()),
                    AdminRole::PlatformOperator,
                    None,
                )
                .await
            ),
            "{label}: a tenant admin cannot raise themselves"
        );
        assert!(matches!(
            grants::grant(
                &store,
                &clock,
                &op,
                &Grantee::Client("anything".into()),
                AdminRole::PlatformOperator,
                None
            )
            .await,
            Err(ConsoleError::Invalid(m)) if m.contains("for a person")
        ));
        assert!(grants::grant(
            &store,
            &clock,
            &op,
            &Grantee::Username("kita.t01".into()),
            AdminRole::PlatformOperator,
            None,
        )
        .await
        .expect("operator grant"));
        let watcher = person_principal(&store, "demo", "kita.t01").await;
        assert!(
            matches!(watcher.standing, Standing::Teacher { .. }),
            "{label}: the grant adds no reach within the tenant"
        );
        assert!(is_not_found(
            people::view(&store, &clock, &watcher, "usr-minami-s01").await
        ));
        let list = operator::overview(&store, &clock, &watcher, None, None)
            .await
            .expect("overview");
        assert_eq!(list.next, None, "{label}: one page");
        let list = list.items;
        let ids: Vec<&str> = list.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["city-b", "demo"], "{label}");
        // A page at a time, by tenant id: the page's tenants only are read (and audited).
        let first = operator::overview(&store, &clock, &watcher, None, Some(1))
            .await
            .expect("page 1");
        assert_eq!(first.items.len(), 1, "{label}");
        assert_eq!(first.items[0].id.as_str(), "city-b");
        assert_eq!(first.next.as_deref(), Some("city-b"), "{label}");
        let second = operator::overview(&store, &clock, &watcher, first.next.as_deref(), Some(1))
            .await
            .expect("page 2");
        let ids: Vec<&str> = second.items.iter().map(|o| o.id.as_str()).collect();
        assert_eq!((ids, second.next), (vec!["demo"], None), "{label}");
        for o in &list {
            assert!(o.users > 0 && o.last_import.is_some(), "{label}: {o:?}");
            assert_eq!(o.audit_chain.first_break_seq, None, "{label}");
        }
        let read = audit_log::search(
            &store,
            &operator("city-b"),
            &AuditFilter {
                action_prefix: "console.operator.read".into(),
                ..AuditFilter::default()
            },
            None,
            None,
        )
        .await
        .expect("audit");
        assert_eq!(
            read.items.len(),
            2,
            "{label}: the whole overview and its first page"
        );
        assert_eq!(read.items[0].actor, "user:demo/usr-kita-t01");
        assert!(operator::overview(&store, &clock, &op, None, None)
            .await
            .is_ok());
    }
}

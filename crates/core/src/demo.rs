//! The `demo` tenant: a small generated roster (two schools, classes, teachers and pupils with
//! Japanese names and kana) so that a newcomer has something to look at on first start.

use kakehashi_oneroster::generate;
use kakehashi_store::{Store, StoreError, TenantId};

use crate::roster_import::{self, ImportError, ImportRequest, ImportSummary, Quiet};
use crate::tenants::{self, TenantError};
use crate::{Actor, Clock};

pub const DEMO_TENANT: &str = "demo";

/// Creates the demo tenant and imports the demo roster, unless the tenant already exists.
/// Returns the import summary when it did something.
pub async fn ensure(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Option<ImportSummary>, ImportError> {
    let id = TenantId::parse(DEMO_TENANT).map_err(|e| {
        ImportError::Store(StoreError::Corrupt {
            table: "tenants",
            detail: e.to_string(),
        })
    })?;
    let actor = Actor("system:demo".to_owned());
    match tenants::add(store, clock, &actor, &id, "デモ市教育委員会").await {
        Ok(_) => {}
        Err(TenantError::Exists(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let roster = generate::small_demo();
    let req = ImportRequest {
        tenant: &id,
        actor: &actor,
        source_label: "demo roster",
        dry_run: false,
    };
    let mut tx = store.begin().await?;
    let summary = roster_import::apply(&mut tx, store, clock, &req, &roster, 0, &Quiet).await?;
    tx.commit().await.map_err(StoreError::from)?;
    set_demo_passwords(store, clock, &id).await?;
    Ok(Some(summary))
}

/// The demo users' password: staff `demo-teacher-2026`, pupils `demo1234`. Public by design
/// (printed by `serve --demo`); the demo tenant holds no real people.
pub fn demo_password(role: &str) -> &'static str {
    match crate::portal::policy::RoleClass::of(role) {
        crate::portal::policy::RoleClass::Pupil => DEMO_PUPIL_PASSWORD,
        crate::portal::policy::RoleClass::Staff => DEMO_TEACHER_PASSWORD,
    }
}
pub const DEMO_TEACHER_PASSWORD: &str = "demo-teacher-2026";
/// Where the demo relying party's responses go: a local RP on port 8000 (any OIDC library's
/// example app), or the public OpenID Connect debugger.
pub const DEMO_RP_REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:8000/callback",
    "https://oidcdebugger.com/debug",
];

/// Registers the demo tenant's OIDC relying party (staff may use it; names, kana and roster
/// claims released) and returns its registration, secret included (shown once).
pub async fn register_demo_client(
    store: &Store,
    clock: &dyn Clock,
    public_url: &str,
) -> Result<crate::apps::Registration, crate::apps::AppError> {
    use crate::apps::{self, Audience, NewApp, OidcOptions, Protocol, SecurityClass, SubjectType};
    let tenant =
        TenantId::parse(DEMO_TENANT).map_err(|e| apps::AppError::Invalid(e.to_string()))?;
    let new = NewApp {
        name: "デモ RP (OIDC)".into(),
        protocol: Protocol::Oidc,
        security_class: SecurityClass::Learning,
        audience: Some(Audience::Staff),
        redirect_uris: DEMO_RP_REDIRECT_URIS.map(String::from).to_vec(),
        public: false,
        saml: None,
        subject_type: SubjectType::Pairwise,
        icon: None,
    };
    let oidc = OidcOptions {
        post_logout_redirect_uris: vec!["http://127.0.0.1:8000/".into()],
        release: ["name", "kana", "roster"].map(String::from).to_vec(),
        ..OidcOptions::default()
    };
    apps::add_with_oidc(
        store,
        clock,
        &Actor("system:demo".to_owned()),
        &tenant,
        public_url,
        &new,
        &oidc,
    )
    .await
}
pub const DEMO_PUPIL_PASSWORD: &str = "demo1234";

async fn set_demo_passwords(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<(), ImportError> {
    let users = kakehashi_store::roster::list_users(store, tenant, "", 10_000).await?;
    let plain: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.sourced_id.clone(), demo_password(&u.role).to_owned()))
        .collect();
    let hashed = tokio::task::spawn_blocking(move || crate::passwords::hash_many(&plain))
        .await
        .map_err(|e| StoreError::Corrupt {
            table: "credentials",
            detail: format!("hashing demo passwords: {e}"),
        })?
        .map_err(|e| StoreError::Corrupt {
            table: "credentials",
            detail: e.to_string(),
        })?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    for (sourced_id, phc) in &hashed {
        kakehashi_store::identity::set_password_hash(&mut tx, tenant, sourced_id, phc, &at).await?;
    }
    kakehashi_store::audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &kakehashi_store::audit::Event {
            actor: "system:demo".into(),
            action: "user.password.set".into(),
            target: "demo-users".into(),
            details: serde_json::json!({ "users": hashed.len(), "demo": true }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

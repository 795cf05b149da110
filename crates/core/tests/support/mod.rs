//! What the core tests about ending app sessions share: the demo tenant with one app that has
//! a back-channel logout URI, and the token row of an ID token issued to it.

use kakehashi_core::apps::{self, NewApp, OidcOptions, Protocol, SecurityClass, SubjectType};
use kakehashi_core::{demo, Actor, Clock};
use kakehashi_store::oauth::TokenRow;
use kakehashi_store::{Store, TenantId};

/// The demo tenant and one OIDC app with `backchannel_logout_uri` https://rp.example/bcl: the
/// tenant and the app's client id.
pub async fn demo_with_backchannel_app(store: &Store, clock: &dyn Clock) -> (TenantId, String) {
    demo::ensure(store, clock).await.expect("demo");
    let tenant = TenantId::parse("demo").unwrap();
    let reg = apps::add_with_oidc(
        store,
        clock,
        &Actor("cli:test".into()),
        &tenant,
        "http://127.0.0.1:8080",
        &NewApp {
            name: "BCL".into(),
            protocol: Protocol::Oidc,
            security_class: SecurityClass::Learning,
            audience: None,
            redirect_uris: vec!["https://rp.example/cb".into()],
            public: false,
            saml: None,
            subject_type: SubjectType::Pairwise,
            icon: None,
        },
        &OidcOptions {
            backchannel_logout_uri: Some("https://rp.example/bcl".into()),
            ..OidcOptions::default()
        },
    )
    .await
    .expect("app");
    (tenant, reg.app.id)
}

/// An access token `hash` with scope `openid` (so the app got an ID token) issued to `client`
/// for `user` in the portal session `session` at `now`, valid for an hour.
pub fn openid_token(hash: &str, client: &str, user: &str, session: &str, now: i64) -> TokenRow {
    TokenRow {
        token_hash: hash.into(),
        kind: "access".into(),
        family_id: format!("family-{hash}"),
        client_id: client.into(),
        user_sourced_id: Some(user.into()),
        session_hash: Some(session.into()),
        subject: format!("sub-{hash}"),
        scopes: "openid".into(),
        claims: None,
        auth_time: Some(now),
        acr: None,
        amr: None,
        jti: None,
        issued_at: now,
        expires_at: now + 3600,
        rotated_at: None,
        revoked_at: None,
    }
}

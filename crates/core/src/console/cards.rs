//! QR sign-in cards: young pupils cannot type passwords, so their teacher prints a card per
//! pupil whose QR code holds `{public-url}/t/{tenant}/card/{token}`; scanning it with the
//! device camera opens the page that signs the pupil in (one tap). A card is a bearer
//! credential like a printed password: 256 random bits, stored only as its SHA-256, one live
//! card per pupil, replaced when reissued (the old card stops working) and revocable. Issuing
//! is for those who may manage the pupil's sign-in (their teacher, their school's admin, the
//! tenant admin), audited; every card sign-in is an audited `portal.login` with `amr` `qr`.
//! A card never counts as a second factor and is only ever issued to pupils.

use kakehashi_store::console as stored;
use kakehashi_store::roster::UserRow;
use kakehashi_store::{audit, Store, StoreError, TenantId};

use super::authz::{PersonAction, Principal};
use super::people::PersonSummary;
use super::ConsoleError;
use crate::portal::login::{self, LoginAttempt, Method};
use crate::portal::policy::{PortalPolicy, RoleClass};
use crate::portal::token::{random_hex, SessionToken};
use crate::portal::PortalError;
use crate::Clock;

/// A freshly issued card: the pupil and the token to print (shown only now).
#[derive(Clone, Debug)]
pub struct IssuedCard {
    pub person: PersonSummary,
    pub token: String,
}

fn new_token() -> Result<String, ConsoleError> {
    // 32 random bytes as hex (random_hex gives 32 bytes).
    random_hex().map_err(ConsoleError::Portal)
}

/// Issues new cards for every pupil of `class` (the old ones stop working), for printing.
pub async fn issue_for_class(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    class: &str,
) -> Result<(super::classes::ClassSummary, Vec<IssuedCard>), ConsoleError> {
    // The same reach as the class page (which it also audits as a read).
    let (summary, pupils) = super::classes::pupils(store, clock, by, class).await?;
    if !by.is_staff() {
        return Err(ConsoleError::Forbidden("staff only".into()));
    }
    let at = clock.now_text();
    let mut issued = Vec::with_capacity(pupils.len());
    let mut tx = store.begin().await?;
    for p in pupils {
        let token = new_token()?;
        stored::replace_card(
            &mut tx,
            &by.tenant,
            &p.person.sourced_id,
            &crate::oauth::token_hash(&token),
            &at,
            &by.actor.0,
        )
        .await?;
        issued.push(IssuedCard {
            person: p.person,
            token,
        });
    }
    let ids: Vec<&str> = issued
        .iter()
        .map(|c| c.person.sourced_id.as_str())
        .collect();
    audit::append(
        &mut tx,
        store.backend(),
        Some(&by.tenant),
        &at,
        &audit::Event {
            actor: by.actor.0.clone(),
            action: "console.cards.issue".into(),
            target: format!("class:{class}"),
            details: serde_json::json!({ "pupils": ids }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((summary, issued))
}

/// The pupil `sourced_id`, if the caller may manage their sign-in.
async fn pupil_in_reach(
    store: &Store,
    by: &Principal,
    sourced_id: &str,
) -> Result<UserRow, ConsoleError> {
    let person = stored::person(store, &by.tenant, sourced_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ConsoleError::NotFound(format!("person {sourced_id}")))?;
    by.require_person(store, PersonAction::ManageSignIn, &person)
        .await?;
    if RoleClass::of(&person.role) != RoleClass::Pupil {
        return Err(ConsoleError::Invalid(
            "sign-in cards are for pupils only".into(),
        ));
    }
    Ok(person)
}

/// Reissues one pupil's card (a lost card): the old one stops working.
pub async fn reissue(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
) -> Result<IssuedCard, ConsoleError> {
    let person = pupil_in_reach(store, by, sourced_id).await?;
    let token = new_token()?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::replace_card(
        &mut tx,
        &by.tenant,
        &person.sourced_id,
        &crate::oauth::token_hash(&token),
        &at,
        &by.actor.0,
    )
    .await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&by.tenant),
        &at,
        &audit::Event {
            actor: by.actor.0.clone(),
            action: "console.card.issue".into(),
            target: format!("user:{}", person.sourced_id),
            details: serde_json::json!({ "username": person.username }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(IssuedCard {
        person: person.into(),
        token,
    })
}

/// Revokes a pupil's card; `Ok(false)` when they had none.
pub async fn revoke(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
) -> Result<bool, ConsoleError> {
    let person = pupil_in_reach(store, by, sourced_id).await?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let removed = stored::delete_card(&mut tx, &by.tenant, &person.sourced_id).await?;
    if removed {
        audit::append(
            &mut tx,
            store.backend(),
            Some(&by.tenant),
            &at,
            &audit::Event {
                actor: by.actor.0.clone(),
                action: "console.card.revoke".into(),
                target: format!("user:{}", person.sourced_id),
                details: serde_json::json!({ "username": person.username }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(removed)
}

/// The pupil a live card belongs to (for the page that asks "sign in as …?"), or `None`
/// for an unknown or revoked card, or a pupil no longer active.
pub async fn holder(
    store: &Store,
    tenant: &TenantId,
    token: &str,
) -> Result<Option<UserRow>, PortalError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let Some(id) = stored::card_holder(store, tenant, &crate::oauth::token_hash(token)).await?
    else {
        return Ok(None);
    };
    Ok(stored::person(store, tenant, &id)
        .await?
        .filter(|u| u.active && u.enabled && RoleClass::of(&u.role) == RoleClass::Pupil))
}

/// Signs the card's pupil in: a new portal session (the one the browser came with ends),
/// audited as `portal.login` with `amr` `qr`. `None` for a card that does not work.
pub async fn sign_in(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    token: &str,
    ip: &str,
    user_agent: &str,
    replaces: Option<&SessionToken>,
) -> Result<Option<(SessionToken, UserRow)>, PortalError> {
    let Some(user) = holder(store, tenant, token).await? else {
        return Ok(None);
    };
    let policy = PortalPolicy::load(store, tenant).await?;
    let attempt = LoginAttempt {
        tenant,
        username: &user.username,
        password: "",
        ip,
        user_agent,
        replaces,
        // A card sign-in is not judged by the risk engine (no password was typed).
        device: None,
    };
    let session = login::start_session(
        store,
        clock,
        &attempt,
        &user,
        RoleClass::Pupil,
        &policy,
        &user.username,
        Method::Card,
        None,
        true,
    )
    .await?;
    Ok(Some((session, user)))
}

//! A person's own page in the console (`me`): the devices the risk engine knows for them
//! (`known_devices`: first and last seen, the user agent), forgetting one ("this is not my
//! device"), and their own second factors, of which they may remove one security key with a
//! fresh second factor — the rule of the portal's own MFA page (`mfa::webauthn::may_enrol`),
//! through the same [`crate::mfa::factors::remove`].
//!
//! Only a person has a "me": an admin API client is answered 404 here, which is why the API
//! has no `me/…` routes (docs/CONSOLE.md). The person is always the caller's own user, taken
//! from the [`Principal`], never from the request, so nobody can name another person's device.

use kakehashi_store::{audit, mfa as stored, roster::UserRow, Store, StoreError};

use super::authz::Principal;
use super::ConsoleError;
use crate::mfa::factors::{self, Factors};
use crate::mfa::risk::device_hash;
use crate::mfa::{policy, webauthn, MfaError};
use crate::portal::session::PortalSession;
use crate::Clock;

/// A device the risk engine knows for the caller.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MyDevice {
    /// How the device is named in a request to forget it: the SHA-256 (hex) of its cookie's id
    /// (the cookie's value is never shown nor stored).
    pub id: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    /// The user agent it last signed in with (`None`: remembered before this was stored).
    pub user_agent: Option<String>,
    /// The browser asking is this device.
    pub this_device: bool,
}

fn own(by: &Principal) -> Result<&UserRow, ConsoleError> {
    by.require_self()
}

fn mfa_error(e: MfaError) -> ConsoleError {
    match e {
        MfaError::Store(s) => ConsoleError::Store(s),
        other => ConsoleError::Invalid(other.to_string()),
    }
}

/// The caller's known devices, last seen first; `current_device` (the id of the browser's
/// verified device cookie, if any) marks the one asking.
pub async fn devices(
    store: &Store,
    by: &Principal,
    current_device: Option<&str>,
) -> Result<Vec<MyDevice>, ConsoleError> {
    let me = own(by)?;
    let current = current_device.map(device_hash);
    Ok(stored::devices_of(store, &by.tenant, &me.sourced_id)
        .await?
        .into_iter()
        .map(|d| MyDevice {
            this_device: current.as_deref() == Some(d.device_hash.as_str()),
            id: d.device_hash,
            first_seen_at: d.first_seen_at,
            last_seen_at: d.last_seen_at,
            user_agent: d.user_agent,
        })
        .collect())
}

/// "This is not my device": the risk engine forgets it for the caller (the next sign-in from
/// it counts as a new device again). Audited as `console.me.device.forget`. A device that is
/// not the caller's — another person's, or none — is 404.
pub async fn forget_device(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    id: &str,
) -> Result<(), ConsoleError> {
    let me = own(by)?;
    let not_found = || ConsoleError::NotFound(format!("device {id}"));
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let id = id.to_ascii_lowercase();
    let mut tx = store.begin().await?;
    if !stored::forget_device(&mut tx, &by.tenant, &me.sourced_id, &id).await? {
        return Err(not_found());
    }
    audit::append(
        &mut tx,
        store.backend(),
        Some(&by.tenant),
        &clock.now_text(),
        &audit::Event {
            actor: by.actor.0.clone(),
            action: "console.me.device.forget".into(),
            target: format!("user:{}", me.sourced_id),
            details: serde_json::json!({ "device": id }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The caller's own second factors (not audited: a person looking at their own record).
pub async fn factors(store: &Store, by: &Principal) -> Result<Factors, ConsoleError> {
    let me = own(by)?;
    factors::of_user(store, &by.tenant, &me.sourced_id)
        .await
        .map_err(mfa_error)
}

/// The session is the caller's own (the principal was built from it).
fn same_person<'a>(
    by: &'a Principal,
    session: &PortalSession,
) -> Result<&'a UserRow, ConsoleError> {
    let me = own(by)?;
    if session.tenant != by.tenant || session.user.sourced_id != me.sourced_id {
        return Err(ConsoleError::Forbidden(
            "only the session's own person may change their factors".into(),
        ));
    }
    Ok(me)
}

/// Whether the session may change its person's factors now: the portal MFA page's rule
/// (`webauthn::may_enrol`: with factors registered, a second factor fresh under the tenant's
/// policy; the first one only from a school network).
pub async fn may_change_factors(
    store: &Store,
    by: &Principal,
    session: &PortalSession,
) -> Result<bool, ConsoleError> {
    let me = same_person(by, session)?;
    let has = factors::of_user(store, &by.tenant, &me.sourced_id)
        .await
        .map_err(mfa_error)?
        .any();
    let pol = policy::load(store, &by.tenant).await.map_err(mfa_error)?;
    match webauthn::may_enrol(session, has, &pol, time::OffsetDateTime::now_utc()) {
        Ok(()) => Ok(true),
        Err(MfaError::EnrolmentNotAllowed(_)) => Ok(false),
        Err(e) => Err(mfa_error(e)),
    }
}

/// Removes one of the caller's own security keys, with a fresh second factor (else 403 naming
/// it), through [`factors::remove`] (audited there as `mfa.webauthn.remove`). A key that is
/// not theirs is 404.
pub async fn remove_factor(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    session: &PortalSession,
    credential_id: &str,
) -> Result<(), ConsoleError> {
    same_person(by, session)?;
    if !may_change_factors(store, by, session).await? {
        return Err(ConsoleError::Forbidden(
            "confirm with a second factor you already have before removing a key".into(),
        ));
    }
    if factors::remove(store, clock, session, credential_id)
        .await
        .map_err(mfa_error)?
    {
        Ok(())
    } else {
        Err(ConsoleError::NotFound(format!(
            "security key {credential_id}"
        )))
    }
}

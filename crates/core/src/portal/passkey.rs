//! Signing in with a passkey: a discoverable WebAuthn credential that verifies the user, with
//! no username or password (docs/MFA.md, "Passkey sign-in").
//!
//! - [`start`] begins a discoverable authentication (webauthn-rs `conditional-ui`: no allowed
//!   credentials, user verification required) and keeps its server half in
//!   `webauthn_ceremonies` under the browser's pre-login cookie, so that any node can finish
//!   it, only that browser can, once, within five minutes.
//! - [`finish`] takes that state (once), judges the per-address throttle, finds the credential
//!   by its id in this tenant and compares the user handle, applies [`judge`] (an active staff
//!   member of this tenant, a discoverable credential, the tenant's passkey, attestation and
//!   model rules), has webauthn-rs verify the assertion, and then starts an ordinary portal
//!   session through `login::start_session` (risk engine, timeouts, audit `portal.login`).
//!
//! Every refusal is the same [`PasskeyOutcome::Failed`] for the browser, so that it cannot
//! tell an unknown credential from another tenant's or a pupil's; the audit row
//! `portal.login.failed` names the [`Refusal`], and the failure counts on the address's
//! throttle counter like a wrong password.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kakehashi_store::roster::UserRow;
use kakehashi_store::sessions::throttle::{self as counters, Scope};
use kakehashi_store::{audit, mfa as stored, Store, StoreError, TenantId};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, DiscoverableKey, Passkey, PublicKeyCredential, Uuid,
};

use super::login::{self, LoginAttempt, Method};
use super::policy::{PortalPolicy, RoleClass};
use super::throttle::{self, Counters, Verdict};
use super::token::SessionToken;
use super::PortalError;
use crate::mfa::factors::Method as Shown;
use crate::mfa::policy::SecurityPolicy;
use crate::mfa::webauthn::{user_handle_of, RelyingParty, CEREMONY_LIFETIME};
use crate::Clock;

/// The ceremony kind in `webauthn_ceremonies`.
const PASSKEY_LOGIN: &str = "passkey-login";

/// The ceremony's key: the pre-login cookie's nonce, hashed with a label so that it can never
/// equal a portal session's hash (the other ceremonies' key).
fn ceremony_key(prelogin: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"kakehashi-passkey-login\0");
    h.update(prelogin.as_bytes());
    hex::encode(h.finalize())
}

fn mfa(e: impl std::fmt::Display) -> PortalError {
    PortalError::Mfa(e.to_string())
}

/// Starts a passkey login for the browser holding the pre-login nonce `prelogin`; returns the
/// `PublicKeyCredentialRequestOptions` (JSON, `{"publicKey": …}`), or `None` when the tenant
/// does not allow staff passkeys.
pub async fn start(
    store: &Store,
    clock: &dyn Clock,
    rp: &RelyingParty,
    tenant: &TenantId,
    prelogin: &str,
) -> Result<Option<serde_json::Value>, PortalError> {
    let policy = crate::mfa::policy::load(store, tenant).await.map_err(mfa)?;
    if !policy.staff_passkeys {
        return Ok(None);
    }
    let (rcr, state) = rp
        .webauthn()
        .start_discoverable_authentication()
        .map_err(mfa)?;
    let json = serde_json::to_string(&state).map_err(mfa)?;
    let now = clock.now();
    let expires = kakehashi_store::now_rfc3339_of(now + CEREMONY_LIFETIME);
    let mut tx = store.begin().await?;
    stored::delete_expired_ceremonies(&mut tx, tenant, &kakehashi_store::now_rfc3339_of(now))
        .await?;
    stored::put_ceremony(
        &mut tx,
        tenant,
        &ceremony_key(prelogin),
        PASSKEY_LOGIN,
        &json,
        &expires,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let mut options = serde_json::to_value(&rcr).map_err(mfa)?;
    // webauthn-rs marks the request for conditional mediation (autofill); the login page asks
    // on a button press instead, an ordinary modal request (WebAuthn §5.1.4).
    if let Some(o) = options.as_object_mut() {
        o.remove("mediation");
    }
    Ok(Some(options))
}

/// A passkey login as the HTTP layer hands it over.
#[derive(Debug)]
pub struct PasskeyAttempt<'a> {
    pub tenant: &'a TenantId,
    /// The nonce of the browser's pre-login cookie (the ceremony is bound to it).
    pub prelogin: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The session cookie the browser came with, ended on success.
    pub replaces: Option<&'a SessionToken>,
    /// The device id of the browser's signed device cookie, when it verified (risk engine).
    pub device: Option<&'a str>,
}

#[derive(Debug)]
pub enum PasskeyOutcome {
    /// A new session, its second factor proved at this instant.
    Success {
        token: SessionToken,
        user: Box<UserRow>,
    },
    /// The risk engine refused the login.
    RiskDenied,
    /// Refused; deliberately one answer whatever the [`Refusal`].
    Failed,
    /// Too many failures from this address lately.
    Delayed { retry_after_secs: i64 },
}

/// Why a passkey login was refused (the audit row's `reason`; never shown to the browser).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No ceremony for this browser: never started, expired, or already used (a replay).
    NoCeremony,
    /// The answer is not a WebAuthn assertion, or carries no user handle.
    Malformed,
    /// No credential with this id in this tenant (another tenant's, or removed).
    UnknownCredential,
    /// The authenticator's user handle is not the credential holder's.
    UserHandleMismatch,
    /// The holder is no longer an active, enabled user.
    NoActiveUser,
    /// The holder is a pupil (pupils sign in with a password or a QR card only).
    NotStaff,
    /// The tenant turned staff passkeys off.
    PasskeysOff,
    /// The credential was registered as non-discoverable.
    NotDiscoverable,
    /// The tenant now asks for attested authenticators and this one gave no attestation.
    AttestationRequired,
    /// The tenant's AAGUID allow-list no longer lists this model.
    ModelNotAllowed,
    /// webauthn-rs refused the assertion (challenge, origin, signature, counter, flags).
    Verification,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NoCeremony => "no-ceremony",
            Refusal::Malformed => "malformed",
            Refusal::UnknownCredential => "unknown-credential",
            Refusal::UserHandleMismatch => "user-handle-mismatch",
            Refusal::NoActiveUser => "no-active-user",
            Refusal::NotStaff => "not-staff",
            Refusal::PasskeysOff => "passkeys-off",
            Refusal::NotDiscoverable => "not-discoverable",
            Refusal::AttestationRequired => "attestation-required",
            Refusal::ModelNotAllowed => "model-not-allowed",
            Refusal::Verification => "verification-failed",
        }
    }
}

/// What [`judge`] looks at: the credential found by its id in this tenant, and its holder.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// The user handle the authenticator returned is the holder's.
    pub handle_matches: bool,
    /// Registered as a discoverable credential (`credProps.rk`).
    pub discoverable: bool,
    /// The holder's role, when the holder is an active, enabled user.
    pub holder_role: Option<&'a str>,
    pub aaguid: &'a str,
    /// The attestation format stored at registration (`none` when there was none).
    pub attestation: &'a str,
}

/// The rules, pure: may this credential sign its holder in to this tenant? `None`: no
/// credential with that id in this tenant.
pub fn judge(found: Option<&Candidate<'_>>, policy: &SecurityPolicy) -> Result<(), Refusal> {
    let c = found.ok_or(Refusal::UnknownCredential)?;
    // WebAuthn §7.2 step 6: the user handle must be the credential's owner's.
    if !c.handle_matches {
        return Err(Refusal::UserHandleMismatch);
    }
    let role = c.holder_role.ok_or(Refusal::NoActiveUser)?;
    if RoleClass::of(role) != RoleClass::Staff {
        return Err(Refusal::NotStaff);
    }
    if !policy.staff_passkeys {
        return Err(Refusal::PasskeysOff);
    }
    if !c.discoverable {
        return Err(Refusal::NotDiscoverable);
    }
    // The registration rules as they are now: a tenant that tightened them after the key was
    // registered no longer lets it sign in (it still may not be used until re-registered).
    if policy.wants_attestation() && c.attestation == "none" {
        return Err(Refusal::AttestationRequired);
    }
    if !policy.aaguid_allow_list.is_empty() {
        let listed = Uuid::parse_str(c.aaguid)
            .map(|a| policy.aaguid_allow_list.contains(&a))
            .unwrap_or(false);
        if !listed {
            return Err(Refusal::ModelNotAllowed);
        }
    }
    Ok(())
}

/// What the authenticator showed, as RFC 8176 methods: a hardware-held key (`swk` when the
/// credential may be synced or backed up), presence, and the user verification it did (`fpt`
/// for a platform authenticator, `pin` for a security key: WebAuthn does not say how).
pub fn shown_methods(backup_eligible: bool, kind: &str) -> Vec<Shown> {
    vec![
        if backup_eligible {
            Shown::Swk
        } else {
            Shown::Hwk
        },
        Shown::User,
        if kind == "platform" {
            Shown::Fpt
        } else {
            Shown::Pin
        },
    ]
}

/// A refusal with what the audit row may name.
struct Failure {
    refusal: Refusal,
    credential: Option<String>,
    user: Option<String>,
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure {
            refusal,
            credential: None,
            user: None,
        }
    }
}

/// What verified: the holder, the credential row and the updated credential.
struct Verified {
    user: UserRow,
    row: stored::CredentialRow,
    credential: Credential,
    shown: Vec<Shown>,
}

/// Finishes a passkey login with the browser's `PublicKeyCredential` (JSON as the login
/// page's script sends it).
pub async fn finish(
    store: &Store,
    clock: &dyn Clock,
    rp: &RelyingParty,
    a: &PasskeyAttempt<'_>,
    response: &serde_json::Value,
) -> Result<PasskeyOutcome, PortalError> {
    let portal_policy = PortalPolicy::load_with_security(store, a.tenant).await?;
    let now = clock.now();
    // The address counter of the password login: the one unit there is before the user is
    // known (the staff pair back-off needs a username).
    let ip_seen = login::observed(counters::get(store, a.tenant, Scope::Ip, a.ip).await?);
    let by_address = Counters {
        ip: ip_seen,
        ..Counters::default()
    };
    if let Verdict::Delay { retry_after_secs } = throttle::judge(
        Some(RoleClass::Staff),
        portal_policy.pupil_lockout_threshold,
        now,
        &by_address,
    ) {
        return Ok(PasskeyOutcome::Delayed { retry_after_secs });
    }
    let at = clock.now_text();
    let verified = match verify(store, rp, a, response, &at).await? {
        Ok(v) => v,
        Err(f) => {
            record_failure(store, a, &f, &at).await?;
            return Ok(PasskeyOutcome::Failed);
        }
    };
    let Verified {
        user,
        row,
        credential,
        shown,
    } = verified;
    // WebAuthn §7.2 step 21: the new signature counter, and the last use.
    let mut tx = store.begin().await?;
    stored::credential_used(
        &mut tx,
        a.tenant,
        &row.credential_id,
        &serde_json::to_string(&credential).map_err(mfa)?,
        &at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;

    let attempt = LoginAttempt {
        tenant: a.tenant,
        username: &user.username,
        password: "",
        ip: a.ip,
        user_agent: a.user_agent,
        replaces: a.replaces,
        device: a.device,
    };
    let seen = Counters {
        ip: ip_seen,
        account: login::observed(
            counters::get(store, a.tenant, Scope::Account, &user.username).await?,
        ),
        pair: None,
    };
    let risk = login::judge_risk(store, &attempt, &user, &seen, now).await?;
    if risk.as_ref().is_some_and(|r| r.denies()) {
        login::record_risk_denial(store, &attempt, &user, risk.as_ref(), &at).await?;
        return Ok(PasskeyOutcome::RiskDenied);
    }
    // The passkey is the factor a risk step-up would ask for: nothing more is asked.
    let risk = risk.map(login::RiskJudgement::satisfied_by_login);
    let token = login::start_session(
        store,
        clock,
        &attempt,
        &user,
        RoleClass::Staff,
        &portal_policy,
        &user.username,
        Method::Passkey {
            shown,
            credential: row.credential_id.clone(),
        },
        risk.as_ref(),
        true,
    )
    .await?;
    Ok(PasskeyOutcome::Success {
        token,
        user: Box::new(user),
    })
}

/// Takes the ceremony, finds the credential and its holder, judges them and verifies the
/// assertion. `Err` inside `Ok`: a refusal to audit.
async fn verify(
    store: &Store,
    rp: &RelyingParty,
    a: &PasskeyAttempt<'_>,
    response: &serde_json::Value,
    at: &str,
) -> Result<Result<Verified, Failure>, PortalError> {
    let mut tx = store.begin().await?;
    let kept = stored::take_ceremony(
        &mut tx,
        a.tenant,
        &ceremony_key(a.prelogin),
        PASSKEY_LOGIN,
        at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let Some(kept) = kept else {
        return Ok(Err(Refusal::NoCeremony.into()));
    };
    let state: DiscoverableAuthentication = serde_json::from_str(&kept).map_err(mfa)?;
    let Ok(assertion) = serde_json::from_value::<PublicKeyCredential>(response.clone()) else {
        return Ok(Err(Refusal::Malformed.into()));
    };
    let Ok((handle, raw_id)) = rp
        .webauthn()
        .identify_discoverable_authentication(&assertion)
    else {
        return Ok(Err(Refusal::Malformed.into()));
    };
    let credential_id = URL_SAFE_NO_PAD.encode(raw_id);
    let fail = |refusal: Refusal, user: Option<&str>| Failure {
        refusal,
        credential: Some(credential_id.clone()),
        user: user.map(str::to_owned),
    };
    let Some(row) = stored::credential_by_id(store, a.tenant, &credential_id).await? else {
        return Ok(Err(fail(Refusal::UnknownCredential, None)));
    };
    let holder = kakehashi_store::oauth::active_user(store, a.tenant, &row.user_sourced_id).await?;
    let policy = crate::mfa::policy::load(store, a.tenant)
        .await
        .map_err(mfa)?;
    let candidate = Candidate {
        handle_matches: handle == user_handle_of(a.tenant, &row.user_sourced_id),
        discoverable: row.discoverable,
        holder_role: holder.as_ref().map(|u| u.role.as_str()),
        aaguid: &row.aaguid,
        attestation: &row.attestation,
    };
    if let Err(r) = judge(Some(&candidate), &policy) {
        return Ok(Err(fail(r, Some(&row.user_sourced_id))));
    }
    let Some(user) = holder else {
        return Ok(Err(fail(Refusal::NoActiveUser, Some(&row.user_sourced_id))));
    };
    let credential: Credential = serde_json::from_str(&row.credential).map_err(mfa)?;
    let key: Passkey = credential.clone().into();
    let result = match rp.webauthn().finish_discoverable_authentication(
        &assertion,
        state,
        &[DiscoverableKey::from(&key)],
    ) {
        // webauthn-rs asked for and checked user verification (WebAuthn §7.2 step 15); the
        // flag is looked at again so that this rule does not rest on a library default.
        Ok(r) if r.user_verified() => r,
        Ok(_) | Err(_) => return Ok(Err(fail(Refusal::Verification, Some(&user.sourced_id)))),
    };
    let mut key = key;
    let credential = match key.update_credential(&result) {
        Some(_) => Credential::from(key),
        None => credential,
    };
    let shown = shown_methods(credential.backup_eligible, &row.kind);
    Ok(Ok(Verified {
        user,
        row,
        credential,
        shown,
    }))
}

/// Counts a refused passkey login on the address's counter and audits it, in one transaction.
async fn record_failure(
    store: &Store,
    a: &PasskeyAttempt<'_>,
    f: &Failure,
    at: &str,
) -> Result<(), PortalError> {
    let now = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let ip_cutoff = kakehashi_store::now_rfc3339_of(now - throttle::IP_WINDOW);
    let mut tx = store.begin().await?;
    let failures =
        counters::record_failure(&mut tx, a.tenant, Scope::Ip, a.ip, at, &ip_cutoff).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(a.tenant),
        at,
        &audit::Event {
            actor: format!("anonymous@{}", a.ip),
            action: "portal.login.failed".into(),
            target: f
                .user
                .as_ref()
                .map_or_else(|| "passkey".to_owned(), |u| format!("user:{u}")),
            details: serde_json::json!({
                "method": "passkey", "reason": f.refusal.reason(), "ip": a.ip,
                "credential": f.credential, "addressFailures": failures,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff() -> Candidate<'static> {
        Candidate {
            handle_matches: true,
            discoverable: true,
            holder_role: Some("teacher"),
            aaguid: "cb69481e-8ff7-4039-93ec-0a2729a154a8",
            attestation: "packed",
        }
    }

    #[test]
    fn an_active_teachers_discoverable_credential_signs_in() {
        assert_eq!(judge(Some(&staff()), &SecurityPolicy::default()), Ok(()));
    }

    #[test]
    fn a_credential_unknown_in_this_tenant_is_refused() {
        // Another tenant's credential is not found in this one: the same refusal.
        assert_eq!(
            judge(None, &SecurityPolicy::default()),
            Err(Refusal::UnknownCredential)
        );
    }

    #[test]
    fn the_user_handle_must_be_the_holders() {
        // WebAuthn §7.2 step 6.
        let c = Candidate {
            handle_matches: false,
            ..staff()
        };
        assert_eq!(
            judge(Some(&c), &SecurityPolicy::default()),
            Err(Refusal::UserHandleMismatch)
        );
    }

    #[test]
    fn pupils_and_inactive_users_cannot_sign_in_with_a_passkey() {
        let pupil = Candidate {
            holder_role: Some("student"),
            ..staff()
        };
        assert_eq!(
            judge(Some(&pupil), &SecurityPolicy::default()),
            Err(Refusal::NotStaff)
        );
        let gone = Candidate {
            holder_role: None,
            ..staff()
        };
        assert_eq!(
            judge(Some(&gone), &SecurityPolicy::default()),
            Err(Refusal::NoActiveUser)
        );
    }

    #[test]
    fn a_non_discoverable_credential_or_passkeys_off_is_refused() {
        let plain = Candidate {
            discoverable: false,
            ..staff()
        };
        assert_eq!(
            judge(Some(&plain), &SecurityPolicy::default()),
            Err(Refusal::NotDiscoverable)
        );
        let off = SecurityPolicy {
            staff_passkeys: false,
            ..SecurityPolicy::default()
        };
        assert_eq!(judge(Some(&staff()), &off), Err(Refusal::PasskeysOff));
    }

    #[test]
    fn the_tenants_attestation_and_model_rules_apply_as_they_are_now() {
        let direct = SecurityPolicy {
            attestation: crate::mfa::policy::AttestationPolicy::Direct,
            ..SecurityPolicy::default()
        };
        let unattested = Candidate {
            attestation: "none",
            ..staff()
        };
        assert_eq!(
            judge(Some(&unattested), &direct),
            Err(Refusal::AttestationRequired)
        );
        assert_eq!(judge(Some(&staff()), &direct), Ok(()));
        let listed = SecurityPolicy {
            aaguid_allow_list: vec![
                Uuid::parse_str("cb69481e-8ff7-4039-93ec-0a2729a154a8").expect("uuid")
            ],
            ..SecurityPolicy::default()
        };
        assert_eq!(judge(Some(&staff()), &listed), Ok(()));
        let other = Candidate {
            aaguid: "00000000-0000-0000-0000-000000000000",
            ..staff()
        };
        assert_eq!(judge(Some(&other), &listed), Err(Refusal::ModelNotAllowed));
    }

    #[test]
    fn a_passkey_login_is_multi_factor_in_rfc_8176_terms() {
        let amr = |be, kind| crate::mfa::factors::amr_after(&[], &shown_methods(be, kind));
        assert_eq!(amr(false, "platform"), ["hwk", "user", "fpt", "mfa"]);
        assert_eq!(amr(false, "security-key"), ["hwk", "user", "pin", "mfa"]);
        assert_eq!(amr(true, "platform"), ["swk", "user", "fpt", "mfa"]);
        assert!(crate::portal::access::has_second_factor(&amr(
            false, "platform"
        )));
    }

    #[test]
    fn the_ceremony_key_is_bound_to_the_pre_login_cookie_and_is_no_session_hash() {
        assert_eq!(ceremony_key("abc"), ceremony_key("abc"));
        assert_ne!(ceremony_key("abc"), ceremony_key("abd"));
        assert_ne!(ceremony_key("abc"), hex::encode(Sha256::digest(b"abc")));
    }
}

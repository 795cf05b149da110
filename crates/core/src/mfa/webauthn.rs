//! WebAuthn ceremonies with webauthn-rs (W3C Web Authentication Level 2/3).
//!
//! Each ceremony is two requests: *start* returns the options for
//! `navigator.credentials.create()`/`get()` and keeps the server half (challenge, allowed
//! credentials, policy) in `webauthn_ceremonies` keyed by the portal session; *finish* takes
//! that state (once: it is deleted as it is read) and verifies the browser's answer. Keeping
//! the state in the database (webauthn-rs's `danger-allow-state-serialisation`) lets any node
//! finish what another started.
//!
//! Every credential is stored as webauthn-rs's `Credential`; an authentication uses it as a
//! `SecurityKey` (user verification preferred) or, when the tenant requires user verification
//! for the app's security class, as a `Passkey` (user verification required: WebAuthn §7.2
//! step 15 then refuses an assertion without the UV flag).
//!
//! Registration asks for what the tenant's policy needs beyond webauthn-rs's defaults:
//! `attestation: "direct"` when the tenant restricts models (so the AAGUID is signed),
//! `residentKey: "preferred"` for staff's platform authenticators (discoverable credentials,
//! "passkeys"), and the
//! authenticator attachment of the kind being registered (`cross-platform` for a security key,
//! `platform` for a fingerprint reader).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kakehashi_store::{audit, mfa as stored, Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::Duration;
use webauthn_rs::prelude::{
    AuthenticatorAttachment, Credential, ParsedAttestationData, Passkey, PasskeyAuthentication,
    PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey, SecurityKeyAuthentication,
    SecurityKeyRegistration, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use super::factors::{self, Method};
use super::policy::{self, SecurityPolicy, UserVerification};
use super::MfaError;
use crate::apps::SecurityClass;
use crate::portal::policy::RoleClass;
use crate::portal::session::PortalSession;
use crate::Clock;

/// How long a started ceremony may be finished (WebAuthn §5.4 `timeout` is 5 minutes too).
pub(crate) const CEREMONY_LIFETIME: Duration = Duration::minutes(5);

/// The relying party: this server as WebAuthn sees it (RP ID = the public URL's host, origin
/// = the public URL's origin).
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RelyingParty")
    }
}

impl RelyingParty {
    /// The relying party for the server's public URL.
    pub fn for_public_url(public_url: &str) -> Result<RelyingParty, MfaError> {
        let err = |reason: String| MfaError::RelyingParty {
            url: public_url.to_owned(),
            reason,
        };
        let origin = Url::parse(public_url).map_err(|e| err(e.to_string()))?;
        let host = origin
            .host_str()
            .ok_or_else(|| err("the URL has no host".into()))?
            .to_owned();
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|b| b.rp_name("Kakehashi").build())
            .map_err(|e| err(e.to_string()))?;
        Ok(RelyingParty { webauthn })
    }

    /// webauthn-rs's relying party, for the passkey login (`portal::passkey`).
    pub(crate) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// What is being registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthenticatorKind {
    /// A USB/NFC FIDO2 security key (roaming).
    SecurityKey,
    /// The PC's or tablet's own authenticator (fingerprint reader, Windows Hello).
    Platform,
}

impl AuthenticatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticatorKind::SecurityKey => "security-key",
            AuthenticatorKind::Platform => "platform",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "security-key" => Some(AuthenticatorKind::SecurityKey),
            "platform" => Some(AuthenticatorKind::Platform),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RegistrationState {
    kind: AuthenticatorKind,
    discoverable_requested: bool,
    state: SecurityKeyRegistration,
}

#[derive(Serialize, Deserialize)]
enum AuthenticationState {
    UserVerificationPreferred(SecurityKeyAuthentication),
    UserVerificationRequired(PasskeyAuthentication),
}

const REGISTER: &str = "register";
const AUTHENTICATE: &str = "authenticate";

/// The WebAuthn user handle of a user: 16 bytes derived from the tenant and the user, stable,
/// and telling nothing about the user (WebAuthn §14.6.1: no personal data in the handle).
fn user_handle(session: &PortalSession) -> Uuid {
    user_handle_of(&session.tenant, &session.user.sourced_id)
}

/// [`user_handle`] of a user by tenant and sourcedId (a discoverable login compares the
/// handle the authenticator returns with the credential holder's).
pub(crate) fn user_handle_of(tenant: &kakehashi_store::TenantId, sourced_id: &str) -> Uuid {
    let mut h = Sha256::new();
    h.update(b"kakehashi-webauthn-user\0");
    h.update(tenant.as_str().as_bytes());
    h.update([0]);
    h.update(sourced_id.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    Uuid::from_bytes(b)
}

fn rejected(e: impl std::fmt::Display) -> MfaError {
    MfaError::Rejected(e.to_string())
}

fn corrupt(detail: impl std::fmt::Display) -> MfaError {
    MfaError::Store(StoreError::Corrupt {
        table: "webauthn",
        detail: detail.to_string(),
    })
}

/// Whether the session may add a factor now. The first factor: from a school network when the
/// tenant lists any (so a stolen password alone cannot enrol an attacker's key from home);
/// later ones: only with a second factor fresh under the tenant's policy.
pub fn may_enrol(
    session: &PortalSession,
    has_factors: bool,
    policy: &SecurityPolicy,
    now: time::OffsetDateTime,
) -> Result<(), MfaError> {
    if has_factors {
        if factors::second_factor_fresh(
            session.second_factor_at.as_deref(),
            &session.ip,
            policy,
            now,
        ) {
            return Ok(());
        }
        return Err(MfaError::EnrolmentNotAllowed(
            "confirm with a registered factor before adding another",
        ));
    }
    if policy.school_networks.is_empty()
        || super::network::inside(&policy.school_networks, &session.ip)
    {
        Ok(())
    } else {
        Err(MfaError::EnrolmentNotAllowed(
            "the first security key can be registered only from a school network",
        ))
    }
}

/// Starts registering a credential of `kind` for the session's user; returns the
/// `PublicKeyCredentialCreationOptions` (JSON, `{"publicKey": …}`).
pub async fn start_registration(
    store: &Store,
    clock: &dyn Clock,
    rp: &RelyingParty,
    session: &PortalSession,
    kind: AuthenticatorKind,
) -> Result<serde_json::Value, MfaError> {
    let policy = policy::load(store, &session.tenant).await?;
    let existing = factors::of_user(store, &session.tenant, &session.user.sourced_id).await?;
    may_enrol(session, existing.any(), &policy, clock.now())?;
    let exclude = stored::credentials_of(store, &session.tenant, &session.user.sourced_id)
        .await?
        .iter()
        .filter_map(|c| URL_SAFE_NO_PAD.decode(&c.credential_id).ok())
        .map(Into::into)
        .collect::<Vec<_>>();
    let display = format!("{} {}", session.user.family_name, session.user.given_name);
    let attachment = match kind {
        AuthenticatorKind::SecurityKey => AuthenticatorAttachment::CrossPlatform,
        AuthenticatorKind::Platform => AuthenticatorAttachment::Platform,
    };
    let (ccr, state) = rp
        .webauthn
        .start_securitykey_registration(
            user_handle(session),
            &session.user.username,
            display.trim(),
            Some(exclude),
            None,
            Some(attachment),
        )
        .map_err(rejected)?;
    // Discoverable credentials ("passkeys") for staff, on the device's own authenticator: a
    // security key without a PIN cannot hold one (CTAP 2.1 §6.1.2 needs user verification to
    // create a discoverable credential, and browsers then ask the user to set a PIN).
    let discoverable = policy.staff_passkeys
        && RoleClass::of(&session.user.role) == RoleClass::Staff
        && kind == AuthenticatorKind::Platform;
    let mut options = serde_json::to_value(&ccr).map_err(corrupt)?;
    if let Some(pk) = options.get_mut("publicKey").and_then(|v| v.as_object_mut()) {
        if policy.wants_attestation() {
            pk.insert("attestation".into(), "direct".into());
        }
        let uv = match policy.user_verification_school_affairs {
            UserVerification::Required => "required",
            UserVerification::Preferred => "preferred",
        };
        // credProtect "userVerificationRequired" is only consistent with user verification
        // required for the whole ceremony (CTAP 2.1 §12.1; Chromium refuses the mix); under a
        // "preferred" policy the key is registered without that extension.
        if uv != "required" {
            if let Some(ext) = pk.get_mut("extensions").and_then(|v| v.as_object_mut()) {
                ext.remove("credentialProtectionPolicy");
                ext.remove("enforceCredentialProtectionPolicy");
            }
        }
        pk.insert(
            "authenticatorSelection".into(),
            serde_json::json!({
                "authenticatorAttachment": match kind {
                    AuthenticatorKind::SecurityKey => "cross-platform",
                    AuthenticatorKind::Platform => "platform",
                },
                "residentKey": if discoverable { "preferred" } else { "discouraged" },
                "requireResidentKey": false,
                "userVerification": uv,
            }),
        );
    }
    let kept = RegistrationState {
        kind,
        discoverable_requested: discoverable,
        state,
    };
    let json = serde_json::to_string(&kept).map_err(corrupt)?;
    let expires = kakehashi_store::now_rfc3339_of(clock.now() + CEREMONY_LIFETIME);
    let mut tx = store.begin().await?;
    stored::put_ceremony(
        &mut tx,
        &session.tenant,
        &session.id_hash,
        REGISTER,
        &json,
        &expires,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(options)
}

/// Finishes a registration with the browser's `PublicKeyCredential` (JSON as the page's
/// script sends it); checks the tenant's attestation policy and AAGUID allow-list; stores the
/// credential under `name`. Audited (refusals too).
pub async fn finish_registration(
    store: &Store,
    clock: &dyn Clock,
    rp: &RelyingParty,
    session: &PortalSession,
    name: &str,
    response: &serde_json::Value,
) -> Result<factors::CredentialSummary, MfaError> {
    let at = clock.now_text();
    let policy = policy::load(store, &session.tenant).await?;
    let mut tx = store.begin().await?;
    let Some(kept) =
        stored::take_ceremony(&mut tx, &session.tenant, &session.id_hash, REGISTER, &at).await?
    else {
        tx.commit().await.map_err(StoreError::from)?;
        return Err(MfaError::NoCeremony);
    };
    tx.commit().await.map_err(StoreError::from)?;
    let kept: RegistrationState = serde_json::from_str(&kept).map_err(corrupt)?;
    let reg: RegisterPublicKeyCredential =
        serde_json::from_value(response.clone()).map_err(rejected)?;
    let outcome = verify_registration(rp, &policy, &kept, &reg, response);
    let (key, aaguid, format) = match outcome {
        Ok(v) => v,
        Err(e) => {
            audit_refusal(store, session, &at, "mfa.webauthn.register.refused", &e).await?;
            return Err(e);
        }
    };
    let cred: Credential = key.into();
    let credential_id = URL_SAFE_NO_PAD.encode(cred.cred_id.as_ref() as &[u8]);
    let discoverable = kept.discoverable_requested
        && response
            .pointer("/clientExtensionResults/credProps/rk")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
    let row = stored::CredentialRow {
        credential_id: credential_id.clone(),
        user_sourced_id: session.user.sourced_id.clone(),
        name: factors::clean_name(name),
        kind: kept.kind.as_str().to_owned(),
        aaguid: aaguid.to_string(),
        attestation: format,
        user_verified: cred.user_verified,
        discoverable,
        credential: serde_json::to_string(&cred).map_err(corrupt)?,
        created_at: at.clone(),
        last_used_at: None,
    };
    let mut tx = store.begin().await?;
    // WebAuthn §7.1 step 22: a credential id registered already (to anyone) is refused.
    if stored::credential_exists(&mut tx, &session.tenant, &credential_id).await? {
        tx.commit().await.map_err(StoreError::from)?;
        return Err(MfaError::Rejected(
            "this credential is already registered".into(),
        ));
    }
    stored::insert_credential(&mut tx, &session.tenant, &row).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        &at,
        &audit::Event {
            actor: factors::actor_of(session),
            action: "mfa.webauthn.register".into(),
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({
                "credential": credential_id, "name": row.name, "kind": row.kind,
                "aaguid": row.aaguid, "attestation": row.attestation,
                "userVerified": row.user_verified, "discoverable": row.discoverable,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(factors::CredentialSummary::from(&row))
}

/// webauthn-rs's checks, then the tenant's: (credential, AAGUID, attestation format).
fn verify_registration(
    rp: &RelyingParty,
    policy: &SecurityPolicy,
    kept: &RegistrationState,
    reg: &RegisterPublicKeyCredential,
    raw: &serde_json::Value,
) -> Result<(SecurityKey, Uuid, String), MfaError> {
    let key = rp
        .webauthn
        .finish_securitykey_registration(reg, &kept.state)
        .map_err(rejected)?;
    let object = raw
        .pointer("/response/attestationObject")
        .and_then(|v| v.as_str())
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
        .ok_or_else(|| MfaError::Rejected("no attestationObject".into()))?;
    let aaguid = super::attestation_object::aaguid(&object).map_err(rejected)?;
    let cred: Credential = key.clone().into();
    let attested = !matches!(
        cred.attestation.data,
        ParsedAttestationData::None | ParsedAttestationData::Uncertain
    );
    let format = format!("{:?}", cred.attestation_format).to_lowercase();
    if policy.wants_attestation() && !attested {
        return Err(MfaError::AttestationRequired);
    }
    if !policy.aaguid_allow_list.is_empty() && !policy.aaguid_allow_list.contains(&aaguid) {
        return Err(MfaError::AaguidNotAllowed {
            aaguid: aaguid.to_string(),
        });
    }
    Ok((key, aaguid, format))
}

async fn audit_refusal(
    store: &Store,
    session: &PortalSession,
    at: &str,
    action: &str,
    e: &MfaError,
) -> Result<(), MfaError> {
    let mut tx = store.begin().await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        at,
        &audit::Event {
            actor: factors::actor_of(session),
            action: action.into(),
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({ "reason": e.to_string() }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Starts an authentication with the session user's credentials, asking for user
/// verification as the tenant requires for apps of `class`; returns the
/// `PublicKeyCredentialRequestOptions` (JSON, `{"publicKey": …}`).
pub async fn start_authentication(
    store: &Store,
    clock: &dyn Clock,
    rp: &RelyingParty,
    session: &PortalSession,
    class: SecurityClass,
) -> Result<serde_json::Value, MfaError> {
    let policy = policy::load(store, &session.tenant).await?;
    let rows = stored::credentials_of(store, &session.tenant, &session.user.sourced_id).await?;
    let creds = rows
        .iter()
        .map(|r| serde_json::from_str::<Credential>(&r.credential).map_err(corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    if creds.is_empty() {
        return Err(MfaError::NoCredentials);
    }
    let (rcr, state) = match policy.user_verification(class) {
        UserVerification::Preferred => {
            let keys: Vec<SecurityKey> = creds.into_iter().map(Into::into).collect();
            let (rcr, s) = rp
                .webauthn
                .start_securitykey_authentication(&keys)
                .map_err(rejected)?;
            (rcr, AuthenticationState::UserVerificationPreferred(s))
        }
        UserVerification::Required => {
            let keys: Vec<Passkey> = creds.into_iter().map(Into::into).collect();
            let (rcr, s) = rp
                .webauthn
                .start_passkey_authentication(&keys)
                .map_err(rejected)?;
            (rcr, AuthenticationState::UserVerificationRequired(s))
        }
    };
    let json = serde_json::to_string(&state).map_err(corrupt)?;
    let expires = kakehashi_store::now_rfc3339_of(clock.now() + CEREMONY_LIFETIME);
    let mut tx = store.begin().await?;
    stored::put_ceremony(
        &mut tx,
        &session.tenant,
        &session.id_hash,
        AUTHENTICATE,
        &json,
        &expires,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    serde_json::to_value(&rcr).map_err(corrupt)
}

/// Finishes an authentication: verifies the assertion against the pending ceremony and the
/// user's stored credential, updates its counter and last use, and records the second factor
/// on the session. Returns the session's new `amr`. Audited (refusals too).
pub async fn finish_authentication(
    store: &Store,
    clock: &dyn Clock,
    rp: &RelyingParty,
    session: &PortalSession,
    response: &serde_json::Value,
) -> Result<Vec<String>, MfaError> {
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let kept = stored::take_ceremony(
        &mut tx,
        &session.tenant,
        &session.id_hash,
        AUTHENTICATE,
        &at,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let Some(kept) = kept else {
        return Err(MfaError::NoCeremony);
    };
    let kept: AuthenticationState = serde_json::from_str(&kept).map_err(corrupt)?;
    let assertion: PublicKeyCredential =
        serde_json::from_value(response.clone()).map_err(rejected)?;
    let verified = match &kept {
        AuthenticationState::UserVerificationPreferred(s) => {
            rp.webauthn.finish_securitykey_authentication(&assertion, s)
        }
        AuthenticationState::UserVerificationRequired(s) => {
            rp.webauthn.finish_passkey_authentication(&assertion, s)
        }
    };
    let result = match verified {
        Ok(r) => r,
        Err(e) => {
            let e = rejected(e);
            audit_refusal(store, session, &at, "mfa.webauthn.failed", &e).await?;
            return Err(e);
        }
    };
    let credential_id = URL_SAFE_NO_PAD.encode(result.cred_id().as_ref() as &[u8]);
    let rows = stored::credentials_of(store, &session.tenant, &session.user.sourced_id).await?;
    let row = rows
        .iter()
        .find(|r| r.credential_id == credential_id)
        .ok_or_else(|| MfaError::Rejected("the credential is not this user's".into()))?;
    let mut cred: Credential = serde_json::from_str(&row.credential).map_err(corrupt)?;
    let mut key: SecurityKey = cred.clone().into();
    // WebAuthn §7.2 step 21: the signature counter (webauthn-rs refuses a counter that went
    // backwards when the authenticator keeps one).
    if key.update_credential(&result).is_some() {
        cred = key.into();
    }
    let mut shown = vec![if cred.backup_eligible {
        Method::Swk
    } else {
        Method::Hwk
    }];
    shown.push(Method::User);
    if result.user_verified() {
        shown.push(if row.kind == "platform" {
            Method::Fpt
        } else {
            Method::Pin
        });
    }
    let mut tx = store.begin().await?;
    stored::credential_used(
        &mut tx,
        &session.tenant,
        &credential_id,
        &serde_json::to_string(&cred).map_err(corrupt)?,
        &at,
    )
    .await?;
    let amr = factors::record(&mut tx, store, session, &shown, &at).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(&session.tenant),
        &at,
        &audit::Event {
            actor: factors::actor_of(session),
            action: "mfa.webauthn.verified".into(),
            target: format!("user:{}", session.user.sourced_id),
            details: serde_json::json!({
                "credential": credential_id, "name": row.name, "amr": amr,
                "userVerified": result.user_verified(),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(amr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_id_is_the_public_urls_host() {
        assert!(RelyingParty::for_public_url("https://portal.example.jp").is_ok());
        assert!(RelyingParty::for_public_url("http://localhost:8080").is_ok());
        assert!(RelyingParty::for_public_url("not a url").is_err());
    }

    #[test]
    fn the_user_handle_is_stable_and_says_nothing_about_the_user() {
        let user = kakehashi_store::roster::UserRow {
            sourced_id: "t-0001".into(),
            username: "minami.t01".into(),
            user_master_identifier: None,
            given_name: "花子".into(),
            family_name: "南".into(),
            kana_given_name: None,
            kana_family_name: None,
            role: "teacher".into(),
            email: None,
            enabled: true,
            active: true,
        };
        let s = PortalSession {
            tenant: kakehashi_store::TenantId::parse("demo").unwrap(),
            id_hash: String::new(),
            user,
            csrf_secret: String::new(),
            auth_time: String::new(),
            amr: vec![],
            acr: String::new(),
            second_factor_at: None,
            ip: String::new(),
            user_agent: String::new(),
            last_seen_at: String::new(),
        };
        let h = user_handle(&s);
        assert_eq!(h, user_handle(&s));
        assert!(!h.to_string().contains("t-0001"));
    }
}

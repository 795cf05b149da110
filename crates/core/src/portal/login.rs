//! One password login attempt, and a teacher lifting a pupil's lockout.
//!
//! The attempt: judge the throttle counters ([`super::throttle`]); verify the password with
//! argon2id on a blocking thread (it costs ~25 ms of CPU, which must not stall the async
//! workers); then, in one transaction with its audit row, either start a fresh session
//! (ending the one the browser came with: no session fixation, OWASP Session Management
//! "Renew the Session ID After Any Privilege Level Change") or count the failure.
//!
//! Unknown usernames, users without a password, disabled users and wrong passwords all give
//! the same [`LoginOutcome::Failed`] after the same argon2 work (a verify against a dummy
//! hash), so neither the answer nor its timing tells which usernames exist (OWASP
//! Authentication Cheat Sheet, "Authentication and Error Messages").

use std::sync::OnceLock;

use kakehashi_store::roster::{find_user_by_username, UserRow};
use kakehashi_store::sessions::throttle::{self as counters, Scope};
use kakehashi_store::sessions::{self, SessionRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::policy::{PortalPolicy, RoleClass};
use super::throttle::{self, Counters, Observed, Verdict};
use super::token::{random_hex, SessionToken};
use super::PortalError;
use crate::mfa::policy::RiskMode;
use crate::mfa::risk::{self, Assessment, RiskDecision, Signals};
use crate::{passwords, Actor, Clock};
use sha2::Digest;

/// Longest username and password looked at; longer input fails like a wrong password
/// (argon2 would hash a megabyte-long password happily, at our expense).
const MAX_USERNAME: usize = 256;
const MAX_PASSWORD: usize = 1024;

/// A login attempt as the HTTP layer hands it over.
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    pub tenant: &'a TenantId,
    pub username: &'a str,
    pub password: &'a str,
    /// The client address (the throttle's unit).
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The session cookie the browser came with, ended on success.
    pub replaces: Option<&'a SessionToken>,
    /// The device id of the browser's signed device cookie, when it verified (risk engine).
    pub device: Option<&'a str>,
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// A new session; the token goes into the cookie.
    Success {
        token: SessionToken,
        user: Box<UserRow>,
        /// The risk engine asks for the second factor before anything else (the session
        /// reaches no app until then: `access::decide`).
        step_up: bool,
    },
    /// The risk engine refused the login (score at or above the tenant's deny threshold).
    RiskDenied,
    /// Unknown user or wrong password (deliberately the same).
    Failed,
    /// Too many failures lately; try again later.
    Delayed { retry_after_secs: i64 },
    /// A pupil's lockout: a teacher must lift it.
    Locked,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

pub(crate) fn observed(c: Option<counters::Counter>) -> Option<Observed> {
    let c = c?;
    Some(Observed {
        failures: c.failures,
        window_start: parse_time(&c.window_start)?,
        last_failure: parse_time(&c.last_failure_at)?,
        locked: c.locked_at.is_some(),
    })
}

/// A hash to verify against when there is no real one, so that every failure costs the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        passwords::hash("kakehashi-timing-equaliser").unwrap_or_else(|_| {
            // Still a valid argon2id PHC string of the same cost; only the salt is fixed.
            "$argon2id$v=19$m=19456,t=2,p=1$a2FrZWhhc2hpLWR1bW15$\
             6mQ2Dpky0bX1Y0P2xxaoHk0m5Ng8nDgT7fdYqZcO4uo"
                .to_owned()
        })
    })
}

async fn verify_blocking(password: &str, phc: Option<String>) -> Result<bool, PortalError> {
    let password = password.to_owned();
    let real = phc.is_some();
    let phc = phc.unwrap_or_else(|| dummy_hash().to_owned());
    let ok = tokio::task::spawn_blocking(move || passwords::verify(&password, &phc))
        .await
        .map_err(|e| PortalError::Mfa(e.to_string()))?;
    Ok(ok && real)
}

/// Tries one login.
pub async fn attempt(
    store: &Store,
    clock: &dyn Clock,
    a: &LoginAttempt<'_>,
) -> Result<LoginOutcome, PortalError> {
    let username = a.username.trim();
    let username: String = username.chars().take(MAX_USERNAME).collect();
    let pair_subject = counters::pair_subject(&username, a.ip);
    // Three independent reads, sent to three pooled connections at once.
    let (user, policy, [pair, account, ip]) = tokio::try_join!(
        async {
            if username.is_empty() {
                Ok(None)
            } else {
                kakehashi_store::roster::find_user_with_password(store, a.tenant, &username).await
            }
        },
        PortalPolicy::load_with_security(store, a.tenant),
        counters::get_many(
            store,
            a.tenant,
            [
                (Scope::Pair, pair_subject.as_str()),
                (Scope::Account, username.as_str()),
                (Scope::Ip, a.ip),
            ],
        ),
    )?;
    let (user, phc) = match user.filter(|(u, _)| u.enabled && u.active) {
        Some((u, phc)) => (Some(u), phc),
        None => (None, None),
    };
    let class = user.as_ref().map(|u| RoleClass::of(&u.role));
    let seen = Counters {
        pair: observed(pair),
        account: observed(account),
        ip: observed(ip),
    };
    let now = clock.now();
    match throttle::judge(class, policy.pupil_lockout_threshold, now, &seen) {
        Verdict::Allow => {}
        Verdict::Delay { retry_after_secs } => {
            return Ok(LoginOutcome::Delayed { retry_after_secs })
        }
        Verdict::Locked => return Ok(LoginOutcome::Locked),
    }
    let too_long = a.password.len() > MAX_PASSWORD;
    let password = if too_long { "" } else { a.password };
    let ok = verify_blocking(password, phc).await? && !too_long;
    let at = clock.now_text();
    match user {
        Some(user) if ok => {
            let class = RoleClass::of(&user.role);
            let risk = judge_risk(store, a, &user, &seen, now).await?;
            if risk.as_ref().map(|r| r.assessment.decision) == Some(RiskDecision::Deny) {
                record_risk_denial(store, a, &user, risk.as_ref(), &at).await?;
                return Ok(LoginOutcome::RiskDenied);
            }
            let token = start_session(
                store,
                clock,
                a,
                &user,
                class,
                &policy,
                &username,
                Method::Password,
                risk.as_ref(),
                seen.pair.is_some() || seen.account.is_some(),
            )
            .await?;
            Ok(LoginOutcome::Success {
                token,
                user: Box::new(user),
                step_up: risk.is_some_and(|r| r.step_up),
            })
        }
        user => {
            let locked =
                record_failure(store, a, user.as_ref(), class, &policy, &username, &at).await?;
            Ok(if locked {
                LoginOutcome::Locked
            } else {
                LoginOutcome::Failed
            })
        }
    }
}

fn actor_of(tenant: &TenantId, user: &UserRow) -> String {
    format!("user:{tenant}/{}", user.sourced_id)
}

/// How the user proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// A password (RFC 8176 `pwd`).
    Password,
    /// A teacher-printed QR sign-in card (`console::cards`): a bearer token the pupil holds.
    /// `amr` `qr` is Kakehashi's own value (RFC 8176 registers none for it); it is never a
    /// second factor (`portal::access` accepts only `hwk`, `swk`, `otp`, `mfa`).
    Card,
    /// A discoverable WebAuthn credential that verified the user (`portal::passkey`): the
    /// methods it showed (`hwk`/`swk`, `user`, `fpt`/`pin`). Something held and something
    /// known or been, so a multi-factor authenticator on its own (NIST SP 800-63B §4.2.1,
    /// §5.1.9): the session gets `mfa`, `acr` mfa and its second factor at the login instant.
    Passkey {
        shown: Vec<crate::mfa::factors::Method>,
        credential: String,
    },
}

impl Method {
    /// The session's RFC 8176 methods.
    fn amr(&self) -> Vec<String> {
        match self {
            Method::Password => vec!["pwd".to_owned()],
            Method::Card => vec!["qr".to_owned()],
            Method::Passkey { shown, .. } => crate::mfa::factors::amr_after(&[], shown),
        }
    }

    /// The session's `acr` (before the risk engine has its say).
    fn acr(&self) -> String {
        match self {
            Method::Password => kakehashi_oidc::discovery::ACR_PASSWORD.to_owned(),
            Method::Card => "urn:kakehashi:acr:qr".to_owned(),
            Method::Passkey { .. } => kakehashi_oidc::discovery::ACR_MFA.to_owned(),
        }
    }

    /// The login itself proved a second factor (step-up treats it as fresh from now).
    fn is_multi_factor(&self) -> bool {
        matches!(self, Method::Passkey { .. })
    }
}

/// What starting a session writes (see [`start_session`]).
struct NewSession {
    tenant: TenantId,
    /// The session this one replaces (its id hash), ended in the same transaction as a logout
    /// ends one: its tokens revoked, Logout Tokens queued for its back-channel apps.
    replaces: Option<String>,
    /// `at` in unix seconds.
    now: i64,
    pair: String,
    username: String,
    at: String,
    actor: String,
    user_name: String,
    ip: String,
    /// How the user proved who they are (the audit row's `amr`).
    amr: Vec<String>,
    /// The passkey that signed the user in (the audit row's `credential`), if one did.
    credential: Option<String>,
    /// What the risk engine said (the audit row's `risk`), when it ran.
    risk: Option<serde_json::Value>,
    /// The device cookie's hash to remember for this user, when the risk engine let it in.
    known_device: Option<String>,
    /// Whether the pair and account failure counters are cleared (false when the login read
    /// them and there were none: nothing to clear).
    clear_counters: bool,
    row: SessionRow,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn start_session(
    store: &Store,
    clock: &dyn Clock,
    a: &LoginAttempt<'_>,
    user: &UserRow,
    class: RoleClass,
    policy: &PortalPolicy,
    username: &str,
    method: Method,
    risk: Option<&RiskJudgement>,
    clear_counters: bool,
) -> Result<SessionToken, PortalError> {
    let token = SessionToken::generate()?;
    let now = clock.now();
    let at = clock.now_text();
    let (idle, absolute) = policy.timeouts(class);
    let amr_list = method.amr();
    let amr = serde_json::json!(amr_list).to_string();
    let row = SessionRow {
        id_hash: token.id_hash(),
        user_sourced_id: user.sourced_id.clone(),
        role: user.role.clone(),
        created_at: at.clone(),
        last_seen_at: at.clone(),
        auth_time: at.clone(),
        idle_timeout_secs: idle,
        expires_at: kakehashi_store::now_rfc3339_of(now + Duration::seconds(absolute)),
        amr: amr.clone(),
        // One factor only: the lowest level; a second factor raises it (`mfa::factors`). A
        // login the risk engine stepped up waits for the factor before reaching any app.
        acr: if risk.is_some_and(|r| r.step_up) {
            ACR_STEP_UP_PENDING.to_owned()
        } else {
            method.acr()
        },
        csrf_secret: random_hex()?,
        user_agent: a.user_agent.chars().take(512).collect(),
        ip: a.ip.to_owned(),
        second_factor_at: method.is_multi_factor().then(|| at.clone()),
    };
    // Only writes, no decision on what they read: the session joins other requests' writes
    // in one transaction (group commit) and the browser is answered once it is committed.
    let write = NewSession {
        tenant: a.tenant.clone(),
        replaces: a.replaces.map(SessionToken::id_hash),
        now: now.unix_timestamp(),
        pair: counters::pair_subject(username, a.ip),
        username: username.to_owned(),
        at,
        actor: actor_of(a.tenant, user),
        user_name: user.username.clone(),
        ip: a.ip.to_owned(),
        amr: amr_list,
        credential: match &method {
            Method::Passkey { credential, .. } => Some(credential.clone()),
            _ => None,
        },
        risk: risk.map(|r| {
            serde_json::json!({
                "score": r.assessment.score, "reasons": r.assessment.reasons,
                "decision": r.assessment.decision, "stepUp": r.step_up,
                "noFactorToAsk": r.no_factor,
            })
        }),
        // A device the risk engine let in, or one that proved a second factor, is known
        // from now on.
        known_device: match (a.device, risk) {
            (Some(device), Some(r)) if r.assessment.decision == RiskDecision::Allow => {
                Some(hex::encode(sha2::Sha256::digest(device.as_bytes())))
            }
            (Some(device), _) if method.is_multi_factor() => {
                Some(hex::encode(sha2::Sha256::digest(device.as_bytes())))
            }
            _ => None,
        },
        clear_counters,
        row,
    };
    store
        .group_write(write, |w, batch| {
            Box::pin(async move {
                let (mut replaced, mut ended_apps) = (false, serde_json::Value::Null);
                if let Some(old) = &w.replaces {
                    // The same user signing in again (prompt=login, max_age, a step-up) keeps
                    // the apps of the session it replaces, as Keycloak keeps its session on
                    // re-authentication: their tokens and SAML SP sessions move to the new
                    // session (a later logout of it ends them) and no app is told.
                    // Another user: the browser's previous session ends as at logout
                    // (Back-Channel Logout 1.0 section 2.5: its apps are told, with that
                    // session's `sid`). Its SAML SP sessions are forgotten: this answer goes
                    // to the login's `return_to`, not through the SPs.
                    let user =
                        sessions::delete_returning_user(batch.conn(), &w.tenant, old).await?;
                    if user.as_deref() == Some(w.row.user_sourced_id.as_str()) {
                        replaced = true;
                        let moved = kakehashi_store::sessions::move_apps(
                            batch.conn(),
                            &w.tenant,
                            old,
                            &w.row.id_hash,
                        )
                        .await?;
                        ended_apps = serde_json::json!({ "sameUser": true, "kept": moved });
                    } else if let Some(user) = user {
                        replaced = true;
                        let (clients, told) = crate::oauth::logout::revoke_and_queue(
                            batch.conn(),
                            &w.tenant,
                            old,
                            &user,
                            w.now,
                        )
                        .await?;
                        let saml = kakehashi_store::saml::delete_sp_sessions_of(
                            batch.conn(),
                            &w.tenant,
                            old,
                        )
                        .await?;
                        ended_apps = serde_json::json!({
                            "user": user, "clients": clients, "backchannel": told,
                            "samlSessionsForgotten": saml,
                        });
                    }
                }
                // Timed-out sessions are ended by `expiry::sweep`, which tells their apps.
                sessions::insert_later(batch, &w.tenant, &w.row)?;
                if w.clear_counters {
                    counters::clear(
                        batch.conn(),
                        &w.tenant,
                        [(Scope::Pair, &w.pair), (Scope::Account, &w.username)],
                    )
                    .await?;
                }
                let event = audit::Event {
                    actor: w.actor.clone(),
                    action: "portal.login".into(),
                    target: format!("user:{}", w.row.user_sourced_id),
                    details: serde_json::json!({
                        "username": w.user_name, "ip": w.ip, "userAgent": w.row.user_agent,
                        "amr": w.amr, "acr": w.row.acr, "credential": w.credential,
                        "replacedSession": replaced, "replacedSessionApps": ended_apps,
                        "risk": w.risk,
                    }),
                };
                batch.audit(Some(&w.tenant), &w.at, &event).await?;
                if let Some(device) = &w.known_device {
                    kakehashi_store::mfa::remember_device(
                        batch.conn(),
                        &w.tenant,
                        &w.row.user_sourced_id,
                        device,
                        &w.row.user_agent,
                        &w.at,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(token)
}

/// The `acr` of a session that the risk engine sent to step-up and that has not proved the
/// factor yet: no app accepts it (`access::decide`), and it is never reported to one.
pub const ACR_STEP_UP_PENDING: &str = "urn:kakehashi:acr:pwd-step-up-pending";

/// What the risk engine said about a login.
#[derive(Debug)]
pub(crate) struct RiskJudgement {
    assessment: Assessment,
    /// Step-up is asked (the decision said so and the user has a factor to prove).
    step_up: bool,
    /// The decision asked for step-up but the user has no factor to prove.
    no_factor: bool,
}

impl RiskJudgement {
    /// The engine refuses the login.
    pub(crate) fn denies(&self) -> bool {
        self.assessment.decision == RiskDecision::Deny
    }

    /// The login itself proved the factor a step-up would ask for (a passkey): nothing more
    /// is asked; the assessment stays in the audit row.
    pub(crate) fn satisfied_by_login(self) -> RiskJudgement {
        RiskJudgement {
            step_up: false,
            no_factor: false,
            ..self
        }
    }
}

/// Runs the risk engine for a login whose first proof was right (`None` when the tenant has
/// it off).
pub(crate) async fn judge_risk(
    store: &Store,
    a: &LoginAttempt<'_>,
    user: &UserRow,
    seen: &Counters,
    now: OffsetDateTime,
) -> Result<Option<RiskJudgement>, PortalError> {
    let policy = crate::mfa::policy::load(store, a.tenant)
        .await
        .map_err(|e| PortalError::Mfa(e.to_string()))?;
    if policy.risk.mode == RiskMode::Off {
        return Ok(None);
    }
    let live = |o: &Option<Observed>, window: Duration| {
        o.as_ref()
            .filter(|c| now < c.window_start + window)
            .map_or(0, |c| c.failures)
    };
    let known = crate::mfa::risk::device_known(store, a.tenant, &user.sourced_id, a.device)
        .await
        .map_err(|e| PortalError::Mfa(e.to_string()))?;
    let signals = Signals {
        new_device: !known,
        outside_school_network: risk::outside_school_network(&policy, a.ip),
        outside_school_hours: risk::outside_school_hours(&policy.risk, now),
        account_failures: live(&seen.account, throttle::WINDOW),
        address_failures: live(&seen.ip, throttle::IP_WINDOW),
        user_agent_changed: false,
    };
    let assessment = risk::assess(&policy, &signals);
    let has_factor = crate::mfa::factors::of_user(store, a.tenant, &user.sourced_id)
        .await
        .map_err(|e| PortalError::Mfa(e.to_string()))?
        .any();
    let asks = assessment.decision == RiskDecision::StepUp;
    Ok(Some(RiskJudgement {
        step_up: asks && has_factor,
        no_factor: asks && !has_factor,
        assessment,
    }))
}

pub(crate) async fn record_risk_denial(
    store: &Store,
    a: &LoginAttempt<'_>,
    user: &UserRow,
    risk: Option<&RiskJudgement>,
    at: &str,
) -> Result<(), PortalError> {
    let mut tx = store.begin().await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(a.tenant),
        at,
        &audit::Event {
            actor: format!("anonymous@{}", a.ip),
            action: "portal.login.risk_denied".into(),
            target: format!("user:{}", user.sourced_id),
            details: serde_json::json!({
                "username": user.username, "ip": a.ip,
                "score": risk.map(|r| r.assessment.score),
                "reasons": risk.map(|r| &r.assessment.reasons),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Counts a failure on all three counters and locks a pupil's pair at the threshold.
/// Returns `true` when this failure locked it.
async fn record_failure(
    store: &Store,
    a: &LoginAttempt<'_>,
    user: Option<&UserRow>,
    class: Option<RoleClass>,
    policy: &PortalPolicy,
    username: &str,
    at: &str,
) -> Result<bool, PortalError> {
    let now = parse_time(at).unwrap_or_else(OffsetDateTime::now_utc);
    let cutoff = kakehashi_store::now_rfc3339_of(now - throttle::WINDOW);
    let ip_cutoff = kakehashi_store::now_rfc3339_of(now - throttle::IP_WINDOW);
    let pair = counters::pair_subject(username, a.ip);
    let target = user.map_or_else(
        || format!("username:{username}"),
        |u| format!("user:{}", u.sourced_id),
    );
    let mut tx = store.begin().await?;
    let pair_failures =
        counters::record_failure(&mut tx, a.tenant, Scope::Pair, &pair, at, &cutoff).await?;
    let account_failures =
        counters::record_failure(&mut tx, a.tenant, Scope::Account, username, at, &cutoff).await?;
    counters::record_failure(&mut tx, a.tenant, Scope::Ip, a.ip, at, &ip_cutoff).await?;
    let event = |action: &str, details: serde_json::Value| audit::Event {
        actor: format!("anonymous@{}", a.ip),
        action: action.to_owned(),
        target: target.clone(),
        details,
    };
    audit::append(
        &mut tx,
        store.backend(),
        Some(a.tenant),
        at,
        &event(
            "portal.login.failed",
            serde_json::json!({
                "username": username, "ip": a.ip, "knownUser": user.is_some(),
                "pairFailures": pair_failures, "accountFailures": account_failures,
            }),
        ),
    )
    .await?;
    let locks = throttle::locks_now(class, policy.pupil_lockout_threshold, pair_failures);
    if locks {
        counters::lock(&mut tx, a.tenant, Scope::Pair, &pair, at).await?;
        audit::append(
            &mut tx,
            store.backend(),
            Some(a.tenant),
            at,
            &event(
                "portal.lockout",
                serde_json::json!({
                    "username": username, "ip": a.ip, "failures": pair_failures,
                    "threshold": policy.pupil_lockout_threshold,
                }),
            ),
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(locks)
}

/// What [`unlock`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unlocked {
    /// How many locked (username, address) pairs were lifted.
    pub locks_lifted: i64,
}

/// Lifts a user's lockout and forgets their failure counters (a teacher's action), audited.
pub async fn unlock(
    store: &Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    username: &str,
    actor: &Actor,
) -> Result<Unlocked, PortalError> {
    let user = find_user_by_username(store, tenant, username)
        .await?
        .ok_or_else(|| PortalError::UnknownUser {
            tenant: tenant.to_string(),
            username: username.to_owned(),
        })?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    let locks_lifted = counters::clear_user(&mut tx, tenant, &user.username).await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "portal.unlock".into(),
            target: format!("user:{}", user.sourced_id),
            details: serde_json::json!({ "username": user.username, "locksLifted": locks_lifted }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Unlocked { locks_lifted })
}

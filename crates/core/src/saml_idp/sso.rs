//! Web Browser SSO (SAML Profiles 4.1): SP-initiated over HTTP-Redirect and HTTP-POST, and
//! IdP-initiated from the launcher.
//!
//! ```text
//! receive(incoming)            parse; find the SP by Issuer; accept() (signature, Destination,
//!                              time, ACS); replay cache; NameIDPolicy; RequestedAuthnContext;
//!                              store the request as pending → proceed(pending id, session)
//! proceed(pending, session)    no session → Login (or NoPassive); ForceAuthn → Login again;
//!                              launch policy (portal::access); AuthnContext → Response
//! idp_initiated(app, session)  launch policy already applied by the caller → Response
//! ```
//!
//! Refusals follow SAML Profiles 4.1.3.5 and 4.1.4.1: when the SP, its ACS URL or the
//! request's signature cannot be trusted, nothing is sent to the SP ([`SsoOutcome::Refused`],
//! an error page); otherwise the SP gets a signed error Response with a SAML status
//! ([`SsoOutcome::Post`] with a non-Success status). Every outcome is audited.

use kakehashi_saml::authn_context::{AuthnContextClass, Comparison, RequestedAuthnContext};
use kakehashi_saml::authn_request::{IncomingAuthnRequest, RequestChecks};
use kakehashi_saml::dsig::AlgorithmPolicy;
use kakehashi_saml::ids::OsRng;
use kakehashi_saml::response::{build_error_response, ErrorResponse};
use kakehashi_saml::{NameIdFormat, SamlError, SamlId, StatusCode, SubStatusCode};
use kakehashi_store::identity::AppRow;
use kakehashi_store::saml::{self as stored, PendingRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::settings::NameIdChoice;
use super::{keys, IdpUrls, SamlIdpError, ServiceProvider};
use crate::data_dir::MasterKey;
use crate::portal::access::{self, LaunchDecision};
use crate::portal::session::PortalSession;
use crate::Clock;

/// Clock difference allowed with SPs.
pub const CLOCK_SKEW: Duration = Duration::minutes(3);
/// How old an AuthnRequest may be when it arrives.
pub const MAX_REQUEST_AGE: Duration = Duration::minutes(5);
/// How long a request waits for the user to log in.
pub const PENDING_LIFETIME: Duration = Duration::minutes(15);
/// How long an Assertion may be presented (short: it is a bearer token, Profiles 4.1.4.2).
pub const ASSERTION_LIFETIME: Duration = Duration::minutes(5);

/// What the IdP needs for one request.
pub struct Idp<'a> {
    pub store: &'a Store,
    pub master: &'a MasterKey,
    pub clock: &'a dyn Clock,
    pub tenant: &'a TenantId,
    /// The URL users reach the server at (for our entity id and SSO URL).
    pub public_url: &'a str,
}

/// An AuthnRequest as it arrived.
#[derive(Clone, Copy, Debug)]
pub enum Incoming<'a> {
    /// HTTP-Redirect: the raw query string, exactly as received (its signature covers it).
    Redirect { raw_query: &'a str },
    /// HTTP-POST: the form fields.
    Post {
        saml_request: &'a str,
        relay_state: Option<&'a str>,
    },
}

/// A message for the browser to POST to an SP's ACS (SAML Bindings 3.5).
#[derive(Clone, Debug)]
pub struct PostToSp {
    pub acs_url: String,
    /// The Response XML (signed).
    pub xml: String,
    pub relay_state: Option<String>,
    /// The top-level status it carries.
    pub status: StatusCode,
}

/// Why a request was refused without answering the SP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// Not a SAML AuthnRequest we can read (binding, base64, XML, required fields).
    Malformed,
    /// The Issuer is not an SP of this tenant.
    UnknownSp,
    /// The ACS URL, the Destination or the signature cannot be trusted (Profiles 4.1.4.1).
    Untrusted,
    /// The request ID was already used (a replay).
    Replay,
    /// The pending request is unknown, expired or already answered.
    Expired,
}

/// A refusal shown to the user as a page; nothing goes to the SP.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// What went wrong, for the page and the audit log (no secrets).
    pub detail: String,
}

/// What the browser is sent next.
#[derive(Clone, Debug)]
pub enum SsoOutcome {
    /// POST a Response (success or a SAML error status) to the SP.
    Post(PostToSp),
    /// The user must log in; come back to [`proceed`] with `pending_id`. `force`: even with a
    /// session (ForceAuthn, SAML Core 3.4.1).
    Login { pending_id: String, force: bool },
    /// Show an error page.
    Refused(Refusal),
    /// A school-affairs app on a session without a second factor: show the portal's page.
    /// Step-up first; `pending_id` is the request to resume afterwards (SP-initiated), none
    /// for IdP-initiated SSO (the launch route is resumed instead).
    SecondFactorRequired {
        app: Box<AppRow>,
        pending_id: Option<String>,
    },
}

/// The request as it waits for a login (stored as JSON in `saml_pending.request`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PendingRequest {
    request_id: String,
    acs_url: String,
    relay_state: Option<String>,
    force_authn: bool,
    is_passive: bool,
    /// `exact`, `minimum`, `maximum`, `better` when a RequestedAuthnContext was sent.
    comparison: Option<String>,
    classes: Vec<String>,
    binding: String,
    signed: bool,
    /// When the request arrived (unix milliseconds): ForceAuthn needs a login after it.
    received_ms: i64,
}

impl PendingRequest {
    fn requested(&self) -> Option<RequestedAuthnContext> {
        let comparison = match self.comparison.as_deref()? {
            "minimum" => Comparison::Minimum,
            "maximum" => Comparison::Maximum,
            "better" => Comparison::Better,
            _ => Comparison::Exact,
        };
        Some(RequestedAuthnContext {
            comparison,
            classes: self
                .classes
                .iter()
                .map(|c| AuthnContextClass::from_uri(c))
                .collect(),
        })
    }
}

fn comparison_str(c: Comparison) -> &'static str {
    match c {
        Comparison::Exact => "exact",
        Comparison::Minimum => "minimum",
        Comparison::Maximum => "maximum",
        Comparison::Better => "better",
    }
}

/// Errors after which the request (and so its ACS URL) cannot be trusted: answer with a page,
/// never a POST to the ACS (SAML Profiles 4.1.3.5, 4.1.4.1; docs/SAML.md).
fn untrusted(e: &SamlError) -> bool {
    !matches!(
        e,
        SamlError::VersionMismatch(_)
            | SamlError::IssueInstantOutOfWindow(_)
            | SamlError::InvalidNameIdPolicy(_)
    )
}

async fn audit_event(
    idp: &Idp<'_>,
    actor: String,
    action: &str,
    target: String,
    details: serde_json::Value,
) -> Result<(), SamlIdpError> {
    let at = idp.clock.now_text();
    let mut tx = idp.store.begin().await?;
    audit::append(
        &mut tx,
        idp.store.backend(),
        Some(idp.tenant),
        &at,
        &audit::Event {
            actor,
            action: action.into(),
            target,
            details,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Refuses with a page, audited as `saml.request.refused`.
pub(super) async fn refuse(
    idp: &Idp<'_>,
    sp_entity_id: Option<&str>,
    kind: RefusalKind,
    detail: String,
) -> Result<SsoOutcome, SamlIdpError> {
    audit_event(
        idp,
        sp_entity_id.map_or_else(|| "saml:unknown".to_owned(), |e| format!("saml-sp:{e}")),
        "saml.request.refused",
        sp_entity_id.map_or_else(|| "saml:unknown".to_owned(), |e| format!("saml-sp:{e}")),
        serde_json::json!({ "reason": format!("{kind:?}"), "detail": detail }),
    )
    .await?;
    Ok(SsoOutcome::Refused(Refusal { kind, detail }))
}

/// A signed error Response to a trusted ACS, audited as `saml.sso.refused`.
#[allow(clippy::too_many_arguments)]
async fn error_response(
    idp: &Idp<'_>,
    sp: &ServiceProvider,
    acs_url: &str,
    in_response_to: Option<&str>,
    relay_state: Option<String>,
    (status, sub): (StatusCode, Option<SubStatusCode>),
    message: &str,
    user: Option<&PortalSession>,
) -> Result<SsoOutcome, SamlIdpError> {
    let key = keys::signing_key(idp.store, idp.master, idp.clock, idp.tenant).await?;
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    let xml = build_error_response(
        &ErrorResponse {
            response_id: SamlId::random(&mut OsRng),
            issue_instant: idp.clock.now(),
            idp_entity_id: urls.entity_id,
            acs_url: acs_url.to_owned(),
            in_response_to: in_response_to.map(str::to_owned),
            status,
            sub_status: sub,
            message: Some(message.to_owned()),
        },
        Some(&key),
    )?;
    let actor = user.map_or_else(
        || format!("saml-sp:{}", sp.entity_id()),
        |s| format!("user:{}/{}", idp.tenant, s.user.sourced_id),
    );
    audit_event(
        idp,
        actor,
        "saml.sso.refused",
        format!("app:{}", sp.app.id),
        serde_json::json!({
            "sp": sp.entity_id(),
            "status": status.uri(),
            "subStatus": sub.map(SubStatusCode::uri),
            "message": message,
            "inResponseTo": in_response_to,
        }),
    )
    .await?;
    Ok(SsoOutcome::Post(PostToSp {
        acs_url: acs_url.to_owned(),
        xml,
        relay_state,
        status,
    }))
}

/// Receives an AuthnRequest (SAML Core 3.4.1; Profiles 4.1.4.1) and continues with the
/// browser's session, if any.
pub async fn receive(
    idp: &Idp<'_>,
    incoming: Incoming<'_>,
    session: Option<&PortalSession>,
) -> Result<SsoOutcome, SamlIdpError> {
    let parsed = match incoming {
        Incoming::Redirect { raw_query } => IncomingAuthnRequest::from_redirect(raw_query),
        Incoming::Post {
            saml_request,
            relay_state,
        } => IncomingAuthnRequest::from_post(saml_request, relay_state),
    };
    let incoming = match parsed {
        Ok(i) => i,
        Err(e) => return refuse(idp, None, RefusalKind::Malformed, e.to_string()).await,
    };
    let issuer = incoming.request().issuer.clone();
    let Some(sp) = super::service_provider_by_entity_id(idp.store, idp.tenant, &issuer).await?
    else {
        return refuse(
            idp,
            None,
            RefusalKind::UnknownSp,
            format!("no service provider {issuer:?} is registered in this tenant"),
        )
        .await;
    };
    let request = incoming.request().clone();
    let now = idp.clock.now();
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    let checks = RequestChecks {
        now,
        clock_skew: CLOCK_SKEW,
        max_age: MAX_REQUEST_AGE,
        sso_url: urls.sso_url.clone(),
        require_signed: sp.settings.require_signed_requests,
        policy: AlgorithmPolicy::default(),
    };
    let accepted = match incoming.accept(&sp.metadata, &checks) {
        Ok(a) => a,
        Err(e) if untrusted(&e) => {
            return refuse(
                idp,
                Some(sp.entity_id()),
                RefusalKind::Untrusted,
                e.to_string(),
            )
            .await
        }
        Err(e) => {
            // The request was signed correctly if it had to be, and its ACS is registered:
            // answer the SP with the status (SAML Core 3.2.2.2).
            return match sp.metadata.resolve_acs(&request) {
                Ok(acs) => {
                    let acs = acs.endpoint.location.clone();
                    error_response(
                        idp,
                        &sp,
                        &acs,
                        Some(request.id.as_str()),
                        None,
                        e.status(),
                        &e.to_string(),
                        session,
                    )
                    .await
                }
                Err(e2) => {
                    refuse(
                        idp,
                        Some(sp.entity_id()),
                        RefusalKind::Untrusted,
                        e2.to_string(),
                    )
                    .await
                }
            };
        }
    };
    let req = &accepted.request;
    let acs_url = accepted.acs.endpoint.location.clone();
    // Replay cache: an ID is good once while the request could still be accepted.
    let expires = (req.issue_instant + MAX_REQUEST_AGE + CLOCK_SKEW).unix_timestamp();
    if !stored::remember_request_id(
        idp.store,
        idp.tenant,
        sp.entity_id(),
        req.id.as_str(),
        expires,
        now.unix_timestamp(),
    )
    .await?
    {
        return refuse(
            idp,
            Some(sp.entity_id()),
            RefusalKind::Replay,
            format!("AuthnRequest ID {} was already used", req.id.as_str()),
        )
        .await;
    }
    let relay_state = accepted.relay_state.clone();
    // SAML Core 3.4.1.1: a NameIDPolicy Format we do not issue for this SP is refused.
    let our_format = match sp.settings.name_id {
        NameIdChoice::Persistent => NameIdFormat::Persistent,
        NameIdChoice::Username => NameIdFormat::Unspecified,
    };
    if let Some(f) = req.name_id_policy.as_ref().and_then(|p| p.format.clone()) {
        if f != our_format && f != NameIdFormat::Unspecified {
            let e = SamlError::InvalidNameIdPolicy(f.uri().to_owned());
            return error_response(
                idp,
                &sp,
                &acs_url,
                Some(req.id.as_str()),
                relay_state,
                e.status(),
                &e.to_string(),
                session,
            )
            .await;
        }
    }
    // SAML Core 3.3.2.2.1: a context no login of ours can satisfy → NoAuthnContext.
    if let Some(rac) = &req.requested_authn_context {
        if rac.required_class().is_none() {
            return error_response(
                idp,
                &sp,
                &acs_url,
                Some(req.id.as_str()),
                relay_state,
                (StatusCode::Responder, Some(SubStatusCode::NoAuthnContext)),
                "the requested authentication context cannot be satisfied",
                session,
            )
            .await;
        }
    }
    let pending = PendingRequest {
        request_id: req.id.as_str().to_owned(),
        acs_url,
        relay_state,
        force_authn: req.force_authn,
        is_passive: req.is_passive,
        comparison: req
            .requested_authn_context
            .as_ref()
            .map(|r| comparison_str(r.comparison).to_owned()),
        classes: req
            .requested_authn_context
            .as_ref()
            .map(|r| r.classes.iter().map(|c| c.uri().to_owned()).collect())
            .unwrap_or_default(),
        binding: accepted.binding.uri().to_owned(),
        signed: accepted.signed,
        received_ms: unix_ms(now),
    };
    let id = SamlId::random(&mut OsRng)
        .as_str()
        .trim_start_matches('_')
        .to_owned();
    let row = PendingRow {
        id: id.clone(),
        app_id: sp.app.id.clone(),
        request: serde_json::to_string(&pending)
            .map_err(|e| SamlIdpError::Invalid(e.to_string()))?,
        created_at: now.unix_timestamp(),
        expires_at: (now + PENDING_LIFETIME).unix_timestamp(),
    };
    stored::insert_pending(idp.store, idp.tenant, &row).await?;
    audit_event(
        idp,
        format!("saml-sp:{}", sp.entity_id()),
        "saml.request",
        format!("app:{}", sp.app.id),
        serde_json::json!({
            "sp": sp.entity_id(), "id": pending.request_id, "binding": pending.binding,
            "signed": pending.signed, "forceAuthn": pending.force_authn,
            "isPassive": pending.is_passive,
        }),
    )
    .await?;
    proceed_with(idp, &sp, &row, &pending, session).await
}

/// Continues a pending request after a login (or on the first try with a session).
pub async fn proceed(
    idp: &Idp<'_>,
    pending_id: &str,
    session: Option<&PortalSession>,
) -> Result<SsoOutcome, SamlIdpError> {
    let now = idp.clock.now().unix_timestamp();
    let Some(row) = stored::pending(idp.store, idp.tenant, pending_id, now).await? else {
        return refuse(
            idp,
            None,
            RefusalKind::Expired,
            "the sign-in request is unknown, expired or already answered".into(),
        )
        .await;
    };
    let Some(sp) = super::service_provider(idp.store, idp.tenant, &row.app_id).await? else {
        return refuse(
            idp,
            None,
            RefusalKind::UnknownSp,
            "the service provider was removed".into(),
        )
        .await;
    };
    let pending: PendingRequest = serde_json::from_str(&row.request).map_err(|e| {
        SamlIdpError::Store(StoreError::Corrupt {
            table: "saml_pending",
            detail: e.to_string(),
        })
    })?;
    proceed_with(idp, &sp, &row, &pending, session).await
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(super) fn instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// The session's methods as they count now: a second factor older than the tenant's
/// freshness window is no longer reported (the password still is).
pub fn current_amr(
    s: &PortalSession,
    policy: &crate::mfa::policy::SecurityPolicy,
    now: time::OffsetDateTime,
) -> Vec<String> {
    let fresh =
        crate::mfa::factors::second_factor_fresh(s.second_factor_at.as_deref(), &s.ip, policy, now);
    if fresh {
        s.amr.clone()
    } else {
        stale_amr(&s.amr)
    }
}

/// A session's methods once its second factor is older than the window: what the login
/// itself was still counts — the password, or for a passkey login (no password) the public
/// key it proved (reported as the X509 class), never `mfa` or the user verification.
pub fn stale_amr(amr: &[String]) -> Vec<String> {
    let password = amr.iter().any(|m| m == "pwd");
    amr.iter()
        .filter(|m| *m == "pwd" || (!password && (*m == "hwk" || *m == "swk")))
        .cloned()
        .collect()
}

/// What the session's login actually did, as an AuthnContext class (docs/SAML.md).
pub fn performed_class(amr: &[String]) -> AuthnContextClass {
    let has = |m: &str| amr.iter().any(|a| a == m);
    if access::has_second_factor(amr) && (has("pwd") || has("mfa")) {
        AuthnContextClass::RefedsMfa
    } else if has("hwk") || has("swk") {
        AuthnContextClass::X509
    } else {
        AuthnContextClass::PasswordProtectedTransport
    }
}

async fn proceed_with(
    idp: &Idp<'_>,
    sp: &ServiceProvider,
    row: &PendingRow,
    p: &PendingRequest,
    session: Option<&PortalSession>,
) -> Result<SsoOutcome, SamlIdpError> {
    let fail =
        |status: (StatusCode, Option<SubStatusCode>), message: &'static str| (status, message);
    let no_passive = fail(
        (StatusCode::Responder, Some(SubStatusCode::NoPassive)),
        "the user must interact to sign in, but IsPassive was requested",
    );
    // SAML Core 3.4.1: ForceAuthn means a fresh login after the request arrived.
    let fresh = session.is_some_and(|s| {
        !p.force_authn || instant(&s.auth_time).is_some_and(|t| unix_ms(t) > p.received_ms)
    });
    let policy = crate::mfa::policy::load(idp.store, idp.tenant).await?;
    let now = idp.clock.now();
    let decision = session.map(|s| {
        let d = access::decide(&sp.app, s, &policy, now);
        // SAML Core 3.3.2.2.1: a RequestedAuthnContext that only a second factor satisfies
        // sends the user through step-up (when it may interact) instead of failing.
        let performed = performed_class(&current_amr(s, &policy, now));
        match p.requested() {
            Some(rac)
                if d == LaunchDecision::Allowed
                    && !rac.is_satisfied_by(&performed)
                    && rac.is_satisfied_by(&AuthnContextClass::RefedsMfa) =>
            {
                LaunchDecision::SecondFactorRequired
            }
            _ => d,
        }
    });
    let refusal = match session {
        Some(s) if fresh => match decision.unwrap_or(LaunchDecision::NotAllowed) {
            LaunchDecision::Allowed => {
                let performed = performed_class(&current_amr(s, &policy, now));
                match p.requested() {
                    Some(rac) if !rac.is_satisfied_by(&performed) => Some(fail(
                        (StatusCode::Responder, Some(SubStatusCode::NoAuthnContext)),
                        "the requested authentication context cannot be satisfied",
                    )),
                    _ => None,
                }
            }
            LaunchDecision::NotAllowed => Some(fail(
                (StatusCode::Responder, Some(SubStatusCode::RequestDenied)),
                "this user may not use this service",
            )),
            LaunchDecision::SecondFactorRequired if p.is_passive => Some(no_passive),
            LaunchDecision::SecondFactorRequired => {
                audit_event(
                    idp,
                    format!("user:{}/{}", idp.tenant, s.user.sourced_id),
                    "saml.sso.second_factor_required",
                    format!("app:{}", sp.app.id),
                    serde_json::json!({ "sp": sp.entity_id(), "inResponseTo": p.request_id }),
                )
                .await?;
                return Ok(SsoOutcome::SecondFactorRequired {
                    app: Box::new(sp.app.clone()),
                    pending_id: Some(row.id.clone()),
                });
            }
        },
        // Core 3.4.1: IsPassive forbids showing a login page.
        _ if p.is_passive => Some(no_passive),
        _ => {
            return Ok(SsoOutcome::Login {
                pending_id: row.id.clone(),
                force: session.is_some(),
            })
        }
    };
    // One answer per request: whoever takes the pending row answers.
    let mut tx = idp.store.begin().await?;
    let taken = stored::take_pending(&mut tx, idp.tenant, &row.id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    if !taken {
        return refuse(
            idp,
            Some(sp.entity_id()),
            RefusalKind::Expired,
            "the sign-in request was already answered".into(),
        )
        .await;
    }
    if let Some((status, message)) = refusal {
        return error_response(
            idp,
            sp,
            &p.acs_url,
            Some(&p.request_id),
            p.relay_state.clone(),
            status,
            message,
            session,
        )
        .await;
    }
    let Some(session) = session else {
        return Err(SamlIdpError::Invalid("no session to answer with".into()));
    };
    super::issue::issue(
        idp,
        sp,
        session,
        &p.acs_url,
        Some(&p.request_id),
        p.relay_state.clone(),
        &p.binding,
    )
    .await
    .map(SsoOutcome::Post)
}

/// IdP-initiated SSO (SAML Profiles 4.1.5) from the launcher, to the SP's default ACS. The
/// launch policy is applied here too (a second line behind the launch route).
pub async fn idp_initiated(
    idp: &Idp<'_>,
    app_id: &str,
    session: &PortalSession,
    relay_state: Option<String>,
) -> Result<SsoOutcome, SamlIdpError> {
    let Some(sp) = super::service_provider(idp.store, idp.tenant, app_id).await? else {
        return Err(SamlIdpError::UnknownApp {
            tenant: idp.tenant.clone(),
            id: app_id.to_owned(),
        });
    };
    let policy = crate::mfa::policy::load(idp.store, idp.tenant).await?;
    match access::decide(&sp.app, session, &policy, idp.clock.now()) {
        LaunchDecision::Allowed => {}
        LaunchDecision::NotAllowed => {
            return refuse(
                idp,
                Some(sp.entity_id()),
                RefusalKind::Untrusted,
                "this user may not use this service".into(),
            )
            .await
        }
        LaunchDecision::SecondFactorRequired => {
            return Ok(SsoOutcome::SecondFactorRequired {
                app: Box::new(sp.app.clone()),
                pending_id: None,
            })
        }
    }
    let acs = sp.metadata.default_acs()?.endpoint.location.clone();
    super::issue::issue(idp, &sp, session, &acs, None, relay_state, "idp-initiated")
        .await
        .map(SsoOutcome::Post)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amr(m: &[&str]) -> Vec<String> {
        m.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn authn_context_reports_what_the_login_did() {
        assert_eq!(
            performed_class(&amr(&["pwd"])),
            AuthnContextClass::PasswordProtectedTransport
        );
        assert_eq!(
            performed_class(&amr(&["pwd", "hwk"])),
            AuthnContextClass::RefedsMfa
        );
        assert_eq!(performed_class(&amr(&["hwk"])), AuthnContextClass::X509);
    }

    #[test]
    fn a_stale_factor_leaves_what_the_login_itself_was() {
        assert_eq!(
            stale_amr(&amr(&["pwd", "hwk", "user", "mfa"])),
            amr(&["pwd"])
        );
        // A passkey login: the key it proved, no longer multi-factor.
        let passkey = stale_amr(&amr(&["hwk", "user", "fpt", "mfa"]));
        assert_eq!(passkey, amr(&["hwk"]));
        assert_eq!(performed_class(&passkey), AuthnContextClass::X509);
        assert!(!access::has_second_factor(&amr(&["pwd"])));
    }

    #[test]
    fn a_pending_request_keeps_its_requested_context() {
        for c in [
            Comparison::Exact,
            Comparison::Minimum,
            Comparison::Maximum,
            Comparison::Better,
        ] {
            let p = PendingRequest {
                request_id: "_r".into(),
                acs_url: "https://sp.example/acs".into(),
                relay_state: None,
                force_authn: false,
                is_passive: false,
                comparison: Some(comparison_str(c).into()),
                classes: vec![AuthnContextClass::RefedsMfa.uri().into()],
                binding: "b".into(),
                signed: false,
                received_ms: 0,
            };
            let json = serde_json::to_string(&p).unwrap();
            let back: PendingRequest = serde_json::from_str(&json).unwrap();
            let rac = back.requested().unwrap();
            assert_eq!(rac.comparison, c);
            assert_eq!(rac.classes, vec![AuthnContextClass::RefedsMfa]);
        }
    }

    #[test]
    fn only_errors_after_the_signature_check_may_go_to_the_acs() {
        assert!(untrusted(&SamlError::UnknownAcs("x".into())));
        assert!(untrusted(&SamlError::UnsignedRequest));
        assert!(untrusted(&SamlError::WrongDestination {
            found: "x".into()
        }));
        assert!(!untrusted(&SamlError::IssueInstantOutOfWindow("x".into())));
        assert!(!untrusted(&SamlError::VersionMismatch("1.1".into())));
    }
}

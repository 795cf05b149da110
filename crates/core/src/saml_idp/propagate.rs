//! IdP-initiated Single Logout (SAML Profiles 4.4.3.3, 4.4.4): when a user signs out of the
//! portal, every SP that holds a session started from that portal session is told, over the
//! front channel, one SP after another.
//!
//! [`begin`] runs when the portal session has ended: it forgets the SP sessions and, for those
//! SPs whose metadata has a SingleLogoutService, stores a *journey* (migration 0013). The
//! browser then goes to [`next`], which sends it to the first SP with a signed LogoutRequest
//! (HTTP-Redirect with a query signature, else an HTTP-POST form with an enveloped one) and
//! the journey id as RelayState. The SP answers at our SLO endpoint with a LogoutResponse,
//! which [`receive_response`] authenticates (signed by the SP, Profiles 4.4.4.2; issued by the
//! SP we asked; `InResponseTo` the request we sent) and records before the next SP. An SP
//! that never answers does not hold the user back: going to [`next`] again skips it (noted
//! "no answer"). The portal session is already gone whatever the SPs do.
//!
//! When an SP asked for the logout (`super::slo`), the same journey tells the *other* SPs and
//! ends with that SP's LogoutResponse ([`Finish`]): a redirect with its signed query, or, for
//! an SP that takes it by HTTP-POST, [`Step::Answer`], the auto-posted form with a response
//! signed at that moment.

use kakehashi_saml::binding::post::decode_post;
use kakehashi_saml::binding::redirect::{decode_redirect, encode_redirect};
use kakehashi_saml::binding::MessageParam;
use kakehashi_saml::dsig::{verify_enveloped, AlgorithmPolicy};
use kakehashi_saml::ids::OsRng;
use kakehashi_saml::logout::{parse_logout_response, OutgoingLogoutRequest};
use kakehashi_saml::response::NameId;
use kakehashi_saml::{Binding, NameIdFormat, SamlError, SamlId, StatusCode};
use kakehashi_store::saml::{self as stored, LogoutJourneyRow};
use kakehashi_store::{audit, Store, StoreError};
use serde::{Deserialize, Serialize};
use time::Duration;

use super::settings::NameIdChoice;
use super::sso::{Idp, PostToSp};
use super::{keys, service_provider, IdpUrls, SamlIdpError, ServiceProvider};
use crate::clock::Clock;
use crate::portal::session::PortalSession;

/// How long a journey (and each LogoutRequest) stays usable.
const JOURNEY_LIFETIME: Duration = Duration::minutes(10);

/// One SP session still to be told.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SpSession {
    app_id: String,
    session_index: String,
    name_id: String,
}

/// What an SP answered.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Answer {
    app_id: String,
    /// The SP's top-level StatusCode, or `no-answer`.
    status: String,
}

/// How a journey ends once every SP was told.
#[derive(Clone, Debug, Default)]
pub(crate) enum Finish {
    /// The portal's "signed out" page.
    #[default]
    SignedOut,
    /// A redirect: RP-Initiated Logout's `post_logout_redirect_uri`, or the LogoutResponse to
    /// the SP that asked for the logout, in its signed query (HTTP-Redirect).
    Redirect(String),
    /// The LogoutResponse to the SP that asked for the logout by HTTP-POST (Bindings 3.5):
    /// signed when the journey ends, so its IssueInstant is fresh.
    PostResponse(PostAnswer),
}

/// What the LogoutResponse of [`Finish::PostResponse`] answers (stored as JSON in the
/// journey's `finish_post`, migration 0018).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PostAnswer {
    /// The SP's SingleLogoutService for HTTP-POST (its ResponseLocation if it has one).
    pub destination: String,
    pub in_response_to: String,
    pub relay_state: Option<String>,
}

/// Where the browser goes next.
#[derive(Clone, Debug)]
pub enum Step {
    /// 303 to the SP's SingleLogoutService with the signed LogoutRequest in the query.
    Redirect(String),
    /// POST the (enveloped-signed) LogoutRequest to the SP: `xml` goes in `SAMLRequest`.
    Post(PostToSp),
    /// Every SP was told (or skipped) and the SP that asked for the logout takes its answer
    /// by HTTP-POST: POST this signed LogoutResponse to it (`xml` goes in `SAMLResponse`;
    /// Profiles 4.4.3.4, Bindings 3.5).
    Answer(PostToSp),
    /// Every SP was told (or skipped): go to `then` (RP-Initiated Logout's
    /// `post_logout_redirect_uri`, set by [`finish_at`]) or show "signed out". `failed`: SPs
    /// that did not answer Success.
    Done {
        told: usize,
        failed: usize,
        then: Option<String>,
    },
}

/// A LogoutResponse as it arrived.
#[derive(Clone, Copy, Debug)]
pub enum ResponseIncoming<'a> {
    Redirect {
        raw_query: &'a str,
    },
    Post {
        saml_response: &'a str,
        relay_state: Option<&'a str>,
    },
}

/// Forgets the SP sessions of a portal session that has just ended and, if any of those SPs
/// can be told (a SingleLogoutService in its metadata), returns the id of the journey that
/// tells them.
pub async fn begin(
    store: &Store,
    clock: &dyn Clock,
    session: &PortalSession,
) -> Result<Option<String>, SamlIdpError> {
    let tenant = &session.tenant;
    let to_tell =
        sessions_to_tell(store, tenant, std::slice::from_ref(&session.id_hash), None).await?;
    let mut tx = store.begin().await?;
    stored::delete_sp_sessions_of(&mut tx, tenant, &session.id_hash).await?;
    let journey = start_journey(
        &mut tx,
        store,
        clock,
        tenant,
        &session.user.sourced_id,
        to_tell,
        Finish::SignedOut,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(journey)
}

/// The SP sessions of the portal sessions `portal_hashes` whose SP can be told (a
/// SingleLogoutService in its metadata), but not those of the app `except` (the SP that
/// asked for the logout itself).
pub(crate) async fn sessions_to_tell(
    store: &Store,
    tenant: &kakehashi_store::TenantId,
    portal_hashes: &[String],
    except: Option<&str>,
) -> Result<Vec<SpSession>, SamlIdpError> {
    let mut to_tell = Vec::new();
    for h in portal_hashes {
        for s in stored::sp_sessions_of(store, tenant, h).await? {
            if except == Some(s.app_id.as_str()) {
                continue;
            }
            let Some(sp) = service_provider(store, tenant, &s.app_id).await? else {
                continue;
            };
            if slo_endpoint(&sp).is_some() {
                to_tell.push(SpSession {
                    app_id: s.app_id,
                    session_index: s.session_index,
                    name_id: s.name_id,
                });
            }
        }
    }
    Ok(to_tell)
}

/// Stores a journey that tells `to_tell` (none: no journey) and then ends as `finish` says,
/// audited; returns its id.
pub(crate) async fn start_journey(
    tx: &mut kakehashi_store::Tx,
    store: &Store,
    clock: &dyn Clock,
    tenant: &kakehashi_store::TenantId,
    user_sourced_id: &str,
    to_tell: Vec<SpSession>,
    finish: Finish,
) -> Result<Option<String>, SamlIdpError> {
    if to_tell.is_empty() {
        return Ok(None);
    }
    let (finish_url, finish_post) = match finish {
        Finish::SignedOut => (None, None),
        Finish::Redirect(url) => (Some(url), None),
        Finish::PostResponse(answer) => (
            None,
            Some(serde_json::to_string(&answer).expect("serialisable")),
        ),
    };
    let id = SamlId::random(&mut OsRng)
        .as_str()
        .trim_start_matches('_')
        .to_owned();
    let now = clock.now();
    stored::insert_logout_journey(
        tx,
        tenant,
        &LogoutJourneyRow {
            id: id.clone(),
            user_sourced_id: user_sourced_id.to_owned(),
            remaining: serde_json::to_string(&to_tell).expect("serialisable"),
            awaiting: None,
            awaiting_app: None,
            results: "[]".into(),
            expires_at: (now + JOURNEY_LIFETIME).unix_timestamp(),
            finish_url,
            finish_post,
        },
        now.unix_timestamp(),
    )
    .await?;
    audit::append(
        tx,
        store.backend(),
        Some(tenant),
        &clock.now_text(),
        &audit::Event {
            actor: format!("user:{tenant}/{user_sourced_id}"),
            action: "saml.slo.propagate".into(),
            target: format!("user:{user_sourced_id}"),
            details: serde_json::json!({
                "apps": to_tell.iter().map(|s| s.app_id.clone()).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    Ok(Some(id))
}

/// Where the browser goes once the journey is over: RP-Initiated Logout 1.0 section 3 sends
/// it to the client's `post_logout_redirect_uri` (already checked against its registration)
/// after the SAML SPs have been told.
pub async fn finish_at(
    store: &Store,
    tenant: &kakehashi_store::TenantId,
    journey_id: &str,
    url: &str,
) -> Result<(), SamlIdpError> {
    let mut tx = store.begin().await?;
    stored::set_logout_journey_finish(&mut tx, tenant, journey_id, url).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The SP's SingleLogoutService: HTTP-Redirect preferred, else HTTP-POST.
fn slo_endpoint(sp: &ServiceProvider) -> Option<&kakehashi_saml::metadata::sp::Endpoint> {
    let slo = &sp.metadata.single_logout_services;
    slo.iter()
        .find(|e| e.binding == Binding::HttpRedirect.uri())
        .or_else(|| slo.iter().find(|e| e.binding == Binding::HttpPost.uri()))
}

fn corrupt(detail: impl ToString) -> SamlIdpError {
    SamlIdpError::Store(StoreError::Corrupt {
        table: "saml_logout_journeys",
        detail: detail.to_string(),
    })
}

/// Sends the browser to the next SP of the journey (skipping one still awaited: it did not
/// answer), or reports that all were told. An unknown or expired journey is `Done`.
pub async fn next(idp: &Idp<'_>, journey_id: &str) -> Result<Step, SamlIdpError> {
    let now = idp.clock.now();
    let mut conn = idp.store.pool().acquire().await.map_err(StoreError::from)?;
    let Some(mut j) =
        stored::logout_journey(&mut conn, idp.tenant, journey_id, now.unix_timestamp()).await?
    else {
        return Ok(Step::Done {
            told: 0,
            failed: 0,
            then: None,
        });
    };
    drop(conn);
    let was_awaiting = j.awaiting.clone();
    let mut results: Vec<Answer> = serde_json::from_str(&j.results).map_err(corrupt)?;
    if let Some(app) = j.awaiting_app.take() {
        results.push(Answer {
            app_id: app,
            status: "no-answer".into(),
        });
    }
    j.awaiting = None;
    j.results = serde_json::to_string(&results).expect("serialisable");
    step(idp, j, was_awaiting.as_deref()).await
}

/// Sends the next SP its LogoutRequest, or finishes the journey.
async fn step(
    idp: &Idp<'_>,
    mut j: LogoutJourneyRow,
    was_awaiting: Option<&str>,
) -> Result<Step, SamlIdpError> {
    let mut remaining: Vec<SpSession> = serde_json::from_str(&j.remaining).map_err(corrupt)?;
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    let now = idp.clock.now();
    // The first SP that can still be told (an app removed or changed meanwhile is skipped).
    while !remaining.is_empty() {
        let s = remaining.remove(0);
        let Some(sp) = service_provider(idp.store, idp.tenant, &s.app_id).await? else {
            continue;
        };
        let Some(endpoint) = slo_endpoint(&sp).cloned() else {
            continue;
        };
        let request = OutgoingLogoutRequest {
            id: SamlId::random(&mut OsRng),
            issue_instant: now,
            not_on_or_after: now + JOURNEY_LIFETIME,
            idp_entity_id: urls.entity_id.clone(),
            destination: endpoint.location.clone(),
            name_id: match sp.settings.name_id {
                NameIdChoice::Username => NameId {
                    value: s.name_id.clone(),
                    format: NameIdFormat::Unspecified,
                    name_qualifier: None,
                    sp_name_qualifier: None,
                },
                NameIdChoice::Persistent => NameId {
                    value: s.name_id.clone(),
                    format: NameIdFormat::Persistent,
                    name_qualifier: Some(urls.entity_id.clone()),
                    sp_name_qualifier: Some(sp.entity_id().to_owned()),
                },
            },
            session_index: s.session_index.clone(),
        };
        j.remaining = serde_json::to_string(&remaining).expect("serialisable");
        j.awaiting = Some(request.id.as_str().to_owned());
        j.awaiting_app = Some(s.app_id.clone());
        let mut tx = idp.store.begin().await?;
        if !stored::advance_logout_journey(&mut tx, idp.tenant, &j, was_awaiting).await? {
            // Another tab moved the journey on first.
            return Ok(Step::Done {
                told: 0,
                failed: 0,
                then: None,
            });
        }
        tx.commit().await.map_err(StoreError::from)?;
        let key = keys::signing_key(idp.store, idp.master, idp.clock, idp.tenant).await?;
        let relay_state = Some(j.id.as_str());
        return Ok(if endpoint.binding == Binding::HttpRedirect.uri() {
            // Bindings 3.4.4.1: the query is signed, the XML is not.
            let query = encode_redirect(
                MessageParam::Request,
                &request.to_xml(None)?,
                relay_state,
                Some(&key),
            )?;
            let sep = if endpoint.location.contains('?') {
                '&'
            } else {
                '?'
            };
            Step::Redirect(format!("{}{sep}{query}", endpoint.location))
        } else {
            Step::Post(PostToSp {
                acs_url: endpoint.location.clone(),
                xml: request.to_xml(Some(&key))?,
                relay_state: relay_state.map(str::to_owned),
                status: StatusCode::Success,
            })
        });
    }
    // Everyone was told: the journey ends here.
    let results: Vec<Answer> = serde_json::from_str(&j.results).map_err(corrupt)?;
    let failed = results
        .iter()
        .filter(|a| a.status != StatusCode::Success.uri())
        .count();
    let mut tx = idp.store.begin().await?;
    j.remaining = "[]".into();
    j.awaiting = None;
    j.awaiting_app = None;
    let ended_here = stored::advance_logout_journey(&mut tx, idp.tenant, &j, was_awaiting).await?;
    if ended_here {
        stored::delete_logout_journey(&mut tx, idp.tenant, &j.id).await?;
        audit::append(
            &mut tx,
            idp.store.backend(),
            Some(idp.tenant),
            &idp.clock.now_text(),
            &audit::Event {
                actor: format!("user:{}/{}", idp.tenant, j.user_sourced_id),
                action: "saml.slo.propagated".into(),
                target: format!("user:{}", j.user_sourced_id),
                details: serde_json::json!({ "answers": results }),
            },
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    // The requester's own answer comes last (Profiles 4.4.3.2–4.4.3.4), and only once: from
    // the request that ended the journey.
    if let (true, Some(post)) = (ended_here, &j.finish_post) {
        let a: PostAnswer = serde_json::from_str(post).map_err(corrupt)?;
        let post =
            super::slo::signed_post_response(idp, a.destination, &a.in_response_to, a.relay_state)
                .await?;
        return Ok(Step::Answer(post));
    }
    Ok(Step::Done {
        told: results.len(),
        failed,
        then: j.finish_url.clone(),
    })
}

/// Why a LogoutResponse was not taken (the journey goes on regardless when the user
/// continues; the page says what was wrong).
#[derive(Debug, thiserror::Error)]
pub enum ResponseRefused {
    #[error("not a LogoutResponse we can read: {0}")]
    Malformed(String),
    #[error("the LogoutResponse cannot be trusted: {0}")]
    Untrusted(String),
    #[error("no logout is waiting for this LogoutResponse (expired, replayed or unknown)")]
    Unexpected,
}

/// Takes an SP's LogoutResponse to a LogoutRequest of a journey and moves the journey on.
pub async fn receive_response(
    idp: &Idp<'_>,
    incoming: ResponseIncoming<'_>,
) -> Result<Result<Step, ResponseRefused>, SamlIdpError> {
    let malformed = |e: SamlError| Ok(Err(ResponseRefused::Malformed(e.to_string())));
    let (xml, relay_state, redirect) = match incoming {
        ResponseIncoming::Redirect { raw_query } => match decode_redirect(raw_query) {
            Ok(m) if m.param == MessageParam::Response => {
                let rs = m.relay_state.clone();
                (m.xml.clone(), rs, Some(m))
            }
            Ok(_) => return malformed(SamlError::Parameter("SAMLResponse expected".into())),
            Err(e) => return malformed(e),
        },
        ResponseIncoming::Post {
            saml_response,
            relay_state,
        } => match decode_post(saml_response) {
            Ok(xml) => (xml, relay_state.map(str::to_owned), None),
            Err(e) => return malformed(e),
        },
    };
    let response = match parse_logout_response(&xml) {
        Ok(r) => r,
        Err(e) => return malformed(e),
    };
    let now = idp.clock.now();
    let Some(journey_id) = relay_state else {
        return Ok(Err(ResponseRefused::Unexpected));
    };
    let mut conn = idp.store.pool().acquire().await.map_err(StoreError::from)?;
    let journey =
        stored::logout_journey(&mut conn, idp.tenant, &journey_id, now.unix_timestamp()).await?;
    drop(conn);
    let Some(mut j) = journey else {
        return Ok(Err(ResponseRefused::Unexpected));
    };
    let (Some(awaiting), Some(app_id)) = (j.awaiting.clone(), j.awaiting_app.clone()) else {
        return Ok(Err(ResponseRefused::Unexpected));
    };
    if response.in_response_to.as_deref() != Some(awaiting.as_str()) {
        return Ok(Err(ResponseRefused::Unexpected));
    }
    let Some(sp) = service_provider(idp.store, idp.tenant, &app_id).await? else {
        return Ok(Err(ResponseRefused::Unexpected));
    };
    let untrusted = |d: String| Ok(Err(ResponseRefused::Untrusted(d)));
    if response.issuer != sp.entity_id() {
        return untrusted(format!(
            "issued by {:?}, not the SP that was asked",
            response.issuer
        ));
    }
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    if response
        .destination
        .as_deref()
        .is_some_and(|d| d != urls.slo_url)
    {
        return untrusted("Destination is not this IdP's SLO endpoint".into());
    }
    // Profiles 4.4.4.2: the responder authenticates its LogoutResponse — a signature by a key
    // of the SP's metadata (the query's for HTTP-Redirect, an enveloped one for HTTP-POST).
    let certs = &sp.metadata.signing_certificates;
    let policy = AlgorithmPolicy::default();
    let verified = match &redirect {
        Some(m) => m
            .verify_signature(certs, &policy)
            .map_err(|e| e.to_string()),
        None => kakehashi_saml::xml::parse::parse(&xml)
            .map_err(|e| e.to_string())
            .and_then(|doc| {
                verify_enveloped(doc.root_element(), certs, &policy)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
    };
    if let Err(e) = verified {
        return untrusted(format!("signature: {e}"));
    }
    let mut results: Vec<Answer> = serde_json::from_str(&j.results).map_err(corrupt)?;
    results.push(Answer {
        app_id,
        status: response.status.clone(),
    });
    j.results = serde_json::to_string(&results).expect("serialisable");
    j.awaiting = None;
    j.awaiting_app = None;
    Ok(Ok(step(idp, j, Some(&awaiting)).await?))
}

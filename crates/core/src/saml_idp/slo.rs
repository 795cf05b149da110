//! SP-initiated Single Logout (SAML Profiles 4.4, Core 3.7): an SP sends a `LogoutRequest`
//! (HTTP-Redirect or HTTP-POST); we end the portal sessions its session came from and answer
//! with a signed `LogoutResponse` at the SP's SingleLogoutService.
//!
//! Profiles 4.4.4.1: the request must be authenticated, so it must be signed (the query
//! signature for HTTP-Redirect, an enveloped one for HTTP-POST) with a certificate from the
//! SP's metadata; an SP registered without metadata cannot log out this way. The request ID
//! goes through the same replay cache as AuthnRequests.
//!
//! Profiles 4.4.3.2: the *other* SPs of the ended sessions are told first, over the front
//! channel (the journey of `super::propagate`), and the requester's LogoutResponse is the
//! journey's last step, whichever binding it takes it by (a signed query for HTTP-Redirect,
//! an auto-posted form with an enveloped signature for HTTP-POST).
//!
//! The other direction — the portal's logout telling every SP — is `super::propagate`.

use kakehashi_saml::binding::post::decode_post;
use kakehashi_saml::binding::redirect::{decode_redirect, encode_redirect};
use kakehashi_saml::binding::MessageParam;
use kakehashi_saml::dsig::{verify_enveloped, AlgorithmPolicy};
use kakehashi_saml::ids::OsRng;
use kakehashi_saml::logout::{parse_logout_request, LogoutRequest, LogoutResponse};
use kakehashi_saml::{Binding, SamlError, SamlId, SignatureError, StatusCode};
use kakehashi_store::saml as stored;
use kakehashi_store::{audit, sessions, StoreError};

use super::propagate::{Finish, PostAnswer, SpSession};
use super::sso::{refuse, Idp, PostToSp, RefusalKind, SsoOutcome, CLOCK_SKEW, MAX_REQUEST_AGE};
use super::{keys, IdpUrls, SamlIdpError, ServiceProvider};
use crate::portal::session::PortalSession;

/// A LogoutRequest as it arrived.
#[derive(Clone, Copy, Debug)]
pub enum LogoutIncoming<'a> {
    Redirect {
        raw_query: &'a str,
    },
    Post {
        saml_request: &'a str,
        relay_state: Option<&'a str>,
    },
}

/// What the browser is sent next.
#[derive(Clone, Debug)]
pub enum LogoutOutcome {
    /// 303 to the SP's SingleLogoutService with the signed LogoutResponse in the query.
    Redirect {
        location: String,
        ended_cookie_session: bool,
    },
    /// POST the LogoutResponse to the SP.
    Post {
        post: PostToSp,
        ended_cookie_session: bool,
    },
    /// The SP has no SingleLogoutService: show "signed out".
    SignedOut { ended_cookie_session: bool },
    /// Refused (error page); nothing was ended.
    Refused(super::sso::Refusal),
}

fn refused(o: SsoOutcome) -> LogoutOutcome {
    match o {
        SsoOutcome::Refused(r) => LogoutOutcome::Refused(r),
        // `refuse` only ever returns a refusal.
        _ => LogoutOutcome::Refused(super::sso::Refusal {
            kind: RefusalKind::Malformed,
            detail: "refused".into(),
        }),
    }
}

/// Decodes, authenticates and checks a LogoutRequest against the SP's metadata.
fn authenticate(
    incoming: LogoutIncoming<'_>,
    sp: &ServiceProvider,
) -> Result<(LogoutRequest, Option<String>), SamlError> {
    let certs = &sp.metadata.signing_certificates;
    let policy = AlgorithmPolicy::default();
    match incoming {
        LogoutIncoming::Redirect { raw_query } => {
            let msg = decode_redirect(raw_query)?;
            if msg.param != MessageParam::Request {
                return Err(SamlError::Parameter("SAMLRequest expected".into()));
            }
            msg.verify_signature(certs, &policy)?;
            Ok((parse_logout_request(&msg.xml)?, msg.relay_state.clone()))
        }
        LogoutIncoming::Post {
            saml_request,
            relay_state,
        } => {
            let xml = decode_post(saml_request)?;
            {
                let doc = kakehashi_saml::xml::parse::parse(&xml)?;
                verify_enveloped(doc.root_element(), certs, &policy)?;
            }
            Ok((parse_logout_request(&xml)?, relay_state.map(str::to_owned)))
        }
    }
}

/// The Issuer of a LogoutRequest, read before anything is trusted (to find the SP).
fn issuer_of(incoming: LogoutIncoming<'_>) -> Result<String, SamlError> {
    let xml = match incoming {
        LogoutIncoming::Redirect { raw_query } => decode_redirect(raw_query)?.xml,
        LogoutIncoming::Post { saml_request, .. } => decode_post(saml_request)?,
    };
    Ok(parse_logout_request(&xml)?.issuer)
}

/// Handles an SP's LogoutRequest.
pub async fn receive_logout(
    idp: &Idp<'_>,
    incoming: LogoutIncoming<'_>,
    cookie_session: Option<&PortalSession>,
) -> Result<LogoutOutcome, SamlIdpError> {
    let issuer = match issuer_of(incoming) {
        Ok(i) => i,
        Err(e) => {
            return Ok(refused(
                refuse(idp, None, RefusalKind::Malformed, e.to_string()).await?,
            ))
        }
    };
    let Some(sp) = super::service_provider_by_entity_id(idp.store, idp.tenant, &issuer).await?
    else {
        return Ok(refused(
            refuse(
                idp,
                None,
                RefusalKind::UnknownSp,
                format!("no service provider {issuer:?}"),
            )
            .await?,
        ));
    };
    let untrusted =
        |detail: String| refuse(idp, Some(sp.entity_id()), RefusalKind::Untrusted, detail);
    let (req, relay_state) = match authenticate(incoming, &sp) {
        Ok(r) => r,
        Err(SamlError::Signature(SignatureError::Missing)) => {
            return Ok(refused(
                untrusted("a LogoutRequest must be signed (SAML Profiles 4.4.4.1)".into()).await?,
            ))
        }
        Err(e) => return Ok(refused(untrusted(e.to_string()).await?)),
    };
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    let now = idp.clock.now();
    // Core 3.2.1 Destination; Core 3.7.1 NotOnOrAfter; our request age window.
    if req
        .destination
        .as_deref()
        .is_some_and(|d| d != urls.slo_url)
    {
        return Ok(refused(
            untrusted("Destination is not this IdP's SLO endpoint".into()).await?,
        ));
    }
    let t = req.issue_instant;
    if t > now + CLOCK_SKEW
        || t < now - MAX_REQUEST_AGE - CLOCK_SKEW
        || req.not_on_or_after.is_some_and(|n| n <= now - CLOCK_SKEW)
    {
        return Ok(refused(
            untrusted("the LogoutRequest is outside its time window".into()).await?,
        ));
    }
    let expires = (t + MAX_REQUEST_AGE + CLOCK_SKEW).unix_timestamp();
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
        return Ok(refused(
            refuse(
                idp,
                Some(sp.entity_id()),
                RefusalKind::Replay,
                format!("LogoutRequest ID {} was already used", req.id.as_str()),
            )
            .await?,
        ));
    }
    // The SP names its own sessions only: SessionIndexes of this app and this NameID.
    let ended_sessions = stored::sp_sessions_for_logout(
        idp.store,
        idp.tenant,
        &sp.app.id,
        &req.name_id.value,
        &req.session_indexes,
    )
    .await?;
    let mut portal_hashes: Vec<String> = ended_sessions
        .iter()
        .map(|s| s.portal_session_hash.clone())
        .collect();
    portal_hashes.sort();
    portal_hashes.dedup();
    // Profiles 4.4.3.2 / 4.4.4: the IdP tells the *other* SPs of those sessions before it
    // answers the requester (front channel, the journey of `propagate`).
    let others =
        super::propagate::sessions_to_tell(idp.store, idp.tenant, &portal_hashes, Some(&sp.app.id))
            .await?;
    let at = idp.clock.now_text();
    let mut tx = idp.store.begin().await?;
    let mut ended = 0;
    for h in &portal_hashes {
        if sessions::delete(&mut tx, idp.tenant, h).await? {
            ended += 1;
            // The OIDC apps of that session end too: tokens revoked, Back-Channel Logout
            // Tokens queued, as at the portal's own logout.
            if let Some(user) = ended_sessions.iter().find(|s| &s.portal_session_hash == h) {
                crate::oauth::logout::end_session_tokens_in(
                    &mut tx,
                    idp.store,
                    idp.clock,
                    idp.tenant,
                    h,
                    &user.user_sourced_id,
                )
                .await?;
            }
        }
        stored::delete_sp_sessions_of(&mut tx, idp.tenant, h).await?;
    }
    audit::append(
        &mut tx,
        idp.store.backend(),
        Some(idp.tenant),
        &at,
        &audit::Event {
            actor: format!("saml-sp:{}", sp.entity_id()),
            action: "saml.slo".into(),
            target: format!("app:{}", sp.app.id),
            details: serde_json::json!({
                "sp": sp.entity_id(), "id": req.id.as_str(),
                "sessionIndexes": req.session_indexes, "portalSessionsEnded": ended,
                "users": ended_sessions.iter().map(|s| s.user_sourced_id.clone()).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let ended_cookie_session = cookie_session.is_some_and(|s| portal_hashes.contains(&s.id_hash));

    let slo = &sp.metadata.single_logout_services;
    let endpoint = slo
        .iter()
        .find(|e| e.binding == Binding::HttpRedirect.uri())
        .or_else(|| slo.iter().find(|e| e.binding == Binding::HttpPost.uri()));
    let user = ended_sessions
        .first()
        .map(|s| s.user_sourced_id.clone())
        .unwrap_or_default();
    let Some(endpoint) = endpoint else {
        // Nowhere to answer: the other SPs are still told, then "signed out".
        return Ok(
            match tell_others_first(idp, &user, others, Finish::SignedOut).await? {
                Some(location) => LogoutOutcome::Redirect {
                    location,
                    ended_cookie_session,
                },
                None => LogoutOutcome::SignedOut {
                    ended_cookie_session,
                },
            },
        );
    };
    let destination = endpoint
        .response_location
        .clone()
        .unwrap_or_else(|| endpoint.location.clone());
    if endpoint.binding != Binding::HttpRedirect.uri() {
        // HTTP-POST: the other SPs first too; the journey's last step is the auto-posted
        // LogoutResponse (Bindings 3.5.4), signed when it is sent.
        let answer = PostAnswer {
            destination,
            in_response_to: req.id.as_str().to_owned(),
            relay_state,
        };
        let finish = Finish::PostResponse(answer.clone());
        return Ok(match tell_others_first(idp, &user, others, finish).await? {
            Some(location) => LogoutOutcome::Redirect {
                location,
                ended_cookie_session,
            },
            None => LogoutOutcome::Post {
                post: signed_post_response(
                    idp,
                    answer.destination,
                    &answer.in_response_to,
                    answer.relay_state,
                )
                .await?,
                ended_cookie_session,
            },
        });
    }
    let response = success_response(idp, &urls, destination.clone(), req.id.as_str());
    let key = keys::signing_key(idp.store, idp.master, idp.clock, idp.tenant).await?;
    // Bindings 3.4.4.1: the query is signed, the XML is not.
    let query = encode_redirect(
        MessageParam::Response,
        &response.to_xml(None)?,
        relay_state.as_deref(),
        Some(&key),
    )?;
    let sep = if destination.contains('?') { '&' } else { '?' };
    let answer = format!("{destination}{sep}{query}");
    // The other SPs first; the journey's last step is this answer.
    let finish = Finish::Redirect(answer.clone());
    Ok(LogoutOutcome::Redirect {
        location: tell_others_first(idp, &user, others, finish)
            .await?
            .unwrap_or(answer),
        ended_cookie_session,
    })
}

/// Stores the journey that tells `others` and then ends as `finish` says (Profiles 4.4.3.2);
/// answers where the browser goes first, or `None` when there is no other SP to tell.
async fn tell_others_first(
    idp: &Idp<'_>,
    user: &str,
    others: Vec<SpSession>,
    finish: Finish,
) -> Result<Option<String>, SamlIdpError> {
    let mut tx = idp.store.begin().await?;
    let journey = super::propagate::start_journey(
        &mut tx, idp.store, idp.clock, idp.tenant, user, others, finish,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(journey.map(|j| format!("/t/{}/saml/slo/next?journey={j}", idp.tenant)))
}

/// Core 3.7.3.2: Success, once the principal's sessions here are ended.
fn success_response(
    idp: &Idp<'_>,
    urls: &IdpUrls,
    destination: String,
    in_response_to: &str,
) -> LogoutResponse {
    LogoutResponse {
        id: SamlId::random(&mut OsRng),
        issue_instant: idp.clock.now(),
        idp_entity_id: urls.entity_id.clone(),
        destination,
        in_response_to: in_response_to.to_owned(),
        status: StatusCode::Success,
        sub_status: None,
    }
}

/// The LogoutResponse for HTTP-POST (Bindings 3.5): Success, with an enveloped signature.
pub(crate) async fn signed_post_response(
    idp: &Idp<'_>,
    destination: String,
    in_response_to: &str,
    relay_state: Option<String>,
) -> Result<PostToSp, SamlIdpError> {
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    let response = success_response(idp, &urls, destination.clone(), in_response_to);
    let key = keys::signing_key(idp.store, idp.master, idp.clock, idp.tenant).await?;
    Ok(PostToSp {
        acs_url: destination,
        xml: response.to_xml(Some(&key))?,
        relay_state,
        status: StatusCode::Success,
    })
}

//! Issuing a successful Response (SAML Core 3.3.3, 2.3.3; Profiles 4.1.4.2): the NameID of the
//! user at this SP, the released attributes, what to sign, the SessionIndex recorded for Single
//! Logout, and the audit row, written in one transaction.

use kakehashi_saml::ids::OsRng;
use kakehashi_saml::response::{
    build_response, AuthnStatement, NameId, SignaturePlacement, SuccessResponse,
};
use kakehashi_saml::{NameIdFormat, SamlId, StatusCode};
use kakehashi_store::roster;
use kakehashi_store::saml::{self as stored, SpSessionRow};
use kakehashi_store::{audit, StoreError};
use time::Duration;

use super::settings::NameIdChoice;
use super::sso::{instant, performed_class, Idp, PostToSp, ASSERTION_LIFETIME};
use super::{attributes, keys, IdpUrls, SamlIdpError, ServiceProvider};
use crate::portal::session::PortalSession;

/// The NameID of the session's user at this SP.
async fn name_id(
    idp: &Idp<'_>,
    sp: &ServiceProvider,
    session: &PortalSession,
    idp_entity_id: &str,
) -> Result<NameId, SamlIdpError> {
    let user = &session.user;
    Ok(match sp.settings.name_id {
        NameIdChoice::Username => NameId {
            value: user.username.clone(),
            format: NameIdFormat::Unspecified,
            name_qualifier: None,
            sp_name_qualifier: None,
        },
        NameIdChoice::Persistent => {
            let umi = user
                .user_master_identifier
                .clone()
                .filter(|_| sp.app.subject_type == "user-master-identifier");
            let value = match umi {
                Some(v) => v,
                None => {
                    let fresh = SamlId::random(&mut OsRng);
                    stored::name_id(
                        idp.store,
                        idp.tenant,
                        sp.entity_id(),
                        &user.sourced_id,
                        fresh.as_str().trim_start_matches('_'),
                        &idp.clock.now_text(),
                    )
                    .await?
                }
            };
            // SAML Core 8.3.7: qualified by both entity ids.
            NameId {
                value,
                format: NameIdFormat::Persistent,
                name_qualifier: Some(idp_entity_id.to_owned()),
                sp_name_qualifier: Some(sp.entity_id().to_owned()),
            }
        }
    })
}

/// Builds, signs, records and audits a successful Response.
pub(super) async fn issue(
    idp: &Idp<'_>,
    sp: &ServiceProvider,
    session: &PortalSession,
    acs_url: &str,
    in_response_to: Option<&str>,
    relay_state: Option<String>,
    binding: &str,
) -> Result<PostToSp, SamlIdpError> {
    let key = keys::signing_key(idp.store, idp.master, idp.clock, idp.tenant).await?;
    let urls = IdpUrls::of(idp.public_url, idp.tenant);
    let now = idp.clock.now();
    let name_id = name_id(idp, sp, session, &urls.entity_id).await?;
    let memberships =
        roster::memberships_of(idp.store, idp.tenant, &session.user.sourced_id).await?;
    let attributes = attributes::release(&sp.settings.attributes, &session.user, &memberships);
    // An SP whose metadata says WantAssertionsSigned always gets a signed Assertion.
    let signature = match sp.settings.sign {
        SignaturePlacement::Response if sp.metadata.want_assertions_signed => {
            SignaturePlacement::Both
        }
        s => s,
    };
    let policy = crate::mfa::policy::load(idp.store, idp.tenant).await?;
    let class = performed_class(&super::sso::current_amr(session, &policy, idp.clock.now()));
    let session_index = SamlId::random(&mut OsRng);
    let response = SuccessResponse {
        response_id: SamlId::random(&mut OsRng),
        assertion_id: SamlId::random(&mut OsRng),
        issue_instant: now,
        idp_entity_id: urls.entity_id.clone(),
        sp_entity_id: sp.entity_id().to_owned(),
        acs_url: acs_url.to_owned(),
        in_response_to: in_response_to.map(str::to_owned),
        name_id: name_id.clone(),
        not_before: now - Duration::minutes(1),
        not_on_or_after: now + ASSERTION_LIFETIME,
        authn: AuthnStatement {
            authn_instant: instant(&session.auth_time).unwrap_or(now),
            session_index: session_index.as_str().to_owned(),
            session_not_on_or_after: None,
            class: class.clone(),
        },
        attributes: attributes.clone(),
        signature,
    };
    let xml = build_response(&response, &key)?;
    let at = idp.clock.now_text();
    let mut tx = idp.store.begin().await?;
    stored::insert_sp_session(
        &mut tx,
        idp.tenant,
        &SpSessionRow {
            session_index: session_index.as_str().to_owned(),
            portal_session_hash: session.id_hash.clone(),
            app_id: sp.app.id.clone(),
            user_sourced_id: session.user.sourced_id.clone(),
            name_id: name_id.value.clone(),
            created_at: at.clone(),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        idp.store.backend(),
        Some(idp.tenant),
        &at,
        &audit::Event {
            actor: format!("user:{}/{}", idp.tenant, session.user.sourced_id),
            action: "saml.sso".into(),
            target: format!("app:{}", sp.app.id),
            details: serde_json::json!({
                "sp": sp.entity_id(),
                "initiated": if in_response_to.is_some() { "sp" } else { "idp" },
                "binding": binding,
                "inResponseTo": in_response_to,
                "responseId": response.response_id.as_str(),
                "assertionId": response.assertion_id.as_str(),
                "nameIdFormat": name_id.format.uri(),
                "authnContext": class.uri(),
                "signed": super::settings::placement_str(signature),
                "attributes": attributes.iter().map(|a| a.friendly_name.clone()).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(PostToSp {
        acs_url: acs_url.to_owned(),
        xml,
        relay_state,
        status: StatusCode::Success,
    })
}

//! Deep Linking 2.0 responses: the tool's `LtiDeepLinkingResponse` JWT, POSTed by the
//! teacher's browser, is verified against the tool's keys (signature, `iss`, `aud`, `exp`,
//! `nonce` once, `deployment_id`, the `data` we sent) and its `ltiResourceLink` items become
//! resource links of the class, launchable by its members.

use kakehashi_lti::deep_linking::{check_response, Expected};
use kakehashi_oidc::jose;
use kakehashi_oidc::Algorithm;
use kakehashi_store::lti::{self as stored, LineItemRow, ResourceLinkRow};
use kakehashi_store::{audit, StoreError};
use serde_json::Value;

use super::keys::{tool_keys, JwksFetch};
use super::launch::tool_of;
use super::{hash, LtiServiceError, DEEP_LINK_SESSION};
use crate::oauth::Provider;

/// What was added.
#[derive(Clone, Debug, PartialEq)]
pub struct Added {
    pub class_sourced_id: String,
    pub tool_name: String,
    pub links: Vec<ResourceLinkRow>,
    pub msg: Option<String>,
    pub errormsg: Option<String>,
}

/// Why a response was refused (shown to the teacher, audited).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the response is not a JWT: {0}")]
    Malformed(String),
    #[error("the response names no tool of this platform")]
    UnknownTool,
    #[error("the signature does not verify with the tool's keys: {0}")]
    Signature(String),
    #[error("the response does not answer a deep linking request of this platform (data), or was already used")]
    UnknownRequest,
    #[error("{0}")]
    Claims(String),
    #[error("the nonce has already been used")]
    NonceReplayed,
}

/// Receives a response JWT.
pub async fn receive(
    p: &Provider<'_>,
    jwt: &str,
    fetch: &dyn JwksFetch,
) -> Result<Result<Added, Refused>, LtiServiceError> {
    let payload = match jose::decode_unverified(jwt) {
        Ok((_, payload)) => payload,
        Err(e) => return Ok(Err(Refused::Malformed(e.to_string()))),
    };
    let unverified: Value = match serde_json::from_slice(&payload) {
        Ok(v) => v,
        Err(e) => return Ok(Err(Refused::Malformed(e.to_string()))),
    };
    let Some(client_id) = unverified.get("iss").and_then(Value::as_str) else {
        return Ok(Err(Refused::UnknownTool));
    };
    let Some((app, tool)) = tool_of(p, client_id).await? else {
        return Ok(Err(Refused::UnknownTool));
    };
    let keys = tool_keys(&tool, fetch).await?;
    // Security Framework 6.1: tools sign with RS256.
    let verified = match jose::verify(jwt, &keys, &[Algorithm::RS256]) {
        Ok(v) => v,
        Err(e) => return Ok(Err(Refused::Signature(e.to_string()))),
    };
    let claims: Value = match verified.claims() {
        Ok(c) => c,
        Err(e) => return Ok(Err(Refused::Malformed(e.to_string()))),
    };
    let Some(data) = claims
        .get(kakehashi_lti::claims::DL_DATA)
        .and_then(Value::as_str)
    else {
        return Ok(Err(Refused::UnknownRequest));
    };
    let now = p.clock.now().unix_timestamp();
    let mut tx = p.store.begin().await?;
    let Some(launch) =
        stored::finish_deep_link(&mut tx, p.tenant, &hash(data), now, DEEP_LINK_SESSION).await?
    else {
        return Ok(Err(Refused::UnknownRequest));
    };
    if launch.app_id != app.id {
        return Ok(Err(Refused::UnknownRequest));
    }
    let Some(class) = launch.class_sourced_id.clone() else {
        return Ok(Err(Refused::UnknownRequest));
    };
    let response = match check_response(
        &claims,
        &Expected {
            client_id: &app.id,
            platform_issuer: p.issuer.as_str(),
            deployment_id: &launch.deployment_id,
            now,
            leeway: 30,
            max_lifetime: 3600,
        },
    ) {
        Ok(r) => r,
        Err(e) => return Ok(Err(Refused::Claims(e.to_string()))),
    };
    if !stored::first_nonce_use(
        &mut tx,
        p.tenant,
        &app.id,
        &response.nonce,
        now + 86_400,
        now,
    )
    .await?
    {
        return Ok(Err(Refused::NonceReplayed));
    }
    let at = p.clock.now_text();
    let mut links = Vec::new();
    for item in &response.items {
        let link = ResourceLinkRow {
            id: uuid::Uuid::new_v4().to_string(),
            app_id: app.id.clone(),
            deployment_id: launch.deployment_id.clone(),
            class_sourced_id: class.clone(),
            title: item.title.clone(),
            description: item.text.clone(),
            url: item.url.clone(),
            custom: Value::Object(item.custom.clone()).to_string(),
            created_by: launch.user_sourced_id.clone(),
            created_at: at.clone(),
        };
        stored::insert_resource_link(&mut tx, p.tenant, &link).await?;
        if let Some(li) = &item.line_item {
            // DL 2.0 §3.1.1: a line item bound to the new resource link.
            stored::insert_line_item(
                &mut tx,
                p.tenant,
                &LineItemRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    app_id: app.id.clone(),
                    class_sourced_id: class.clone(),
                    label: li.label.clone().unwrap_or_else(|| item.title.clone()),
                    score_maximum: li.score_maximum.to_string(),
                    resource_id: li.resource_id.clone(),
                    tag: li.tag.clone(),
                    resource_link_id: Some(link.id.clone()),
                    start_date_time: None,
                    end_date_time: None,
                    created_at: at.clone(),
                },
            )
            .await?;
        }
        links.push(link);
    }
    audit::append(
        &mut tx,
        p.store.backend(),
        Some(p.tenant),
        &at,
        &audit::Event {
            actor: format!("user:{}/{}", p.tenant, launch.user_sourced_id),
            action: "lti.deep_link".into(),
            target: format!("class:{class}"),
            details: serde_json::json!({
                "tool": app.id,
                "links": links.iter().map(|l| &l.id).collect::<Vec<_>>(),
                "ignoredTypes": response.ignored_types,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Ok(Added {
        class_sourced_id: class,
        tool_name: app.name,
        links,
        msg: response.msg,
        errormsg: response.errormsg,
    }))
}

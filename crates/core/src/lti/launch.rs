//! Launching a tool: the platform's login initiation ([`start`]) and its answer to the tool's
//! authentication request ([`authenticate`]): a signed `id_token` POSTed to the tool.

use kakehashi_lti::claims::{
    Context, Launch, MessageType, PersonClaims, Platform, ResourceLink, Services,
};
use kakehashi_lti::login::{check_auth_request, AuthError, LoginInitiation};
use kakehashi_lti::{roles, services as svc};
use kakehashi_oidc::params::Params;
use kakehashi_oidc::Algorithm;
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::lti::{self as stored, DeploymentRow, LaunchRow, ToolRow};
use kakehashi_store::roster::{self, MembershipRow, UserRow};
use kakehashi_store::{audit, StoreError};
use serde_json::{Map, Value};

use super::{hash, subject, Endpoints, LtiServiceError, ID_TOKEN_LIFETIME, LAUNCH_HINT_LIFETIME};
use crate::oauth::Provider;
use crate::portal::session::PortalSession;

/// What is launched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The launcher's tile: the tool's launch URL, in `class` when the user chose one; else
    /// in the user's only class, or a pupil's one homeroom (学級); with several classes and
    /// no such default the launch asks which ([`Refused::ChooseClass`]).
    Tile { class: Option<String> },
    /// A resource link placed in a class (by Deep Linking).
    Link(String),
    /// A teacher choosing content for a class (Deep Linking 2.0).
    DeepLinking { class: String },
}

/// Why a launch cannot start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this tool has no deployment for the user's school or tenant")]
    NoDeployment,
    #[error("the user is not a member of that class")]
    NotMember,
    #[error("only the class's teachers may add content")]
    NotInstructor,
    #[error("no such resource link")]
    UnknownLink,
    #[error("this app is not an LTI tool")]
    NotLti,
    /// The user has several classes: which one is the launch's context? (class id, title)
    #[error("choose the class to open the tool in")]
    ChooseClass(Vec<(String, String)>),
}

/// Loads an LTI tool's app and settings.
pub(crate) async fn tool_of(
    p: &Provider<'_>,
    app_id: &str,
) -> Result<Option<(AppRow, ToolRow)>, LtiServiceError> {
    let Some(app) = identity::get_app(p.store, p.tenant, app_id).await? else {
        return Ok(None);
    };
    if app.protocol != "lti" {
        return Ok(None);
    }
    Ok(stored::get_tool(p.store, p.tenant, app_id)
        .await?
        .map(|t| (app, t)))
}

/// The deployment for a class's school: a school's own first, else the tenant-wide one.
pub(crate) fn pick_deployment<'d>(
    deployments: &'d [DeploymentRow],
    school: Option<&str>,
) -> Option<&'d DeploymentRow> {
    deployments
        .iter()
        .find(|d| school.is_some() && d.school_sourced_id.as_deref() == school)
        .or_else(|| deployments.iter().find(|d| d.school_sourced_id.is_none()))
}

/// Starts a launch: records it and returns the tool's login URL with the third-party
/// initiated login parameters (Security Framework 5.1.1.1), for a 303 in a new window.
pub async fn start(
    p: &Provider<'_>,
    user: &UserRow,
    app: &AppRow,
    target: Target,
) -> Result<Result<String, Refused>, LtiServiceError> {
    let Some(tool) = stored::get_tool(p.store, p.tenant, &app.id).await? else {
        return Ok(Err(Refused::NotLti));
    };
    let memberships = roster::memberships_of(p.store, p.tenant, &user.sourced_id).await?;
    let member = |class: &str| memberships.iter().find(|m| m.class_sourced_id == class);
    let (message_type, class, link_id, target_link_uri): (_, Option<&MembershipRow>, _, _) =
        match &target {
            Target::Tile { class } => {
                let chosen = match class {
                    Some(c) => match member(c) {
                        Some(m) => Some(m),
                        None => return Ok(Err(Refused::NotMember)),
                    },
                    None => match tile_class(p, user, &memberships).await? {
                        Ok(m) => m,
                        Err(choices) => return Ok(Err(Refused::ChooseClass(choices))),
                    },
                };
                (
                    MessageType::ResourceLink,
                    chosen,
                    None,
                    tool.launch_url.clone(),
                )
            }
            Target::Link(id) => {
                let Some(link) = stored::get_resource_link(p.store, p.tenant, id).await? else {
                    return Ok(Err(Refused::UnknownLink));
                };
                if link.app_id != app.id {
                    return Ok(Err(Refused::UnknownLink));
                }
                let Some(m) = member(&link.class_sourced_id) else {
                    return Ok(Err(Refused::NotMember));
                };
                (
                    MessageType::ResourceLink,
                    Some(m),
                    Some(link.id.clone()),
                    link.url.clone().unwrap_or_else(|| tool.launch_url.clone()),
                )
            }
            Target::DeepLinking { class } => {
                let Some(m) = member(class) else {
                    return Ok(Err(Refused::NotMember));
                };
                if !roles::is_instructor(&m.role) {
                    return Ok(Err(Refused::NotInstructor));
                }
                (
                    MessageType::DeepLinking,
                    Some(m),
                    None,
                    tool.deep_linking_url
                        .clone()
                        .unwrap_or_else(|| tool.launch_url.clone()),
                )
            }
        };
    let deployments = stored::deployments_of(p.store, p.tenant, &app.id).await?;
    let Some(deployment) =
        pick_deployment(&deployments, class.map(|m| m.school_sourced_id.as_str()))
    else {
        return Ok(Err(Refused::NoDeployment));
    };
    let salt = crate::oauth::profile::salt(p).await?;
    let hint = crate::oauth::random_value();
    let now = p.clock.now().unix_timestamp();
    let row = LaunchRow {
        hint_hash: hash(&hint),
        app_id: app.id.clone(),
        deployment_id: deployment.deployment_id.clone(),
        user_sourced_id: user.sourced_id.clone(),
        message_type: message_type.as_str().to_owned(),
        class_sourced_id: class.map(|m| m.class_sourced_id.clone()),
        resource_link_id: link_id,
        target_link_uri: target_link_uri.clone(),
        expires_at: now + LAUNCH_HINT_LIFETIME,
    };
    // A pure write: it joins other requests' writes in one transaction (group commit).
    p.store
        .group_write((p.tenant.clone(), row), |(tenant, row), batch| {
            Box::pin(async move { stored::insert_launch(batch.conn(), tenant, row).await })
        })
        .await?;
    let url = LoginInitiation {
        iss: p.issuer.as_str().to_owned(),
        login_hint: subject(&app.subject_type, &app.id, user, &salt),
        target_link_uri,
        lti_message_hint: hint,
        client_id: app.id.clone(),
        lti_deployment_id: deployment.deployment_id.clone(),
    }
    .url(&tool.login_url)
    .map_err(|e| LtiServiceError::BadTool {
        app_id: app.id.clone(),
        detail: format!("login URL: {e}"),
    })?;
    Ok(Ok(url))
}

/// The answer to an authentication request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The client or redirect URI is not trusted: an error page, never a redirect
    /// (OIDC Core 3.1.2.6).
    ShowError(String),
    /// A form POST to the tool's redirect URI: `id_token` and `state`, or an error.
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

fn error_post(redirect_uri: &str, state: Option<&str>, code: &str, desc: &str) -> AuthOutcome {
    let mut fields = vec![
        ("error".to_owned(), code.to_owned()),
        ("error_description".to_owned(), desc.to_owned()),
    ];
    if let Some(s) = state {
        fields.push(("state".to_owned(), s.to_owned()));
    }
    AuthOutcome::FormPost {
        action: redirect_uri.to_owned(),
        fields,
    }
}

/// The class of a tile launch without a chosen class: none or the only one; a pupil's one
/// homeroom (classType `homeroom`) among several; otherwise the classes to choose from
/// (id, title), by title.
async fn tile_class<'m>(
    p: &Provider<'_>,
    user: &UserRow,
    memberships: &'m [MembershipRow],
) -> Result<Result<Option<&'m MembershipRow>, Vec<(String, String)>>, LtiServiceError> {
    let mut distinct: Vec<&MembershipRow> = Vec::new();
    for m in memberships {
        if !distinct
            .iter()
            .any(|d| d.class_sourced_id == m.class_sourced_id)
        {
            distinct.push(m);
        }
    }
    if distinct.len() <= 1 {
        return Ok(Ok(distinct.first().copied()));
    }
    let mut choices = Vec::with_capacity(distinct.len());
    let mut homerooms = Vec::new();
    for m in &distinct {
        let fields = kakehashi_store::oauth::roster_fields(
            p.store,
            p.tenant,
            "classes",
            &m.class_sourced_id,
        )
        .await?
        .unwrap_or_default();
        let field = |k: &str| kakehashi_store::console::field_of(&fields, k);
        if field("classType").as_deref() == Some("homeroom") {
            homerooms.push(*m);
        }
        let title = field("title").unwrap_or_else(|| m.class_sourced_id.clone());
        choices.push((m.class_sourced_id.clone(), title));
    }
    let pupil =
        crate::portal::policy::RoleClass::of(&user.role) == crate::portal::policy::RoleClass::Pupil;
    if pupil && homerooms.len() == 1 {
        return Ok(Ok(Some(homerooms[0])));
    }
    choices.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    Ok(Err(choices))
}

/// The class's title and label (classes.csv `title`, `classCode`).
pub(crate) async fn context_of(p: &Provider<'_>, class: &str) -> Result<Context, LtiServiceError> {
    let fields = kakehashi_store::oauth::roster_fields(p.store, p.tenant, "classes", class).await?;
    let field = |name: &str| -> Option<String> {
        let pairs: Vec<(String, String)> = serde_json::from_str(fields.as_deref()?).ok()?;
        pairs
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
    };
    let title = field("title").unwrap_or_else(|| class.to_owned());
    Ok(Context {
        id: class.to_owned(),
        label: field("classCode").unwrap_or_else(|| title.clone()),
        title,
    })
}

/// Answers the tool's authentication request (Security Framework 5.1.1.2–5.1.1.5).
pub async fn authenticate(
    p: &Provider<'_>,
    params: &Params,
    session: Option<&PortalSession>,
) -> Result<AuthOutcome, LtiServiceError> {
    let tool = match params.get("client_id") {
        Some(c) => tool_of(p, c).await?,
        None => None,
    };
    let redirect_uris = tool
        .as_ref()
        .map(|(a, _)| a.redirect_uris.clone())
        .unwrap_or_default();
    let known = |c: &str| tool.as_ref().is_some_and(|(a, _)| a.id == c);
    let req = match check_auth_request(|k| params.get(k), known, &redirect_uris) {
        Ok(r) => r,
        Err(e) if !e.redirectable() => return Ok(AuthOutcome::ShowError(e.to_string())),
        Err(e) => {
            let redirect = params.get("redirect_uri").unwrap_or_default();
            return Ok(error_post(
                redirect,
                params.get("state"),
                e.code(),
                &e.to_string(),
            ));
        }
    };
    let Some((app, tool)) = tool else {
        return Ok(AuthOutcome::ShowError(
            AuthError::UnknownClient(req.client_id).to_string(),
        ));
    };
    let state = req.state.as_deref();
    let refuse = |code: &str, desc: &str| Ok(error_post(&req.redirect_uri, state, code, desc));
    // OIDC Core 3.1.2.6: prompt=none and nobody signed in.
    let Some(session) = session else {
        return refuse("login_required", "nobody is signed in to the portal");
    };
    let user = &session.user;
    let keys = crate::oauth::keyring_set(p).await?;
    let salt = crate::oauth::profile::salt(p).await?;
    let sub = subject(&app.subject_type, &app.id, user, &salt);
    if req.login_hint != sub {
        return refuse(
            "invalid_request",
            "login_hint does not match the signed-in user",
        );
    }
    let now = p.clock.now().unix_timestamp();
    let mut tx = p.store.begin().await?;
    let Some(launch) =
        stored::consume_launch(&mut tx, p.tenant, &hash(&req.lti_message_hint), now).await?
    else {
        drop(tx);
        return refuse(
            "invalid_request",
            "lti_message_hint is unknown, expired or already used",
        );
    };
    if launch.app_id != app.id || launch.user_sourced_id != user.sourced_id {
        drop(tx);
        return refuse(
            "invalid_request",
            "lti_message_hint was issued for another tool or user",
        );
    }
    // OIDC Core 3.1.2.1 / 15.5.2: a nonce binds one ID token; a replayed one is refused.
    if !stored::first_nonce_use(&mut tx, p.tenant, &app.id, &req.nonce, now + 86_400, now).await? {
        drop(tx);
        return refuse("invalid_request", "nonce has already been used");
    }
    // The hint and the nonce are spent and the launch audited in one short transaction; the
    // claims are read and the token signed after it, so SQLite's writer is not held while
    // RSA signs (40 concurrent launches queued behind each other's signatures).
    audit::append(
        &mut tx,
        p.store.backend(),
        Some(p.tenant),
        &p.clock.now_text(),
        &audit::Event {
            actor: format!("user:{}/{}", p.tenant, user.sourced_id),
            action: "lti.launch".into(),
            target: format!("app:{}", app.id),
            details: serde_json::json!({
                "messageType": launch.message_type, "deploymentId": launch.deployment_id,
                "class": launch.class_sourced_id, "resourceLink": launch.resource_link_id,
                "name": tool.send_name, "email": tool.send_email,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let message_type =
        MessageType::parse(&launch.message_type).unwrap_or(MessageType::ResourceLink);
    let endpoints = Endpoints::new(p.issuer.as_str());
    let (context, enrollment_role) = match &launch.class_sourced_id {
        Some(class) => {
            let role = roster::memberships_of(p.store, p.tenant, &user.sourced_id)
                .await?
                .into_iter()
                .find(|m| &m.class_sourced_id == class)
                .map(|m| m.role);
            (Some(context_of(p, class).await?), role)
        }
        None => (None, None),
    };
    let mut custom: Map<String, Value> = serde_json::from_str(&tool.custom).unwrap_or_default();
    let mut resource_link = None;
    if message_type == MessageType::ResourceLink {
        let (id, title) = match &launch.resource_link_id {
            Some(id) => {
                let link = stored::get_resource_link(p.store, p.tenant, id).await?;
                if let Some(l) = &link {
                    let extra: Map<String, Value> =
                        serde_json::from_str(&l.custom).unwrap_or_default();
                    custom.extend(extra);
                }
                (id.clone(), link.map(|l| l.title))
            }
            // The launcher tile: one stable link per tool and class.
            None => (
                format!(
                    "tile-{}",
                    &hash(&format!(
                        "{}|{}",
                        app.id,
                        launch.class_sourced_id.as_deref().unwrap_or("")
                    ))[..32]
                ),
                Some(app.name.clone()),
            ),
        };
        resource_link = Some(ResourceLink { id, title });
    }
    let services = match &launch.class_sourced_id {
        Some(class) => Services {
            context_memberships_url: Some(endpoints.memberships(class)),
            lineitems_url: Some(endpoints.line_items(class)),
            lineitem_url: None,
            ags_scopes: svc::AGS_SCOPES.iter().map(|s| s.to_string()).collect(),
        },
        None => Services {
            context_memberships_url: None,
            lineitems_url: None,
            lineitem_url: None,
            ags_scopes: vec![],
        },
    };
    let person = PersonClaims {
        name: tool
            .send_name
            .then(|| format!("{} {}", user.family_name, user.given_name)),
        given_name: tool.send_name.then(|| user.given_name.clone()),
        family_name: tool.send_name.then(|| user.family_name.clone()),
        email: if tool.send_email {
            user.email.clone()
        } else {
            None
        },
    };
    let roles = roles::launch_roles(&user.role, enrollment_role.as_deref());
    // LTI Core 1.3 §5.4.6: `$Variable` custom values, with what this tool may see.
    kakehashi_lti::substitution::substitute(
        &mut custom,
        &kakehashi_lti::substitution::Values {
            user_id: sub.clone(),
            username: tool.send_name.then(|| user.username.clone()),
            name_full: person.name.clone(),
            name_given: person.given_name.clone(),
            name_family: person.family_name.clone(),
            email: person.email.clone(),
            context: context
                .as_ref()
                .map(|c| (c.id.clone(), c.title.clone(), c.label.clone())),
            resource_link: resource_link
                .as_ref()
                .map(|r| (r.id.clone(), r.title.clone())),
            roles: roles.clone(),
            platform_guid: p.issuer.as_str().to_owned(),
        },
    );
    let claims = Launch {
        issuer: p.issuer.as_str().to_owned(),
        client_id: app.id.clone(),
        subject: sub,
        nonce: req.nonce.clone(),
        now,
        lifetime: ID_TOKEN_LIFETIME,
        message_type,
        deployment_id: launch.deployment_id.clone(),
        target_link_uri: launch.target_link_uri.clone(),
        resource_link,
        roles,
        context,
        platform: Platform {
            guid: p.issuer.as_str().to_owned(),
            name: p.tenant.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        locale: "ja-JP".into(),
        return_url: None,
        custom,
        person,
        services,
        deep_link_return_url: (message_type == MessageType::DeepLinking)
            .then(|| endpoints.deep_link_return()),
        deep_link_data: (message_type == MessageType::DeepLinking)
            .then(|| req.lti_message_hint.clone()),
    }
    .claims()
    .map_err(|e| LtiServiceError::BadTool {
        app_id: app.id.clone(),
        detail: e.to_string(),
    })?;
    // Security Framework 6.1: RS256, with the key's `kid` in the header.
    let key = keys
        .current(Algorithm::RS256)
        .map_err(|e| LtiServiceError::Signing(e.to_string()))?;
    let id_token = key
        .sign_json(Some("JWT"), &claims)
        .map_err(|e| LtiServiceError::Signing(e.to_string()))?;
    let mut fields = vec![("id_token".to_owned(), id_token)];
    if let Some(s) = state {
        fields.push(("state".to_owned(), s.to_owned()));
    }
    Ok(AuthOutcome::FormPost {
        action: req.redirect_uri,
        fields,
    })
}

use std::process::ExitCode;

use kakehashi_core::apps::{self, AppError, Icon, NewApp, OidcOptions, Protocol, SamlSource};
use kakehashi_core::saml_idp::settings::{self as saml_settings, NameIdChoice, SpSettings};
use kakehashi_core::{Actor, SystemClock};

use crate::cli::{AppAddArgs, AppCommand, AppSamlSettingsArgs, AppSetArgs, Format};

pub async fn run(cmd: AppCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AppCommand::Add(args) => add(*args).await,
        AppCommand::SamlSettings(args) => saml_settings_cmd(*args).await,
        AppCommand::Set(args) => set(*args).await,
        AppCommand::List {
            data,
            tenant,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let all = match apps::list(&store, &tenant).await {
                Ok(all) => all,
                Err(e) => return user_error(e),
            };
            let settings = match apps::oidc_settings(&store, &tenant).await {
                Ok(s) => s,
                Err(e) => return user_error(e),
            };
            match format {
                Format::Json => {
                    let mut list = Vec::new();
                    for a in &all {
                        let mut v = serde_json::to_value(a)?;
                        if let (Some(obj), Some((_, s))) = (
                            v.as_object_mut(),
                            settings.iter().find(|(id, _)| *id == a.id),
                        ) {
                            obj.insert("oidc".into(), serde_json::to_value(s)?);
                        }
                        if a.protocol == "saml" {
                            if let (Some(obj), Some(s)) = (
                                v.as_object_mut(),
                                saml_settings::stored(&store, &tenant, &a.id).await?,
                            ) {
                                obj.insert("saml".into(), serde_json::to_value(s)?);
                            }
                        }
                        list.push(v);
                    }
                    println!("{}", serde_json::to_string_pretty(&list)?)
                }
                Format::Text => {
                    for a in &all {
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            a.id, a.name, a.protocol, a.security_class, a.audience
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AppCommand::Remove { data, tenant, id } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            match apps::remove(&store, &SystemClock, &Actor::command_line(), &tenant, &id).await {
                Ok(()) => {
                    println!("removed app {id} from tenant {tenant}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => user_error(e),
            }
        }
    }
}

/// `app saml-settings`: changes the given settings of a SAML app, keeps the others.
async fn saml_settings_cmd(a: AppSamlSettingsArgs) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(&a.tenant)?;
    let (_, store) = super::open(&a.data).await?;
    let Some(row) = saml_settings::stored(&store, &tenant, &a.id).await? else {
        eprintln!("error: no app {:?} in tenant {tenant}", a.id);
        return Ok(ExitCode::from(1));
    };
    let mut s = match SpSettings::from_row(&row) {
        Ok(s) => s,
        Err(e) => anyhow::bail!("the stored settings cannot be read: {e}"),
    };
    if let Some(sign) = &a.saml_sign {
        s.sign = parse("saml-sign", saml_settings::parse_placement(sign))?;
    }
    if let Some(n) = &a.saml_name_id {
        s.name_id = parse("saml-name-id", NameIdChoice::parse(n))?;
    }
    if let Some(list) = &a.saml_attributes {
        s.attributes = parse("saml-attributes", SpSettings::parse_attribute_list(list))?;
    }
    if let Some(required) = a.saml_require_signed_requests {
        s.require_signed_requests = required;
    }
    match saml_settings::configure(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &a.id,
        &s,
    )
    .await
    {
        Ok(()) => {
            println!("{}", serde_json::to_string_pretty(&s.to_row())?);
            Ok(ExitCode::SUCCESS)
        }
        Err(kakehashi_core::saml_idp::SamlIdpError::UnknownApp { tenant, id }) => {
            eprintln!("error: no SAML app {id:?} in tenant {tenant}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// `app set`: changes what is given, keeps the rest; the same `apps::update` as the console
/// and `PATCH apps/{id}` (SAML signing, NameID and attributes: `app saml-settings`).
async fn set(a: AppSetArgs) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(&a.tenant)?;
    let (_, store) = super::open(&a.data).await?;
    let saml = match (&a.saml_metadata, &a.saml_acs_url, &a.saml_entity_id) {
        (Some(path), _, _) => Some(SamlSource::Metadata(read_text(path)?)),
        (None, None, None) => None,
        (None, acs, entity) => {
            let current = kakehashi_store::identity::get_app(&store, &tenant, &a.id).await?;
            let current = current.as_ref();
            Some(SamlSource::Manual {
                entity_id: entity
                    .clone()
                    .or_else(|| current.and_then(|c| c.saml_entity_id.clone()))
                    .unwrap_or_default(),
                acs_url: acs
                    .clone()
                    .or_else(|| current.and_then(|c| c.saml_acs_url.clone()))
                    .unwrap_or_default(),
            })
        }
    };
    let icon = match (&a.icon, a.no_icon) {
        (Some(path), _) => Some(Some(Icon {
            bytes: std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        })),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let list = |v: &str| -> Vec<String> {
        if v.trim().eq_ignore_ascii_case("none") {
            vec![]
        } else {
            v.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        }
    };
    let removable = |v: &Option<String>| {
        v.as_deref()
            .map(|u| Some(u.trim().to_owned()).filter(|u| !u.is_empty()))
    };
    let change = apps::AppChange {
        name: a.name.clone(),
        icon,
        token_auth_method: a.token_auth_method.clone(),
        jwks: a.jwks.as_deref().map(read_text).transpose()?,
        access_token_format: a.token_format.clone(),
        id_token_alg: a.id_token_alg.clone(),
        post_logout_redirect_uris: (!a.post_logout_redirect_uris.is_empty()).then(|| {
            a.post_logout_redirect_uris
                .iter()
                .filter(|u| !u.trim().is_empty())
                .cloned()
                .collect()
        }),
        launch_url: removable(&a.launch_url),
        xapi_scopes: a.xapi_scopes.as_deref().map(list),
        saml,
        saml_sign: None,
        saml_name_id: None,
        saml_attributes: None,
        saml_require_signed_requests: None,
        audience: a
            .audience
            .as_deref()
            .map(|v| parse("audience", v.parse()))
            .transpose()?,
        security_class: a
            .security_class
            .as_deref()
            .map(|v| parse("security-class", v.parse()))
            .transpose()?,
        redirect_uris: (!a.redirect_uris.is_empty()).then(|| a.redirect_uris.clone()),
        release: a.release.as_deref().map(list),
        // An empty value removes the URI.
        backchannel_logout_uri: removable(&a.backchannel_logout_uri),
    };
    match apps::update(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &a.id,
        &change,
    )
    .await
    {
        Ok(done) => {
            match a.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&done)?),
                Format::Text => println!(
                    "{}\t{}\t{}\t{}\t{}",
                    done.app.id,
                    done.app.name,
                    done.app.protocol,
                    done.app.security_class,
                    done.app.audience
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => user_error(e),
    }
}

/// Errors in what the operator asked for exit 1; database failures propagate (exit 2).
fn user_error(e: AppError) -> anyhow::Result<ExitCode> {
    match e {
        AppError::Store(e) => Err(e.into()),
        e => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn parse<T>(what: &str, r: Result<T, String>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("--{what}: {e}"))
}

async fn add(a: AppAddArgs) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(&a.tenant)?;
    let saml = match (&a.saml_metadata, &a.saml_acs_url, &a.saml_entity_id) {
        (Some(path), _, _) => Some(SamlSource::Metadata(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        )),
        (None, Some(acs), Some(entity)) => Some(SamlSource::Manual {
            entity_id: entity.clone(),
            acs_url: acs.clone(),
        }),
        _ => None,
    };
    let icon = match &a.icon {
        Some(path) => Some(Icon {
            bytes: std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        }),
        None => None,
    };
    let new = NewApp {
        name: a.name.clone(),
        protocol: parse("protocol", a.protocol.parse())?,
        security_class: parse("security-class", a.security_class.parse())?,
        audience: a
            .audience
            .as_deref()
            .map(|s| parse("audience", s.parse()))
            .transpose()?,
        redirect_uris: a.redirect_uris.clone(),
        public: a.public,
        saml,
        subject_type: parse(
            "subject",
            match a.subject.as_str() {
                "public" => "user-master-identifier",
                other => other,
            }
            .parse(),
        )?,
        icon,
    };
    let saml_settings = saml_settings_of(&a, new.protocol)?;
    let oidc = OidcOptions {
        token_auth_method: a.token_auth_method.clone(),
        jwks: match &a.jwks {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
            ),
            None => None,
        },
        post_logout_redirect_uris: a.post_logout_redirect_uris.clone(),
        access_token_format: a.token_format.clone(),
        id_token_alg: a.id_token_alg.clone(),
        release: a.release.clone(),
        launch_url: a.launch_url.clone(),
        xapi_scopes: a.xapi_scopes.clone(),
        backchannel_logout_uri: a.backchannel_logout_uri.clone(),
    };
    let (_, store) = super::open(&a.data).await?;
    let reg = match apps::add_with_oidc(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &a.public_url,
        &new,
        &oidc,
    )
    .await
    {
        Ok(reg) => reg,
        Err(e) => return user_error(e),
    };
    if let Some(settings) = &saml_settings {
        saml_settings::configure(
            &store,
            &SystemClock,
            &Actor::command_line(),
            &tenant,
            &reg.app.id,
            settings,
        )
        .await?;
    }
    match a.format {
        Format::Json => {
            let mut v = serde_json::to_value(&reg)?;
            if let (Some(s), Some(obj)) = (&saml_settings, v.as_object_mut()) {
                obj.insert("saml".into(), serde_json::to_value(s.to_row())?);
            }
            println!("{}", serde_json::to_string_pretty(&v)?)
        }
        Format::Text => {
            println!(
                "registered {} ({}) in tenant {tenant}",
                reg.app.name, reg.app.protocol
            );
            println!("issuer:         {}", reg.issuer);
            if let Some(id) = &reg.client_id {
                println!("client_id:      {id}");
            }
            if let Some(secret) = &reg.client_secret {
                println!("client_secret:  {secret}   (shown once; store it now)");
            }
            if let Some(o) = &reg.oidc {
                println!(
                    "token auth:     {}",
                    o.token_auth_method
                        .as_deref()
                        .unwrap_or("client_secret_basic")
                );
                println!("access tokens:  {}", o.access_token_format);
                println!("ID token alg:   {}", o.id_token_alg);
                if !o.xapi_scopes.is_empty() {
                    println!("xAPI scopes:    {}", o.xapi_scopes.join(" "));
                }
                if let Some(u) = &o.backchannel_logout_uri {
                    println!("back-channel logout: {u}");
                }
                println!(
                    "claims:         sub{}",
                    o.release_claims
                        .iter()
                        .map(|r| format!(", {r}"))
                        .collect::<String>()
                );
            }
            if let Some(md) = &reg.idp_metadata_url {
                println!("app id:         {}", reg.app.id);
                println!("IdP metadata:   {md}");
            }
            if let Some(s) = &saml_settings {
                let row = s.to_row();
                println!(
                    "SAML:           sign {}, NameID {}, attributes [{}]{}",
                    row.sign,
                    row.name_id,
                    row.attributes.join(", "),
                    if row.require_signed_requests {
                        ", signed AuthnRequests required"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The SAML settings of `app add` (docs/SAML.md); `None` for an OIDC app.
fn saml_settings_of(a: &AppAddArgs, protocol: Protocol) -> anyhow::Result<Option<SpSettings>> {
    let given = a.saml_sign.is_some()
        || a.saml_name_id.is_some()
        || a.saml_attributes.is_some()
        || a.saml_require_signed_requests;
    if protocol != Protocol::Saml {
        if given {
            anyhow::bail!("--saml-sign, --saml-name-id, --saml-attributes and --saml-require-signed-requests are for --protocol saml");
        }
        return Ok(None);
    }
    let mut s = SpSettings::default();
    if let Some(sign) = &a.saml_sign {
        s.sign = parse("saml-sign", saml_settings::parse_placement(sign))?;
    }
    if let Some(n) = &a.saml_name_id {
        s.name_id = parse("saml-name-id", NameIdChoice::parse(n))?;
    }
    if let Some(list) = &a.saml_attributes {
        s.attributes = parse("saml-attributes", SpSettings::parse_attribute_list(list))?;
    }
    s.require_signed_requests = a.saml_require_signed_requests;
    Ok(Some(s))
}

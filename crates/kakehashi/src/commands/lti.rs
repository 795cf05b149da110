//! `kakehashi lti tool add|list|set|register|remove`: LTI 1.3 tools of a tenant's platform
//! (issuer `{public-url}/t/{tenant}`), each with a tenant-wide deployment or one per school.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use kakehashi_core::apps::{AppError, Audience, SubjectType};
use kakehashi_core::lti::tools::{self, NewTool, ToolChange};
use kakehashi_core::{Actor, SystemClock};

use crate::cli::{DataArgs, Format};

#[derive(Subcommand, Debug)]
pub enum LtiCommand {
    /// LTI 1.3 tools (learning tools launched from the portal).
    #[command(subcommand)]
    Tool(ToolCommand),
}

#[derive(Subcommand, Debug)]
pub enum ToolCommand {
    /// Register a tool; prints what to configure in it (client_id, deployment_id, issuer,
    /// authorization_endpoint, token_endpoint, jwks_uri).
    Add(Box<ToolAddArgs>),
    /// List the tenant's tools and their deployments.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Change a registered tool: what is given is changed, the rest kept; the registration's
    /// rules apply (audited as lti.tool.update with before and after).
    Set(Box<ToolSetArgs>),
    /// Start LTI Dynamic Registration 1.0 from the tool's registration URL: prints the URL to
    /// open (with `openid_configuration` and a one-time `registration_token`, valid 1 hour);
    /// the tool then registers itself at the running server.
    Register {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// The tool's registration (initiation) URL.
        #[arg(long)]
        registration_url: String,
        /// The URL tools reach this server at.
        #[arg(
            long,
            env = "KAKEHASHI_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Remove a tool (its deployments and the links placed in classes go with it).
    Remove {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// The tool's client_id.
        #[arg(long)]
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct ToolAddArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub name: String,
    /// The tool's OIDC login initiation URL.
    #[arg(long)]
    pub login_url: String,
    /// The tool's launch (target link) URL; also a redirect URI.
    #[arg(long)]
    pub launch_url: String,
    /// The tool's JWKS URL (its public keys).
    #[arg(long, conflicts_with = "public_key")]
    pub jwks_url: Option<String>,
    /// The tool's RSA public key (PEM file), when it publishes no JWKS.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// The tool's Deep Linking URL; also a redirect URI.
    #[arg(long)]
    pub deep_linking_url: Option<String>,
    /// Further redirect URIs the tool may use.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Who sees it in the launcher: all, staff, teachers, students.
    #[arg(long, default_value = "all")]
    pub audience: String,
    /// The `sub` the tool receives: pairwise (default) or user-master-identifier.
    #[arg(long, default_value = "pairwise")]
    pub subject: String,
    /// Send the user's name (`name`, `given_name`, `family_name`).
    #[arg(long)]
    pub send_name: bool,
    /// Send the user's e-mail address.
    #[arg(long)]
    pub send_email: bool,
    /// A custom parameter NAME=VALUE sent with every launch.
    #[arg(long = "custom")]
    pub custom: Vec<String>,
    /// One deployment per school (OneRoster org sourcedId); repeat for several. Without it,
    /// one deployment for the whole tenant.
    #[arg(long = "school")]
    pub schools: Vec<String>,
    /// The URL users and tools reach this server at.
    #[arg(
        long,
        env = "KAKEHASHI_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct ToolSetArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub tenant: String,
    /// The tool's client_id.
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    /// The tool's OIDC login initiation URL.
    #[arg(long)]
    pub login_url: Option<String>,
    /// The tool's launch (target link) URL.
    #[arg(long)]
    pub launch_url: Option<String>,
    /// A new JWKS URL (replaces a PEM key).
    #[arg(long, conflicts_with = "public_key")]
    pub jwks_url: Option<String>,
    /// A new RSA public key (PEM file; replaces a JWKS URL).
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// The Deep Linking URL; an empty value removes it.
    #[arg(long)]
    pub deep_linking_url: Option<String>,
    /// The further redirect URIs (repeat; replaces the list; one empty value clears it).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// all, staff, teachers, students.
    #[arg(long)]
    pub audience: Option<String>,
    /// pairwise or user-master-identifier (the tool then sees other `sub` values).
    #[arg(long)]
    pub subject: Option<String>,
    /// Send the user's name: true or false.
    #[arg(long)]
    pub send_name: Option<bool>,
    /// Send the user's e-mail address: true or false.
    #[arg(long)]
    pub send_email: Option<bool>,
    /// A custom parameter NAME=VALUE (repeat; replaces the set; one empty value clears it).
    #[arg(long = "custom")]
    pub custom: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(cmd: LtiCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LtiCommand::Tool(ToolCommand::Add(a)) => add(*a).await,
        LtiCommand::Tool(ToolCommand::Set(a)) => set(*a).await,
        LtiCommand::Tool(ToolCommand::List {
            data,
            tenant,
            format,
        }) => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let list = match tools::list(&store, &tenant).await {
                Ok(l) => l,
                Err(e) => return user_error(e),
            };
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                Format::Text => {
                    for t in &list {
                        let deployments: Vec<String> = t
                            .deployments
                            .iter()
                            .map(|d| match &d.school_sourced_id {
                                Some(s) => format!("{}@{s}", d.deployment_id),
                                None => d.deployment_id.clone(),
                            })
                            .collect();
                        println!(
                            "{}\t{}\t{}\t{}",
                            t.client_id,
                            t.name,
                            t.tool.launch_url,
                            deployments.join(",")
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        LtiCommand::Tool(ToolCommand::Register {
            data,
            tenant,
            registration_url,
            public_url,
            format,
        }) => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            match kakehashi_core::lti::registration::start(
                &store,
                &SystemClock,
                &Actor::command_line(),
                &tenant,
                &public_url,
                &registration_url,
            )
            .await
            {
                Ok(url) => {
                    match format {
                        Format::Json => println!("{}", serde_json::json!({ "url": url })),
                        Format::Text => println!(
                            "open this URL in a browser to let the tool register itself \
                             (valid for 1 hour, once):\n{url}"
                        ),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => user_error(e),
            }
        }
        LtiCommand::Tool(ToolCommand::Remove { data, tenant, id }) => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            match tools::remove(&store, &SystemClock, &Actor::command_line(), &tenant, &id).await {
                Ok(()) => {
                    println!("removed LTI tool {id} from tenant {tenant}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => user_error(e),
            }
        }
    }
}

fn read_key(path: &Option<PathBuf>) -> Result<Option<String>, String> {
    match path {
        Some(path) => std::fs::read_to_string(path)
            .map(Some)
            .map_err(|e| format!("cannot read --public-key {}: {e}", path.display())),
        None => Ok(None),
    }
}

fn custom_pairs(given: &[String]) -> Result<Vec<(String, String)>, AppError> {
    let mut custom = Vec::new();
    for c in given.iter().filter(|c| !c.trim().is_empty()) {
        let Some((k, v)) = c.split_once('=') else {
            return Err(AppError::Invalid(format!("--custom {c:?}: use NAME=VALUE")));
        };
        custom.push((k.to_owned(), v.to_owned()));
    }
    Ok(custom)
}

/// `lti tool set`: the same `tools::update` as the console and `PATCH lti/tools/{id}`.
async fn set(a: ToolSetArgs) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(&a.tenant)?;
    let public_key_pem = match read_key(&a.public_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let audience = match a.audience.as_deref().map(str::parse).transpose() {
        Ok(v) => v,
        Err(e) => return user_error(AppError::Invalid(format!("--audience: {e}"))),
    };
    let subject_type = match a.subject.as_deref().map(str::parse).transpose() {
        Ok(v) => v,
        Err(e) => return user_error(AppError::Invalid(format!("--subject: {e}"))),
    };
    let custom = if a.custom.is_empty() {
        None
    } else {
        match custom_pairs(&a.custom) {
            Ok(c) => Some(c),
            Err(e) => return user_error(e),
        }
    };
    let change = ToolChange {
        name: a.name.clone(),
        login_url: a.login_url.clone(),
        launch_url: a.launch_url.clone(),
        deep_linking_url: a
            .deep_linking_url
            .as_deref()
            .map(|u| Some(u.trim().to_owned()).filter(|u| !u.is_empty())),
        jwks_url: a.jwks_url.clone(),
        public_key_pem,
        redirect_uris: (!a.redirect_uris.is_empty()).then(|| {
            a.redirect_uris
                .iter()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect()
        }),
        audience,
        subject_type,
        send_name: a.send_name,
        send_email: a.send_email,
        custom,
    };
    let (_, store) = super::open(&a.data).await?;
    match tools::update(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &a.id,
        &change,
    )
    .await
    {
        Ok(t) => {
            match a.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&t)?),
                Format::Text => println!(
                    "{}\t{}\t{}\t{}",
                    t.client_id, t.name, t.tool.launch_url, t.audience
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => user_error(e),
    }
}

async fn add(a: ToolAddArgs) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(&a.tenant)?;
    let audience: Audience = match a.audience.parse() {
        Ok(v) => v,
        Err(e) => return user_error(AppError::Invalid(e)),
    };
    let subject: SubjectType = match a.subject.parse() {
        Ok(v) => v,
        Err(e) => return user_error(AppError::Invalid(e)),
    };
    let public_key_pem = match read_key(&a.public_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let custom = match custom_pairs(&a.custom) {
        Ok(c) => c,
        Err(e) => return user_error(e),
    };
    let new = NewTool {
        name: a.name.clone(),
        login_url: a.login_url.clone(),
        launch_url: a.launch_url.clone(),
        deep_linking_url: a.deep_linking_url.clone(),
        jwks_url: a.jwks_url.clone(),
        public_key_pem,
        redirect_uris: a.redirect_uris.clone(),
        audience: Some(audience),
        subject_type: Some(subject),
        send_name: a.send_name,
        send_email: a.send_email,
        custom,
        schools: a.schools.clone(),
    };
    let (_, store) = super::open(&a.data).await?;
    let reg = match tools::add(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &a.public_url,
        &new,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return user_error(e),
    };
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&reg)?),
        Format::Text => {
            println!("client_id              {}", reg.client_id);
            for d in &reg.deployments {
                match &d.school_sourced_id {
                    Some(s) => println!("deployment_id          {} (school {s})", d.deployment_id),
                    None => println!("deployment_id          {}", d.deployment_id),
                }
            }
            println!("issuer                 {}", reg.issuer);
            println!("authorization_endpoint {}", reg.authorization_endpoint);
            println!("token_endpoint         {}", reg.token_endpoint);
            println!("jwks_uri               {}", reg.jwks_uri);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn user_error(e: AppError) -> anyhow::Result<ExitCode> {
    match e {
        AppError::Store(e) => Err(e.into()),
        e => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

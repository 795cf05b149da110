//! `kakehashi lrs credential add|list|remove`: HTTP Basic credentials for the learning tools
//! that send xAPI statements to a tenant's LRS at `{public-url}/t/{tenant}/xapi/`;
//! `kakehashi lrs class-report`: a class's pupils joined to the statements about them.

use std::process::ExitCode;

use clap::Subcommand;
use kakehashi_core::lrs::{credentials, LrsError};
use kakehashi_core::{Actor, SystemClock};
use serde_json::json;

use crate::cli::{DataArgs, Format};

#[derive(Subcommand, Debug)]
pub enum LrsCommand {
    /// Credentials (key and secret for HTTP Basic) of learning tools.
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// A class's pupils with their learning records (statements whose account agent is the
    /// pupil's userMasterIdentifier at the tenant's portal), and the newest statements.
    /// Audited as a read of personal data.
    ClassReport {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// The class's sourcedId (classes.csv).
        #[arg(long)]
        class: String,
        /// How many of the newest statements to show (at most 500).
        #[arg(long, default_value_t = kakehashi_core::lrs::learners::DEFAULT_RECENT)]
        recent: i64,
        /// The URL users reach this server at: the portal `{public-url}/t/{tenant}` is the
        /// `account.homePage` of pupils in statements.
        #[arg(
            long,
            env = "KAKEHASHI_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum CredentialCommand {
    /// Create a credential; prints the endpoint, key and secret (the secret only here).
    Add {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// Who uses it, e.g. the tool's name.
        #[arg(long)]
        name: String,
        /// May read statements and documents but not write them.
        #[arg(long)]
        read_only: bool,
        /// The xAPI version line the tool speaks (`1.0.3` or `2.0.0`); it names the version in
        /// the answer to a request that sends no X-Experience-API-Version header. Default:
        /// the latest.
        #[arg(long, value_parser = ["1.0.3", "2.0.0"])]
        xapi_version: Option<String>,
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
    /// List the tenant's credentials (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Remove a credential: tools using it get 401 from then on.
    Remove {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        key: String,
    },
}

pub async fn run(cmd: LrsCommand) -> anyhow::Result<ExitCode> {
    let cmd = match cmd {
        LrsCommand::Credential(cmd) => cmd,
        LrsCommand::ClassReport {
            data,
            tenant,
            class,
            recent,
            public_url,
            format,
        } => return class_report(data, &tenant, &class, recent, &public_url, format).await,
    };
    match cmd {
        CredentialCommand::Add {
            data,
            tenant,
            name,
            read_only,
            xapi_version,
            public_url,
            format,
        } => {
            let version_line = xapi_version
                .as_deref()
                .map(kakehashi_core::lrs::Version::parse_header)
                .transpose()?;
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let added = credentials::add(
                &store,
                &SystemClock,
                &Actor::command_line(),
                &tenant,
                &name,
                read_only,
                version_line,
            )
            .await;
            let c = match added {
                Ok(c) => c,
                Err(e @ (LrsError::NotFound(_) | LrsError::EmptyName)) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            let endpoint = format!("{}/t/{tenant}/xapi/", public_url.trim_end_matches('/'));
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "endpoint": endpoint,
                        "key": c.key,
                        "secret": c.secret,
                        "name": c.name,
                        "read_only": c.read_only,
                        "xapi_version": c.version_line.map(|v| v.response_header()),
                    }))?
                ),
                Format::Text => {
                    println!("endpoint\t{endpoint}\nkey\t{}\nsecret\t{}", c.key, c.secret);
                    eprintln!("keep the secret now: it is stored hashed and cannot be shown again");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::List {
            data,
            tenant,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let all = credentials::list(&store, &tenant).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&all)?),
                Format::Text => {
                    for c in &all {
                        let mode = if c.read_only {
                            "read-only"
                        } else {
                            "read-write"
                        };
                        println!("{}\t{}\t{mode}\t{}", c.key, c.name, c.created_at);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::Remove { data, tenant, key } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            match credentials::remove(&store, &SystemClock, &Actor::command_line(), &tenant, &key)
                .await
            {
                Ok(()) => {
                    println!("removed LRS credential {key} of tenant {tenant}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ LrsError::NotFound(_)) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

async fn class_report(
    data: DataArgs,
    tenant: &str,
    class: &str,
    recent: i64,
    public_url: &str,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(tenant)?;
    let (_, store) = super::open(&data).await?;
    let issuer = format!("{}/t/{tenant}", public_url.trim_end_matches('/'));
    let report = match kakehashi_core::lrs::learners::class_report(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &issuer,
        class,
        recent,
    )
    .await
    {
        Ok(r) => r,
        Err(e @ LrsError::NotFound(_)) => {
            eprintln!("error: {e} (no active class with that sourcedId in tenant {tenant})");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => {
            println!("username\tname\tstatements\tlast stored");
            for p in &report.pupils {
                println!(
                    "{}\t{} {}\t{}\t{}",
                    p.pupil.username,
                    p.pupil.family_name,
                    p.pupil.given_name,
                    p.statements,
                    p.last_stored.as_deref().unwrap_or("-")
                );
            }
            if report.pupils_without_identifier > 0 {
                eprintln!(
                    "note: {} pupil(s) have no userMasterIdentifier and cannot be matched to statements",
                    report.pupils_without_identifier
                );
            }
            println!();
            println!("stored\tusername\tverb\tactivity\tscore");
            for r in &report.recent {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.stored,
                    r.username,
                    r.verb_display.as_deref().unwrap_or(&r.verb),
                    r.activity_name
                        .as_deref()
                        .or(r.activity.as_deref())
                        .unwrap_or("-"),
                    r.score_scaled
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `kakehashi admin grant|revoke|list`: the console's explicit roles (docs/CONSOLE.md). The
//! person at this machine's command line is the platform operator; these commands give a
//! person (`--username`) or an admin API client (`--client`) the role `tenant-admin` (the
//! whole board of education) or `school-admin --school SOURCEDID` (one school), or a person
//! `platform-operator` (the read-only cross-tenant overview in the console).

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use kakehashi_core::console::authz::{AdminRole, Principal};
use kakehashi_core::console::grants::{self, Grantee};
use kakehashi_core::console::ConsoleError;
use kakehashi_core::{Actor, SystemClock};

use crate::cli::{DataArgs, Format};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Give a person or an API client an admin role (audited).
    Grant(GrantArgs),
    /// Take an admin role away (audited).
    Revoke(GrantArgs),
    /// List the tenant's admin grants.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// The whole tenant: roster import, apps, audit, security policy, every person.
    TenantAdmin,
    /// One school (--school): its people and classes.
    SchoolAdmin,
    /// The read-only cross-tenant overview (/t/TENANT/console/operator) for a person
    /// (--username) who signs in at --tenant; no reach within any tenant.
    PlatformOperator,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["username", "client"])))]
pub struct GrantArgs {
    #[command(flatten)]
    data: DataArgs,
    #[arg(long)]
    tenant: String,
    /// A person of the tenant (signs in to the console).
    #[arg(long)]
    username: Option<String>,
    /// A confidential OIDC client of the tenant (calls the admin API with client_credentials
    /// and scope=admin).
    #[arg(long)]
    client: Option<String>,
    #[arg(long, value_enum)]
    role: RoleArg,
    /// The school (org sourcedId) of a school-admin.
    #[arg(long)]
    school: Option<String>,
}

pub async fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::Grant(a) => change(a, true).await,
        AdminCommand::Revoke(a) => change(a, false).await,
        AdminCommand::List {
            data,
            tenant,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let operator = Principal::platform_operator(&tenant, Actor::command_line());
            let list = grants::list(&store, &operator).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                Format::Text => {
                    for g in &list {
                        let school = if g.school_sourced_id.is_empty() {
                            String::new()
                        } else {
                            format!(" school={}", g.school_sourced_id)
                        };
                        println!(
                            "{} {}{school} (by {} at {})",
                            g.subject, g.role, g.granted_by, g.granted_at
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn change(a: GrantArgs, add: bool) -> anyhow::Result<ExitCode> {
    let tenant = super::parse_tenant(&a.tenant)?;
    let (_, store) = super::open(&a.data).await?;
    let operator = Principal::platform_operator(&tenant, Actor::command_line());
    let who = match (a.username, a.client) {
        (Some(u), _) => Grantee::Username(u),
        (None, Some(c)) => Grantee::Client(c),
        (None, None) => unreachable!("clap requires --username or --client"),
    };
    let role = match a.role {
        RoleArg::TenantAdmin => AdminRole::TenantAdmin,
        RoleArg::SchoolAdmin => AdminRole::SchoolAdmin,
        RoleArg::PlatformOperator => AdminRole::PlatformOperator,
    };
    let school = a.school.as_deref();
    let outcome = if add {
        grants::grant(&store, &SystemClock, &operator, &who, role, school).await
    } else {
        grants::revoke(&store, &SystemClock, &operator, &who, role, school).await
    };
    let name = match &who {
        Grantee::Username(u) => format!("user {u}"),
        Grantee::Client(c) => format!("client {c}"),
    };
    match outcome {
        Ok(changed) => {
            let what = match (add, changed) {
                (true, true) => "granted",
                (true, false) => "already held",
                (false, true) => "revoked",
                (false, false) => "was not held",
            };
            println!("{} {what}: {name} in tenant {tenant}", role.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (ConsoleError::NotFound(_) | ConsoleError::Invalid(_))) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

use std::process::ExitCode;

use kakehashi_core::tenants::{self, TenantError};
use kakehashi_core::{Actor, SystemClock};

use crate::cli::{Format, TenantCommand};

pub async fn run(cmd: TenantCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TenantCommand::Add { data, id, name } => {
            let id = super::parse_tenant(&id)?;
            let (_, store) = super::open(&data).await?;
            match tenants::add(&store, &SystemClock, &Actor::command_line(), &id, &name).await {
                Ok(t) => {
                    println!("created tenant {} ({})", t.id, t.name);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ TenantError::Exists(_)) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        TenantCommand::List { data, format } => {
            let (_, store) = super::open(&data).await?;
            let all = tenants::list(&store).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&all)?),
                Format::Text => {
                    for t in &all {
                        println!("{}\t{}\t{}", t.id, t.name, t.created_at);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        TenantCommand::Security(cmd) => super::mfa::security(cmd).await,
    }
}

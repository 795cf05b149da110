//! One module per command group; each returns the process exit code.

pub(crate) mod admin;
mod app;
mod audit;
mod keys;
pub(crate) mod lrs;
pub(crate) mod lti;
mod mfa;
mod oneroster;
mod serve;
mod tenant;
mod user;

use std::process::ExitCode;

use anyhow::Context;
use kakehashi_core::data_dir::DataDir;
use kakehashi_core::Store;

use crate::cli::{Cli, Command, DataArgs};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            data,
            listen,
            public_url,
            demo,
        } => serve::run(&data, listen, public_url, demo).await,
        Command::Tenant(cmd) => tenant::run(cmd).await,
        Command::Oneroster(cmd) => oneroster::run(cmd).await,
        Command::Audit(cmd) => audit::run(cmd).await,
        Command::Lrs(cmd) => lrs::run(cmd).await,
        Command::Lti(cmd) => lti::run(cmd).await,
        Command::User(cmd) => user::run(cmd).await,
        Command::App(cmd) => app::run(cmd).await,
        Command::Keys(cmd) => keys::run(cmd).await,
        Command::Admin(cmd) => admin::run(cmd).await,
        Command::Mfa(cmd) => mfa::run(cmd).await,
    }
}

/// Prepares the data directory (first start: creates it and the master key) and opens the
/// database, migrating it.
pub async fn open(data: &DataArgs) -> anyhow::Result<(DataDir, Store)> {
    let dir = DataDir::prepare(&data.data_dir)?;
    let url = match &data.database_url {
        Some(url) if !url.is_empty() => url.clone(),
        _ => Store::sqlite_url(&dir.path),
    };
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    kakehashi_core::keyring::check_master_key(&store, &dir.master_key).await?;
    Ok((dir, store))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub fn parse_tenant(id: &str) -> anyhow::Result<kakehashi_core::TenantId> {
    Ok(kakehashi_core::TenantId::parse(id)?)
}

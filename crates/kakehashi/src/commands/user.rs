use std::io::BufRead;
use std::process::ExitCode;

use kakehashi_core::passwords::{self, PasswordError};
use kakehashi_core::{Actor, SystemClock};

use crate::cli::UserCommand;

pub async fn run(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let (data, tenant, username) = match cmd {
        UserCommand::SetPassword {
            data,
            tenant,
            username,
            password_stdin: _,
        } => (data, tenant, username),
        UserCommand::Unlock {
            data,
            tenant,
            username,
        } => return unlock(&data, &tenant, &username).await,
    };
    let tenant = super::parse_tenant(&tenant)?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    let (_, store) = super::open(&data).await?;
    match passwords::set_password(
        &store,
        &SystemClock,
        &Actor::command_line(),
        &tenant,
        &username,
        password,
    )
    .await
    {
        Ok(()) => {
            println!("password set for {username} in tenant {tenant}");
            Ok(ExitCode::SUCCESS)
        }
        Err(
            e @ (PasswordError::UnknownUser { .. }
            | PasswordError::TooShort { .. }
            | PasswordError::BadCharacters),
        ) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// `user unlock`: a teacher lifts a pupil's lockout (kakehashi_core::portal::login::unlock).
async fn unlock(
    data: &crate::cli::DataArgs,
    tenant: &str,
    username: &str,
) -> anyhow::Result<ExitCode> {
    use kakehashi_core::portal::{login, PortalError};
    let tenant = super::parse_tenant(tenant)?;
    let (_, store) = super::open(data).await?;
    match login::unlock(
        &store,
        &SystemClock,
        &tenant,
        username,
        &Actor::command_line(),
    )
    .await
    {
        Ok(done) => {
            println!(
                "unlocked {username} in tenant {tenant} ({} lock(s) lifted, failed logins forgotten)",
                done.locks_lifted
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ PortalError::UnknownUser { .. }) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

use std::io::BufRead;
use std::process::ExitCode;

use kakehashi_core::passwords::{self, PasswordError};
use kakehashi_core::{Actor, SystemClock};

use crate::cli::UserCommand;

pub async fn run(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let UserCommand::SetPassword {
        data,
        tenant,
        username,
        password_stdin: _,
    } = cmd;
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

use std::process::ExitCode;

use kakehashi_core::keyring::{self, KeyringError};
use kakehashi_core::{Actor, SystemClock};
use kakehashi_oidc::keys::RotationPolicy;
use kakehashi_oidc::Algorithm;

use crate::cli::{Format, KeysCommand};

pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::RotateSaml {
            data,
            tenant,
            min_published_seconds,
            retired_seconds,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (dir, store) = super::open(&data).await?;
            kakehashi_core::tenants::require(&store, &tenant).await?;
            match kakehashi_core::saml_idp::keys::rotate(
                &store,
                &dir.master_key,
                &SystemClock,
                &Actor::command_line(),
                &tenant,
                min_published_seconds,
                retired_seconds,
            )
            .await
            {
                Ok(kid) => {
                    println!("SAML signing key {kid} is now current in tenant {tenant}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(kakehashi_core::saml_idp::SamlIdpError::Invalid(msg)) => {
                    eprintln!("error: {msg}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        KeysCommand::List {
            data,
            tenant,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (dir, store) = super::open(&data).await?;
            kakehashi_core::tenants::require(&store, &tenant).await?;
            let keys = keyring::list(&store, &dir.master_key, &SystemClock, &tenant).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&keys)?),
                Format::Text => {
                    for k in &keys {
                        println!(
                            "{}\t{}\t{}\tpublished {}",
                            k.kid, k.alg, k.state, k.published_at
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate {
            data,
            tenant,
            alg,
            min_published_seconds,
            retired_seconds,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let alg = Algorithm::parse(&alg)
                .filter(|a| Algorithm::SIGN.contains(a))
                .ok_or_else(|| anyhow::anyhow!("--alg {alg:?}: use RS256 or ES256"))?;
            let (dir, store) = super::open(&data).await?;
            kakehashi_core::tenants::require(&store, &tenant).await?;
            let policy = RotationPolicy {
                min_next_published: min_published_seconds,
                retired_published: retired_seconds,
            };
            match keyring::rotate(
                &store,
                &dir.master_key,
                &SystemClock,
                &Actor::command_line(),
                &tenant,
                alg,
                policy,
            )
            .await
            {
                Ok(kid) => {
                    println!("{alg:?} now signs with {kid}; a new next key is published");
                    Ok(ExitCode::SUCCESS)
                }
                Err(KeyringError::Key(e)) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

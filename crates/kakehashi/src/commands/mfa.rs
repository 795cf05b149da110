//! `kakehashi mfa …` (users' second factors) and `kakehashi tenant security …` (the tenant's
//! security policy): the command line's door onto `kakehashi_core::mfa`, the same calls the
//! web console makes.

use std::process::ExitCode;

use anyhow::Context;
use kakehashi_core::mfa::policy::{
    self, AttestationPolicy, RiskMode, SecurityPolicy, UserVerification,
};
use kakehashi_core::mfa::{factors, MfaError};
use kakehashi_core::{Actor, SystemClock};

use crate::cli::{Format, MfaCommand, OnOff, SecurityCommand, SecuritySetArgs};

pub async fn run(cmd: MfaCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MfaCommand::Reset {
            data,
            tenant,
            username,
            reason,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            match factors::reset(
                &store,
                &SystemClock,
                &Actor::command_line(),
                &tenant,
                &username,
                &reason,
            )
            .await
            {
                Ok(done) => {
                    println!(
                        "reset the second factors of {username} in tenant {tenant}: \
                         {} security key(s) and {} unused backup code(s) removed, \
                         {} session(s) back to password only, {} passkey session(s) ended",
                        done.credentials_removed,
                        done.backup_codes_removed,
                        done.sessions_downgraded,
                        done.sessions_ended
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ (MfaError::UnknownUser { .. } | MfaError::InvalidPolicy(_))) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        MfaCommand::List {
            data,
            tenant,
            username,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            match factors::of_username(&store, &tenant, &username).await {
                Ok(f) => {
                    match format {
                        Format::Json => println!("{}", serde_json::to_string_pretty(&f)?),
                        Format::Text => {
                            for c in &f.credentials {
                                println!(
                                    "{}\t{}\t{}\t{}\t{}",
                                    c.name,
                                    c.kind,
                                    c.aaguid,
                                    c.created_at,
                                    c.last_used_at.as_deref().unwrap_or("-")
                                );
                            }
                            println!("backup codes left: {}", f.backup_codes_left);
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ MfaError::UnknownUser { .. }) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

pub async fn security(cmd: SecurityCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SecurityCommand::Show {
            data,
            tenant,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let p = policy::load(&store, &tenant).await?;
            print_policy(&p, format)?;
            Ok(ExitCode::SUCCESS)
        }
        SecurityCommand::Set(args) => {
            let tenant = super::parse_tenant(&args.tenant)?;
            let (_, store) = super::open(&args.data).await?;
            let mut p = policy::load(&store, &tenant).await?;
            if let Err(e) = apply(&mut p, &args) {
                eprintln!("error: {e:#}");
                return Ok(ExitCode::from(2));
            }
            match policy::save(&store, &SystemClock, &Actor::command_line(), &tenant, &p).await {
                Ok(()) => {
                    print_policy(&p, args.format)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ MfaError::InvalidPolicy(_)) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(2))
                }
                Err(e @ MfaError::UnknownTenant(_)) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn print_policy(p: &SecurityPolicy, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(p)?),
        Format::Text => {
            // One `setting: value` line per setting, in the JSON's names.
            let v = serde_json::to_value(p)?;
            fn walk(prefix: &str, v: &serde_json::Value) {
                match v {
                    serde_json::Value::Object(m) => {
                        for (k, v) in m {
                            let name = if prefix.is_empty() {
                                k.clone()
                            } else {
                                format!("{prefix}.{k}")
                            };
                            walk(&name, v);
                        }
                    }
                    other => println!("{prefix}: {other}"),
                }
            }
            walk("", &v);
        }
    }
    Ok(())
}

fn on(v: OnOff) -> bool {
    v == OnOff::On
}

fn list(s: &str) -> Vec<&str> {
    if s.trim().eq_ignore_ascii_case("none") || s.trim().eq_ignore_ascii_case("any") {
        return vec![];
    }
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

fn uv(s: &str) -> anyhow::Result<UserVerification> {
    match s {
        "preferred" => Ok(UserVerification::Preferred),
        "required" => Ok(UserVerification::Required),
        _ => anyhow::bail!("user verification must be preferred or required, not {s:?}"),
    }
}

/// Applies the given flags to the policy (validation of the whole follows in `policy::save`).
fn apply(p: &mut SecurityPolicy, a: &SecuritySetArgs) -> anyhow::Result<()> {
    if let Some(n) = &a.school_networks {
        p.school_networks = list(n)
            .into_iter()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = a.second_factor_max_age {
        p.second_factor_max_age_secs = v;
    }
    if let Some(v) = &a.offsite_max_age {
        p.offsite_max_age_secs = if v == "off" {
            None
        } else {
            Some(
                v.parse()
                    .context("--offsite-max-age takes seconds or off")?,
            )
        };
    }
    if let Some(v) = a.learning_second_factor {
        p.learning_requires_second_factor = on(v);
    }
    if let Some(v) = &a.attestation {
        p.attestation = match v.as_str() {
            "none" => AttestationPolicy::None,
            "direct" => AttestationPolicy::Direct,
            _ => anyhow::bail!("--attestation must be none or direct"),
        };
    }
    if let Some(v) = &a.aaguids {
        p.aaguid_allow_list = list(v)
            .into_iter()
            .map(|s| s.parse().with_context(|| format!("{s:?} is not an AAGUID")))
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = &a.uv_learning {
        p.user_verification_learning = uv(v)?;
    }
    if let Some(v) = &a.uv_school_affairs {
        p.user_verification_school_affairs = uv(v)?;
    }
    if let Some(v) = a.staff_passkeys {
        p.staff_passkeys = on(v);
    }
    if let Some(v) = a.totp {
        p.totp_enabled = on(v);
    }
    if let Some(v) = &a.risk {
        p.risk.mode = match v.as_str() {
            "off" => RiskMode::Off,
            "step-up" => RiskMode::StepUp,
            "deny" => RiskMode::Deny,
            _ => anyhow::bail!("--risk must be off, step-up or deny"),
        };
    }
    if let Some(v) = a.risk_step_up_threshold {
        p.risk.step_up_threshold = v;
    }
    if let Some(v) = a.risk_deny_threshold {
        p.risk.deny_threshold = v;
    }
    for w in &a.risk_weights {
        let (name, points) = w
            .split_once('=')
            .context("--risk-weight takes SIGNAL=POINTS")?;
        let points: i64 = points
            .parse()
            .context("--risk-weight points must be a number")?;
        let slot = match name {
            "new-device" => &mut p.risk.weights.new_device,
            "outside-school-network" => &mut p.risk.weights.outside_school_network,
            "outside-school-hours" => &mut p.risk.weights.outside_school_hours,
            "account-failures" => &mut p.risk.weights.account_failures,
            "address-failures" => &mut p.risk.weights.address_failures,
            "user-agent-changed" => &mut p.risk.weights.user_agent_changed,
            _ => anyhow::bail!("unknown risk signal {name:?}"),
        };
        *slot = points;
    }
    if let Some(v) = &a.school_hours {
        let (start, end) = v
            .split_once('-')
            .context("--school-hours takes HH:MM-HH:MM")?;
        p.risk.school_hours_start = start.trim().to_owned();
        p.risk.school_hours_end = end.trim().to_owned();
    }
    if let Some(v) = a.utc_offset_minutes {
        p.risk.utc_offset_minutes = v;
    }
    if let Some(v) = a.shared_device {
        p.shared_device.enabled = on(v);
    }
    if let Some(v) = a.shared_device_idle {
        p.shared_device.idle_secs = v;
    }
    if let Some(v) = &a.lesson_period_ends {
        p.shared_device.period_ends = list(v).into_iter().map(str::to_owned).collect();
    }
    if let Some(v) = &a.shared_device_networks {
        p.shared_device.networks = list(v)
            .into_iter()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
    }
    Ok(())
}

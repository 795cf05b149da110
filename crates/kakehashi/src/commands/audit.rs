use std::process::ExitCode;

use kakehashi_store::audit;

use crate::cli::{AuditCommand, Format};

pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { data, format } = cmd;
    let (_, store) = super::open(&data).await?;
    let v = audit::verify(&store).await?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&v)?),
        Format::Text => match &v.first_break {
            None => println!(
                "audit log intact: {} row(s) in {} chain(s)",
                v.rows, v.chains
            ),
            Some(b) => {
                let chain = if b.chain.is_empty() {
                    "platform"
                } else {
                    &b.chain
                };
                println!(
                    "audit log BROKEN: chain {chain}, row {}: {}",
                    b.seq, b.problem
                );
            }
        },
    }
    Ok(if v.first_break.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use kakehashi_core::roster_import::{self, ImportError, ImportRequest, Progress};
use kakehashi_core::{roster_export, Actor, SystemClock};
use kakehashi_oneroster::{self as oneroster, Options, Source};

use crate::cli::OnerosterCommand;
use crate::output;

pub async fn run(cmd: OnerosterCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OnerosterCommand::Validate { path, format } => {
            let source = Source::open(&path)?;
            let report = tokio::task::spawn_blocking(move || {
                oneroster::validate(&source, &Options::default())
            })
            .await??;
            output::print_report(&report, format);
            Ok(if report.is_valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        OnerosterCommand::Import {
            data,
            tenant,
            path,
            dry_run,
            format,
        } => {
            let tenant = super::parse_tenant(&tenant)?;
            let source = Source::open(&path)?;
            let (_, store) = super::open(&data).await?;
            let label = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let actor = Actor::command_line();
            let req = ImportRequest {
                tenant: &tenant,
                actor: &actor,
                source_label: &label,
                dry_run,
            };
            let bar = TerminalProgress::new();
            let result =
                roster_import::import_package(&store, &SystemClock, &req, &source, &bar).await;
            bar.finish();
            match result {
                Ok(summary) => {
                    output::print_summary(&summary, format);
                    Ok(ExitCode::SUCCESS)
                }
                Err(ImportError::Invalid(report)) => {
                    output::print_report(&report, format);
                    eprintln!(
                        "nothing was imported: fix the errors above and run the import again"
                    );
                    Ok(ExitCode::from(1))
                }
                Err(ImportError::Tenant(e)) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        OnerosterCommand::Export { data, tenant, out } => {
            let tenant = super::parse_tenant(&tenant)?;
            let (_, store) = super::open(&data).await?;
            let roster = match roster_export::export(&store, &tenant).await {
                Ok(r) => r,
                Err(roster_export::ExportError::Tenant(e)) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            let is_zip = out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
            if is_zip {
                oneroster::write_zip(&roster, &out)?;
            } else {
                oneroster::write_dir(&roster, &out)?;
            }
            let rows: usize = roster.tables.values().map(Vec::len).sum();
            eprintln!(
                "exported {rows} rows of tenant {tenant} to {}",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise.
struct TerminalProgress(Option<ProgressBar>);

impl TerminalProgress {
    fn new() -> TerminalProgress {
        if !std::io::stderr().is_terminal() {
            return TerminalProgress(None);
        }
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        TerminalProgress(Some(bar))
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn stage(&self, name: &str, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_message(name.to_owned());
            bar.set_length(total);
            bar.set_position(0);
        }
    }
    fn advance(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }
}

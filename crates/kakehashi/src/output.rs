//! Printing results for people (text) and programs (JSON).

use kakehashi_core::roster_import::ImportSummary;
use kakehashi_oneroster::Report;

use crate::cli::Format;

/// Diagnostics to stdout (one a line, or a JSON array), the tally to stderr.
pub fn print_report(report: &Report, format: Format) {
    match format {
        Format::Text => {
            for d in &report.diagnostics {
                println!("{d}");
            }
        }
        Format::Json => match serde_json::to_string_pretty(&report.diagnostics) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: cannot print the report as JSON: {e}"),
        },
    }
    let shown = report.diagnostics.len() as u64;
    let total = report.errors + report.warnings;
    if total > shown {
        eprintln!("… {} more not shown ({} in all)", total - shown, total);
    }
    eprintln!("{} error(s), {} warning(s)", report.errors, report.warnings);
}

pub fn print_summary(summary: &ImportSummary, format: Format) {
    match format {
        Format::Json => match serde_json::to_string_pretty(summary) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: cannot print the summary as JSON: {e}"),
        },
        Format::Text => {
            if summary.dry_run {
                println!(
                    "Dry run for tenant {}: nothing was written.",
                    summary.tenant
                );
            } else {
                println!("Imported into tenant {}.", summary.tenant);
            }
            println!(
                "{:<18}{:>9}{:>9}{:>11}{:>13}",
                "file", "created", "updated", "unchanged", "deactivated"
            );
            for (entity, c) in &summary.entities {
                println!(
                    "{:<18}{:>9}{:>9}{:>11}{:>13}",
                    entity.file_stem(),
                    c.created,
                    c.updated,
                    c.unchanged,
                    c.deactivated
                );
            }
            if summary.warnings > 0 {
                println!(
                    "{} warning(s); see `kakehashi oneroster validate`.",
                    summary.warnings
                );
            }
        }
    }
}

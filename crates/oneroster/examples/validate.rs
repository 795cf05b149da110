//! `cargo run --release -p kakehashi-oneroster --example validate -- PACKAGE`: validates a
//! package (directory or zip) with the library directly and prints the tally; for measuring
//! without the CLI.

use std::path::PathBuf;
use std::process::ExitCode;

use kakehashi_oneroster::{validate, Options, Source};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: validate PACKAGE");
        return ExitCode::from(2);
    };
    let started = std::time::Instant::now();
    let report = match Source::open(&path).and_then(|s| validate(&s, &Options::default())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for d in report.diagnostics.iter().take(20) {
        println!("{d}");
    }
    eprintln!(
        "{} error(s), {} warning(s) in {:.2?}",
        report.errors,
        report.warnings,
        started.elapsed()
    );
    if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

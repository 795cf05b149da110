//! `cargo run --release -p kakehashi-oneroster --example gen_roster -- OUT_DIR USERS
//! [ENROLLMENTS_PER_USER] [SEED]`: streams a generated Japanese roster package into OUT_DIR
//! (default 5 enrollments per user, seed 1).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(users)) = (
        args.first(),
        args.get(1).and_then(|u| u.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: gen_roster OUT_DIR USERS [ENROLLMENTS_PER_USER] [SEED]");
        return ExitCode::from(2);
    };
    let per_user = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(5);
    let seed = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(1);
    let started = std::time::Instant::now();
    match kakehashi_oneroster::generate::write_large(&PathBuf::from(out), users, per_user, seed) {
        Ok(()) => {
            eprintln!("wrote {users} users to {out} in {:.2?}", started.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}

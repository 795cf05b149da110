//! `cargo run --release -p kakehashi-oneroster --example csv_floor -- DIR`: the floor for
//! `validate`: reads every CSV file of a package directory with the plain `csv` crate into
//! one reused `ByteRecord` and counts rows, nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: csv_floor DIR");
        return ExitCode::from(2);
    };
    let started = std::time::Instant::now();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect(),
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    files.sort();
    let mut total = 0u64;
    for f in files {
        let mut rdr = match csv::ReaderBuilder::new().flexible(true).from_path(&f) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        };
        let mut rec = csv::ByteRecord::new();
        let mut rows = 0u64;
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => rows += 1,
                Ok(false) => break,
                Err(e) => {
                    eprintln!("error: {}: {e}", f.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        println!("{:>10} {}", rows, f.display());
        total += rows;
    }
    eprintln!("{total} rows in {:.2?}", started.elapsed());
    ExitCode::SUCCESS
}

//! The generated demo roster is a valid package and survives write → read → write byte for
//! byte, as a directory and as a zip.

use kakehashi_oneroster::{generate, read, validate, write_dir, write_zip, Options, Source};

fn files_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn small_demo_validates_without_errors_or_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    write_dir(&generate::small_demo(), &dir).unwrap();
    let report = validate(&Source::open(&dir).unwrap(), &Options::default()).unwrap();
    assert_eq!(
        report.errors + report.warnings,
        0,
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn small_demo_round_trips_byte_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_dir(&generate::small_demo(), &a).unwrap();
    let (roster, report) = read(&Source::open(&a).unwrap(), &Options::default()).unwrap();
    assert!(report.is_valid(), "{:#?}", report.diagnostics);
    write_dir(&roster, &b).unwrap();
    assert_eq!(files_of(&a), files_of(&b));
    let users = String::from_utf8(std::fs::read(b.join("users.csv")).unwrap()).unwrap();
    assert!(users.contains('𠮷') && users.contains('髙'));
}

#[test]
fn zip_writes_are_deterministic_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (za, zb) = (tmp.path().join("a.zip"), tmp.path().join("b.zip"));
    write_zip(&generate::small_demo(), &za).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_zip(&generate::small_demo(), &zb).unwrap();
    assert_eq!(std::fs::read(&za).unwrap(), std::fs::read(&zb).unwrap());
    let (roster, report) = read(&Source::open(&za).unwrap(), &Options::default()).unwrap();
    assert!(report.is_valid(), "{:#?}", report.diagnostics);
    let zc = tmp.path().join("c.zip");
    write_zip(&roster, &zc).unwrap();
    assert_eq!(std::fs::read(&za).unwrap(), std::fs::read(&zc).unwrap());
}

#[test]
fn a_generated_large_package_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("big");
    generate::write_large(&dir, 2500, 5, 7).unwrap();
    let report = validate(&Source::open(&dir).unwrap(), &Options::default()).unwrap();
    assert_eq!(
        report.errors + report.warnings,
        0,
        "{:#?}",
        report.diagnostics
    );
    let enrollments = std::fs::read_to_string(dir.join("enrollments.csv")).unwrap();
    assert_eq!(enrollments.lines().count(), 1 + 2500 * 5);
}

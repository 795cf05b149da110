//! Package-level rules: encoding, manifest, headers, zip safety.

mod common;

use std::io::Write;

use common::*;
use kakehashi_oneroster::{read, Options, ReadError, Severity, Source};

#[test]
fn enc_shift_jis_is_refused_with_a_fix() {
    // CSV binding §2: UTF-8 only. 山田 in Shift_JIS is 8E 52 93 63.
    let (_t, dir) = copy("jp_newer");
    let mut bytes = std::fs::read(dir.join("orgs.csv")).unwrap();
    bytes.extend_from_slice(b"jhs-2,,,");
    bytes.extend_from_slice(&[0x8E, 0x52, 0x93, 0x63]);
    bytes.extend_from_slice(b",school,,boe-sakura\n");
    std::fs::write(dir.join("orgs.csv"), bytes).unwrap();
    let r = check(&dir);
    let d = one(&r, "ENC-SHIFT-JIS", ("orgs.csv", 4, 4), Severity::Error);
    assert!(
        d.message.contains("Shift_JIS") && d.message.contains("iconv -f CP932 -t UTF-8"),
        "{d}"
    );
}

#[test]
fn enc_other_invalid_utf8_has_line_and_column() {
    let (_t, dir) = copy("jp_newer");
    let mut bytes = std::fs::read(dir.join("orgs.csv")).unwrap();
    bytes.extend_from_slice(b"jhs-2,,,ab\xFF\xFF,school,,boe-sakura\n");
    std::fs::write(dir.join("orgs.csv"), bytes).unwrap();
    let r = check(&dir);
    let d = one(&r, "ENC-UTF8", ("orgs.csv", 4, 4), Severity::Error);
    assert!(
        d.message.contains("0xFF") && d.message.contains("character 3"),
        "{d}"
    );
}

#[test]
fn enc_utf8_bom_is_accepted_and_utf16_refused() {
    let (_t, dir) = copy("jp_newer");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(dir.join("users.csv")).unwrap());
    std::fs::write(dir.join("users.csv"), bytes).unwrap();
    clean(&check(&dir));
    std::fs::write(dir.join("orgs.csv"), b"\xFF\xFEs\0o\0").unwrap();
    one(
        &check(&dir),
        "ENC-UTF16",
        ("orgs.csv", 0, 0),
        Severity::Error,
    );
}

#[test]
fn manifest_missing() {
    // CSV binding §2.1: manifest.csv is required.
    let (_t, dir) = copy("jp_newer");
    std::fs::remove_file(dir.join("manifest.csv")).unwrap();
    one(
        &check(&dir),
        "MANIFEST-MISSING",
        ("manifest.csv", 0, 0),
        Severity::Error,
    );
}

#[test]
fn manifest_rows_and_values() {
    // CSV binding §2.1.1: versions, a file.X row per file with bulk|delta|absent.
    let (_t, dir) = copy("jp_newer");
    replace(&dir, "manifest.csv", "file.orgs,bulk", "file.orgs,full");
    replace(&dir, "manifest.csv", "file.roles,bulk\n", "");
    replace(
        &dir,
        "manifest.csv",
        "oneroster.version,1.2",
        "oneroster.version,1.1",
    );
    replace(
        &dir,
        "manifest.csv",
        "file.results,absent",
        "file.results,bulk",
    );
    append(&dir, "manifest.csv", "file.users,bulk");
    append(&dir, "manifest.csv", "source.colour,blue");
    let r = check(&dir);
    one(
        &r,
        "MANIFEST-MODE",
        ("manifest.csv", 15, 2),
        Severity::Error,
    );
    one(
        &r,
        "MANIFEST-VERSION",
        ("manifest.csv", 3, 2),
        Severity::Error,
    );
    one(
        &r,
        "MANIFEST-UNSUPPORTED",
        ("manifest.csv", 18, 2),
        Severity::Warning,
    );
    one(
        &r,
        "MANIFEST-DUPLICATE",
        ("manifest.csv", 25, 1),
        Severity::Error,
    );
    one(
        &r,
        "MANIFEST-UNKNOWN-PROPERTY",
        ("manifest.csv", 26, 1),
        Severity::Warning,
    );
    let d = one(
        &r,
        "MANIFEST-REQUIRED",
        ("manifest.csv", 26, 0),
        Severity::Error,
    );
    assert!(d.message.contains("file.roles"), "{d}");
    // orgs.csv is there but now counts as absent; roles.csv too.
    assert_eq!(find(&r, "MANIFEST-FILE-ABSENT").len(), 2);
}

#[test]
fn manifest_file_missing_and_unknown_files() {
    let (_t, dir) = copy("jp_newer");
    std::fs::remove_file(dir.join("demographics.csv")).unwrap();
    std::fs::write(dir.join("notes.txt"), "hello").unwrap();
    let r = check(&dir);
    one(
        &r,
        "MANIFEST-FILE-MISSING",
        ("demographics.csv", 0, 0),
        Severity::Error,
    );
    one(
        &r,
        "PACKAGE-UNKNOWN-FILE",
        ("notes.txt", 0, 0),
        Severity::Warning,
    );
}

#[test]
fn headers_by_name_in_any_order() {
    // CSV binding §3: columns are found by their header name.
    let (_t, dir) = copy("jp_newer");
    std::fs::write(
        dir.join("orgs.csv"),
        "name,sourcedId,type,status,dateLastModified,identifier,parentSourcedId\n\
         さくら市教育委員会,boe-sakura,district,,,122000,\n\
         さくら市立第一中学校,jhs-sakura1,school,,,C112220000014,boe-sakura\n",
    )
    .unwrap();
    clean(&check(&dir));
}

#[test]
fn header_missing_duplicate_unknown_and_metadata() {
    let (_t, dir) = copy("jp_newer");
    replace(&dir, "orgs.csv", "name,type", "title,type");
    replace(
        &dir,
        "courses.csv",
        "subjects,subjectCodes",
        "subjects,subjects",
    );
    replace(
        &dir,
        "demographics.csv",
        "publicSchoolResidenceStatus",
        "metadata.city.residency",
    );
    replace(&dir, "roles.csv", "userProfileSourcedId", "note");
    let r = check(&dir);
    one(&r, "HDR-MISSING", ("orgs.csv", 1, 0), Severity::Error);
    let unknown = find(&r, "HDR-UNKNOWN");
    assert_eq!(
        (unknown[0].file.as_str(), unknown[0].column),
        ("orgs.csv", 4)
    );
    assert_eq!(
        (unknown[1].file.as_str(), unknown[1].field.as_str()),
        ("roles.csv", "note")
    );
    one(&r, "HDR-DUPLICATE", ("courses.csv", 1, 10), Severity::Error);
    assert_eq!(find(&r, "HDR-OPTIONAL-MISSING").len(), 3);
    // metadata.* columns are kept as they are.
    let (roster, _) = read(&Source::open(&dir).unwrap(), &Options::default()).unwrap();
    let demo = roster.records(kakehashi_oneroster::Entity::Demographics);
    assert!(demo[0]
        .fields
        .iter()
        .any(|(k, _)| k == "metadata.city.residency"));
}

#[test]
fn file_empty() {
    let (_t, dir) = copy("jp_newer");
    std::fs::write(dir.join("roles.csv"), "").unwrap();
    one(
        &check(&dir),
        "FILE-EMPTY",
        ("roles.csv", 0, 0),
        Severity::Error,
    );
}

fn zip_of(path: &std::path::Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn zip_with_path_traversal_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("evil.zip");
    zip_of(
        &path,
        &[
            ("manifest.csv", b"propertyName,value\n"),
            ("../evil.csv", b"x"),
        ],
    );
    let err = Source::open(&path).unwrap_err();
    assert!(matches!(err, ReadError::UnsafeZip { .. }), "{err}");
    assert!(
        err.to_string().contains("../evil.csv") && err.to_string().contains("evil.zip"),
        "{err}"
    );
}

#[test]
fn zip_bomb_ratio_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bomb.zip");
    let zeros = vec![b'0'; 8 << 20];
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("users.csv", opts).unwrap();
    z.write_all(&zeros).unwrap();
    z.finish().unwrap();
    let err = Source::open(&path).unwrap_err();
    assert!(matches!(err, ReadError::ZipBomb { .. }), "{err}");
}

#[test]
fn zip_with_a_folder_gets_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nested.zip");
    zip_of(&path, &[("roster/manifest.csv", b"propertyName,value\n")]);
    let r = check(&path);
    let d = one(
        &r,
        "MANIFEST-MISSING",
        ("manifest.csv", 0, 0),
        Severity::Error,
    );
    assert!(d.message.contains("roster/manifest.csv"), "{d}");
}

#[test]
fn not_a_package() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(&path, "sourcedId\n").unwrap();
    assert!(matches!(Source::open(&path), Err(ReadError::Zip { .. })));
}

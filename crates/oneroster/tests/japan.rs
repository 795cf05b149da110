//! Japan Profile rules (OneRoster Japan Profile, 1EdTech Japan; 1EdTech OneRoster 1.2 CSV
//! Binding: Japan K-12/Schools Profile), and names that must survive exactly.

mod common;

use common::*;
use kakehashi_oneroster::{read, write_dir, Entity, Options, Severity, Source};

#[test]
fn jp_grade_codes() {
    // Japan Profile grades: P1–P6, J1–J3, H1–H3, E1–E3; CEDS codes only warn.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "courses.csv",
        ",J1,jhs-sakura1,数学",
        ",\"J1,07\",jhs-sakura1,数学",
    );
    replace(&dir, "classes.csv", "1年1組,J1", "1年1組,中1");
    let r = check(&dir);
    one(
        &r,
        "JP-GRADE-CEDS",
        ("courses.csv", 3, 7),
        Severity::Warning,
    );
    one(&r, "ROW-GRADE", ("classes.csv", 2, 5), Severity::Error);
}

#[test]
fn jp_user_master_identifier_is_a_unique_uuid() {
    // Japan Profile users.userMasterIdentifier: required, a UUID (version 4), unique.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "users.csv",
        "2b0c8a6e-5f43-4d8e-9a51-0c7d1e2f3a4b",
        "T0001",
    );
    replace(
        &dir,
        "users.csv",
        "4f6a2c8e-1b3d-4e5f-a607-8192a3b4c5d6",
        "4f6a2c8e-1b3d-1e5f-a607-8192a3b4c5d6",
    );
    replace(
        &dir,
        "users.csv",
        "7c1e9b24-3a5d-4f60-b718-29304a5b6c7d",
        "9D3E7F10-8C21-4B6A-8F02-61D5A4C3B2E1",
    );
    let r = check(&dir);
    one(&r, "JP-UMI-UUID", ("users.csv", 2, 17), Severity::Error);
    one(
        &r,
        "JP-UMI-VERSION",
        ("users.csv", 4, 17),
        Severity::Warning,
    );
    let d = one(
        &r,
        "JP-UMI-DUPLICATE",
        ("users.csv", 5, 17),
        Severity::Error,
    );
    assert!(d.message.contains("line 3"), "{d}");
}

#[test]
fn jp_user_master_identifier_is_required() {
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "users.csv",
        "2b0c8a6e-5f43-4d8e-9a51-0c7d1e2f3a4b",
        "",
    );
    one(
        &check(&dir),
        "ROW-REQUIRED",
        ("users.csv", 2, 17),
        Severity::Error,
    );
}

#[test]
fn jp_kana_refuses_half_width_katakana_and_shows_it() {
    // Japan Profile metadata.jp.kana*: full-width katakana (hiragana accepted).
    let (_t, dir) = copy("jp_newer");
    replace(&dir, "users.csv", "イチロウ,タカハシ", "ｲﾁﾛｳ,髙橋");
    let r = check(&dir);
    let d = one(
        &r,
        "JP-KANA-HALFWIDTH",
        ("users.csv", 2, 23),
        Severity::Error,
    );
    assert!(d.message.contains("U+FF72 'ｲ'"), "{d}");
    one(&r, "JP-KANA-CHARS", ("users.csv", 2, 24), Severity::Warning);
}

#[test]
fn jp_names_with_half_width_kana_warn() {
    let (_t, dir) = copy("jp_newer");
    replace(&dir, "users.csv", "一郎,髙橋", "ｲﾁﾛｳ,髙橋");
    one(
        &check(&dir),
        "JP-NAME-HALFWIDTH",
        ("users.csv", 2, 7),
        Severity::Warning,
    );
}

#[test]
fn jp_home_class_must_exist() {
    // Japan Profile metadata.jp.homeClass: the sourcedId of a class.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "users.csv",
        "ミサキ,ヨシダ,,k-1-1",
        "ミサキ,ヨシダ,,k-9-9",
    );
    one(
        &check(&dir),
        "REF-MISSING",
        ("users.csv", 3, 26),
        Severity::Error,
    );
}

#[test]
fn jp_org_types_other_than_district_and_school_warn() {
    let (_t, dir) = copy("jp_newer");
    replace(&dir, "orgs.csv", "district,", "local,");
    one(
        &check(&dir),
        "JP-ORG-TYPE",
        ("orgs.csv", 2, 5),
        Severity::Warning,
    );
}

#[test]
fn jp_mixed_generations_warn() {
    // Older Japan Profile: metadata.jp.ShussekiNo/PublicFlg; newer: shussekiNo/publicFlg.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "enrollments.csv",
        "metadata.jp.publicFlg",
        "metadata.jp.publicFlg,metadata.jp.PublicFlg",
    );
    let text = std::fs::read_to_string(dir.join("enrollments.csv")).unwrap();
    let fixed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("{l},\n")
            }
        })
        .collect();
    std::fs::write(dir.join("enrollments.csv"), fixed).unwrap();
    one(
        &check(&dir),
        "JP-MIXED-GENERATION",
        ("enrollments.csv", 1, 0),
        Severity::Warning,
    );
}

#[test]
fn older_generation_values_are_checked_too() {
    let (_t, dir) = copy("jp_older");
    replace(
        &dir,
        "enrollments.csv",
        "2026-04-01,,1,true",
        "2026-04-01,,1,yes",
    );
    one(
        &check(&dir),
        "ROW-BOOL",
        ("enrollments.csv", 3, 12),
        Severity::Error,
    );
}

#[test]
fn names_survive_read_write_read_exactly() {
    // 𠮷 (outside the BMP), 髙, 﨑, full-width text, and a quoted field with a comma and
    // quotes must come back byte for byte.
    for fixture_name in ["jp_newer", "jp_older"] {
        let (roster, report) = read(
            &Source::open(&fixture(fixture_name)).unwrap(),
            &Options::default(),
        )
        .unwrap();
        assert!(report.is_valid(), "{:#?}", report.diagnostics);
        let users = roster.records(Entity::Users);
        assert_eq!(users[1].get("familyName"), Some("𠮷田"));
        assert_eq!(users[2].get("familyName"), Some("山﨑"));
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        write_dir(&roster, &a).unwrap();
        let (again, report) = read(&Source::open(&a).unwrap(), &Options::default()).unwrap();
        assert!(report.is_valid(), "{:#?}", report.diagnostics);
        for e in Entity::ALL {
            let strip = |r: &kakehashi_oneroster::Roster| -> Vec<(String, Vec<(String, String)>)> {
                r.records(e)
                    .iter()
                    .map(|x| {
                        (
                            x.sourced_id.clone(),
                            x.fields
                                .iter()
                                .filter(|(_, v)| !v.is_empty())
                                .map(|(k, v)| (k.to_string(), v.clone()))
                                .collect(),
                        )
                    })
                    .collect()
            };
            assert_eq!(strip(&roster), strip(&again), "{e}");
        }
        write_dir(&again, &b).unwrap();
        for f in std::fs::read_dir(&a).unwrap() {
            let name = f.unwrap().file_name();
            assert_eq!(
                std::fs::read(a.join(&name)).unwrap(),
                std::fs::read(b.join(&name)).unwrap(),
                "{name:?}"
            );
        }
    }
    let (roster, _) = read(
        &Source::open(&fixture("jp_newer")).unwrap(),
        &Options::default(),
    )
    .unwrap();
    let classes = roster.records(Entity::Classes);
    assert_eq!(classes[0].get("location"), Some("本館 \"北\", 2階"));
    assert_eq!(
        roster.records(Entity::Users)[2].get("givenName"),
        Some("太郎, ジュニア")
    );
}

#[test]
fn older_generation_columns_are_written_back_after_the_canonical_ones() {
    let (roster, _) = read(
        &Source::open(&fixture("jp_older")).unwrap(),
        &Options::default(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    write_dir(&roster, tmp.path()).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("enrollments.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.ends_with("metadata.jp.shussekiNo,metadata.jp.publicFlg,metadata.jp.ShussekiNo,metadata.jp.PublicFlg"), "{header}");
    assert!(text.contains("\r\n"));
}

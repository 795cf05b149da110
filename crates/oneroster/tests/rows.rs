//! Row rules, one test per rule id; comments cite the section of the OneRoster 1.2 CSV
//! binding or the Japan Profile the rule comes from.

mod common;

use common::*;
use kakehashi_oneroster::{Entity, ExistingIds, Options, Severity};

#[test]
fn both_japan_profile_generations_are_valid() {
    clean(&check(&fixture("jp_newer")));
    clean(&check(&fixture("jp_older")));
}

#[test]
fn row_field_count_names_line_and_column() {
    // RFC 4180 §2.4 / CSV binding §2: every row has as many fields as the header.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "roles.csv",
        "r-s2,,,u-s2,primary,student,2026-04-01,,jhs-sakura1,",
        "r-s2,,,u-s2,primary,student,2026-04-01,jhs-sakura1,",
    );
    let r = check(&dir);
    let d = one(&r, "ROW-FIELD-COUNT", ("roles.csv", 4, 10), Severity::Error);
    assert!(d.message.contains("9 fields"), "{d}");
}

#[test]
fn row_required_values() {
    // CSV binding §3.10 users: givenName is required.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "users.csv",
        "sakura.t1,{mext:T0001},一郎",
        "sakura.t1,{mext:T0001},",
    );
    one(
        &check(&dir),
        "ROW-REQUIRED",
        ("users.csv", 2, 7),
        Severity::Error,
    );
}

#[test]
fn row_enumerations_of_every_file() {
    // CSV binding §3.x enumerations: status, session type, org type, class type, roleType,
    // role, enrollment role, sex.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "academicSessions.csv",
        "term,2026-04-01",
        "quarter,2026-04-01",
    );
    replace(&dir, "orgs.csv", "district,", "prefecture,");
    replace(&dir, "classes.csv", "homeroom", "homeRoom");
    replace(
        &dir,
        "roles.csv",
        "u-t1,primary,teacher",
        "u-t1,main,teacher",
    );
    replace(
        &dir,
        "roles.csv",
        "u-s1,primary,student",
        "u-s1,primary,pupil",
    );
    replace(&dir, "enrollments.csv", "u-s2,student", "u-s2,learner");
    replace(&dir, "demographics.csv", "female", "F");
    replace(&dir, "enrollments.csv", "e-4,,", "e-4,deleted,");
    let r = check(&dir);
    let found = find(&r, "ROW-ENUM");
    let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "type",
            "type",
            "classType",
            "sex",
            "roleType",
            "role",
            "role",
            "status"
        ],
        "{found:#?}"
    );
    assert_eq!(r.errors, 8);
}

#[test]
fn ext_enumerations_are_allowed() {
    // CSV binding §2.3: `ext:` extends an enumeration.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "roles.csv",
        "u-t1,primary,teacher",
        "u-t1,primary,ext:kouchou",
    );
    assert!(check(&dir).is_valid());
}

#[test]
fn row_date_datetime_boolean_int() {
    // CSV binding §2.3 data types.
    let (_t, dir) = copy("jp_newer");
    replace(&dir, "academicSessions.csv", "2027-03-31", "2027/03/31");
    replace(
        &dir,
        "enrollments.csv",
        "e-1,,",
        "e-1,active,2026-04-01 09:00",
    );
    replace(
        &dir,
        "enrollments.csv",
        "student,false,2026-04-01,,1,true",
        "student,no,2026-04-01,,一,true",
    );
    let r = check(&dir);
    one(
        &r,
        "ROW-DATE",
        ("academicSessions.csv", 2, 7),
        Severity::Error,
    );
    one(
        &r,
        "ROW-DATETIME",
        ("enrollments.csv", 2, 3),
        Severity::Error,
    );
    one(&r, "ROW-BOOL", ("enrollments.csv", 3, 8), Severity::Error);
    one(&r, "ROW-INT", ("enrollments.csv", 3, 11), Severity::Error);
}

#[test]
fn row_date_order() {
    // CSV binding §3.1: a session ends after it starts.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "academicSessions.csv",
        "2026-04-01,2026-09-30",
        "2026-10-01,2026-09-30",
    );
    one(
        &check(&dir),
        "ROW-DATE-ORDER",
        ("academicSessions.csv", 3, 7),
        Severity::Error,
    );
}

#[test]
fn duplicate_sourced_ids_report_both_lines() {
    // CSV binding §3: sourcedId is unique within its file. Users are kept exactly; enrollments
    // go through the 64-bit hash set and the confirming second pass.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "users.csv",
        "u-s2,,,true,sakura.s2",
        "u-s1,,,true,sakura.s2",
    );
    append(
        &dir,
        "enrollments.csv",
        "e-2,,,k-1-math,jhs-sakura1,u-s2,student,false,2026-04-01,,,",
    );
    let r = check(&dir);
    let dups = find(&r, "ROW-DUP-ID");
    assert_eq!(dups.len(), 2, "{dups:#?}");
    assert_eq!((dups[0].file.as_str(), dups[0].line), ("users.csv", 4));
    assert!(dups[0].message.contains("line 3"), "{}", dups[0]);
    assert_eq!(
        (dups[1].file.as_str(), dups[1].line),
        ("enrollments.csv", 7)
    );
    assert!(dups[1].message.contains("line 3"), "{}", dups[1]);
}

#[test]
fn every_reference_resolves_in_a_bulk_package() {
    // CSV binding §2.1.1 (bulk: the file is complete) and the reference columns of §3.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "enrollments.csv",
        "k-1-1,jhs-sakura1,u-t1",
        "k-9-9,jhs-sakura1,u-ghost",
    );
    replace(
        &dir,
        "classes.csv",
        "c-j1-math,,scheduled",
        "c-none,,scheduled",
    );
    replace(&dir, "courses.csv", "fy2026,1年 数学", "fy2099,1年 数学");
    replace(
        &dir,
        "roles.csv",
        "u-g1,primary,guardian,2026-04-01,,jhs-sakura1",
        "u-g1,primary,guardian,2026-04-01,,org-x",
    );
    replace(
        &dir,
        "academicSessions.csv",
        "2026-09-30,fy2026",
        "2026-09-30,fy1999",
    );
    replace(&dir, "users.csv", ",u-g1,J1", ",u-g9,J1");
    let r = check(&dir);
    let refs = find(&r, "REF-MISSING");
    let got: Vec<(&str, &str)> = refs
        .iter()
        .map(|d| (d.file.as_str(), d.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("academicSessions.csv", "parentSourcedId"),
            ("courses.csv", "schoolYearSourcedId"),
            ("classes.csv", "courseSourcedId"),
            ("users.csv", "agentSourcedIds"),
            ("roles.csv", "orgSourcedId"),
            ("enrollments.csv", "classSourcedId"),
            ("enrollments.csv", "userSourcedId"),
        ]
    );
    assert!(refs[6].message.contains("u-ghost"));
}

#[test]
fn a_list_where_one_id_is_allowed() {
    // CSV binding §3.5: enrollments.schoolSourcedId is a single GUID reference.
    let (_t, dir) = copy("jp_newer");
    replace(
        &dir,
        "enrollments.csv",
        "e-1,,,k-1-1,jhs-sakura1,",
        "e-1,,,k-1-1,\"jhs-sakura1,boe-sakura\",",
    );
    let r = check(&dir);
    let d = one(&r, "REF-LIST", ("enrollments.csv", 2, 5), Severity::Error);
    assert!(
        d.message.contains("schoolSourcedId holds a list") && d.message.contains("only one id"),
        "{d}"
    );
}

/// A delta package with enrollments only; users, classes and orgs are absent.
fn delta_enrollments() -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = copy("jp_newer");
    for f in [
        "academicSessions",
        "orgs",
        "courses",
        "classes",
        "users",
        "roles",
        "demographics",
    ] {
        std::fs::remove_file(dir.join(format!("{f}.csv"))).unwrap();
        replace(
            &dir,
            "manifest.csv",
            &format!("file.{f},bulk"),
            &format!("file.{f},absent"),
        );
    }
    replace(
        &dir,
        "manifest.csv",
        "file.enrollments,bulk",
        "file.enrollments,delta",
    );
    std::fs::write(
        dir.join("enrollments.csv"),
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate,metadata.jp.shussekiNo,metadata.jp.publicFlg\n\
         e-2,tobedeleted,2026-11-20T09:00:00.000Z,k-1-1,jhs-sakura1,u-s1,student,false,2026-04-01,,1,true\n",
    )
    .unwrap();
    (t, dir)
}

#[test]
fn delta_references_outside_the_package_warn_without_a_database() {
    // CSV binding §2.1.1: a delta package relies on what the receiver already holds.
    let (_t, dir) = delta_enrollments();
    let r = check(&dir);
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    assert_eq!(find(&r, "REF-EXTERNAL").len(), 3);
    assert_eq!(r.warnings, 3);
}

struct Tenant(&'static [(Entity, &'static str)]);
impl ExistingIds for Tenant {
    fn contains(&self, entity: Entity, id: &str) -> bool {
        self.0.contains(&(entity, id))
    }
}

#[test]
fn delta_references_are_checked_against_the_tenant() {
    let (_t, dir) = delta_enrollments();
    let full = Tenant(&[
        (Entity::Classes, "k-1-1"),
        (Entity::Orgs, "jhs-sakura1"),
        (Entity::Users, "u-s1"),
    ]);
    clean(&check_with(
        &dir,
        &Options {
            existing: Some(&full),
            ..Options::default()
        },
    ));
    let partial = Tenant(&[(Entity::Classes, "k-1-1"), (Entity::Orgs, "jhs-sakura1")]);
    let r = check_with(
        &dir,
        &Options {
            existing: Some(&partial),
            ..Options::default()
        },
    );
    let d = one(
        &r,
        "REF-MISSING",
        ("enrollments.csv", 2, 6),
        Severity::Error,
    );
    assert!(d.message.contains("u-s1"), "{d}");
}

#[test]
fn delta_rows_need_status_and_date_last_modified() {
    // CSV binding §2.1.1: status and dateLastModified are required in delta files.
    let (_t, dir) = delta_enrollments();
    replace(
        &dir,
        "enrollments.csv",
        "e-2,tobedeleted,2026-11-20T09:00:00.000Z",
        "e-2,,",
    );
    let r = check(&dir);
    assert_eq!(find(&r, "ROW-DELTA-REQUIRED").len(), 2);
}

#[test]
fn all_errors_are_reported_up_to_the_cap_and_counted_past_it() {
    let (_t, dir) = copy("jp_newer");
    for i in 0..30 {
        append(
            &dir,
            "enrollments.csv",
            &format!("x-{i},,,k-1-1,jhs-sakura1,nobody-{i},student,false,,,,"),
        );
    }
    assert_eq!(check(&dir).errors, 30);
    let capped = check_with(
        &dir,
        &Options {
            max_diagnostics: 5,
            ..Options::default()
        },
    );
    assert_eq!(capped.diagnostics.len(), 5);
    assert_eq!(capped.errors, 30);
}

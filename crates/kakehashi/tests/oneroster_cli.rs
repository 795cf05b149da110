//! `kakehashi oneroster validate|import|export` driven as an IT person at a board of education
//! would, on SQLite and PostgreSQL.

mod common;

use std::path::Path;

use common::{demo_package, files_of, run_plain, Env};

/// Rewrites one CSV file of a package: `edit` gets the header and the rows.
fn edit_csv(dir: &Path, file: &str, edit: impl FnOnce(&[String], &mut Vec<Vec<String>>)) {
    let path = dir.join(file);
    let mut rdr = csv::Reader::from_path(&path).expect("read csv");
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let mut rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    edit(&header, &mut rows);
    let mut w = csv::Writer::from_path(&path).expect("write csv");
    w.write_record(&header).unwrap();
    for r in rows {
        w.write_record(&r).unwrap();
    }
    w.flush().unwrap();
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn validate_accepts_the_demo_package_as_dir_and_zip() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = demo_package(&dir.path().join("pkg"));
    let out = run_plain(&["oneroster", "validate", p(&pkg)]).ok();
    assert!(out.stderr.contains("0 error(s)"), "{}", out.stderr);
    let zip = dir.path().join("pkg.zip");
    kakehashi_oneroster::write_zip(&kakehashi_oneroster::generate::small_demo(), &zip).unwrap();
    run_plain(&["oneroster", "validate", p(&zip)]).ok();
}

#[test]
fn validate_reports_every_error_with_file_line_column_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = demo_package(&dir.path().join("pkg"));
    // Two independent mistakes: an enrollment for a user who does not exist, and a duplicate
    // user sourcedId.
    edit_csv(&pkg, "enrollments.csv", |h, rows| {
        let mut bad = rows[0].clone();
        bad[col(h, "sourcedId")] = "enr-ghost".into();
        bad[col(h, "userSourcedId")] = "no-such-user".into();
        rows.push(bad);
    });
    edit_csv(&pkg, "users.csv", |_, rows| {
        let dup = rows[1].clone();
        rows.push(dup);
    });
    let text = run_plain(&["oneroster", "validate", p(&pkg)]).code(1);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("enrollments.csv:") && l.contains("no-such-user")),
        "{}",
        text.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("users.csv:")),
        "{}",
        text.stdout
    );
    for l in &lines {
        // FILE:LINE:COLUMN: RULE-ID: message
        let parts: Vec<&str> = l.splitn(5, ':').collect();
        assert_eq!(parts.len(), 5, "{l}");
        assert!(
            parts[1].parse::<u64>().is_ok() && parts[2].parse::<u64>().is_ok(),
            "{l}"
        );
        assert!(!parts[3].trim().is_empty(), "{l}");
    }
    let json = run_plain(&["oneroster", "validate", "--format", "json", p(&pkg)]).code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let diags = v.as_array().unwrap();
    assert!(diags.len() >= 2);
    for d in diags {
        for key in [
            "file", "line", "column", "field", "rule", "message", "severity",
        ] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
    }
    let ghost = diags
        .iter()
        .find(|d| d["message"].as_str().unwrap_or("").contains("no-such-user"))
        .expect("the unknown user is reported");
    assert_eq!(ghost["file"], "enrollments.csv");
    assert_eq!(ghost["field"], "userSourcedId");
    assert_eq!(ghost["severity"], "error");
}

#[test]
fn validate_usage_and_io_errors_exit_2() {
    run_plain(&["oneroster", "validate", "/no/such/package.zip"]).code(2);
    run_plain(&["oneroster", "validate"]).code(2);
}

#[tokio::test]
async fn export_import_export_is_byte_identical() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B"])
            .ok();
        env.run(&["oneroster", "import", "--tenant", "city-a", p(&pkg)])
            .ok();
        let first = env.path("first");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&first)])
            .ok();
        env.run(&["oneroster", "import", "--tenant", "city-b", p(&first)])
            .ok();
        let second = env.path("second");
        env.run(&["oneroster", "export", "--tenant", "city-b", p(&second)])
            .ok();
        assert_eq!(files_of(&first), files_of(&second), "{}", env.label());
        // Zip exports of both tenants are the same bytes too.
        let (za, zb) = (env.path("a.zip"), env.path("b.zip"));
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&za)])
            .ok();
        env.run(&["oneroster", "export", "--tenant", "city-b", p(&zb)])
            .ok();
        assert_eq!(
            std::fs::read(&za).unwrap(),
            std::fs::read(&zb).unwrap(),
            "{}",
            env.label()
        );
        // Names outside the BMP and full-width text survive the round trip.
        let users = std::fs::read_to_string(second.join("users.csv")).unwrap();
        assert!(
            users.contains('𠮷') && users.contains('髙'),
            "{}",
            env.label()
        );
    }
}

#[tokio::test]
async fn a_package_with_errors_changes_nothing() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["oneroster", "import", "--tenant", "city-a", p(&pkg)])
            .ok();
        let before = env.path("before");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&before)])
            .ok();
        let audit_before = env
            .run(&["audit", "verify", "--format", "json"])
            .ok()
            .stdout;
        // Good changes (a renamed pupil) together with one bad row: all or nothing.
        edit_csv(&pkg, "users.csv", |h, rows| {
            rows[0][col(h, "givenName")] = "変更".into();
        });
        edit_csv(&pkg, "enrollments.csv", |h, rows| {
            rows[0][col(h, "classSourcedId")] = "no-such-class".into();
        });
        let failed = env
            .run(&["oneroster", "import", "--tenant", "city-a", p(&pkg)])
            .code(1);
        assert!(failed.stdout.contains("no-such-class"), "{}", failed.stdout);
        assert!(
            failed.stderr.contains("nothing was imported"),
            "{}",
            failed.stderr
        );
        let after = env.path("after");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&after)])
            .ok();
        assert_eq!(files_of(&before), files_of(&after), "{}", env.label());
        let audit_after = env
            .run(&["audit", "verify", "--format", "json"])
            .ok()
            .stdout;
        assert_eq!(
            audit_before, audit_after,
            "no audit row for a failed import"
        );
    }
}

#[tokio::test]
async fn bulk_deactivates_what_disappeared_and_delta_applies_tobedeleted() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        let first = env
            .run(&[
                "oneroster",
                "import",
                "--tenant",
                "city-a",
                "--format",
                "json",
                p(&pkg),
            ])
            .ok();
        let s: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
        let enrollments = s["entities"]["enrollments"]["created"].as_u64().unwrap();
        assert!(enrollments > 10, "{s}");
        // Bulk again without the last enrollment: it is deactivated, the rest unchanged.
        let mut removed = String::new();
        edit_csv(&pkg, "enrollments.csv", |h, rows| {
            removed = rows.pop().unwrap()[col(h, "sourcedId")].clone();
        });
        let again = env
            .run(&[
                "oneroster",
                "import",
                "--tenant",
                "city-a",
                "--format",
                "json",
                p(&pkg),
            ])
            .ok();
        let s: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert_eq!(s["entities"]["enrollments"]["deactivated"], 1, "{s}");
        assert_eq!(
            s["entities"]["enrollments"]["unchanged"],
            enrollments - 1,
            "{s}"
        );
        assert_eq!(s["entities"]["users"]["created"], 0, "{s}");
        let out = env.path("out");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&out)])
            .ok();
        let exported = std::fs::read_to_string(out.join("enrollments.csv")).unwrap();
        assert!(!exported.contains(&removed), "{}", env.label());

        // A delta package: only enrollments, one row marked tobedeleted.
        let delta = env.path("delta");
        std::fs::create_dir_all(&delta).unwrap();
        std::fs::copy(pkg.join("enrollments.csv"), delta.join("enrollments.csv")).unwrap();
        let mut gone = String::new();
        edit_csv(&delta, "enrollments.csv", |h, rows| {
            rows.truncate(1);
            gone = rows[0][col(h, "sourcedId")].clone();
            rows[0][col(h, "status")] = "tobedeleted".into();
            rows[0][col(h, "dateLastModified")] = "2026-11-20T09:00:00.000Z".into();
        });
        let manifest: String = std::fs::read_to_string(pkg.join("manifest.csv"))
            .unwrap()
            .lines()
            .map(|l| {
                if l.starts_with("file.enrollments,") {
                    "file.enrollments,delta".to_owned()
                } else if l.starts_with("file.") {
                    let key = l.split(',').next().unwrap();
                    format!("{key},absent")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        std::fs::write(delta.join("manifest.csv"), manifest).unwrap();
        let d = env
            .run(&[
                "oneroster",
                "import",
                "--tenant",
                "city-a",
                "--format",
                "json",
                p(&delta),
            ])
            .ok();
        let s: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
        assert_eq!(s["entities"]["enrollments"]["deactivated"], 1, "{s}");
        assert!(
            s["entities"].get("users").is_none(),
            "absent files are untouched: {s}"
        );
        let out2 = env.path("out2");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&out2)])
            .ok();
        let exported = std::fs::read_to_string(out2.join("enrollments.csv")).unwrap();
        assert!(!exported.contains(&gone), "{}", env.label());
        assert!(std::fs::read_to_string(out2.join("users.csv"))
            .unwrap()
            .contains('𠮷'));
        env.run(&["audit", "verify"]).ok();
    }
}

#[tokio::test]
async fn dry_run_writes_nothing_and_tenants_are_isolated() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["tenant", "add", "--id", "city-b", "--name", "B"])
            .ok();
        let dry = env
            .run(&[
                "oneroster",
                "import",
                "--tenant",
                "city-a",
                "--dry-run",
                p(&pkg),
            ])
            .ok();
        assert!(dry.stdout.contains("Dry run"), "{}", dry.stdout);
        assert!(dry.stdout.contains("users"), "{}", dry.stdout);
        let empty = env.path("empty");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&empty)])
            .ok();
        assert!(!empty.join("users.csv").exists(), "{}", env.label());
        // Tenant A's roster is invisible to tenant B.
        env.run(&["oneroster", "import", "--tenant", "city-a", p(&pkg)])
            .ok();
        let b = env.path("b");
        env.run(&["oneroster", "export", "--tenant", "city-b", p(&b)])
            .ok();
        assert!(!b.join("users.csv").exists(), "{}", env.label());
        // An unknown tenant is an error that says how to create it.
        let unknown = env
            .run(&["oneroster", "import", "--tenant", "nobody", p(&pkg)])
            .code(1);
        assert!(unknown.stderr.contains("tenant add"), "{}", unknown.stderr);
    }
}

#[tokio::test]
async fn passwords_in_a_roster_are_never_stored_or_exported() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        edit_csv(&pkg, "users.csv", |h, rows| {
            if let Some(i) = h.iter().position(|c| c == "password") {
                for r in rows.iter_mut() {
                    r[i] = "Sup3r-secret!".into();
                }
            } else {
                panic!("the writer's users.csv header has a password column: {h:?}");
            }
        });
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["oneroster", "import", "--tenant", "city-a", p(&pkg)])
            .ok();
        let out = env.path("out");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&out)])
            .ok();
        for (name, bytes) in files_of(&out) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains("Sup3r-secret!"),
                "{name} holds a plain password"
            );
        }
    }
}

/// Sourced ids of a package file, in file order.
fn ids_of(dir: &Path, file: &str) -> Vec<String> {
    let mut ids = Vec::new();
    edit_csv(dir, file, |h, rows| {
        ids = rows
            .iter()
            .map(|r| r[col(h, "sourcedId")].clone())
            .collect();
    });
    ids
}

#[tokio::test]
async fn bulk_reimport_exports_in_the_new_order_and_updates_primary_roles() {
    for env in Env::both().await {
        let pkg = demo_package(&env.path("pkg"));
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        env.run(&["oneroster", "import", "--tenant", "city-a", p(&pkg)])
            .ok();
        // Bulk §2.1.1: the file is the whole set, in its order. Unchanged rows whose order
        // holds are left in place; the rest must still come out in the file's order.
        edit_csv(&pkg, "users.csv", |_, rows| {
            rows.swap(3, 4);
            let first = rows.remove(0);
            rows.push(first);
        });
        let mut changed_user = String::new();
        edit_csv(&pkg, "roles.csv", |h, rows| {
            let r = rows
                .iter_mut()
                .find(|r| r[col(h, "roleType")] == "primary" && r[col(h, "role")] == "student")
                .expect("a pupil's primary role");
            r[col(h, "role")] = "aide".into();
            changed_user = r[col(h, "userSourcedId")].clone();
        });
        let again = env
            .run(&[
                "oneroster",
                "import",
                "--tenant",
                "city-a",
                "--format",
                "json",
                p(&pkg),
            ])
            .ok();
        let s: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert_eq!(s["entities"]["users"]["created"], 0, "{s}");
        assert_eq!(s["entities"]["users"]["updated"], 0, "{s}");
        assert_eq!(s["entities"]["roles"]["updated"], 1, "{s}");
        let out = env.path("out");
        env.run(&["oneroster", "export", "--tenant", "city-a", p(&out)])
            .ok();
        assert_eq!(
            ids_of(&out, "users.csv"),
            ids_of(&pkg, "users.csv"),
            "{}",
            env.label()
        );
        assert_eq!(
            ids_of(&out, "roles.csv"),
            ids_of(&pkg, "roles.csv"),
            "{}",
            env.label()
        );
        // The portal's view of the user follows the new primary role.
        let store = kakehashi_store::Store::open(&env.database_url())
            .await
            .unwrap();
        let tenant = kakehashi_store::TenantId::parse("city-a").unwrap();
        let mut found = None;
        let mut after = String::new();
        loop {
            let page = kakehashi_store::roster::list_users(&store, &tenant, &after, 100)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = last.username.clone();
            found = found.or_else(|| page.into_iter().find(|u| u.sourced_id == changed_user));
        }
        assert_eq!(found.expect("the user").role, "aide", "{}", env.label());
        store.close().await;
    }
}

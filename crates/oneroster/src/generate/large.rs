//! A city-sized package written straight to files, row by row, never held in memory: about
//! 1,000 users per school, 5% of them teachers, 30 classes per school (18 homerooms of six
//! years × three 組, 12 subject classes). Ids are recomputed from (seed, school, number) when a
//! later file needs them, so nothing is remembered between files.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::{names, uuid_v4, Rng};
use crate::model::{Entity, ProcessingMode, Roster};
use crate::schema::header;

const USERS_PER_SCHOOL: usize = 1000;
const HOMEROOMS: usize = 18;
const SUBJECT_CLASSES: usize = 12;
const CLASSES: usize = HOMEROOMS + SUBJECT_CLASSES;

struct Plan {
    seed: u64,
    users: usize,
    schools: usize,
    per_user: usize,
}

impl Plan {
    /// Users of school `s`: `[first, end)` of the global user numbers.
    fn school_users(&self, s: usize) -> (usize, usize) {
        let base = self.users / self.schools;
        let extra = self.users % self.schools;
        let first = s * base + s.min(extra);
        (first, first + base + usize::from(s < extra))
    }
    fn user_id(&self, u: usize) -> String {
        uuid_v4([self.seed, 1, u as u64, 0])
    }
    fn is_teacher(&self, s: usize, u: usize) -> bool {
        let (first, end) = self.school_users(s);
        (u - first) < ((end - first) / 20).max(1)
    }
}

fn school_id(s: usize) -> String {
    // 学校コード-like: B1 (primary), prefecture 13, a running number and a check digit.
    format!("B113{:08}{}", 100_000 + s, s % 10)
}

fn class_id(s: usize, c: usize) -> String {
    format!("cls-{s:05}-{c:02}")
}

fn course_id(s: usize, c: usize) -> String {
    format!("crs-{s:05}-{c:02}")
}

fn open(dir: &Path, e: Entity) -> io::Result<BufWriter<File>> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join(e.file_name()))?);
    w.write_all(header(e).join(",").as_bytes())?;
    w.write_all(b"\r\n")?;
    Ok(w)
}

/// Writes a bulk package of about `users` users into `dir`, each with `enrollments_per_user`
/// enrollments (pupils in their homeroom and subject classes, teachers in the classes they
/// teach), so `users × enrollments_per_user` enrollments in all. Same arguments, same bytes.
pub fn write_large(
    dir: &Path,
    users: usize,
    enrollments_per_user: usize,
    seed: u64,
) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let users = users.max(1);
    let plan = Plan {
        seed,
        users,
        schools: users.div_ceil(USERS_PER_SCHOOL),
        per_user: enrollments_per_user.clamp(1, 1 + SUBJECT_CLASSES),
    };
    let mut modes = std::collections::BTreeMap::new();
    for e in Entity::ALL {
        let m = match e {
            Entity::Demographics | Entity::UserProfiles => ProcessingMode::Absent,
            _ => ProcessingMode::Bulk,
        };
        modes.insert(e, m);
    }
    let manifest_only = Roster {
        modes,
        manifest: vec![("source.systemName".into(), "Kakehashi generator".into())],
        tables: Default::default(),
    };
    // The writer's manifest (and empty data files, overwritten below).
    crate::writer::write_dir(&manifest_only, dir)?;
    sessions(dir)?;
    orgs(dir, &plan)?;
    courses_and_classes(dir, &plan)?;
    users_and_roles(dir, &plan)?;
    enrollments(dir, &plan)
}

fn sessions(dir: &Path) -> io::Result<()> {
    let mut w = open(dir, Entity::AcademicSessions)?;
    w.write_all(
        b"ay-2026,,,2026\xE5\xB9\xB4\xE5\xBA\xA6,schoolYear,2026-04-01,2027-03-31,,2026\r\n",
    )?;
    for (i, (start, end)) in [
        ("2026-04-01", "2026-07-20"),
        ("2026-09-01", "2026-12-25"),
        ("2027-01-08", "2027-03-25"),
    ]
    .iter()
    .enumerate()
    {
        writeln_crlf(
            &mut w,
            format_args!(
                "term-2026-{n},,,{n}学期,term,{start},{end},ay-2026,2026",
                n = i + 1
            ),
        )?;
    }
    w.flush()
}

fn writeln_crlf(w: &mut impl Write, args: std::fmt::Arguments<'_>) -> io::Result<()> {
    w.write_fmt(args)?;
    w.write_all(b"\r\n")
}

fn orgs(dir: &Path, plan: &Plan) -> io::Result<()> {
    let mut w = open(dir, Entity::Orgs)?;
    writeln_crlf(
        &mut w,
        format_args!("org-city,,,ベンチ市教育委員会,district,130001,"),
    )?;
    for s in 0..plan.schools {
        writeln_crlf(
            &mut w,
            format_args!(
                "{},,,ベンチ市立第{}小学校,school,{},org-city",
                school_id(s),
                s + 1,
                school_id(s)
            ),
        )?;
    }
    w.flush()
}

fn courses_and_classes(dir: &Path, plan: &Plan) -> io::Result<()> {
    let mut courses = open(dir, Entity::Courses)?;
    let mut classes = open(dir, Entity::Classes)?;
    let terms = "\"term-2026-1,term-2026-2,term-2026-3\"";
    for s in 0..plan.schools {
        let school = school_id(s);
        for c in 0..CLASSES {
            let (course, class) = (course_id(s, c), class_id(s, c));
            if c < HOMEROOMS {
                let (year, kumi) = (c / 3 + 1, c % 3 + 1);
                writeln_crlf(
                    &mut courses,
                    format_args!("{course},,,ay-2026,{year}年 学級活動,,P{year},{school},,"),
                )?;
                writeln_crlf(&mut classes, format_args!("{class},,,{year}年{kumi}組,P{year},{course},{year}-{kumi},homeroom,{year}年{kumi}組教室,{school},{terms},,,,false"))?;
            } else {
                let k = c - HOMEROOMS;
                let year = k / 2 + 1;
                let (subject, code) = names::SUBJECTS[k % names::SUBJECTS.len()];
                writeln_crlf(
                    &mut courses,
                    format_args!(
                        "{course},,,ay-2026,{year}年 {subject},,P{year},{school},{subject},{code}"
                    ),
                )?;
                writeln_crlf(&mut classes, format_args!("{class},,,{year}年 {subject},P{year},{course},,scheduled,,{school},{terms},{subject},{code},,false"))?;
            }
        }
    }
    courses.flush()?;
    classes.flush()
}

fn users_and_roles(dir: &Path, plan: &Plan) -> io::Result<()> {
    let mut users = open(dir, Entity::Users)?;
    let mut roles = open(dir, Entity::Roles)?;
    let mut rng = Rng::new(plan.seed);
    for s in 0..plan.schools {
        let school = school_id(s);
        let (first, end) = plan.school_users(s);
        for u in first..end {
            let id = plan.user_id(u);
            let umi = uuid_v4([plan.seed, 2, u as u64, 0]);
            let (family, kana_family) = names::FAMILY[rng.below(names::FAMILY.len())];
            let (given, kana_given) = names::GIVEN[rng.below(names::GIVEN.len())];
            let teacher = plan.is_teacher(s, u);
            let (username, grade, home, role) = if teacher {
                (format!("t{u:07}"), String::new(), String::new(), "teacher")
            } else {
                let hr = (u - first) % HOMEROOMS;
                (
                    format!("s{u:07}"),
                    format!("P{}", hr / 3 + 1),
                    class_id(s, hr),
                    "student",
                )
            };
            writeln_crlf(&mut users, format_args!(
                "{id},,,true,{username},,{given},{family},,,,,,,{grade},,{umi},,,,{school},,{kana_given},{kana_family},,{home}"
            ))?;
            writeln_crlf(
                &mut roles,
                format_args!("role-{u:07},,,{id},primary,{role},2026-04-01,,{school},"),
            )?;
        }
    }
    users.flush()?;
    roles.flush()
}

fn enrollments(dir: &Path, plan: &Plan) -> io::Result<()> {
    let mut w = open(dir, Entity::Enrollments)?;
    for s in 0..plan.schools {
        let school = school_id(s);
        let (first, end) = plan.school_users(s);
        for u in first..end {
            let id = plan.user_id(u);
            let teacher = plan.is_teacher(s, u);
            let hr = (u - first) % HOMEROOMS;
            let year = hr / 3;
            for k in 0..plan.per_user {
                let class = if k == 0 {
                    hr
                } else {
                    // Subject classes of the pupil's year first, then the others.
                    HOMEROOMS + (year * 2 + k - 1) % SUBJECT_CLASSES
                };
                let enrollment = uuid_v4([plan.seed, 3, u as u64, k as u64]);
                let (role, primary, no, public) = if teacher {
                    ("teacher", "true", String::new(), "")
                } else if k == 0 {
                    (
                        "student",
                        "false",
                        ((u - first) / HOMEROOMS + 1).to_string(),
                        "true",
                    )
                } else {
                    ("student", "false", String::new(), "")
                };
                writeln_crlf(
                    &mut w,
                    format_args!(
                    "{enrollment},,,{},{school},{id},{role},{primary},2026-04-01,,{no},{public}",
                    class_id(s, class)
                ),
                )?;
            }
        }
    }
    w.flush()
}

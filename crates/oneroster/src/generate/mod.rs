//! Deterministic Japanese rosters for demos, tests and benchmarks: a board of education
//! (district) with schools, a 年度 with three 学期, homerooms ("1年1組") and subject classes,
//! teachers and pupils with kanji names, katakana readings and version 4 `userMasterIdentifier`s.
//!
//! [`small_demo`] builds a small roster in memory (`kakehashi serve --demo`); [`write_large`]
//! streams a city-sized package straight to files. Both use their own small PRNG, so the same
//! arguments give the same bytes on every machine.

mod large;
mod names;

use std::collections::BTreeMap;

pub use large::write_large;

use crate::model::{Entity, ProcessingMode, Record, Roster};
use crate::schema::header;

/// SplitMix64: small, fast and good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A version 4 UUID made from `parts` (the same parts give the same UUID).
pub fn uuid_v4(parts: [u64; 4]) -> String {
    let a = mix(parts[0] ^ mix(parts[1] ^ mix(parts[2] ^ mix(parts[3]))));
    let b = mix(a ^ 0x6A09_E667_F3BC_C908);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A record with every canonical column of `entity`, filled from `values`.
fn record(entity: Entity, line: u64, id: &str, values: &[(&str, &str)]) -> Record {
    let fields = header(entity)[3..]
        .iter()
        .map(|&c| {
            let v = values.iter().find(|(k, _)| *k == c).map_or("", |(_, v)| v);
            (c.into(), v.to_owned())
        })
        .collect();
    Record {
        line,
        sourced_id: id.to_owned(),
        status: None,
        date_last_modified: None,
        fields,
    }
}

struct Tables(BTreeMap<Entity, Vec<Record>>);

impl Tables {
    fn push(&mut self, entity: Entity, id: &str, values: &[(&str, &str)]) {
        let rows = self.0.entry(entity).or_default();
        let line = rows.len() as u64 + 2;
        rows.push(record(entity, line, id, values));
    }
}

/// The demo schools: (sourcedId, 学校コード, name, username prefix).
const DEMO_SCHOOLS: [(&str, &str, &str, &str); 2] = [
    (
        "sch-minami",
        "B113221000017",
        "デモ市立みなみ小学校",
        "minami",
    ),
    ("sch-kita", "B113221000025", "デモ市立きた小学校", "kita"),
];

/// Teachers per demo school, and pupils per demo school.
pub const DEMO_TEACHERS: usize = 3;
pub const DEMO_PUPILS: usize = 20;

/// A small roster: the district `デモ市教育委員会`, two primary schools, the 2026 年度 with
/// three 学期, per school two homerooms of the 5th year (`5年1組`, `5年2組`) and two subject
/// classes (`5年 国語`, `5年 算数`), 3 teachers and 20 pupils per school, their roles,
/// enrollments and demographics. Every file is `bulk`; userProfiles is `absent`.
///
/// Usernames: teachers `minami.t01`–`minami.t03` and `kita.t01`–`kita.t03`; pupils
/// `minami.s01`–`minami.s20` and `kita.s01`–`kita.s20`. Teacher `minami.t01` is the homeroom
/// teacher of みなみ小 5年1組. Pupil `minami.s01` is 𠮷田 (ヨシダ), `minami.s02` is 髙橋.
pub fn small_demo() -> Roster {
    let mut t = Tables(BTreeMap::new());
    let mut rng = Rng::new(2026);
    t.push(
        Entity::Orgs,
        "org-demo-city",
        &[
            ("name", "デモ市教育委員会"),
            ("type", "district"),
            ("identifier", "132210"),
        ],
    );
    for (id, code, name, _) in DEMO_SCHOOLS {
        t.push(
            Entity::Orgs,
            id,
            &[
                ("name", name),
                ("type", "school"),
                ("identifier", code),
                ("parentSourcedId", "org-demo-city"),
            ],
        );
    }
    t.push(
        Entity::AcademicSessions,
        "ay-2026",
        &[
            ("title", "2026年度"),
            ("type", "schoolYear"),
            ("startDate", "2026-04-01"),
            ("endDate", "2027-03-31"),
            ("schoolYear", "2026"),
        ],
    );
    let terms = [
        ("term-2026-1", "1学期", "2026-04-01", "2026-07-20"),
        ("term-2026-2", "2学期", "2026-09-01", "2026-12-25"),
        ("term-2026-3", "3学期", "2027-01-08", "2027-03-25"),
    ];
    for (id, title, start, end) in terms {
        t.push(
            Entity::AcademicSessions,
            id,
            &[
                ("title", title),
                ("type", "term"),
                ("startDate", start),
                ("endDate", end),
                ("parentSourcedId", "ay-2026"),
                ("schoolYear", "2026"),
            ],
        );
    }
    let all_terms = "term-2026-1,term-2026-2,term-2026-3";
    for (s, (school, _, _, prefix)) in DEMO_SCHOOLS.iter().enumerate() {
        let hr_course = format!("crs-{prefix}-5-hr");
        t.push(
            Entity::Courses,
            &hr_course,
            &[
                ("schoolYearSourcedId", "ay-2026"),
                ("title", "5年 学級活動"),
                ("grades", "P5"),
                ("orgSourcedId", school),
            ],
        );
        let mut classes = Vec::new();
        for k in 1..=2 {
            let id = format!("cls-{prefix}-5-{k}");
            let title = format!("5年{k}組");
            t.push(
                Entity::Classes,
                &id,
                &[
                    ("title", &title),
                    ("grades", "P5"),
                    ("courseSourcedId", &hr_course),
                    ("classCode", &format!("5-{k}")),
                    ("classType", "homeroom"),
                    ("location", &format!("5年{k}組教室")),
                    ("schoolSourcedId", school),
                    ("termSourcedIds", all_terms),
                ],
            );
            classes.push(id);
        }
        for (subject, code) in &names::SUBJECTS[..2] {
            let course = format!("crs-{prefix}-5-{code}");
            t.push(
                Entity::Courses,
                &course,
                &[
                    ("schoolYearSourcedId", "ay-2026"),
                    ("title", &format!("5年 {subject}")),
                    ("grades", "P5"),
                    ("orgSourcedId", school),
                    ("subjects", subject),
                    ("subjectCodes", code),
                ],
            );
            let id = format!("cls-{prefix}-5-{code}");
            t.push(
                Entity::Classes,
                &id,
                &[
                    ("title", &format!("5年 {subject}")),
                    ("grades", "P5"),
                    ("courseSourcedId", &course),
                    ("classType", "scheduled"),
                    ("schoolSourcedId", school),
                    ("termSourcedIds", all_terms),
                    ("subjects", subject),
                    ("subjectCodes", code),
                ],
            );
            classes.push(id);
        }
        let mut enrollment = 0usize;
        let mut enroll =
            |t: &mut Tables, class: &str, user: &str, role: &str, primary: &str, no: &str| {
                enrollment += 1;
                let id = format!("enr-{prefix}-{enrollment:03}");
                let public = if no.is_empty() { "" } else { "true" };
                t.push(
                    Entity::Enrollments,
                    &id,
                    &[
                        ("classSourcedId", class),
                        ("schoolSourcedId", school),
                        ("userSourcedId", user),
                        ("role", role),
                        ("primary", primary),
                        ("beginDate", "2026-04-01"),
                        ("metadata.jp.shussekiNo", no),
                        ("metadata.jp.publicFlg", public),
                    ],
                );
            };
        for n in 1..=DEMO_TEACHERS {
            let (user, role_id) = (
                format!("usr-{prefix}-t{n:02}"),
                format!("role-{prefix}-t{n:02}"),
            );
            person(
                &mut t,
                &mut rng,
                s,
                &user,
                &format!("{prefix}.t{n:02}"),
                None,
                "",
            );
            t.push(
                Entity::Roles,
                &role_id,
                &[
                    ("userSourcedId", &user),
                    ("roleType", "primary"),
                    ("role", "teacher"),
                    ("beginDate", "2026-04-01"),
                    ("orgSourcedId", school),
                ],
            );
            match n {
                1 | 2 => enroll(&mut t, &classes[n - 1], &user, "teacher", "true", ""),
                _ => {
                    enroll(&mut t, &classes[2], &user, "teacher", "true", "");
                    enroll(&mut t, &classes[3], &user, "teacher", "true", "");
                }
            }
        }
        for n in 1..=DEMO_PUPILS {
            let (user, role_id) = (
                format!("usr-{prefix}-s{n:02}"),
                format!("role-{prefix}-s{n:02}"),
            );
            let home = &classes[(n - 1) * 2 / DEMO_PUPILS];
            let forced = match (s, n) {
                (0, 1) => Some(15), // 𠮷田
                (0, 2) => Some(16), // 髙橋
                _ => None,
            };
            person(
                &mut t,
                &mut rng,
                s,
                &user,
                &format!("{prefix}.s{n:02}"),
                forced,
                home,
            );
            t.push(
                Entity::Roles,
                &role_id,
                &[
                    ("userSourcedId", &user),
                    ("roleType", "primary"),
                    ("role", "student"),
                    ("beginDate", "2026-04-01"),
                    ("orgSourcedId", school),
                ],
            );
            let no = ((n - 1) % (DEMO_PUPILS / 2) + 1).to_string();
            enroll(&mut t, home, &user, "student", "false", &no);
            enroll(&mut t, &classes[2], &user, "student", "false", "");
            enroll(&mut t, &classes[3], &user, "student", "false", "");
            let birth = format!("2015-{:02}-{:02}", 4 + rng.below(9), 1 + rng.below(28));
            let sex = if rng.below(2) == 0 { "male" } else { "female" };
            t.push(
                Entity::Demographics,
                &user,
                &[("birthDate", &birth), ("sex", sex)],
            );
        }
    }
    let mut modes: BTreeMap<Entity, ProcessingMode> = Entity::ALL
        .iter()
        .map(|&e| (e, ProcessingMode::Absent))
        .collect();
    for &e in t.0.keys() {
        modes.insert(e, ProcessingMode::Bulk);
    }
    Roster {
        modes,
        manifest: vec![("source.systemName".into(), "Kakehashi demo".into())],
        tables: t.0,
    }
}

/// One user row: a teacher when `home_class` is empty, else a pupil of that homeroom.
fn person(
    t: &mut Tables,
    rng: &mut Rng,
    school: usize,
    id: &str,
    username: &str,
    family: Option<usize>,
    home_class: &str,
) {
    let (family, kana_family) = names::FAMILY[family.unwrap_or_else(|| rng.below(15))];
    let (given, kana_given) = names::GIVEN[rng.below(names::GIVEN.len())];
    let umi = uuid_v4([2026, school as u64, rng.next_u64(), 7]);
    let grades = if home_class.is_empty() { "" } else { "P5" };
    let email = format!("{username}@demo.example.jp");
    t.push(
        Entity::Users,
        id,
        &[
            ("enabledUser", "true"),
            ("username", username),
            ("givenName", given),
            ("familyName", family),
            ("email", &email),
            ("grades", grades),
            ("userMasterIdentifier", &umi),
            ("preferredGivenName", given),
            ("preferredFamilyName", family),
            ("primaryOrgSourcedId", DEMO_SCHOOLS[school].0),
            ("metadata.jp.kanaGivenName", kana_given),
            ("metadata.jp.kanaFamilyName", kana_family),
            ("metadata.jp.homeClass", home_class),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_deterministic() {
        let a = uuid_v4([1, 2, 3, 4]);
        assert_eq!(a, uuid_v4([1, 2, 3, 4]));
        assert_ne!(a, uuid_v4([1, 2, 3, 5]));
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 4);
    }

    #[test]
    fn demo_has_rare_kanji_and_both_schools() {
        let r = small_demo();
        let users = r.records(Entity::Users);
        assert_eq!(users.len(), 2 * (DEMO_TEACHERS + DEMO_PUPILS));
        assert!(users.iter().any(|u| u.get("familyName") == Some("𠮷田")));
        assert!(users.iter().any(|u| u.get("familyName") == Some("髙橋")));
        assert_eq!(users[0].get("username"), Some("minami.t01"));
    }
}

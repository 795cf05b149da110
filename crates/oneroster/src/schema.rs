//! The columns of each data file: name, whether a value is required, and what a value must
//! look like. Base columns and their order come from the OneRoster 1.2 CSV binding §3
//! (one sub-section per file); `metadata.jp.*` columns from the OneRoster Japan Profile
//! (1EdTech Japan, older generation) and the 1EdTech OneRoster 1.2 CSV Binding: Japan
//! K-12/Schools Profile (newer generation). See `docs/ONEROSTER.md`.

use crate::model::Entity;

/// What a column's values must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// One of the listed tokens; `ext:` tokens are allowed when `ext` (CSV binding §3.x:
    /// "enumeration extensions are prefixed with `ext:`").
    Enum {
        values: &'static [&'static str],
        ext: bool,
    },
    /// `YYYY-MM-DD` (CSV binding §2.3 "Date").
    Date,
    /// ISO 8601 date-time, e.g. `2026-04-01T09:00:00.000Z` (CSV binding §2.3 "DateTime").
    DateTime,
    /// `true` or `false` (CSV binding §2.3 "Boolean").
    Bool,
    /// A non-negative integer.
    Int,
    /// A four-digit year (`schoolYear`).
    Year,
    /// One sourcedId of the given file.
    Ref(Entity),
    /// A comma-joined list of sourcedIds of the given file.
    RefList(Entity),
    /// A comma-joined list of grade codes (Japan Profile: MEXT codes).
    Grades,
    /// A comma-joined list of `{type:identifier}`.
    UserIds,
    /// A comma-joined list of free tokens.
    List,
    /// A UUID (Japan Profile `userMasterIdentifier`).
    Uuid,
    /// A kana reading: full-width katakana or hiragana (Japan Profile).
    Kana,
    /// A name: any text, but half-width katakana is flagged (Japan Profile).
    Name,
}

/// One column of a data file.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
    /// Part of [`header`]; non-canonical columns (older-generation names) are recognised
    /// when read and written back after the canonical ones.
    pub canonical: bool,
}

const fn col(name: &'static str, required: bool, kind: Kind) -> Column {
    Column {
        name,
        required,
        kind,
        canonical: true,
    }
}

const fn alt(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        required: false,
        kind,
        canonical: false,
    }
}

use Kind::*;

/// CSV binding §3 (every file): the three columns every row starts with. `status` and
/// `dateLastModified` may be empty in bulk files and are required in delta files (§2.1.1).
pub const STATUS_VALUES: &[&str] = &["active", "tobedeleted"];

const fn base3() -> [Column; 3] {
    [
        col("sourcedId", true, Text),
        col(
            "status",
            false,
            Enum {
                values: STATUS_VALUES,
                ext: false,
            },
        ),
        col("dateLastModified", false, DateTime),
    ]
}

const SESSION_TYPES: &[&str] = &["gradingPeriod", "semester", "schoolYear", "term"];
const ORG_TYPES: &[&str] = &[
    "department",
    "school",
    "district",
    "local",
    "state",
    "national",
];
const CLASS_TYPES: &[&str] = &["homeroom", "scheduled"];
const ROLE_TYPES: &[&str] = &["primary", "secondary"];
const ROLES: &[&str] = &[
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
];
/// CSV binding §3.5 plus `guardian`, which the Japan Profile adds to enrollments.
const ENROLLMENT_ROLES: &[&str] = &["administrator", "proctor", "student", "teacher", "guardian"];
const SEXES: &[&str] = &["male", "female", "unspecified", "other"];

const fn e(values: &'static [&'static str]) -> Kind {
    Enum { values, ext: true }
}

static ACADEMIC_SESSIONS: [Column; 9] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("title", true, Text),
        col("type", true, e(SESSION_TYPES)),
        col("startDate", true, Date),
        col("endDate", true, Date),
        col("parentSourcedId", false, Ref(Entity::AcademicSessions)),
        col("schoolYear", true, Year),
    ]
};

static ORGS: [Column; 7] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("name", true, Text),
        col("type", true, e(ORG_TYPES)),
        col("identifier", false, Text),
        col("parentSourcedId", false, Ref(Entity::Orgs)),
    ]
};

static COURSES: [Column; 10] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("schoolYearSourcedId", false, Ref(Entity::AcademicSessions)),
        col("title", true, Text),
        col("courseCode", false, Text),
        col("grades", false, Grades),
        col("orgSourcedId", true, Ref(Entity::Orgs)),
        col("subjects", false, List),
        col("subjectCodes", false, List),
    ]
};

static CLASSES: [Column; 15] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("title", true, Text),
        col("grades", false, Grades),
        col("courseSourcedId", true, Ref(Entity::Courses)),
        col("classCode", false, Text),
        col("classType", true, e(CLASS_TYPES)),
        col("location", false, Text),
        col("schoolSourcedId", true, Ref(Entity::Orgs)),
        col("termSourcedIds", true, RefList(Entity::AcademicSessions)),
        col("subjects", false, List),
        col("subjectCodes", false, List),
        col("periods", false, List),
        // Japan Profile: special-needs class (特別支援学級).
        col("metadata.jp.specialNeeds", false, Bool),
    ]
};

static USERS: [Column; 31] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("enabledUser", true, Bool),
        col("username", true, Text),
        col("userIds", false, UserIds),
        col("givenName", true, Name),
        col("familyName", true, Name),
        col("middleName", false, Name),
        col("identifier", false, Text),
        col("email", false, Text),
        col("sms", false, Text),
        col("phone", false, Text),
        col("agentSourcedIds", false, RefList(Entity::Users)),
        col("grades", false, Grades),
        col("password", false, Text),
        // Japan Profile: required, a UUID, unique in the file (checked in `rules`).
        col("userMasterIdentifier", true, Uuid),
        col("preferredGivenName", false, Name),
        col("preferredMiddleName", false, Name),
        col("preferredFamilyName", false, Name),
        col("primaryOrgSourcedId", false, Ref(Entity::Orgs)),
        col("pronouns", false, Text),
        col("metadata.jp.kanaGivenName", false, Kana),
        col("metadata.jp.kanaFamilyName", false, Kana),
        col("metadata.jp.kanaMiddleName", false, Kana),
        col("metadata.jp.homeClass", false, Ref(Entity::Classes)),
        // Newer generation (Japan Profile 1.2 / K-12 Schools Profile): readings of the
        // preferred names.
        alt("metadata.jp.kanaPreferredGivenName", Kana),
        alt("metadata.jp.kanaPreferredFamilyName", Kana),
        alt("metadata.jp.kanaPreferredMiddleName", Kana),
        // OneRoster 1.2 (not 1.2.1) carried this column; kept when present.
        alt("resourceSourcedIds", List),
        alt("orgSourcedIds", RefList(Entity::Orgs)),
    ]
};

static DEMOGRAPHICS: [Column; 16] = {
    let [_, b, c] = base3();
    [
        // CSV binding §3.4: the sourcedId of a demographics row is the user's.
        col("sourcedId", true, Ref(Entity::Users)),
        b,
        c,
        col("birthDate", false, Date),
        col("sex", false, e(SEXES)),
        col("americanIndianOrAlaskaNative", false, Bool),
        col("asian", false, Bool),
        col("blackOrAfricanAmerican", false, Bool),
        col("nativeHawaiianOrOtherPacificIslander", false, Bool),
        col("white", false, Bool),
        col("demographicRaceTwoOrMoreRaces", false, Bool),
        col("hispanicOrLatinoEthnicity", false, Bool),
        col("countryOfBirthCode", false, Text),
        col("stateOfBirthAbbreviation", false, Text),
        col("cityOfBirth", false, Text),
        col("publicSchoolResidenceStatus", false, Text),
    ]
};

static USER_PROFILES: [Column; 11] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("userSourcedId", true, Ref(Entity::Users)),
        col("profileType", true, Text),
        col("vendorId", true, Text),
        col("applicationId", false, Text),
        col("description", false, Text),
        col("credentialType", true, Text),
        col("username", true, Text),
        col("password", false, Text),
    ]
};

static ROLES_FILE: [Column; 10] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("userSourcedId", true, Ref(Entity::Users)),
        col(
            "roleType",
            true,
            Enum {
                values: ROLE_TYPES,
                ext: false,
            },
        ),
        col("role", true, e(ROLES)),
        col("beginDate", false, Date),
        col("endDate", false, Date),
        col("orgSourcedId", true, Ref(Entity::Orgs)),
        col("userProfileSourcedId", false, Ref(Entity::UserProfiles)),
    ]
};

static ENROLLMENTS: [Column; 14] = {
    let [a, b, c] = base3();
    [
        a,
        b,
        c,
        col("classSourcedId", true, Ref(Entity::Classes)),
        col("schoolSourcedId", true, Ref(Entity::Orgs)),
        col("userSourcedId", true, Ref(Entity::Users)),
        col("role", true, e(ENROLLMENT_ROLES)),
        col("primary", false, Bool),
        col("beginDate", false, Date),
        col("endDate", false, Date),
        // K-12 Schools Profile (newer generation): attendance number (出席番号) and whether
        // it may be shown.
        col("metadata.jp.shussekiNo", false, Int),
        col("metadata.jp.publicFlg", false, Bool),
        // Japan Profile (older generation) spelling of the same two columns.
        alt("metadata.jp.ShussekiNo", Int),
        alt("metadata.jp.PublicFlg", Bool),
    ]
};

/// Every known column of a file, canonical ones first in spec order.
pub fn columns(entity: Entity) -> &'static [Column] {
    match entity {
        Entity::AcademicSessions => &ACADEMIC_SESSIONS,
        Entity::Orgs => &ORGS,
        Entity::Courses => &COURSES,
        Entity::Classes => &CLASSES,
        Entity::Users => &USERS,
        Entity::Demographics => &DEMOGRAPHICS,
        Entity::UserProfiles => &USER_PROFILES,
        Entity::Roles => &ROLES_FILE,
        Entity::Enrollments => &ENROLLMENTS,
    }
}

fn canonical_names(entity: Entity) -> &'static [&'static str] {
    // Kept as literal lists so that `header` can hand out `&'static [&'static str]`.
    match entity {
        Entity::AcademicSessions => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "type",
            "startDate",
            "endDate",
            "parentSourcedId",
            "schoolYear",
        ],
        Entity::Orgs => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parentSourcedId",
        ],
        Entity::Courses => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "schoolYearSourcedId",
            "title",
            "courseCode",
            "grades",
            "orgSourcedId",
            "subjects",
            "subjectCodes",
        ],
        Entity::Classes => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
            "metadata.jp.specialNeeds",
        ],
        Entity::Users => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "enabledUser",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
            "userMasterIdentifier",
            "preferredGivenName",
            "preferredMiddleName",
            "preferredFamilyName",
            "primaryOrgSourcedId",
            "pronouns",
            "metadata.jp.kanaGivenName",
            "metadata.jp.kanaFamilyName",
            "metadata.jp.kanaMiddleName",
            "metadata.jp.homeClass",
        ],
        Entity::Demographics => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "birthDate",
            "sex",
            "americanIndianOrAlaskaNative",
            "asian",
            "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander",
            "white",
            "demographicRaceTwoOrMoreRaces",
            "hispanicOrLatinoEthnicity",
            "countryOfBirthCode",
            "stateOfBirthAbbreviation",
            "cityOfBirth",
            "publicSchoolResidenceStatus",
        ],
        Entity::UserProfiles => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "userSourcedId",
            "profileType",
            "vendorId",
            "applicationId",
            "description",
            "credentialType",
            "username",
            "password",
        ],
        Entity::Roles => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "userSourcedId",
            "roleType",
            "role",
            "beginDate",
            "endDate",
            "orgSourcedId",
            "userProfileSourcedId",
        ],
        Entity::Enrollments => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
            "metadata.jp.shussekiNo",
            "metadata.jp.publicFlg",
        ],
    }
}

/// The canonical column order of a file for export: the CSV binding §3 order, then the
/// Japan Profile `metadata.jp.*` columns (newer generation names).
pub fn header(entity: Entity) -> &'static [&'static str] {
    canonical_names(entity)
}

/// The column spec of `name` in `entity`, if the specs know it.
pub fn column(entity: Entity, name: &str) -> Option<&'static Column> {
    columns(entity).iter().find(|c| c.name == name)
}

/// Grade codes of the Japan Profile (MEXT school years): 幼稚園 E1–E3, 小学校 P1–P6,
/// 中学校 J1–J3, 高等学校 H1–H3.
pub const JP_GRADES: &[&str] = &[
    "E1", "E2", "E3", "P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2", "J3", "H1", "H2", "H3",
];

/// The base OneRoster grade vocabulary (CEDS), accepted with a warning in a Japanese package.
pub const CEDS_GRADES: &[&str] = &[
    "IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
    "12", "13", "PS", "UG", "Other",
];

/// Org types the Japan Profile uses (the base spec allows more).
pub const JP_ORG_TYPES: &[&str] = &["district", "school"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_header_matches_the_canonical_columns() {
        for entity in Entity::ALL {
            let from_specs: Vec<&str> = columns(entity)
                .iter()
                .filter(|c| c.canonical)
                .map(|c| c.name)
                .collect();
            assert_eq!(from_specs, header(entity), "{entity}");
        }
    }

    #[test]
    fn users_header_carries_password_and_japan_profile_columns() {
        let h = header(Entity::Users);
        assert!(h.contains(&"password"));
        assert!(h.contains(&"userMasterIdentifier"));
        assert!(h.contains(&"metadata.jp.kanaFamilyName"));
    }
}

//! OneRoster 1.2 roles (Japan Profile) → LIS role URIs (LTI Core 1.3 Appendix A.2).
//!
//! A launch carries the user's *institution* role (from users.csv / roles.csv) and, when the
//! launch has a context (a class), the *context* role from the enrollment (A.2.3). The full
//! URIs are always sent: LTI Core 1.3 §5.3.7 deprecates the short forms.
//!
//! | OneRoster | institution role (A.2.2) | context role in a class (A.2.3) |
//! |---|---|---|
//! | `student` | `…/institution/person#Student` | `…/membership#Learner` |
//! | `teacher` | `…/institution/person#Faculty`, `#Instructor` | `…/membership#Instructor` |
//! | `aide` | `…/institution/person#Staff` | `…/membership/Instructor#TeachingAssistant` (with `#Instructor`) |
//! | `proctor` | `…/institution/person#Staff` | `…/membership#Instructor` (sub-role `Grader`) |
//! | `guardian`, `parent`, `relative` | `…/institution/person#Mentor` ([system person] `…/system/person#User`) | `…/membership#Mentor` |
//! | `administrator`, `principal`, `siteAdministrator`, `districtAdministrator` | `…/institution/person#Administrator` | `…/membership#Administrator` |
//! | `systemAdministrator` | `…/institution/person#Administrator`, `…/system/person#SysAdmin` | `…/membership#Administrator` |
//! | anything else | `…/institution/person#Other` | none |

pub const LIS: &str = "http://purl.imsglobal.org/vocab/lis/v2";

fn inst(r: &str) -> String {
    format!("{LIS}/institution/person#{r}")
}

fn membership(r: &str) -> String {
    format!("{LIS}/membership#{r}")
}

/// The institution roles of a OneRoster role.
pub fn institution_roles(oneroster_role: &str) -> Vec<String> {
    match oneroster_role {
        "student" => vec![inst("Student")],
        "teacher" => vec![inst("Faculty"), inst("Instructor")],
        "aide" | "proctor" => vec![inst("Staff")],
        "guardian" | "parent" | "relative" => {
            vec![inst("Mentor"), format!("{LIS}/system/person#User")]
        }
        "administrator" | "principal" | "siteAdministrator" | "districtAdministrator" => {
            vec![inst("Administrator")]
        }
        "systemAdministrator" => vec![
            inst("Administrator"),
            format!("{LIS}/system/person#SysAdmin"),
        ],
        _ => vec![inst("Other")],
    }
}

/// The context roles of an enrollment role in a class (empty when the role has none).
pub fn context_roles(enrollment_role: &str) -> Vec<String> {
    match enrollment_role {
        "student" => vec![membership("Learner")],
        "teacher" => vec![membership("Instructor")],
        // A.2.3.1: a sub-role is sent together with its principal role.
        "aide" => vec![
            membership("Instructor"),
            format!("{LIS}/membership/Instructor#TeachingAssistant"),
        ],
        "proctor" => vec![
            membership("Instructor"),
            format!("{LIS}/membership/Instructor#Grader"),
        ],
        "guardian" | "parent" | "relative" => vec![membership("Mentor")],
        "administrator"
        | "principal"
        | "siteAdministrator"
        | "districtAdministrator"
        | "systemAdministrator" => vec![membership("Administrator")],
        _ => vec![],
    }
}

/// Every role of a launch: institution roles, then the class's context roles.
pub fn launch_roles(user_role: &str, enrollment_role: Option<&str>) -> Vec<String> {
    let mut roles = institution_roles(user_role);
    if let Some(e) = enrollment_role {
        for r in context_roles(e) {
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
    }
    roles
}

/// NRPS 2.0 §2.2 role filter: does a member with `roles` match `filter`? A filter is a full
/// URI, or a short context role name (`Learner`, `Instructor`) the spec allows for context
/// roles.
pub fn matches_filter(roles: &[String], filter: &str) -> bool {
    roles.iter().any(|r| {
        r == filter
            || r.strip_prefix(&format!("{LIS}/membership#"))
                .is_some_and(|short| short == filter)
    })
}

/// NRPS 2.0 §2.2 `role` filter → the OneRoster enrollment roles it selects (`None` when the
/// filter names no role this platform gives in a class).
pub fn enrollment_roles_for_filter(filter: &str) -> Option<Vec<&'static str>> {
    let short = filter
        .strip_prefix(&format!("{LIS}/membership#"))
        .unwrap_or(filter);
    match short {
        "Learner" => Some(vec!["student"]),
        "Instructor" => Some(vec!["teacher", "aide", "proctor"]),
        "Mentor" => Some(vec!["guardian", "parent", "relative"]),
        "Administrator" => Some(vec![
            "administrator",
            "principal",
            "siteAdministrator",
            "districtAdministrator",
            "systemAdministrator",
        ]),
        _ => None,
    }
}

/// `true` for roles that may act as teachers in a class (Deep Linking, grades).
pub fn is_instructor(enrollment_role: &str) -> bool {
    matches!(enrollment_role, "teacher" | "aide")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendix_a_2_full_uris_for_pupils_and_teachers() {
        assert_eq!(
            launch_roles("student", Some("student")),
            vec![
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            ]
        );
        assert_eq!(
            launch_roles("teacher", Some("teacher")),
            vec![
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            ]
        );
    }

    #[test]
    fn a_2_3_1_sub_roles_come_with_their_principal_role() {
        let r = context_roles("aide");
        assert!(r.contains(&format!("{LIS}/membership#Instructor")));
        assert!(r.contains(&format!("{LIS}/membership/Instructor#TeachingAssistant")));
    }

    #[test]
    fn unknown_roles_are_other_with_no_context_role() {
        assert_eq!(
            launch_roles("mystery", Some("mystery")),
            vec![inst("Other")]
        );
    }

    #[test]
    fn nrps_role_filter_takes_full_uris_and_short_context_names() {
        let roles = launch_roles("student", Some("student"));
        assert!(matches_filter(&roles, "Learner"));
        assert!(matches_filter(
            &roles,
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
        ));
        assert!(!matches_filter(&roles, "Instructor"));
    }
}

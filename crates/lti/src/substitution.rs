//! Custom property variable substitution (LTI Core 1.3 §5.4.6 and Appendix C): a custom
//! property whose value is a `$Variable` the platform knows is replaced by its value at
//! launch time; a variable the platform does not support, or has no value for *that tool* (a
//! name the registration does not release), is passed unchanged — never an empty string that
//! a tool could mistake for a real value.
//!
//! Privacy: `$User.id` is the launch's `sub` (pseudonymous); names, the username and the
//! e-mail substitute only when the tool's registration releases them, exactly like the
//! corresponding claims.

use serde_json::{Map, Value};

/// What a launch can substitute; `None` is "no value for this tool".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    /// The launch's `sub`.
    pub user_id: String,
    /// The portal username (only with names released).
    pub username: Option<String>,
    pub name_full: Option<String>,
    pub name_given: Option<String>,
    pub name_family: Option<String>,
    pub email: Option<String>,
    /// The context (the class): id, title, label.
    pub context: Option<(String, String, String)>,
    /// The resource link: id and title.
    pub resource_link: Option<(String, Option<String>)>,
    /// The launch's LIS role URIs.
    pub roles: Vec<String>,
    /// The platform's instance GUID (the issuer).
    pub platform_guid: String,
}

/// The value of a variable, when the platform supports it and has one for this launch.
pub fn value_of(variable: &str, v: &Values) -> Option<String> {
    let context = v.context.as_ref();
    let link = v.resource_link.as_ref();
    Some(match variable {
        "$User.id" => v.user_id.clone(),
        "$User.username" => v.username.clone()?,
        "$Person.name.full" => v.name_full.clone()?,
        "$Person.name.given" => v.name_given.clone()?,
        "$Person.name.family" => v.name_family.clone()?,
        "$Person.email.primary" => v.email.clone()?,
        "$Context.id" | "$CourseSection.sourcedId" => context?.0.clone(),
        "$Context.title" | "$CourseSection.title" => context?.1.clone(),
        "$Context.label" | "$CourseSection.label" => context?.2.clone(),
        "$ResourceLink.id" => link?.0.clone(),
        "$ResourceLink.title" => link?.1.clone()?,
        "$Membership.role" => {
            if v.roles.is_empty() {
                return None;
            }
            v.roles.join(",")
        }
        "$ToolPlatformInstance.guid" => v.platform_guid.clone(),
        _ => return None,
    })
}

/// Substitutes every custom property whose whole value is a known variable.
pub fn substitute(custom: &mut Map<String, Value>, v: &Values) {
    for value in custom.values_mut() {
        if let Some(var) = value.as_str().filter(|s| s.starts_with('$')) {
            if let Some(s) = value_of(var, v) {
                *value = Value::String(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            user_id: "pairwise-123".into(),
            context: Some(("cls-1".into(), "5年1組".into(), "5-1".into())),
            resource_link: Some(("rl-1".into(), Some("小テスト𠮷".into()))),
            roles: vec![
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner".into(),
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student".into(),
            ],
            platform_guid: "https://portal.example/t/demo".into(),
            ..Values::default()
        }
    }

    #[test]
    fn appendix_c_variables_are_substituted_and_unknown_ones_pass_unchanged() {
        let mut custom: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "uid": "$User.id", "class": "$Context.title", "section": "$CourseSection.sourcedId",
            "link": "$ResourceLink.title", "roles": "$Membership.role",
            "guid": "$ToolPlatformInstance.guid", "odd": "$Unknown.thing",
            "plain": "value", "dollar": "$5", "number": 3,
        }))
        .unwrap();
        substitute(&mut custom, &values());
        assert_eq!(custom["uid"], "pairwise-123");
        assert_eq!(custom["class"], "5年1組");
        assert_eq!(custom["section"], "cls-1");
        assert_eq!(custom["link"], "小テスト𠮷");
        assert_eq!(
            custom["roles"],
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner,http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
        );
        assert_eq!(custom["guid"], "https://portal.example/t/demo");
        assert_eq!(custom["odd"], "$Unknown.thing");
        assert_eq!(custom["plain"], "value");
        assert_eq!(custom["dollar"], "$5");
        assert_eq!(custom["number"], 3);
    }

    #[test]
    fn names_and_email_only_when_released_otherwise_the_variable_stays() {
        let mut custom: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "n": "$Person.name.full", "e": "$Person.email.primary", "u": "$User.username",
        }))
        .unwrap();
        substitute(&mut custom, &values());
        assert_eq!(custom["n"], "$Person.name.full");
        assert_eq!(custom["e"], "$Person.email.primary");
        assert_eq!(custom["u"], "$User.username");
        let released = Values {
            name_full: Some("𠮷田 花子".into()),
            email: Some("hanako@example.jp".into()),
            username: Some("minami.s01".into()),
            ..values()
        };
        substitute(&mut custom, &released);
        assert_eq!(custom["n"], "𠮷田 花子");
        assert_eq!(custom["e"], "hanako@example.jp");
        assert_eq!(custom["u"], "minami.s01");
    }

    #[test]
    fn no_context_leaves_context_variables() {
        let mut custom: Map<String, Value> =
            serde_json::from_value(serde_json::json!({ "c": "$Context.id" })).unwrap();
        substitute(
            &mut custom,
            &Values {
                context: None,
                ..values()
            },
        );
        assert_eq!(custom["c"], "$Context.id");
    }
}

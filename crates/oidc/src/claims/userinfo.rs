//! User claims and their release (OIDC Core 5.1, 5.2, 5.3.2, 5.4, 5.5), including
//! Kakehashi's roster claims.
//!
//! ## Roster claims namespace
//!
//! Roster claims use collision-resistant URI names (OIDC Core 5.1.2) under the
//! issuer-agnostic prefix `https://schemas.kakehashi.jp/roster/`, so they are the same for
//! every tenant and installation:
//!
//! | claim | JSON value |
//! |---|---|
//! | `https://schemas.kakehashi.jp/roster/school` | `{"id": OneRoster org sourcedId, "name": "…"}` |
//! | `https://schemas.kakehashi.jp/roster/grade` | grade code string (OneRoster Japan Profile, e.g. `"P4"`) |
//! | `https://schemas.kakehashi.jp/roster/classes` | `[{"id": class sourcedId, "name": "…"}]` |
//! | `https://schemas.kakehashi.jp/roster/role` | OneRoster role (`"student"`, `"teacher"`, `"administrator"`, …) |
//!
//! They are released with the `roster` scope or when named in the `claims` parameter, and
//! only if the app's policy allows roster release.
//!
//! ## Names and kana
//!
//! `family_name`, `given_name`, `name` in kanji, and kana readings with the language tag
//! `ja-Kana-JP` (OIDC Core 5.2): `family_name#ja-Kana-JP`, `given_name#ja-Kana-JP`,
//! `name#ja-Kana-JP`. Released with the `profile` scope only when the app may see names.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::authorize::ClaimRequest;

/// The `profile`-kana language tag (OIDC Core 5.2; BCP 47 `ja-Kana-JP`).
pub const KANA_TAG: &str = "ja-Kana-JP";
/// Prefix of Kakehashi's roster claims.
pub const ROSTER_CLAIM_PREFIX: &str = "https://schemas.kakehashi.jp/roster/";
pub const ROSTER_SCHOOL: &str = "https://schemas.kakehashi.jp/roster/school";
pub const ROSTER_GRADE: &str = "https://schemas.kakehashi.jp/roster/grade";
pub const ROSTER_CLASSES: &str = "https://schemas.kakehashi.jp/roster/classes";
pub const ROSTER_ROLE: &str = "https://schemas.kakehashi.jp/roster/role";
/// The scope that requests the roster claims.
pub const ROSTER_SCOPE: &str = "roster";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchoolRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassRef {
    pub id: String,
    pub name: String,
}

/// The user's place in the roster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterClaims {
    pub school: Option<SchoolRef>,
    pub grade: Option<String>,
    pub classes: Vec<ClassRef>,
    pub role: Option<String>,
}

/// Everything the provider may say about a user; release decides what a client gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserProfile {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name_kana: Option<String>,
    pub given_name_kana: Option<String>,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub locale: Option<String>,
    pub roster: Option<RosterClaims>,
}

/// What the app's policy lets it see (set per app by the administrator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleasePolicy {
    /// Names and kana (many learning tools should get none: MISSION "a pseudonymous ID").
    pub names: bool,
    pub username: bool,
    pub email: bool,
    pub roster: bool,
}

fn join_name(family: &Option<String>, given: &Option<String>, sep: &str) -> Option<String> {
    match (family, given) {
        (Some(f), Some(g)) => Some(format!("{f}{sep}{g}")),
        (Some(x), None) | (None, Some(x)) => Some(x.clone()),
        (None, None) => None,
    }
}

impl UserProfile {
    /// Every claim this profile can produce, by name (before release filtering).
    fn all_claims(&self) -> Vec<(String, Value, &'static str)> {
        let mut out: Vec<(String, Value, &'static str)> = Vec::new();
        let mut push = |name: String, v: Option<Value>, scope: &'static str| {
            if let Some(v) = v {
                out.push((name, v, scope));
            }
        };
        let s = |o: &Option<String>| o.clone().map(Value::String);
        // Japanese order: family name first, no space (e.g. 山田太郎); kana with a space.
        push(
            "name".into(),
            join_name(&self.family_name, &self.given_name, "").map(Value::String),
            "profile",
        );
        push("family_name".into(), s(&self.family_name), "profile");
        push("given_name".into(), s(&self.given_name), "profile");
        push(
            format!("name#{KANA_TAG}"),
            join_name(&self.family_name_kana, &self.given_name_kana, " ").map(Value::String),
            "profile",
        );
        push(
            format!("family_name#{KANA_TAG}"),
            s(&self.family_name_kana),
            "profile",
        );
        push(
            format!("given_name#{KANA_TAG}"),
            s(&self.given_name_kana),
            "profile",
        );
        push(
            "preferred_username".into(),
            s(&self.preferred_username),
            "profile",
        );
        push("locale".into(), s(&self.locale), "profile");
        push("email".into(), s(&self.email), "email");
        push(
            "email_verified".into(),
            self.email_verified.map(Value::Bool),
            "email",
        );
        if let Some(r) = &self.roster {
            push(
                ROSTER_SCHOOL.into(),
                r.school.as_ref().and_then(|x| serde_json::to_value(x).ok()),
                ROSTER_SCOPE,
            );
            push(ROSTER_GRADE.into(), s(&r.grade), ROSTER_SCOPE);
            if !r.classes.is_empty() {
                push(
                    ROSTER_CLASSES.into(),
                    serde_json::to_value(&r.classes).ok(),
                    ROSTER_SCOPE,
                );
            }
            push(ROSTER_ROLE.into(), s(&r.role), ROSTER_SCOPE);
        }
        out
    }
}

fn policy_allows(policy: &ReleasePolicy, claim: &str) -> bool {
    if claim.starts_with(ROSTER_CLAIM_PREFIX) {
        return policy.roster;
    }
    let base = claim.split('#').next().unwrap_or(claim);
    match base {
        "name" | "family_name" | "given_name" => policy.names,
        "preferred_username" => policy.username,
        "email" | "email_verified" => policy.email,
        "locale" => true,
        _ => false,
    }
}

/// The claims to release at userinfo (or in the ID token), plus `sub`.
///
/// A claim is released when the app's policy allows it **and** either a granted scope
/// covers it (OIDC Core 5.4) or the `claims` parameter names it (OIDC Core 5.5). Claims the
/// user does not have are omitted, never sent as null (OIDC Core 5.3.2).
pub fn release_claims(
    sub: &str,
    profile: &UserProfile,
    granted_scopes: &[String],
    requested: Option<&BTreeMap<String, Option<ClaimRequest>>>,
    policy: &ReleasePolicy,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("sub".into(), Value::String(sub.to_string()));
    for (name, value, scope) in profile.all_claims() {
        let by_scope = granted_scopes.iter().any(|s| s == scope);
        let by_request = requested.is_some_and(|r| r.contains_key(&name));
        if (by_scope || by_request) && policy_allows(policy, &name) {
            out.insert(name, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taro() -> UserProfile {
        UserProfile {
            family_name: Some("山田".into()),
            given_name: Some("太郎".into()),
            family_name_kana: Some("ヤマダ".into()),
            given_name_kana: Some("タロウ".into()),
            preferred_username: Some("taro".into()),
            roster: Some(RosterClaims {
                school: Some(SchoolRef {
                    id: "org-1".into(),
                    name: "京都市立第一小学校".into(),
                }),
                grade: Some("P4".into()),
                classes: vec![ClassRef {
                    id: "c-1".into(),
                    name: "4年1組".into(),
                }],
                role: Some("student".into()),
            }),
            ..Default::default()
        }
    }

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn oidc_core_5_2_kana_uses_ja_kana_jp_language_tag() {
        let all = ReleasePolicy {
            names: true,
            username: true,
            email: true,
            roster: true,
        };
        let c = release_claims("s", &taro(), &scopes(&["openid", "profile"]), None, &all);
        assert_eq!(c["name"], "山田太郎");
        assert_eq!(c["family_name#ja-Kana-JP"], "ヤマダ");
        assert_eq!(c["given_name#ja-Kana-JP"], "タロウ");
        assert_eq!(c["name#ja-Kana-JP"], "ヤマダ タロウ");
        assert!(c.get(ROSTER_GRADE).is_none());
    }

    #[test]
    fn names_are_released_only_when_the_app_policy_allows() {
        let pseudonymous = ReleasePolicy {
            roster: true,
            ..Default::default()
        };
        let c = release_claims(
            "s",
            &taro(),
            &scopes(&["openid", "profile", "roster"]),
            None,
            &pseudonymous,
        );
        assert!(c.get("name").is_none() && c.get("family_name#ja-Kana-JP").is_none());
        assert_eq!(c["sub"], "s");
        assert_eq!(c[ROSTER_GRADE], "P4");
        assert_eq!(c[ROSTER_CLASSES][0]["name"], "4年1組");
        assert_eq!(c[ROSTER_SCHOOL]["id"], "org-1");
        assert_eq!(c[ROSTER_ROLE], "student");
    }

    #[test]
    fn oidc_core_5_5_claims_parameter_releases_single_claims_without_scope() {
        let all = ReleasePolicy {
            names: true,
            username: true,
            email: true,
            roster: true,
        };
        let mut req = BTreeMap::new();
        req.insert(ROSTER_ROLE.to_string(), None);
        let c = release_claims("s", &taro(), &scopes(&["openid"]), Some(&req), &all);
        assert_eq!(c.len(), 2);
        assert_eq!(c[ROSTER_ROLE], "student");
    }

    #[test]
    fn oidc_core_5_3_2_absent_claims_are_omitted_not_null() {
        let all = ReleasePolicy {
            names: true,
            username: true,
            email: true,
            roster: true,
        };
        let c = release_claims(
            "s",
            &UserProfile::default(),
            &scopes(&["openid", "profile", "email"]),
            None,
            &all,
        );
        assert_eq!(c.len(), 1);
    }
}

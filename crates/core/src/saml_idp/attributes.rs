//! The attributes Kakehashi can release to an SP, each only when the SP's settings list it.
//! Names use `urn:oasis:names:tc:SAML:2.0:attrname-format:uri` (SAML Core 8.2.2): the LDAP
//! OIDs of eduPerson/inetOrgPerson where one exists (what SP software maps by default), and
//! Kakehashi's documented namespace `https://schemas.kakehashi.jp/` (the same names as the
//! OIDC roster claims) for kana and roster data.
//!
//! | setting name | SAML Name | value |
//! |---|---|---|
//! | `uid` | `urn:oid:0.9.2342.19200300.100.1.1` | username |
//! | `sn` | `urn:oid:2.5.4.4` | family name (kanji, e.g. 𠮷田) |
//! | `givenName` | `urn:oid:2.5.4.42` | given name |
//! | `displayName` | `urn:oid:2.16.840.1.113730.3.1.241` | family name, a space, given name |
//! | `mail` | `urn:oid:0.9.2342.19200300.100.1.3` | e-mail address, when the roster has one |
//! | `kanaFamilyName` | `https://schemas.kakehashi.jp/person/kanaFamilyName` | family name in kana |
//! | `kanaGivenName` | `https://schemas.kakehashi.jp/person/kanaGivenName` | given name in kana |
//! | `role` | `https://schemas.kakehashi.jp/roster/role` | OneRoster primary role |
//! | `school` | `https://schemas.kakehashi.jp/roster/school` | sourcedIds of the user's schools (several values) |
//! | `classes` | `https://schemas.kakehashi.jp/roster/classes` | sourcedIds of the user's active classes (several values) |
//! | `userMasterIdentifier` | `https://schemas.kakehashi.jp/roster/userMasterIdentifier` | the national common ID (UUID) |
//!
//! An attribute without a value for this user is left out (no empty `AttributeValue`).

use kakehashi_saml::response::{Attribute, AttributeNameFormat};
use kakehashi_store::roster::{MembershipRow, UserRow};

macro_rules! catalogue {
    ($($variant:ident = $key:literal, $uri:literal;)+) => {
        /// An attribute an SP may be released.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ReleasedAttribute { $($variant),+ }

        impl ReleasedAttribute {
            pub const ALL: &'static [ReleasedAttribute] = &[$(ReleasedAttribute::$variant),+];

            /// The name used in settings and the FriendlyName.
            pub fn key(self) -> &'static str {
                match self { $(ReleasedAttribute::$variant => $key),+ }
            }

            /// The SAML `Name` (URI format).
            pub fn uri(self) -> &'static str {
                match self { $(ReleasedAttribute::$variant => $uri),+ }
            }

            pub fn parse(s: &str) -> Result<ReleasedAttribute, String> {
                match s {
                    $($key => Ok(ReleasedAttribute::$variant),)+
                    _ => Err(format!(
                        "unknown SAML attribute {s:?}: use {}",
                        [$($key),+].join(", ")
                    )),
                }
            }
        }
    };
}

catalogue! {
    Uid = "uid", "urn:oid:0.9.2342.19200300.100.1.1";
    Sn = "sn", "urn:oid:2.5.4.4";
    GivenName = "givenName", "urn:oid:2.5.4.42";
    DisplayName = "displayName", "urn:oid:2.16.840.1.113730.3.1.241";
    Mail = "mail", "urn:oid:0.9.2342.19200300.100.1.3";
    KanaFamilyName = "kanaFamilyName", "https://schemas.kakehashi.jp/person/kanaFamilyName";
    KanaGivenName = "kanaGivenName", "https://schemas.kakehashi.jp/person/kanaGivenName";
    Role = "role", "https://schemas.kakehashi.jp/roster/role";
    School = "school", "https://schemas.kakehashi.jp/roster/school";
    Classes = "classes", "https://schemas.kakehashi.jp/roster/classes";
    UserMasterIdentifier = "userMasterIdentifier", "https://schemas.kakehashi.jp/roster/userMasterIdentifier";
}

fn values(a: ReleasedAttribute, user: &UserRow, memberships: &[MembershipRow]) -> Vec<String> {
    use ReleasedAttribute::*;
    let one = |s: &str| {
        if s.is_empty() {
            vec![]
        } else {
            vec![s.to_owned()]
        }
    };
    let opt = |s: &Option<String>| s.as_deref().map(one).unwrap_or_default();
    match a {
        Uid => one(&user.username),
        Sn => one(&user.family_name),
        GivenName => one(&user.given_name),
        DisplayName => one(format!("{} {}", user.family_name, user.given_name).trim()),
        Mail => opt(&user.email),
        KanaFamilyName => opt(&user.kana_family_name),
        KanaGivenName => opt(&user.kana_given_name),
        Role => one(&user.role),
        School => {
            let mut v: Vec<String> = memberships
                .iter()
                .map(|m| m.school_sourced_id.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        }
        Classes => {
            let mut v: Vec<String> = memberships
                .iter()
                .map(|m| m.class_sourced_id.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        }
        UserMasterIdentifier => opt(&user.user_master_identifier),
    }
}

/// The `<saml:Attribute>`s released to an SP, in the order its settings list them.
pub fn release(
    wanted: &[ReleasedAttribute],
    user: &UserRow,
    memberships: &[MembershipRow],
) -> Vec<Attribute> {
    wanted
        .iter()
        .filter_map(|&a| {
            let values = values(a, user, memberships);
            (!values.is_empty()).then(|| Attribute {
                name: a.uri().to_owned(),
                name_format: AttributeNameFormat::Uri,
                friendly_name: Some(a.key().to_owned()),
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRow {
        UserRow {
            sourced_id: "u1".into(),
            username: "minami.t01".into(),
            user_master_identifier: None,
            given_name: "花子".into(),
            family_name: "𠮷田".into(),
            kana_given_name: Some("はなこ".into()),
            kana_family_name: None,
            role: "teacher".into(),
            email: None,
            enabled: true,
            active: true,
        }
    }

    #[test]
    fn only_listed_attributes_with_values_are_released() {
        let wanted = [
            ReleasedAttribute::DisplayName,
            ReleasedAttribute::KanaFamilyName,
            ReleasedAttribute::KanaGivenName,
        ];
        let out = release(&wanted, &user(), &[]);
        assert_eq!(out.len(), 2, "no kana family name: left out");
        assert_eq!(out[0].values, vec!["𠮷田 花子".to_owned()]);
        assert_eq!(out[0].name, "urn:oid:2.16.840.1.113730.3.1.241");
        assert_eq!(out[1].friendly_name.as_deref(), Some("kanaGivenName"));
        assert!(release(&[], &user(), &[]).is_empty());
    }

    #[test]
    fn names_round_trip() {
        for a in ReleasedAttribute::ALL {
            assert_eq!(ReleasedAttribute::parse(a.key()), Ok(*a));
        }
        assert!(ReleasedAttribute::parse("password").is_err());
    }
}

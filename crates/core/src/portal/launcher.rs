//! Which of the tenant's apps the launcher shows a user.
//!
//! An app's audience (`all`, `staff`, `teachers`, `students`) is matched against the user's
//! primary role from the roster. `school-affairs` apps (grades, attendance, enrolment
//! records) are shown to staff only, whatever their audience says (the catalog already
//! refuses other audiences; this is the second line), and are marked as needing a second
//! factor: the MEXT 教育情報セキュリティポリシーに関するガイドライン asks for multi-factor
//! authentication before school-affairs data is reached from the learning network.

use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::{Store, StoreError, TenantId};

use super::policy::RoleClass;
use crate::apps::{Audience, SecurityClass};

/// An app as the launcher shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LauncherApp {
    pub id: String,
    pub name: String,
    pub has_icon: bool,
    /// School-affairs apps: launching needs a second factor.
    pub needs_second_factor: bool,
}

/// `true` when a user with this primary role may see the app.
pub fn allowed(app: &AppRow, role: &str) -> bool {
    let class = RoleClass::of(role);
    let is_staff = class == RoleClass::Staff;
    if app.security_class.parse::<SecurityClass>() != Ok(SecurityClass::Learning) && !is_staff {
        // School-affairs, or a class this version does not know: staff only (fail closed).
        return false;
    }
    match app.audience.parse::<Audience>() {
        Ok(Audience::All) => true,
        Ok(Audience::Staff) => is_staff,
        Ok(Audience::Teachers) => role == "teacher",
        Ok(Audience::Students) => role == "student",
        Err(_) => false,
    }
}

/// The apps of the tenant's catalog that this role may see, by name.
pub async fn apps_for(
    store: &Store,
    tenant: &TenantId,
    role: &str,
) -> Result<Vec<LauncherApp>, StoreError> {
    Ok(identity::list_apps(store, tenant)
        .await?
        .into_iter()
        .filter(|a| allowed(a, role))
        .map(|a| LauncherApp {
            needs_second_factor: a.security_class.parse::<SecurityClass>()
                != Ok(SecurityClass::Learning),
            has_icon: a.icon_base64.is_some() && a.icon_type.is_some(),
            id: a.id,
            name: a.name,
        })
        .collect())
}

/// The icon of an app this role may see: (content type, base64 bytes).
pub async fn icon_for(
    store: &Store,
    tenant: &TenantId,
    role: &str,
    app_id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let Some(app) = identity::get_app(store, tenant, app_id).await? else {
        return Ok(None);
    };
    if !allowed(&app, role) {
        return Ok(None);
    }
    Ok(app.icon_type.zip(app.icon_base64))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An app of the catalog with only its class and audience set (shared by portal tests).
    pub(crate) fn app(class: &str, audience: &str) -> AppRow {
        AppRow {
            id: "a".into(),
            name: "A".into(),
            protocol: "oidc".into(),
            security_class: class.into(),
            audience: audience.into(),
            public_client: false,
            client_secret_hash: None,
            redirect_uris: vec![],
            saml_entity_id: None,
            saml_acs_url: None,
            saml_metadata: None,
            subject_type: "pairwise".into(),
            icon_type: None,
            icon_base64: None,
            created_at: String::new(),
        }
    }

    #[test]
    fn audiences_against_roles() {
        let cases = [
            ("learning", "all", "student", true),
            ("learning", "all", "teacher", true),
            ("learning", "students", "student", true),
            ("learning", "students", "teacher", false),
            ("learning", "teachers", "teacher", true),
            ("learning", "teachers", "aide", false),
            ("learning", "teachers", "student", false),
            ("learning", "staff", "administrator", true),
            ("learning", "staff", "student", false),
            ("learning", "staff", "guardian", false),
            ("school-affairs", "staff", "teacher", true),
            ("school-affairs", "all", "student", false),
            ("mystery", "all", "student", false),
            ("learning", "mystery", "teacher", false),
        ];
        for (class, audience, role, want) in cases {
            assert_eq!(
                allowed(&app(class, audience), role),
                want,
                "{class} {audience} {role}"
            );
        }
    }
}

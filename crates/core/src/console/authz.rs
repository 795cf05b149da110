//! Who may see and do what in the console and the admin API: the one authorization module
//! every console page and API route goes through.
//!
//! A [`Principal`] is built once per request, from a portal session (a person) or an admin
//! API bearer token (an OAuth client), and holds the caller's [`Standing`]:
//!
//! | standing | from | reach |
//! |---|---|---|
//! | platform operator | the command line of the machine (`cli:…`) | every tenant |
//! | tenant admin | an explicit grant `tenant-admin` | the whole tenant (a board of education) |
//! | school admin | an explicit grant `school-admin --school S` (one or more) | members of those schools |
//! | teacher | roster: a staff role and `teacher` enrollments | the pupils of their own classes |
//! | pupil | roster: `student` (and guardians) | only themselves |
//!
//! Admin standings are never derived from the roster (an `administrator` row in roles.csv
//! grants nothing here): raising someone to see a whole school's or a whole city's personal
//! data is a decision a person makes and the audit log records (`kakehashi admin grant`).
//! The highest standing wins. Everyone may see themselves. The tenant is part of every
//! lookup, so nothing here can reach another tenant: a principal of tenant A asking about a
//! person of tenant B finds no such person.

use std::collections::BTreeSet;

use kakehashi_store::console::{self as stored};
use kakehashi_store::people_search::PeopleReach;
use kakehashi_store::roster::{self, UserRow};
use kakehashi_store::{Store, TenantId};

use super::ConsoleError;
use crate::portal::policy::RoleClass;
use crate::Actor;

/// The explicit roles `kakehashi admin grant --role` gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminRole {
    TenantAdmin,
    SchoolAdmin,
    /// The read-only cross-tenant overview (`/t/T/console/operator`) for a person who signs in
    /// at tenant T. Given only at the command line; it adds no reach within any tenant (the
    /// person's standing comes from their other grants and the roster).
    PlatformOperator,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::TenantAdmin => "tenant-admin",
            AdminRole::SchoolAdmin => "school-admin",
            AdminRole::PlatformOperator => "platform-operator",
        }
    }

    pub fn parse(s: &str) -> Option<AdminRole> {
        match s {
            "tenant-admin" => Some(AdminRole::TenantAdmin),
            "school-admin" => Some(AdminRole::SchoolAdmin),
            "platform-operator" => Some(AdminRole::PlatformOperator),
            _ => None,
        }
    }
}

/// What the caller is, and so how far they reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    PlatformOperator,
    TenantAdmin,
    SchoolAdmin { schools: BTreeSet<String> },
    Teacher { classes: BTreeSet<String> },
    Pupil,
}

/// A tenant-wide action, allowed by standing alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantAction {
    /// Upload, preview and apply roster imports; see the import history.
    ImportRoster,
    /// Register, edit and remove apps.
    ManageApps,
    /// Search, export and verify the audit log.
    ReadAudit,
    /// Session timeouts and lockout.
    ManageSecurityPolicy,
    /// Give and take admin grants.
    ManageGrants,
    /// Search people (within the caller's reach).
    SearchPeople,
}

/// What may be done to one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonAction {
    /// Their record: schools, classes, roles, apps, sign-ins.
    View,
    /// Set a temporary password, lift a lockout.
    ManageSignIn,
    /// See and reset their second factors (security keys, backup codes, TOTP): tenant
    /// admins, and school admins for people of their schools who hold no admin grant
    /// themselves (a school admin cannot take over another admin's account this way).
    /// Never teachers.
    ManageFactors,
}

/// An authenticated caller of the console or the admin API.
#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant: TenantId,
    /// Who the audit log names (`user:T/ID`, `client:APP`, `cli:root`).
    pub actor: Actor,
    /// The caller's own person, when the caller is a person.
    pub user: Option<UserRow>,
    pub standing: Standing,
    /// A person holding the explicit `platform-operator` grant (the cross-tenant overview;
    /// no reach within the tenant).
    pub operator_grant: bool,
}

impl Principal {
    /// The operator at this machine's command line, acting in `tenant`.
    pub fn platform_operator(tenant: &TenantId, actor: Actor) -> Principal {
        Principal {
            tenant: tenant.clone(),
            actor,
            user: None,
            standing: Standing::PlatformOperator,
            operator_grant: false,
        }
    }

    /// A person of the tenant (a portal session's user): grants first, then the roster.
    pub async fn of_person(
        store: &Store,
        tenant: &TenantId,
        user: UserRow,
    ) -> Result<Principal, ConsoleError> {
        let subject = format!("user:{}", user.sourced_id);
        let grants = stored::grants(store, tenant, Some(&subject)).await?;
        let standing = match standing_of_grants(&grants) {
            Some(s) => s,
            None if RoleClass::of(&user.role) == RoleClass::Pupil => Standing::Pupil,
            None => Standing::Teacher {
                classes: stored::classes_of(store, tenant, &user.sourced_id, &["teacher"])
                    .await?
                    .into_iter()
                    .map(|(class, _)| class)
                    .collect(),
            },
        };
        let operator_grant = grants
            .iter()
            .any(|g| AdminRole::parse(&g.role) == Some(AdminRole::PlatformOperator));
        Ok(Principal {
            tenant: tenant.clone(),
            actor: Actor(format!("user:{tenant}/{}", user.sourced_id)),
            user: Some(user),
            standing,
            operator_grant,
        })
    }

    /// An OAuth client of the tenant calling the admin API: its grants only (a client with
    /// none is refused).
    pub async fn of_client(
        store: &Store,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<Principal, ConsoleError> {
        let grants = stored::grants(store, tenant, Some(&format!("client:{client_id}"))).await?;
        let standing = standing_of_grants(&grants).ok_or_else(|| {
            ConsoleError::Forbidden(format!(
                "the client {client_id} has no admin grant (kakehashi admin grant --client)"
            ))
        })?;
        Ok(Principal {
            tenant: tenant.clone(),
            actor: Actor(format!("client:{client_id}")),
            user: None,
            standing,
            operator_grant: false,
        })
    }

    /// The caller's own person (their "me": devices, own factors). An API client has none:
    /// not found.
    pub fn require_self(&self) -> Result<&UserRow, ConsoleError> {
        self.user.as_ref().ok_or_else(|| {
            ConsoleError::NotFound(format!(
                "{} is not a person: it has no devices or factors of its own",
                self.actor.0
            ))
        })
    }

    /// The cross-tenant overview: the command line's operator, or a person of this tenant
    /// holding the explicit grant `platform-operator` (never an API client, never derived from
    /// another role: a tenant admin without it is refused).
    pub fn require_platform_operator(&self) -> Result<(), ConsoleError> {
        if self.standing == Standing::PlatformOperator || self.operator_grant {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(
                "the operator overview needs the platform-operator grant (kakehashi admin grant --role platform-operator)".into(),
            ))
        }
    }

    /// Whether the caller is staff of some kind (sees anyone besides themselves).
    pub fn is_staff(&self) -> bool {
        self.standing != Standing::Pupil
    }

    /// A tenant-wide action: allowed, or [`ConsoleError::Forbidden`] naming what is needed.
    pub fn require(&self, action: TenantAction) -> Result<(), ConsoleError> {
        let ok = matches!(
            (&self.standing, action),
            (Standing::PlatformOperator | Standing::TenantAdmin, _)
                | (
                    Standing::SchoolAdmin { .. } | Standing::Teacher { .. },
                    TenantAction::SearchPeople
                )
        );
        if ok {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(format!(
                "{action:?} needs a {} role",
                match action {
                    TenantAction::SearchPeople => "staff",
                    _ => "tenant-admin",
                }
            )))
        }
    }

    /// Whom a people search of this caller may return.
    pub fn people_reach(&self) -> Reach<'_> {
        match &self.standing {
            Standing::PlatformOperator | Standing::TenantAdmin => Reach::Tenant,
            Standing::SchoolAdmin { schools } => Reach::Schools(schools.iter().cloned().collect()),
            Standing::Teacher { classes } => Reach::Classes(classes.iter().cloned().collect()),
            Standing::Pupil => {
                Reach::Person(self.user.as_ref().map_or("", |u| u.sourced_id.as_str()))
            }
        }
    }

    /// Whether the caller may do `action` to the person `target` of the tenant.
    pub async fn may(
        &self,
        store: &Store,
        action: PersonAction,
        target: &UserRow,
    ) -> Result<bool, ConsoleError> {
        let own = self
            .user
            .as_ref()
            .is_some_and(|u| u.sourced_id == target.sourced_id);
        let target_is_pupil = RoleClass::of(&target.role) == RoleClass::Pupil;
        Ok(match (&self.standing, action) {
            (Standing::PlatformOperator | Standing::TenantAdmin, _) => true,
            (_, PersonAction::View) if own => true,
            (Standing::Pupil, _) => false,
            (Standing::Teacher { .. }, PersonAction::ManageFactors) => false,
            (Standing::SchoolAdmin { schools }, PersonAction::ManageFactors) => {
                let memberships =
                    roster::memberships_of(store, &self.tenant, &target.sourced_id).await?;
                let in_reach = memberships
                    .iter()
                    .any(|m| schools.contains(&m.school_sourced_id));
                in_reach
                    && stored::grants(
                        store,
                        &self.tenant,
                        Some(&format!("user:{}", target.sourced_id)),
                    )
                    .await?
                    .is_empty()
            }
            (Standing::SchoolAdmin { schools }, _) => {
                let memberships =
                    roster::memberships_of(store, &self.tenant, &target.sourced_id).await?;
                memberships
                    .iter()
                    .any(|m| schools.contains(&m.school_sourced_id))
            }
            (Standing::Teacher { classes }, _) => {
                // A teacher reaches the pupils of their own classes, never other staff.
                target_is_pupil && {
                    let memberships =
                        roster::memberships_of(store, &self.tenant, &target.sourced_id).await?;
                    memberships
                        .iter()
                        .any(|m| m.role == "student" && classes.contains(&m.class_sourced_id))
                }
            }
        })
    }

    /// [`Self::may`] as a result: a person outside the caller's reach is answered as not
    /// found, so that a search for ids learns nothing about other schools.
    pub async fn require_person(
        &self,
        store: &Store,
        action: PersonAction,
        target: &UserRow,
    ) -> Result<(), ConsoleError> {
        if self.may(store, action, target).await? {
            Ok(())
        } else if action != PersonAction::View
            && self.may(store, PersonAction::View, target).await?
        {
            Err(ConsoleError::Forbidden(match action {
                PersonAction::ManageFactors => {
                    "you may see this person but not their second factors".into()
                }
                _ => "you may see this person but not change their sign-in".into(),
            }))
        } else {
            Err(ConsoleError::NotFound(format!(
                "person {}",
                target.sourced_id
            )))
        }
    }

    /// Whether the caller may see the class `class` of school `school`.
    pub fn may_see_class(&self, class: &str, school: &str) -> bool {
        match &self.standing {
            Standing::PlatformOperator | Standing::TenantAdmin => true,
            Standing::SchoolAdmin { schools } => schools.contains(school),
            Standing::Teacher { classes } => classes.contains(class),
            Standing::Pupil => false,
        }
    }
}

/// Owned form of [`PeopleReach`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach<'a> {
    Tenant,
    Schools(Vec<String>),
    Classes(Vec<String>),
    Person(&'a str),
}

impl Reach<'_> {
    pub fn as_store(&self) -> PeopleReach<'_> {
        match self {
            Reach::Tenant => PeopleReach::Tenant,
            Reach::Schools(s) => PeopleReach::Schools(s),
            Reach::Classes(c) => PeopleReach::Classes(c),
            Reach::Person(p) => PeopleReach::Person(p),
        }
    }
}

/// The highest standing the grants give, if any.
fn standing_of_grants(grants: &[stored::GrantRow]) -> Option<Standing> {
    if grants
        .iter()
        .any(|g| AdminRole::parse(&g.role) == Some(AdminRole::TenantAdmin))
    {
        return Some(Standing::TenantAdmin);
    }
    let schools: BTreeSet<String> = grants
        .iter()
        .filter(|g| AdminRole::parse(&g.role) == Some(AdminRole::SchoolAdmin))
        .map(|g| g.school_sourced_id.clone())
        .collect();
    (!schools.is_empty()).then_some(Standing::SchoolAdmin { schools })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: &str, school: &str) -> stored::GrantRow {
        stored::GrantRow {
            subject: "user:u".into(),
            role: role.into(),
            school_sourced_id: school.into(),
            granted_at: String::new(),
            granted_by: String::new(),
        }
    }

    fn principal(standing: Standing) -> Principal {
        Principal {
            tenant: TenantId::parse("city-a").expect("tenant"),
            actor: Actor("user:city-a/u".into()),
            user: None,
            standing,
            operator_grant: false,
        }
    }

    #[test]
    fn the_highest_grant_wins_and_school_grants_add_up() {
        assert_eq!(standing_of_grants(&[]), None);
        assert_eq!(
            standing_of_grants(&[grant("school-admin", "s1"), grant("school-admin", "s2")]),
            Some(Standing::SchoolAdmin {
                schools: ["s1".to_owned(), "s2".to_owned()].into()
            })
        );
        assert_eq!(
            standing_of_grants(&[grant("school-admin", "s1"), grant("tenant-admin", "")]),
            Some(Standing::TenantAdmin)
        );
        assert_eq!(standing_of_grants(&[grant("something-else", "")]), None);
    }

    #[test]
    fn tenant_actions_need_a_tenant_admin_but_staff_may_search() {
        let teacher = principal(Standing::Teacher {
            classes: BTreeSet::new(),
        });
        let school = principal(Standing::SchoolAdmin {
            schools: ["s1".to_owned()].into(),
        });
        for p in [&teacher, &school] {
            assert!(p.require(TenantAction::SearchPeople).is_ok());
            assert!(p.require(TenantAction::ImportRoster).is_err());
            assert!(p.require(TenantAction::ReadAudit).is_err());
            assert!(p.require(TenantAction::ManageApps).is_err());
        }
        assert!(principal(Standing::Pupil)
            .require(TenantAction::SearchPeople)
            .is_err());
        for s in [Standing::TenantAdmin, Standing::PlatformOperator] {
            assert!(principal(s).require(TenantAction::ManageGrants).is_ok());
        }
    }

    #[test]
    fn the_operator_overview_needs_the_grant_not_a_high_standing() {
        assert!(principal(Standing::TenantAdmin)
            .require_platform_operator()
            .is_err());
        assert!(principal(Standing::PlatformOperator)
            .require_platform_operator()
            .is_ok());
        let mut teacher = principal(Standing::Teacher {
            classes: BTreeSet::new(),
        });
        teacher.operator_grant = true;
        assert!(teacher.require_platform_operator().is_ok());
        assert!(
            teacher.require(TenantAction::ReadAudit).is_err(),
            "no reach within the tenant"
        );
    }

    #[test]
    fn classes_are_seen_by_their_teacher_their_school_admin_and_the_tenant_admin() {
        let teacher = principal(Standing::Teacher {
            classes: ["c1".to_owned()].into(),
        });
        assert!(teacher.may_see_class("c1", "s1"));
        assert!(!teacher.may_see_class("c2", "s1"));
        let school = principal(Standing::SchoolAdmin {
            schools: ["s1".to_owned()].into(),
        });
        assert!(school.may_see_class("c2", "s1"));
        assert!(!school.may_see_class("c3", "s2"));
        assert!(principal(Standing::TenantAdmin).may_see_class("c3", "s2"));
        assert!(!principal(Standing::Pupil).may_see_class("c1", "s1"));
    }
}

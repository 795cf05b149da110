//! A teacher's classes: which classes they teach and, for one class, its pupils with their
//! last portal sign-in (audited as a staff read of personal data).

use kakehashi_store::console::{self as stored};
use kakehashi_store::{roster, Store};

use super::authz::{Principal, Standing};
use super::people::{record_read, PersonSummary};
use super::ConsoleError;
use crate::Clock;

/// A class as listed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClassSummary {
    pub sourced_id: String,
    pub title: String,
    pub school_sourced_id: String,
}

/// The classes the caller teaches (a teacher), or of the caller's schools / tenant (admins).
pub async fn mine(store: &Store, by: &Principal) -> Result<Vec<ClassSummary>, ConsoleError> {
    let Some(user) = &by.user else {
        return Ok(Vec::new());
    };
    if !matches!(by.standing, Standing::Teacher { .. }) && !by.is_staff() {
        return Ok(Vec::new());
    }
    let pairs = stored::classes_of(store, &by.tenant, &user.sourced_id, &["teacher"]).await?;
    let ids: Vec<String> = pairs.iter().map(|(c, _)| c.clone()).collect();
    let titles = stored::titles(store, &by.tenant, "classes", &ids).await?;
    Ok(pairs
        .into_iter()
        .map(|(class, school)| ClassSummary {
            title: titles
                .iter()
                .find(|(i, _)| *i == class)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
            sourced_id: class,
            school_sourced_id: school,
        })
        .collect())
}

/// A pupil of a class and when they last signed in.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClassPupil {
    pub person: PersonSummary,
    pub last_sign_in: Option<String>,
}

/// The pupils of `class` with their last sign-in, if the caller may see the class.
pub async fn pupils(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    class: &str,
) -> Result<(ClassSummary, Vec<ClassPupil>), ConsoleError> {
    let record = roster::load_one(
        store,
        &by.tenant,
        kakehashi_oneroster::Entity::Classes,
        class,
    )
    .await?
    .filter(|r| r.active)
    .ok_or_else(|| ConsoleError::NotFound(format!("class {class}")))?;
    let school = stored::field_of(&record.fields, "schoolSourcedId").unwrap_or_default();
    if !by.may_see_class(class, &school) {
        return Err(ConsoleError::NotFound(format!("class {class}")));
    }
    let members = stored::class_members(store, &by.tenant, class).await?;
    let pupils: Vec<ClassPupil> = members
        .into_iter()
        .filter(|(_, role, _)| role == "student")
        .map(|(u, _, last)| ClassPupil {
            person: u.into(),
            last_sign_in: last,
        })
        .collect();
    let shown: Vec<&str> = pupils
        .iter()
        .map(|p| p.person.sourced_id.as_str())
        .collect();
    record_read(
        store,
        clock,
        by,
        "console.class.view",
        format!("class:{class}"),
        serde_json::json!({ "shown": shown }),
    )
    .await?;
    Ok((
        ClassSummary {
            sourced_id: class.to_owned(),
            title: stored::field_of(&record.fields, "title").unwrap_or_default(),
            school_sourced_id: school,
        },
        pupils,
    ))
}

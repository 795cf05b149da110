//! Second factors in the console and the admin API: the tenant's MFA policy (what
//! `kakehashi tenant security show|set` controls: school networks, the freshness window,
//! TOTP, attestation and the AAGUID allow-list, user verification, the risk engine,
//! shared-device mode) and one person's factors (list, reset with a reason, as `kakehashi mfa
//! list|reset`, and removing one key with a reason). The rules stay in [`crate::mfa`]; this module adds who may use them
//! ([`super::authz`]) and turns a JSON body into a policy with errors that name the field.

use kakehashi_store::Store;

use super::authz::{PersonAction, Principal, TenantAction};
use super::people::{find, record_read};
use super::ConsoleError;
use crate::mfa::factors::{self, Factors, ResetDone};
use crate::mfa::policy::{self, SecurityPolicy};
use crate::mfa::MfaError;
use crate::Clock;

fn mfa_error(e: MfaError) -> ConsoleError {
    match e {
        MfaError::Store(s) => ConsoleError::Store(s),
        MfaError::InvalidPolicy(m) => ConsoleError::Invalid(m),
        MfaError::UnknownTenant(t) => ConsoleError::NotFound(format!("tenant {t}")),
        MfaError::UnknownUser { username, .. } => {
            ConsoleError::NotFound(format!("person {username}"))
        }
        other => ConsoleError::Invalid(other.to_string()),
    }
}

/// The tenant's MFA policy (the defaults when none is stored). Tenant admins only.
pub async fn get_policy(store: &Store, by: &Principal) -> Result<SecurityPolicy, ConsoleError> {
    by.require(TenantAction::ManageSecurityPolicy)?;
    policy::load(store, &by.tenant).await.map_err(mfa_error)
}

/// Replaces the tenant's MFA policy after the same checks as the command line; audited as
/// `tenant.security.set` with the values before and after, in the same transaction.
pub async fn set_policy(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    new: &SecurityPolicy,
) -> Result<(), ConsoleError> {
    by.require(TenantAction::ManageSecurityPolicy)?;
    policy::save(store, clock, &by.actor, &by.tenant, new)
        .await
        .map_err(mfa_error)
}

/// A whole policy from JSON (the names of `kakehashi tenant security show --format json`).
/// Every field must be given (a PUT replaces the policy; a forgotten field would otherwise
/// fall back to its default unnoticed) and no unknown one; a bad value names its field.
pub fn policy_from_json(given: &serde_json::Value) -> Result<SecurityPolicy, ConsoleError> {
    let template = serde_json::to_value(SecurityPolicy::default())
        .map_err(|e| ConsoleError::Invalid(e.to_string()))?;
    if !given.is_object() {
        return Err(ConsoleError::Invalid(
            "send the whole policy as a JSON object".into(),
        ));
    }
    same_fields(given, &template, "")?;
    match serde_json::from_value::<SecurityPolicy>(given.clone()) {
        Ok(p) => Ok(p),
        Err(whole) => Err(ConsoleError::Invalid(
            first_bad_field(given, &template, "").unwrap_or_else(|| whole.to_string()),
        )),
    }
}

/// Unknown or missing fields, named with their path (`risk.mode`).
fn same_fields(
    given: &serde_json::Value,
    template: &serde_json::Value,
    path: &str,
) -> Result<(), ConsoleError> {
    let (Some(g), Some(t)) = (given.as_object(), template.as_object()) else {
        return Ok(());
    };
    if let Some(k) = g.keys().find(|k| !t.contains_key(*k)) {
        return Err(ConsoleError::Invalid(format!("unknown field {path}{k}")));
    }
    for (k, tv) in t {
        match g.get(k) {
            None => {
                return Err(ConsoleError::Invalid(format!(
                    "missing field {path}{k} (the policy is replaced as a whole: send every field)"
                )))
            }
            Some(gv) => same_fields(gv, tv, &format!("{path}{k}."))?,
        }
    }
    Ok(())
}

/// The first field whose value does not parse: each is tried alone in the default policy.
fn first_bad_field(
    given: &serde_json::Value,
    template: &serde_json::Value,
    path: &str,
) -> Option<String> {
    let (Some(g), Some(t)) = (given.as_object(), template.as_object()) else {
        return None;
    };
    for (k, gv) in g {
        let mut probe = serde_json::Value::Object(t.clone());
        probe[k] = gv.clone();
        let whole = if path.is_empty() {
            probe
        } else {
            // A nested object: put it back at its place in the default policy.
            let mut root = serde_json::to_value(SecurityPolicy::default()).ok()?;
            *root.pointer_mut(&format!(
                "/{}",
                path.trim_end_matches('.').replace('.', "/")
            ))? = probe;
            root
        };
        if let Err(e) = serde_json::from_value::<SecurityPolicy>(whole) {
            return first_bad_field(gv, &t[k], &format!("{path}{k}."))
                .or_else(|| Some(format!("{path}{k}: {e}")));
        }
    }
    None
}

/// A person's second factors (names, kinds, last use), within reach of a caller who may
/// manage them; audited as a staff read (`console.person.factors`).
pub async fn factors_of(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
) -> Result<Factors, ConsoleError> {
    let person = find(store, by, sourced_id, PersonAction::ManageFactors).await?;
    let f = factors::of_user(store, &by.tenant, &person.sourced_id)
        .await
        .map_err(mfa_error)?;
    record_read(
        store,
        clock,
        by,
        "console.person.factors",
        format!("user:{sourced_id}"),
        serde_json::json!({ "username": person.username }),
    )
    .await?;
    Ok(f)
}

/// Removes every second factor of a person (a lost key, a left-behind PC) and takes the
/// second factor away from their live sessions, as `kakehashi mfa reset`; the reason is
/// required and goes into the audit row (`mfa.reset`, the caller as actor).
pub async fn reset_factors(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
    reason: &str,
) -> Result<ResetDone, ConsoleError> {
    let person = find(store, by, sourced_id, PersonAction::ManageFactors).await?;
    if reason.trim().is_empty() {
        return Err(ConsoleError::Invalid(
            "reason: a reason is required for a factor reset (it goes into the audit log)".into(),
        ));
    }
    if reason.chars().count() > 500 {
        return Err(ConsoleError::Invalid(
            "reason: at most 500 characters".into(),
        ));
    }
    factors::reset(
        store,
        clock,
        &by.actor,
        &by.tenant,
        &person.username,
        reason,
    )
    .await
    .map_err(mfa_error)
}

/// What [`remove_factor`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRemoved {
    /// Live sessions of the person taken back to password only.
    pub sessions_downgraded: u64,
}

/// Removes ONE security key of a person (a lost key, when their other factors stay), with the
/// same rule as [`reset_factors`] (tenant admins; school admins for people of their schools
/// who hold no admin grant) and a required reason; audited as `mfa.webauthn.remove` with the
/// reason, the caller as actor. Their live sessions lose their second factor (it may have been
/// that key). A key that is not this person's is 404.
pub async fn remove_factor(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    sourced_id: &str,
    credential_id: &str,
    reason: &str,
) -> Result<KeyRemoved, ConsoleError> {
    let person = find(store, by, sourced_id, PersonAction::ManageFactors).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ConsoleError::Invalid(
            "reason: a reason is required to remove a key (it goes into the audit log)".into(),
        ));
    }
    if reason.chars().count() > 500 {
        return Err(ConsoleError::Invalid(
            "reason: at most 500 characters".into(),
        ));
    }
    match factors::remove_credential(
        store,
        clock,
        &by.actor,
        &by.tenant,
        &person.sourced_id,
        credential_id,
        Some(reason),
    )
    .await
    .map_err(mfa_error)?
    {
        Some(n) => Ok(KeyRemoved {
            sessions_downgraded: n,
        }),
        None => Err(ConsoleError::NotFound(format!(
            "security key {credential_id} of person {sourced_id}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn whole() -> serde_json::Value {
        serde_json::to_value(SecurityPolicy::default()).unwrap()
    }

    fn message(v: serde_json::Value) -> String {
        match policy_from_json(&v) {
            Err(ConsoleError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn the_whole_default_policy_round_trips() {
        assert_eq!(
            policy_from_json(&whole()).unwrap(),
            SecurityPolicy::default()
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_named_with_their_path() {
        let mut v = whole();
        v["colour"] = json!("red");
        assert_eq!(message(v), "unknown field colour");
        let mut v = whole();
        v["risk"].as_object_mut().unwrap().remove("mode");
        assert!(message(v).starts_with("missing field risk.mode"));
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let mut v = whole();
        v["risk"]["mode"] = json!("sometimes");
        let m = message(v);
        assert!(m.starts_with("risk.mode: "), "{m}");
        let mut v = whole();
        v["school-networks"] = json!(["10.0.0.0/33"]);
        let m = message(v);
        assert!(
            m.starts_with("school-networks: ") && m.contains("10.0.0.0/33"),
            "{m}"
        );
    }
}

//! Agents and Groups wherever they appear: actor, object, authority, instructor, team,
//! group members, 2.0 context agents/groups (Data 2.4.2, 2.4.9).

use serde_json::Value;

use super::common::object_type;
use crate::error::{Result, XapiError};
use crate::formats::{is_irl, is_mailto, is_sha1_hex, is_uri};
use crate::json::{at, idx, object, only_keys, opt_array, opt_str, req_str, Obj};

/// Where an Agent/Group appears decides what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Statement actor or context instructor: Agent (objectType optional) or Group.
    ActorLike,
    /// Statement object: objectType already known to be Agent or Group.
    Object,
    /// Context team: a Group (Data 2.4.6 table row 3, XAPI-00088).
    Team,
    /// Group member or 2.0 contextAgent.agent: an Agent only (Data 2.4.2.2 table row 3).
    AgentOnly,
    /// Authority: an Agent, or an anonymous Group of exactly two Agents
    /// (Data 2.4.9.s3.b1, XAPI-00098).
    Authority,
}

const IFIS: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

/// Validates an Agent or Group in the given role.
pub(crate) fn agent_or_group(v: &Value, path: &str, role: Role) -> Result<()> {
    let o = object(v, path)?;
    let t = object_type(o, path, &["Agent", "Group"])?;
    match (t, role) {
        (Some("Group"), Role::AgentOnly) => Err(XapiError::invalid(
            at(path, "objectType"),
            "must be an Agent here",
        )),
        (Some("Group"), _) => group(o, path, role),
        (_, Role::Team) => Err(XapiError::invalid(
            at(path, "objectType"),
            "a team must be a Group with objectType \"Group\"",
        )),
        _ => agent(o, path),
    }
}

/// An Agent: objectType?, name?, exactly one IFI (Data 2.4.2.1.s2.b1/b2, XAPI-00034).
fn agent(o: &Obj, path: &str) -> Result<()> {
    only_keys(
        o,
        &[
            "objectType",
            "name",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
        ],
        path,
    )?;
    opt_str(o, "name", path)?;
    let n = ifis(o, path)?;
    if n != 1 {
        return Err(XapiError::invalid(
            path,
            format!(
                "an Agent must have exactly one of mbox, mbox_sha1sum, openid, account (found {n})"
            ),
        ));
    }
    Ok(())
}

/// A Group: anonymous (members, no IFI) or identified (one IFI) (Data 2.4.2.2).
fn group(o: &Obj, path: &str, role: Role) -> Result<()> {
    only_keys(
        o,
        &[
            "objectType",
            "name",
            "member",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
        ],
        path,
    )?;
    opt_str(o, "name", path)?;
    let n = ifis(o, path)?;
    let members = opt_array(o, "member", path)?;
    if let Some(members) = members {
        let mp = at(path, "member");
        for (i, m) in members.iter().enumerate() {
            agent_or_group(m, &idx(&mp, i), Role::AgentOnly)?;
        }
    }
    if n > 1 {
        return Err(XapiError::invalid(
            path,
            format!("an identified Group must have exactly one IFI (found {n})"),
        ));
    }
    if n == 0 && members.is_none_or(|m| m.is_empty()) {
        // Data 2.4.2.2.s4.b1: an anonymous Group MUST list its members.
        return Err(XapiError::invalid(
            at(path, "member"),
            "an anonymous Group must have a non-empty member array",
        ));
    }
    if role == Role::Authority {
        // Data 2.4.9.s3.b1: a Group authority is the OAuth pair (consumer, user).
        if n != 0 || members.map(Vec::len) != Some(2) {
            return Err(XapiError::invalid(
                path,
                "a Group authority must be an anonymous Group of exactly two Agents",
            ));
        }
    }
    Ok(())
}

/// Counts and validates the inverse functional identifiers present (Data 2.4.2.3).
fn ifis(o: &Obj, path: &str) -> Result<usize> {
    if let Some(m) = opt_str(o, "mbox", path)? {
        if !is_mailto(m) {
            return Err(XapiError::invalid(
                at(path, "mbox"),
                "must be a \"mailto:\" IRI with an e-mail address",
            ));
        }
    }
    if let Some(s) = opt_str(o, "mbox_sha1sum", path)? {
        if !is_sha1_hex(s) {
            return Err(XapiError::invalid(
                at(path, "mbox_sha1sum"),
                "must be the hex SHA-1 of a mailto IRI (40 hex digits)",
            ));
        }
    }
    if let Some(s) = opt_str(o, "openid", path)? {
        if !is_uri(s) {
            return Err(XapiError::invalid(
                at(path, "openid"),
                "must be a URI with a scheme",
            ));
        }
    }
    if let Some(a) = o.get("account") {
        account(a, &at(path, "account"))?;
    }
    Ok(IFIS.iter().filter(|k| o.contains_key(**k)).count())
}

/// Account Object: `homePage` IRL and `name` string, both required (Data 2.4.2.4).
fn account(v: &Value, path: &str) -> Result<()> {
    let o = object(v, path)?;
    only_keys(o, &["homePage", "name"], path)?;
    let home = req_str(o, "homePage", path)?;
    if !is_irl(home) {
        return Err(XapiError::invalid(
            at(path, "homePage"),
            "must be an IRL with a scheme",
        ));
    }
    req_str(o, "name", path)?;
    Ok(())
}

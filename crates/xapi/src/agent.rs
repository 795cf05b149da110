//! Agent identity: inverse functional identifiers (IFIs), their canonical key strings for
//! indexing, and the Person object of the Agents resource.
//!
//! Data 2.4.2.3: an Agent or identified Group is identified by exactly one of `mbox`,
//! `mbox_sha1sum`, `openid`, `account`. Two agents are the same when their IFIs are equal;
//! the domain of an e-mail address is case-insensitive (Data 2.3.1.b7).

use serde_json::{json, Map, Value};

use crate::error::{Result, XapiError};
use crate::formats::normalize_mailto;

/// One inverse functional identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ifi {
    /// `mailto:` IRI, domain lower-cased.
    Mbox(String),
    /// Hex SHA-1 of a mailto IRI, lower-cased.
    MboxSha1sum(String),
    /// OpenID URI.
    Openid(String),
    /// Account on a system.
    Account { home_page: String, name: String },
}

impl Ifi {
    /// The IFI of an already validated Agent or identified Group; `None` for an anonymous
    /// Group (or anything without an IFI).
    pub fn of(agent: &Value) -> Option<Ifi> {
        let o = agent.as_object()?;
        if let Some(m) = o.get("mbox").and_then(Value::as_str) {
            return Some(Ifi::Mbox(normalize_mailto(m)));
        }
        if let Some(s) = o.get("mbox_sha1sum").and_then(Value::as_str) {
            return Some(Ifi::MboxSha1sum(s.to_ascii_lowercase()));
        }
        if let Some(s) = o.get("openid").and_then(Value::as_str) {
            return Some(Ifi::Openid(s.to_string()));
        }
        let a = o.get("account")?.as_object()?;
        Some(Ifi::Account {
            home_page: a.get("homePage")?.as_str()?.to_string(),
            name: a.get("name")?.as_str()?.to_string(),
        })
    }

    /// The canonical key a store indexes by: `mbox:mailto:a@b.c`,
    /// `mbox_sha1sum:<hex>`, `openid:<uri>`, `account:<homePage>|<name>`.
    pub fn key(&self) -> String {
        match self {
            Ifi::Mbox(m) => format!("mbox:{m}"),
            Ifi::MboxSha1sum(s) => format!("mbox_sha1sum:{s}"),
            Ifi::Openid(s) => format!("openid:{s}"),
            Ifi::Account { home_page, name } => format!("account:{home_page}|{name}"),
        }
    }

    /// The IFI as JSON properties (`{"mbox": ...}`), for the `ids` format.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            Ifi::Mbox(v) => m.insert("mbox".into(), json!(v)),
            Ifi::MboxSha1sum(v) => m.insert("mbox_sha1sum".into(), json!(v)),
            Ifi::Openid(v) => m.insert("openid".into(), json!(v)),
            Ifi::Account { home_page, name } => m.insert(
                "account".into(),
                json!({ "homePage": home_page, "name": name }),
            ),
        };
        m
    }
}

/// Parses and validates an `agent` request parameter (JSON text) naming an Agent
/// (State, Agent Profile and Agents resources; Communication 2.3–2.6). `param` names
/// the parameter in errors.
pub fn parse_agent_param(text: &str, param: &str) -> Result<(Value, Ifi)> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| XapiError::invalid(param, format!("must be an Agent as JSON: {e}")))?;
    crate::validate::validate_agent(&v, param)?;
    let ifi = Ifi::of(&v).ok_or_else(|| XapiError::invalid(param, "must identify an Agent"))?;
    Ok((v, ifi))
}

/// Builds the Person object of the Agents resource from every Agent object the LRS holds
/// for one person (Communication 2.4 "Person Object"): arrays of names and IFIs, without
/// duplicates, `objectType` "Person".
pub fn person_from_agents(agents: &[Value]) -> Value {
    let mut names: Vec<Value> = Vec::new();
    let mut mboxes: Vec<Value> = Vec::new();
    let mut sha1s: Vec<Value> = Vec::new();
    let mut openids: Vec<Value> = Vec::new();
    let mut accounts: Vec<Value> = Vec::new();
    let push = |list: &mut Vec<Value>, v: Value| {
        if !list.contains(&v) {
            list.push(v);
        }
    };
    for a in agents {
        if let Some(n) = a.get("name").filter(|n| n.is_string()) {
            push(&mut names, n.clone());
        }
        match Ifi::of(a) {
            Some(Ifi::Mbox(m)) => push(&mut mboxes, json!(m)),
            Some(Ifi::MboxSha1sum(s)) => push(&mut sha1s, json!(s)),
            Some(Ifi::Openid(s)) => push(&mut openids, json!(s)),
            Some(Ifi::Account { home_page, name }) => push(
                &mut accounts,
                json!({ "homePage": home_page, "name": name }),
            ),
            None => {}
        }
    }
    let mut person = Map::new();
    person.insert("objectType".into(), json!("Person"));
    for (k, list) in [
        ("name", names),
        ("mbox", mboxes),
        ("mbox_sha1sum", sha1s),
        ("openid", openids),
        ("account", accounts),
    ] {
        if !list.is_empty() {
            person.insert(k.into(), Value::Array(list));
        }
    }
    Value::Object(person)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifi_keys_are_canonical_data_2_4_2_3() {
        let a = json!({"mbox": "mailto:Ann@Example.JP"});
        assert_eq!(Ifi::of(&a).unwrap().key(), "mbox:mailto:Ann@example.jp");
        let a = json!({"account": {"homePage": "https://k.example", "name": "s001"}});
        assert_eq!(Ifi::of(&a).unwrap().key(), "account:https://k.example|s001");
        let a = json!({"mbox_sha1sum": "CD9B00A5611F94EAA7B1661EDAB976068E364975"});
        assert_eq!(
            Ifi::of(&a).unwrap().key(),
            "mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975"
        );
        let g = json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]});
        assert!(Ifi::of(&g).is_none());
    }

    #[test]
    fn agent_param_must_be_a_valid_agent_comm_2_3() {
        assert!(parse_agent_param(r#"{"mbox":"mailto:a@b.c"}"#, "agent").is_ok());
        let e = parse_agent_param(r#"{"mbox":"a@b.c"}"#, "agent").unwrap_err();
        assert!(e.to_string().starts_with("agent.mbox"), "{e}");
        assert!(parse_agent_param("not json", "agent").is_err());
        assert!(
            parse_agent_param(r#"{"objectType":"Group","mbox":"mailto:g@b.c"}"#, "agent").is_err()
        );
    }

    #[test]
    fn person_object_collects_names_and_ifis_comm_2_4() {
        let p = person_from_agents(&[
            json!({"name": "Ann", "mbox": "mailto:ann@example.jp"}),
            json!({"name": "Ann", "account": {"homePage": "https://k.example", "name": "s1"}}),
        ]);
        assert_eq!(p["objectType"], "Person");
        assert_eq!(p["name"], json!(["Ann"]));
        assert_eq!(p["mbox"], json!(["mailto:ann@example.jp"]));
        assert_eq!(p["account"][0]["name"], "s1");
        assert!(p.get("openid").is_none());
    }
}

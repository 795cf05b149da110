//! The `claims` request parameter (OIDC Core 5.5): which individual claims the client asks
//! for in the ID token and at the userinfo endpoint, optionally essential or with values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One requested claim (OIDC Core 5.5.1): `null` or `{essential, value, values}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClaimRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub essential: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// The parsed `claims` parameter.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub userinfo: BTreeMap<String, Option<ClaimRequest>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_token: BTreeMap<String, Option<ClaimRequest>>,
}

impl ClaimsRequest {
    /// Parses the JSON text of the parameter. Other top-level members are ignored (OIDC Core
    /// 5.5: "not understood ... SHOULD be ignored"), but `userinfo`/`id_token` and each claim
    /// must have the right shape.
    pub fn parse(json: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| format!("claims is not JSON: {e}"))?;
        let Value::Object(top) = value else {
            return Err("claims must be a JSON object".into());
        };
        let mut out = ClaimsRequest::default();
        for (section, target) in [
            ("userinfo", &mut out.userinfo),
            ("id_token", &mut out.id_token),
        ] {
            let Some(members) = top.get(section) else {
                continue;
            };
            let Value::Object(members) = members else {
                return Err(format!("claims.{section} must be an object"));
            };
            for (name, req) in members {
                let parsed = match req {
                    Value::Null => None,
                    Value::Object(_) => Some(
                        serde_json::from_value::<ClaimRequest>(req.clone())
                            .map_err(|e| format!("claims.{section}.{name}: {e}"))?,
                    ),
                    _ => return Err(format!("claims.{section}.{name} must be null or an object")),
                };
                target.insert(name.clone(), parsed);
            }
        }
        Ok(out)
    }

    /// `acr` values requested for the ID token (OIDC Core 5.5.1.1), with whether essential.
    pub fn requested_acr(&self) -> Option<(Vec<String>, bool)> {
        let req = self.id_token.get("acr")?.as_ref()?;
        let mut values: Vec<String> = Vec::new();
        if let Some(Value::String(v)) = &req.value {
            values.push(v.clone());
        }
        for v in req.values.iter().flatten() {
            if let Value::String(v) = v {
                values.push(v.clone());
            }
        }
        Some((values, req.essential.unwrap_or(false)))
    }

    /// Names of claims requested for the given section.
    pub fn names(&self, id_token: bool) -> impl Iterator<Item = &str> {
        let map = if id_token {
            &self.id_token
        } else {
            &self.userinfo
        };
        map.keys().map(String::as_str)
    }
}

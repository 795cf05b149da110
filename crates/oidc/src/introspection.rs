//! Token introspection responses (RFC 7662 2.2).

use serde::Serialize;

/// Details of an active token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ActiveToken {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `access_token` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// As the introspecting resource server's client sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    pub iss: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// The introspection answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntrospectionResponse {
    Active(Box<ActiveToken>),
    /// RFC 7662 2.2: for unknown, expired, revoked or foreign tokens, only `{"active":false}`
    /// is returned, so nothing leaks about why.
    Inactive,
}

impl IntrospectionResponse {
    /// Active only if not expired at `now`; an expired token becomes `Inactive`.
    pub fn for_token(token: Option<ActiveToken>, now: i64) -> Self {
        match token {
            Some(t) if t.exp > now && t.nbf.is_none_or(|nbf| nbf <= now) => {
                IntrospectionResponse::Active(Box::new(t))
            }
            _ => IntrospectionResponse::Inactive,
        }
    }

    pub fn to_json(&self) -> String {
        match self {
            IntrospectionResponse::Inactive => "{\"active\":false}".to_string(),
            IntrospectionResponse::Active(t) => {
                let mut v =
                    serde_json::to_value(t.as_ref()).unwrap_or_else(|_| serde_json::json!({}));
                if let Some(map) = v.as_object_mut() {
                    map.insert("active".into(), serde_json::Value::Bool(true));
                }
                v.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7662_2_2_inactive_token_reveals_only_active_false() {
        let expired = ActiveToken {
            client_id: "rp".into(),
            exp: 100,
            iat: 50,
            iss: "i".into(),
            ..Default::default()
        };
        let r = IntrospectionResponse::for_token(Some(expired), 100);
        assert_eq!(r.to_json(), r#"{"active":false}"#);
        assert_eq!(
            IntrospectionResponse::for_token(None, 0).to_json(),
            r#"{"active":false}"#
        );
    }

    #[test]
    fn rfc7662_2_2_active_token_has_active_true_and_details() {
        let t = ActiveToken {
            client_id: "rp".into(),
            exp: 200,
            iat: 50,
            iss: "i".into(),
            scope: Some("openid".into()),
            ..Default::default()
        };
        let v: serde_json::Value =
            serde_json::from_str(&IntrospectionResponse::for_token(Some(t), 100).to_json())
                .unwrap();
        assert_eq!(v["active"], true);
        assert_eq!(v["client_id"], "rp");
        assert_eq!(v["scope"], "openid");
    }
}

//! Deep Linking 2.0: the checks on a tool's `LtiDeepLinkingResponse` once its signature has
//! been verified against the tool's keys (DL 2.0 §4.5; Security Framework 5.1.3 for the
//! JWT rules), and the `ltiResourceLink` content items it returns (DL 2.0 §3.1).

use serde_json::{Map, Value};

use crate::claims;

/// What the platform expects of the response.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    /// The tool's client id: the response's `iss` (DL 2.0 §4.5.1) and `azp` when present.
    pub client_id: &'a str,
    /// The platform's issuer: the response's `aud`.
    pub platform_issuer: &'a str,
    /// The deployment the request was sent with.
    pub deployment_id: &'a str,
    pub now: i64,
    /// Clock skew allowed on `exp` and `iat` (seconds).
    pub leeway: i64,
    /// Longest lifetime accepted (`exp - iat`).
    pub max_lifetime: i64,
}

/// One `ltiResourceLink` item (DL 2.0 §3.1).
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceLinkItem {
    pub title: String,
    pub text: Option<String>,
    /// The launch URL; `None` means the tool's default launch URL.
    pub url: Option<String>,
    pub custom: Map<String, Value>,
    /// DL 2.0 §3.1.1 `lineItem`: a line item to create with the link.
    pub line_item: Option<LineItemRequest>,
}

/// A line item requested by a content item.
#[derive(Clone, Debug, PartialEq)]
pub struct LineItemRequest {
    pub label: Option<String>,
    pub score_maximum: f64,
    pub resource_id: Option<String>,
    pub tag: Option<String>,
}

/// The accepted response.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub nonce: String,
    /// `data` echoed from the request's settings (DL 2.0 §4.4.1.7).
    pub data: Option<String>,
    pub items: Vec<ResourceLinkItem>,
    /// Other item types the platform does not take (DL 2.0 §3: ignored, reported).
    pub ignored_types: Vec<String>,
    pub msg: Option<String>,
    pub errormsg: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeepLinkError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("iss {0:?} is not this tool's client_id (DL 2.0 §4.5.1)")]
    WrongIssuer(String),
    #[error("aud does not name this platform (Security Framework 5.1.3 step 3)")]
    WrongAudience,
    #[error("azp {0:?} is not this tool's client_id")]
    WrongAzp(String),
    #[error("the response has expired (exp)")]
    Expired,
    #[error("iat is in the future or the lifetime is too long")]
    BadIat,
    #[error("message_type {0:?}: LtiDeepLinkingResponse expected")]
    WrongMessageType(String),
    #[error("version {0:?}: 1.3.0 expected")]
    WrongVersion(String),
    #[error("deployment_id {0:?} is not the deployment of the request")]
    WrongDeployment(String),
    #[error("content item {index}: {reason}")]
    BadItem { index: usize, reason: String },
}

fn text<'a>(c: &'a Value, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Value::as_str)
}

/// Checks the claims of a signature-verified response.
pub fn check_response(c: &Value, e: &Expected<'_>) -> Result<Response, DeepLinkError> {
    let iss = text(c, "iss").ok_or(DeepLinkError::Missing("iss"))?;
    if iss != e.client_id {
        return Err(DeepLinkError::WrongIssuer(iss.to_owned()));
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == e.platform_issuer,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(e.platform_issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(DeepLinkError::WrongAudience);
    }
    if let Some(azp) = text(c, "azp") {
        if azp != e.client_id {
            return Err(DeepLinkError::WrongAzp(azp.to_owned()));
        }
    }
    let exp = c
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(DeepLinkError::Missing("exp"))?;
    if exp + e.leeway < e.now {
        return Err(DeepLinkError::Expired);
    }
    let iat = c
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(DeepLinkError::Missing("iat"))?;
    if iat > e.now + e.leeway || exp - iat > e.max_lifetime {
        return Err(DeepLinkError::BadIat);
    }
    let nonce = text(c, "nonce").ok_or(DeepLinkError::Missing("nonce"))?;
    let mt = text(c, claims::MESSAGE_TYPE).ok_or(DeepLinkError::Missing("message_type"))?;
    if mt != "LtiDeepLinkingResponse" {
        return Err(DeepLinkError::WrongMessageType(mt.to_owned()));
    }
    let v = text(c, claims::VERSION).ok_or(DeepLinkError::Missing("version"))?;
    if v != crate::LTI_VERSION {
        return Err(DeepLinkError::WrongVersion(v.to_owned()));
    }
    let d = text(c, claims::DEPLOYMENT_ID).ok_or(DeepLinkError::Missing("deployment_id"))?;
    if d != e.deployment_id {
        return Err(DeepLinkError::WrongDeployment(d.to_owned()));
    }
    let mut items = Vec::new();
    let mut ignored_types = Vec::new();
    let list = match c.get(claims::DL_CONTENT_ITEMS) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(DeepLinkError::BadItem {
                index: 0,
                reason: "content_items must be an array".into(),
            })
        }
    };
    for (index, item) in list.iter().enumerate() {
        let bad = |reason: &str| DeepLinkError::BadItem {
            index,
            reason: reason.to_owned(),
        };
        let ty = text(item, "type").ok_or_else(|| bad("type is missing"))?;
        if ty != "ltiResourceLink" {
            ignored_types.push(ty.to_owned());
            continue;
        }
        let url = match text(item, "url") {
            Some(u) => {
                let parsed = url::Url::parse(u).map_err(|_| bad("url is not an absolute URL"))?;
                if !matches!(parsed.scheme(), "https" | "http") {
                    return Err(bad("url must be http(s)"));
                }
                Some(u.to_owned())
            }
            None => None,
        };
        let custom = match item.get("custom") {
            None => Map::new(),
            Some(Value::Object(m)) => {
                // LTI Core 1.3 §5.4.6: custom values are strings.
                if m.values().any(|v| !v.is_string()) {
                    return Err(bad("custom values must be strings"));
                }
                m.clone()
            }
            Some(_) => return Err(bad("custom must be an object")),
        };
        let line_item = match item.get("lineItem") {
            None => None,
            Some(li) => {
                let max = li
                    .get("scoreMaximum")
                    .and_then(Value::as_f64)
                    .filter(|m| *m > 0.0)
                    .ok_or_else(|| bad("lineItem.scoreMaximum must be a number above 0"))?;
                Some(LineItemRequest {
                    label: text(li, "label").map(str::to_owned),
                    score_maximum: max,
                    resource_id: text(li, "resourceId").map(str::to_owned),
                    tag: text(li, "tag").map(str::to_owned),
                })
            }
        };
        let title = text(item, "title")
            .map(str::to_owned)
            .or_else(|| line_item.as_ref().and_then(|l| l.label.clone()))
            .unwrap_or_else(|| "LTI".to_owned());
        items.push(ResourceLinkItem {
            title,
            text: text(item, "text").map(str::to_owned),
            url,
            custom,
            line_item,
        });
    }
    Ok(Response {
        nonce: nonce.to_owned(),
        data: text(c, claims::DL_DATA).map(str::to_owned),
        items,
        ignored_types,
        msg: text(c, claims::DL_MSG).map(str::to_owned),
        errormsg: text(c, claims::DL_ERRORMSG).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expected() -> Expected<'static> {
        Expected {
            client_id: "tool-1",
            platform_issuer: "https://p.example/t/demo",
            deployment_id: "dep-1",
            now: 1000,
            leeway: 30,
            max_lifetime: 600,
        }
    }

    fn good() -> Value {
        json!({
            "iss": "tool-1", "aud": "https://p.example/t/demo", "exp": 1300, "iat": 990,
            "nonce": "n1",
            claims::MESSAGE_TYPE: "LtiDeepLinkingResponse",
            claims::VERSION: "1.3.0",
            claims::DEPLOYMENT_ID: "dep-1",
            claims::DL_DATA: "req-1",
            claims::DL_CONTENT_ITEMS: [
                {"type": "ltiResourceLink", "title": "分数のドリル", "url": "https://tool.example/launch?x=1",
                 "custom": {"unit": "3"}, "lineItem": {"scoreMaximum": 10, "label": "分数"}},
                {"type": "html", "html": "<b>x</b>"}
            ]
        })
    }

    #[test]
    fn dl_4_5_a_good_response_gives_its_resource_links() {
        let r = check_response(&good(), &expected()).unwrap();
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.items[0].title, "分数のドリル");
        assert_eq!(r.items[0].line_item.as_ref().unwrap().score_maximum, 10.0);
        assert_eq!(r.ignored_types, vec!["html"]);
        assert_eq!(r.data.as_deref(), Some("req-1"));
    }

    #[test]
    fn wrong_aud_iss_deployment_and_expiry_are_refused() {
        let mut c = good();
        c["aud"] = json!("https://other.example/t/demo");
        assert_eq!(
            check_response(&c, &expected()),
            Err(DeepLinkError::WrongAudience)
        );
        let mut c = good();
        c["iss"] = json!("tool-2");
        assert!(matches!(
            check_response(&c, &expected()),
            Err(DeepLinkError::WrongIssuer(_))
        ));
        let mut c = good();
        c[claims::DEPLOYMENT_ID] = json!("dep-of-another-tenant");
        assert!(matches!(
            check_response(&c, &expected()),
            Err(DeepLinkError::WrongDeployment(_))
        ));
        let mut c = good();
        c["exp"] = json!(900);
        assert_eq!(check_response(&c, &expected()), Err(DeepLinkError::Expired));
        let mut c = good();
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(
            check_response(&c, &expected()),
            Err(DeepLinkError::Missing("nonce"))
        );
    }

    #[test]
    fn custom_values_must_be_strings() {
        let mut c = good();
        c[claims::DL_CONTENT_ITEMS][0]["custom"] = json!({"n": 3});
        assert!(matches!(
            check_response(&c, &expected()),
            Err(DeepLinkError::BadItem { .. })
        ));
    }
}

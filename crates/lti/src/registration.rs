//! LTI Dynamic Registration 1.0: the platform's configuration (§3.5.1, §3.6) and the checks
//! on a tool's client registration request (§3.3, §3.4 on OpenID Connect Dynamic Client
//! Registration 1.0 / RFC 7591), and the response (§3.6).

use serde_json::{json, Value};

use crate::services::ALL_SCOPES;

pub const TOOL_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";
pub const PLATFORM_CONFIGURATION: &str =
    "https://purl.imsglobal.org/spec/lti-platform-configuration";

/// The platform's endpoints, for its configuration document.
pub struct PlatformEndpoints<'a> {
    pub issuer: &'a str,
    pub authorization_endpoint: &'a str,
    pub token_endpoint: &'a str,
    pub jwks_uri: &'a str,
    pub registration_endpoint: &'a str,
    pub version: &'a str,
}

/// §3.5.1: the OpenID configuration a tool reads, with the LTI platform configuration.
pub fn platform_configuration(e: &PlatformEndpoints<'_>) -> Value {
    let mut scopes = vec!["openid".to_owned()];
    scopes.extend(ALL_SCOPES.iter().map(|s| s.to_string()));
    json!({
        "issuer": e.issuer,
        "authorization_endpoint": e.authorization_endpoint,
        "token_endpoint": e.token_endpoint,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": e.jwks_uri,
        "registration_endpoint": e.registration_endpoint,
        "scopes_supported": scopes,
        "response_types_supported": ["id_token"],
        "response_modes_supported": ["form_post"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "aud", "sub", "name", "given_name", "family_name", "email"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "kakehashi",
            "version": e.version,
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": "LtiDeepLinkingRequest"}
            ],
        },
    })
}

/// A tool's registration request, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientRegistration {
    pub client_name: String,
    pub initiate_login_uri: String,
    pub redirect_uris: Vec<String>,
    pub jwks_uri: String,
    pub target_link_uri: String,
    /// The target of `LtiDeepLinkingRequest` messages, when the tool takes them.
    pub deep_linking_uri: Option<String>,
    pub custom_parameters: Vec<(String, String)>,
    /// The scopes asked for (only those this platform knows are kept).
    pub scope: Vec<String>,
    /// The claims the tool would like (name, email …); the platform decides what it sends.
    pub claims: Vec<String>,
    /// The original request, echoed in the response.
    pub raw: Value,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RegistrationError(pub String);

fn bad(s: impl Into<String>) -> RegistrationError {
    RegistrationError(s.into())
}

fn text(v: &Value, k: &str) -> Result<String, RegistrationError> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| bad(format!("{k} is required")))
}

fn strings(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// §3.3/§3.4: checks a client registration request.
pub fn parse_registration(body: &[u8]) -> Result<ClientRegistration, RegistrationError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    if v.get("application_type").and_then(Value::as_str) != Some("web") {
        return Err(bad("application_type must be \"web\" (§3.4)"));
    }
    let grants = strings(&v, "grant_types");
    if !grants.iter().any(|g| g == "implicit") || !grants.iter().any(|g| g == "client_credentials")
    {
        return Err(bad(
            "grant_types must include implicit and client_credentials (§3.4)",
        ));
    }
    if !strings(&v, "response_types")
        .iter()
        .any(|r| r == "id_token")
    {
        return Err(bad("response_types must include id_token (§3.4)"));
    }
    if v.get("token_endpoint_auth_method").and_then(Value::as_str) != Some("private_key_jwt") {
        return Err(bad(
            "token_endpoint_auth_method must be private_key_jwt (§3.4)",
        ));
    }
    let redirect_uris = strings(&v, "redirect_uris");
    if redirect_uris.is_empty() {
        return Err(bad("redirect_uris is required"));
    }
    let tool = v
        .get(TOOL_CONFIGURATION)
        .ok_or_else(|| bad(format!("{TOOL_CONFIGURATION} is required (§3.4.1)")))?;
    let target_link_uri = text(tool, "target_link_uri")?;
    let mut deep_linking_uri = None;
    if let Some(messages) = tool.get("messages").and_then(Value::as_array) {
        for m in messages {
            if m.get("type").and_then(Value::as_str) == Some("LtiDeepLinkingRequest") {
                deep_linking_uri = Some(
                    m.get("target_link_uri")
                        .and_then(Value::as_str)
                        .unwrap_or(&target_link_uri)
                        .to_owned(),
                );
            }
        }
    }
    let custom_parameters = tool
        .get("custom_parameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let scope = v
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .filter(|s| ALL_SCOPES.contains(s))
        .map(str::to_owned)
        .collect();
    Ok(ClientRegistration {
        client_name: v
            .get("client_name")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or("LTI tool")
            .to_owned(),
        initiate_login_uri: text(&v, "initiate_login_uri")?,
        redirect_uris,
        jwks_uri: text(&v, "jwks_uri")?,
        target_link_uri,
        deep_linking_uri,
        custom_parameters,
        scope,
        claims: strings(tool, "claims"),
        raw: v,
    })
}

/// §3.6: the registration as accepted, with `client_id` and the deployment.
pub fn registration_response(
    r: &ClientRegistration,
    client_id: &str,
    deployment_id: &str,
) -> Value {
    let mut v = r.raw.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert("client_id".into(), json!(client_id));
        o.insert("scope".into(), json!(r.scope.join(" ")));
        if let Some(t) = o.get_mut(TOOL_CONFIGURATION).and_then(Value::as_object_mut) {
            t.insert("deployment_id".into(), json!(deployment_id));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        json!({
            "application_type": "web", "response_types": ["id_token"],
            "grant_types": ["implicit", "client_credentials"],
            "initiate_login_uri": "https://tool.example/login",
            "redirect_uris": ["https://tool.example/launch"],
            "client_name": "ドリル", "jwks_uri": "https://tool.example/keys",
            "token_endpoint_auth_method": "private_key_jwt",
            "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score openid",
            TOOL_CONFIGURATION: {
                "domain": "tool.example", "target_link_uri": "https://tool.example/launch",
                "custom_parameters": {"a": "1"}, "claims": ["iss", "sub", "name"],
                "messages": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]
            }
        })
    }

    #[test]
    fn dr_3_4_a_registration_gives_urls_scopes_and_deep_linking() {
        let r = parse_registration(good().to_string().as_bytes()).unwrap();
        assert_eq!(
            r.deep_linking_uri.as_deref(),
            Some("https://tool.example/launch")
        );
        assert_eq!(
            r.scope,
            vec!["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
        );
        let resp = registration_response(&r, "c1", "d1");
        assert_eq!(resp["client_id"], "c1");
        assert_eq!(resp[TOOL_CONFIGURATION]["deployment_id"], "d1");
    }

    #[test]
    fn dr_3_4_wrong_auth_method_or_missing_tool_configuration_is_refused() {
        let mut v = good();
        v["token_endpoint_auth_method"] = json!("client_secret_basic");
        assert!(parse_registration(v.to_string().as_bytes()).is_err());
        let mut v = good();
        v.as_object_mut().unwrap().remove(TOOL_CONFIGURATION);
        assert!(parse_registration(v.to_string().as_bytes()).is_err());
    }

    #[test]
    fn dr_3_5_1_the_configuration_names_the_endpoints_and_messages() {
        let c = platform_configuration(&PlatformEndpoints {
            issuer: "https://p/t/demo",
            authorization_endpoint: "https://p/t/demo/lti/auth",
            token_endpoint: "https://p/t/demo/lti/token",
            jwks_uri: "https://p/t/demo/jwks",
            registration_endpoint: "https://p/t/demo/lti/register",
            version: "0.1.0",
        });
        assert_eq!(c["registration_endpoint"], "https://p/t/demo/lti/register");
        assert_eq!(
            c[PLATFORM_CONFIGURATION]["messages_supported"][1]["type"],
            "LtiDeepLinkingRequest"
        );
    }
}

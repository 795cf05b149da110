//! The claims of an LTI message `id_token` (LTI Core 1.3 §5; DL 2.0 §4.4; NRPS 2.0 §3.6;
//! AGS 2.0 §3.1) and the builder of a launch's claim set.

use serde_json::{json, Map, Value};

pub const MESSAGE_TYPE: &str = "https://purl.imsglobal.org/spec/lti/claim/message_type";
pub const VERSION: &str = "https://purl.imsglobal.org/spec/lti/claim/version";
pub const DEPLOYMENT_ID: &str = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
pub const TARGET_LINK_URI: &str = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri";
pub const RESOURCE_LINK: &str = "https://purl.imsglobal.org/spec/lti/claim/resource_link";
pub const ROLES: &str = "https://purl.imsglobal.org/spec/lti/claim/roles";
pub const CONTEXT: &str = "https://purl.imsglobal.org/spec/lti/claim/context";
pub const TOOL_PLATFORM: &str = "https://purl.imsglobal.org/spec/lti/claim/tool_platform";
pub const LAUNCH_PRESENTATION: &str =
    "https://purl.imsglobal.org/spec/lti/claim/launch_presentation";
pub const CUSTOM: &str = "https://purl.imsglobal.org/spec/lti/claim/custom";
pub const LIS: &str = "https://purl.imsglobal.org/spec/lti/claim/lis";
pub const NRPS: &str = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice";
pub const AGS: &str = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint";
pub const DL_SETTINGS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
pub const DL_CONTENT_ITEMS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items";
pub const DL_DATA: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/data";
pub const DL_MSG: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/msg";
pub const DL_ERRORMSG: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg";

/// LTI Core 1.3 §5.4.1: a class is a course section.
pub const CONTEXT_TYPE_COURSE_SECTION: &str =
    "http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection";

/// The two messages this platform sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    ResourceLink,
    DeepLinking,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::ResourceLink => "LtiResourceLinkRequest",
            MessageType::DeepLinking => "LtiDeepLinkingRequest",
        }
    }

    pub fn parse(s: &str) -> Option<MessageType> {
        match s {
            "LtiResourceLinkRequest" => Some(MessageType::ResourceLink),
            "LtiDeepLinkingRequest" => Some(MessageType::DeepLinking),
            _ => None,
        }
    }
}

/// The class a launch happens in (LTI Core 1.3 §5.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub id: String,
    pub label: String,
    pub title: String,
}

/// The resource link of a resource link launch (LTI Core 1.3 §5.3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceLink {
    pub id: String,
    pub title: Option<String>,
}

/// The platform (LTI Core 1.3 §5.4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// Stable per tenant: the issuer.
    pub guid: String,
    pub name: String,
    pub version: String,
}

/// What the person is called, when the tool may know (LTI Core 1.3 §5.3.6.1: OIDC standard
/// claims, each optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonClaims {
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
}

/// The service endpoints granted to this launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Services {
    /// NRPS 2.0 §3.6.1.
    pub context_memberships_url: Option<String>,
    /// AGS 2.0 §3.1: the line items URL and the scopes the tool may ask for.
    pub lineitems_url: Option<String>,
    /// The line item bound to this resource link, when there is one.
    pub lineitem_url: Option<String>,
    pub ags_scopes: Vec<String>,
}

/// Everything a launch message says, before signing.
#[derive(Clone, Debug)]
pub struct Launch {
    pub issuer: String,
    pub client_id: String,
    pub subject: String,
    pub nonce: String,
    pub now: i64,
    pub lifetime: i64,
    pub message_type: MessageType,
    pub deployment_id: String,
    pub target_link_uri: String,
    pub resource_link: Option<ResourceLink>,
    pub roles: Vec<String>,
    pub context: Option<Context>,
    pub platform: Platform,
    pub locale: String,
    pub return_url: Option<String>,
    pub custom: Map<String, Value>,
    pub person: PersonClaims,
    pub services: Services,
    /// Deep Linking 2.0 §4.4.1: where the response goes, and opaque data to echo.
    pub deep_link_return_url: Option<String>,
    pub deep_link_data: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LaunchError {
    #[error("a resource link launch needs a resource link (LTI Core 1.3 §5.3.5)")]
    MissingResourceLink,
    #[error("a deep linking request needs deep_link_return_url (DL 2.0 §4.4.1)")]
    MissingDeepLinkReturn,
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

impl Launch {
    /// The claim set of the `id_token` (LTI Core 1.3 §5.3: required claims first).
    pub fn claims(&self) -> Result<Value, LaunchError> {
        for (what, v) in [
            ("iss", &self.issuer),
            ("aud", &self.client_id),
            ("sub", &self.subject),
            ("nonce", &self.nonce),
            ("deployment_id", &self.deployment_id),
            ("target_link_uri", &self.target_link_uri),
        ] {
            if v.is_empty() {
                return Err(LaunchError::Empty(what));
            }
        }
        let mut c = Map::new();
        c.insert("iss".into(), json!(self.issuer));
        // Security Framework 5.1.2: `aud` as a single string (some tools reject an array).
        c.insert("aud".into(), json!(self.client_id));
        c.insert("azp".into(), json!(self.client_id));
        c.insert("sub".into(), json!(self.subject));
        c.insert("exp".into(), json!(self.now + self.lifetime));
        c.insert("iat".into(), json!(self.now));
        c.insert("nonce".into(), json!(self.nonce));
        c.insert(MESSAGE_TYPE.into(), json!(self.message_type.as_str()));
        c.insert(VERSION.into(), json!(crate::LTI_VERSION));
        c.insert(DEPLOYMENT_ID.into(), json!(self.deployment_id));
        c.insert(TARGET_LINK_URI.into(), json!(self.target_link_uri));
        c.insert(ROLES.into(), json!(self.roles));
        match self.message_type {
            MessageType::ResourceLink => {
                let rl = self
                    .resource_link
                    .as_ref()
                    .ok_or(LaunchError::MissingResourceLink)?;
                let mut link = Map::new();
                link.insert("id".into(), json!(rl.id));
                if let Some(t) = &rl.title {
                    link.insert("title".into(), json!(t));
                }
                c.insert(RESOURCE_LINK.into(), Value::Object(link));
            }
            MessageType::DeepLinking => {
                let ret = self
                    .deep_link_return_url
                    .as_ref()
                    .ok_or(LaunchError::MissingDeepLinkReturn)?;
                let mut s = Map::new();
                s.insert("deep_link_return_url".into(), json!(ret));
                s.insert("accept_types".into(), json!(["ltiResourceLink"]));
                // Launch in a new window: iPad Safari blocks third-party cookies in frames.
                s.insert(
                    "accept_presentation_document_targets".into(),
                    json!(["window"]),
                );
                s.insert("accept_multiple".into(), json!(true));
                s.insert("auto_create".into(), json!(true));
                if let Some(d) = &self.deep_link_data {
                    s.insert("data".into(), json!(d));
                }
                c.insert(DL_SETTINGS.into(), Value::Object(s));
            }
        }
        if let Some(ctx) = &self.context {
            c.insert(
                CONTEXT.into(),
                json!({
                    "id": ctx.id, "label": ctx.label, "title": ctx.title,
                    "type": [CONTEXT_TYPE_COURSE_SECTION],
                }),
            );
        }
        c.insert(
            TOOL_PLATFORM.into(),
            json!({
                "guid": self.platform.guid, "name": self.platform.name,
                "product_family_code": "kakehashi", "version": self.platform.version,
            }),
        );
        let mut lp = Map::new();
        lp.insert("document_target".into(), json!("window"));
        lp.insert("locale".into(), json!(self.locale));
        if let Some(r) = &self.return_url {
            lp.insert("return_url".into(), json!(r));
        }
        c.insert(LAUNCH_PRESENTATION.into(), Value::Object(lp));
        if !self.custom.is_empty() {
            c.insert(CUSTOM.into(), Value::Object(self.custom.clone()));
        }
        let p = &self.person;
        for (k, v) in [
            ("name", &p.name),
            ("given_name", &p.given_name),
            ("family_name", &p.family_name),
            ("email", &p.email),
        ] {
            if let Some(v) = v {
                c.insert(k.into(), json!(v));
            }
        }
        if let Some(url) = &self.services.context_memberships_url {
            c.insert(
                NRPS.into(),
                json!({ "context_memberships_url": url, "service_versions": ["2.0"] }),
            );
        }
        if let Some(url) = &self.services.lineitems_url {
            let mut e = Map::new();
            e.insert("scope".into(), json!(self.services.ags_scopes));
            e.insert("lineitems".into(), json!(url));
            if let Some(li) = &self.services.lineitem_url {
                e.insert("lineitem".into(), json!(li));
            }
            c.insert(AGS.into(), Value::Object(e));
        }
        Ok(Value::Object(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn launch() -> Launch {
        Launch {
            issuer: "https://portal.example/t/demo".into(),
            client_id: "tool-1".into(),
            subject: "b1e2".into(),
            nonce: "n-1".into(),
            now: 1_700_000_000,
            lifetime: 300,
            message_type: MessageType::ResourceLink,
            deployment_id: "dep-1".into(),
            target_link_uri: "https://tool.example/launch".into(),
            resource_link: Some(ResourceLink {
                id: "rl-1".into(),
                title: Some("けいさん".into()),
            }),
            roles: crate::roles::launch_roles("student", Some("student")),
            context: Some(Context {
                id: "class-1".into(),
                label: "1年1組".into(),
                title: "1年1組".into(),
            }),
            platform: Platform {
                guid: "https://portal.example/t/demo".into(),
                name: "デモ市".into(),
                version: "0.1.0".into(),
            },
            locale: "ja-JP".into(),
            return_url: None,
            custom: Map::new(),
            person: PersonClaims::default(),
            services: Services {
                context_memberships_url: Some("https://portal.example/m".into()),
                lineitems_url: Some("https://portal.example/li".into()),
                lineitem_url: None,
                ags_scopes: vec![crate::services::SCOPE_SCORE.into()],
            },
            deep_link_return_url: None,
            deep_link_data: None,
        }
    }

    #[test]
    fn core_5_3_required_claims_are_present_and_aud_is_a_string() {
        let c = launch().claims().unwrap();
        for k in [
            "iss",
            "aud",
            "sub",
            "exp",
            "iat",
            "nonce",
            MESSAGE_TYPE,
            VERSION,
            DEPLOYMENT_ID,
            TARGET_LINK_URI,
            RESOURCE_LINK,
            ROLES,
        ] {
            assert!(c.get(k).is_some(), "{k}");
        }
        assert_eq!(c["aud"], "tool-1");
        assert_eq!(c[VERSION], "1.3.0");
        assert_eq!(c[MESSAGE_TYPE], "LtiResourceLinkRequest");
        assert_eq!(c[CONTEXT]["type"][0], CONTEXT_TYPE_COURSE_SECTION);
        assert_eq!(c[LAUNCH_PRESENTATION]["document_target"], "window");
        assert_eq!(c[NRPS]["service_versions"][0], "2.0");
    }

    #[test]
    fn names_and_email_only_when_given() {
        let c = launch().claims().unwrap();
        assert!(c.get("name").is_none() && c.get("email").is_none());
        let mut l = launch();
        l.person.name = Some("山田 花子".into());
        assert_eq!(l.claims().unwrap()["name"], "山田 花子");
    }

    #[test]
    fn dl_4_4_deep_linking_request_carries_settings_not_a_resource_link() {
        let mut l = launch();
        l.message_type = MessageType::DeepLinking;
        l.resource_link = None;
        assert_eq!(l.claims(), Err(LaunchError::MissingDeepLinkReturn));
        l.deep_link_return_url = Some("https://portal.example/dl".into());
        l.deep_link_data = Some("opaque".into());
        let c = l.claims().unwrap();
        assert!(c.get(RESOURCE_LINK).is_none());
        assert_eq!(c[DL_SETTINGS]["accept_types"][0], "ltiResourceLink");
        assert_eq!(c[DL_SETTINGS]["data"], "opaque");
    }
}

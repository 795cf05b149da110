//! LTI 1.3 tools in the console and the admin API (tenant admins): list, register with the
//! options of `kakehashi lti tool add`, change them (`lti tool set`), remove, and start a
//! Dynamic Registration (`lti tool register`). The rules and the audit rows
//! (`lti.tool.create`, `lti.tool.update`, `lti.tool.remove`, `lti.registration.start`) are
//! [`crate::lti`]'s; this module adds who may use them and speaks of fields by their form
//! and JSON names.

use std::collections::BTreeMap;

use kakehashi_store::Store;

use super::authz::{Principal, TenantAction};
use super::{page_size, ConsoleError, Page};
use crate::apps::AppError;
use crate::lti::tools::{self, NewTool, ToolChange, ToolListing, ToolRegistration};
use crate::Clock;

/// A tool registration as the console's form and the API take it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolRequest {
    pub name: String,
    /// The tool's OIDC login initiation URL.
    pub login_url: String,
    /// The tool's launch (target link) URL; also a redirect URI.
    pub launch_url: String,
    /// The tool's JWKS URL, or else …
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// … its RSA public key in PEM.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    #[serde(default)]
    pub deep_linking_url: Option<String>,
    /// Further redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `all` (default), `staff`, `teachers`, `students`.
    #[serde(default)]
    pub audience: Option<String>,
    /// `pairwise` (default) or `user-master-identifier`.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub send_name: bool,
    #[serde(default)]
    pub send_email: bool,
    /// Custom parameters sent with every launch.
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
    /// One deployment per school (OneRoster org sourcedIds); empty: one for the tenant.
    #[serde(default)]
    pub schools: Vec<String>,
}

/// The command line's flag names in the rules' messages, as the form and JSON call them.
fn field_names(message: &str) -> String {
    [
        ("--name", "name"),
        ("--login-url", "login_url"),
        ("--launch-url", "launch_url"),
        ("--deep-linking-url", "deep_linking_url"),
        ("--jwks-url URL", "jwks_url"),
        ("--jwks-url", "jwks_url"),
        ("--public-key FILE", "public_key_pem"),
        ("--public-key", "public_key_pem"),
        ("--redirect-uri", "redirect_uris"),
        ("--registration-url", "registration_url"),
    ]
    .iter()
    .fold(message.to_owned(), |m, (flag, field)| {
        m.replace(flag, field)
    })
}

fn tool_error(e: AppError) -> ConsoleError {
    match e {
        AppError::Store(s) => ConsoleError::Store(s),
        AppError::Unknown { id, .. } => ConsoleError::NotFound(format!("LTI tool {id}")),
        e => ConsoleError::Invalid(field_names(&e.to_string())),
    }
}

impl ToolRequest {
    fn into_new(self) -> Result<NewTool, ConsoleError> {
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let audience = blank(self.audience)
            .map(|a| {
                a.parse()
                    .map_err(|e| ConsoleError::Invalid(format!("audience: {e}")))
            })
            .transpose()?;
        let subject = blank(self.subject)
            .map(|s| {
                s.parse()
                    .map_err(|e| ConsoleError::Invalid(format!("subject: {e}")))
            })
            .transpose()?;
        let mut custom = Vec::new();
        for (k, v) in self.custom {
            if k.trim().is_empty() {
                return Err(ConsoleError::Invalid(
                    "custom: parameter names must not be empty".into(),
                ));
            }
            custom.push((k.trim().to_owned(), v));
        }
        Ok(NewTool {
            name: self.name.trim().to_owned(),
            login_url: self.login_url.trim().to_owned(),
            launch_url: self.launch_url.trim().to_owned(),
            deep_linking_url: blank(self.deep_linking_url),
            jwks_url: blank(self.jwks_url),
            public_key_pem: blank(self.public_key_pem),
            redirect_uris: self
                .redirect_uris
                .into_iter()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect(),
            audience,
            subject_type: subject,
            send_name: self.send_name,
            send_email: self.send_email,
            custom,
            schools: self
                .schools
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        })
    }
}

/// The tenant's tools by client_id after `after`.
pub async fn list(
    store: &Store,
    by: &Principal,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<ToolListing>, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let limit = page_size(limit) as usize;
    let mut all = tools::list(store, &by.tenant).await.map_err(tool_error)?;
    all.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    let after = after.unwrap_or("");
    let mut items: Vec<ToolListing> = all
        .into_iter()
        .filter(|t| t.client_id.as_str() > after)
        .collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|t| t.client_id.clone())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// Registers a tool; the answer is what the tool's administrator configures (client_id,
/// deployment ids, issuer, endpoints).
pub async fn register(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    public_url: &str,
    req: ToolRequest,
) -> Result<ToolRegistration, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let new = req.into_new()?;
    if !new.schools.is_empty() {
        let known =
            kakehashi_store::console::titles(store, &by.tenant, "orgs", &new.schools).await?;
        if let Some(s) = new
            .schools
            .iter()
            .find(|s| !known.iter().any(|(id, _)| id == *s))
        {
            return Err(ConsoleError::Invalid(format!(
                "schools: no school {s:?} in this tenant's roster"
            )));
        }
    }
    tools::add(store, clock, &by.actor, &by.tenant, public_url, &new)
        .await
        .map_err(tool_error)
}

/// Removes a tool (its deployments and the links placed in classes go with it).
pub async fn remove(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    client_id: &str,
) -> Result<(), ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    tools::remove(store, clock, &by.actor, &by.tenant, client_id)
        .await
        .map_err(tool_error)
}

/// A change to a tool as the console's form and `PATCH lti/tools/{id}` take it: what is
/// given is changed, the rest kept (lists and the custom parameters are replaced whole).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolPatch {
    pub name: Option<String>,
    pub login_url: Option<String>,
    pub launch_url: Option<String>,
    /// An empty string removes it.
    pub deep_linking_url: Option<String>,
    /// A new JWKS URL, or else …
    pub jwks_url: Option<String>,
    /// … a new RSA public key in PEM (replaces the JWKS URL).
    pub public_key_pem: Option<String>,
    /// The whole new list of further redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    pub audience: Option<String>,
    pub subject: Option<String>,
    pub send_name: Option<bool>,
    pub send_email: Option<bool>,
    /// The whole new set of custom parameters.
    pub custom: Option<BTreeMap<String, String>>,
}

impl ToolPatch {
    fn into_change(self) -> Result<ToolChange, ConsoleError> {
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let custom = match self.custom {
            None => None,
            Some(map) => {
                let mut custom = Vec::new();
                for (k, v) in map {
                    if k.trim().is_empty() {
                        return Err(ConsoleError::Invalid(
                            "custom: parameter names must not be empty".into(),
                        ));
                    }
                    custom.push((k.trim().to_owned(), v));
                }
                Some(custom)
            }
        };
        Ok(ToolChange {
            name: self.name.map(|n| n.trim().to_owned()),
            login_url: self.login_url.map(|u| u.trim().to_owned()),
            launch_url: self.launch_url.map(|u| u.trim().to_owned()),
            deep_linking_url: self.deep_linking_url.map(|u| blank(Some(u))),
            jwks_url: blank(self.jwks_url),
            public_key_pem: blank(self.public_key_pem),
            redirect_uris: self.redirect_uris.map(|list| {
                list.into_iter()
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty())
                    .collect()
            }),
            audience: blank(self.audience)
                .map(|a| {
                    a.parse()
                        .map_err(|e| ConsoleError::Invalid(format!("audience: {e}")))
                })
                .transpose()?,
            subject_type: blank(self.subject)
                .map(|s| {
                    s.parse()
                        .map_err(|e| ConsoleError::Invalid(format!("subject: {e}")))
                })
                .transpose()?,
            send_name: self.send_name,
            send_email: self.send_email,
            custom,
        })
    }
}

/// One tool (the edit form, `GET lti/tools/{id}`).
pub async fn get(
    store: &Store,
    by: &Principal,
    client_id: &str,
) -> Result<ToolListing, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    tools::get(store, &by.tenant, client_id)
        .await
        .map_err(tool_error)
}

/// Changes a tool (audited as `lti.tool.update` with before and after, as `lti tool set`).
pub async fn update(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    client_id: &str,
    patch: ToolPatch,
) -> Result<ToolListing, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let change = patch.into_change()?;
    tools::update(store, clock, &by.actor, &by.tenant, client_id, &change)
        .await
        .map_err(tool_error)
}

/// Starts an LTI Dynamic Registration from the tool's registration URL (as
/// `lti tool register`; audited as `lti.registration.start`): the URL the administrator opens,
/// with `openid_configuration` and a one-time `registration_token` valid for
/// [`crate::lti::registration::TOKEN_LIFETIME`] seconds.
pub async fn start_registration(
    store: &Store,
    clock: &dyn Clock,
    by: &Principal,
    public_url: &str,
    registration_url: &str,
) -> Result<String, ConsoleError> {
    by.require(TenantAction::ManageApps)?;
    let u = registration_url.trim();
    if u.is_empty() {
        return Err(ConsoleError::Invalid(
            "registration_url: give the tool's registration URL".into(),
        ));
    }
    crate::lti::registration::start(store, clock, &by.actor, &by.tenant, public_url, u)
        .await
        .map_err(tool_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_messages_name_the_fields_as_sent() {
        assert_eq!(
            field_names(
                "give the tool's keys with exactly one of --jwks-url URL or --public-key FILE"
            ),
            "give the tool's keys with exactly one of jwks_url or public_key_pem"
        );
        assert_eq!(
            field_names("--login-url \"http://x\" uses http"),
            "login_url \"http://x\" uses http"
        );
    }
}

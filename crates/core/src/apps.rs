//! The application catalog: OIDC relying parties and SAML service providers a tenant's users
//! can reach, each with a security class (who may use it, and with which second factor) and an
//! audience. Registering, changing ([`update`]) and removing one is audited; a client secret is shown once and stored
//! only as a hash.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use kakehashi_oidc::{ClientSecretHash, OsRng};
use kakehashi_saml::metadata::SpMetadata;
use kakehashi_store::identity::{self, AppRow};
use kakehashi_store::oauth::OidcSettingsRow;
use kakehashi_store::{audit, Store, StoreError, TenantId};

use crate::tenants::{self, TenantError};
use crate::{Actor, Clock};

mod edit;
pub use edit::{update, AppChange, AppUpdated};

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(concat!("unknown ", stringify!($name), " {:?}: use one of {}"),
                        s, [$($text),+].join(", "))),
                }
            }
        }
    };
}

word_enum!(
    /// How the app is reached.
    Protocol { Oidc = "oidc", Saml = "saml" }
);
word_enum!(
    /// `learning` tools, or `school-affairs` systems (grades, attendance, enrolment records):
    /// staff only, second factor required.
    SecurityClass { Learning = "learning", SchoolAffairs = "school-affairs" }
);
word_enum!(
    /// Who sees the app in the launcher.
    Audience { All = "all", Staff = "staff", Teachers = "teachers", Students = "students" }
);
word_enum!(
    /// The `sub` (or NameID) the app receives: pairwise per app by default, or the
    /// `userMasterIdentifier` the national kits ask for.
    SubjectType { Pairwise = "pairwise", UserMasterIdentifier = "user-master-identifier" }
);

/// Where a SAML SP's settings come from.
#[derive(Clone, Debug)]
pub enum SamlSource {
    Metadata(String),
    Manual { entity_id: String, acs_url: String },
}

/// An icon shown in the launcher.
#[derive(Clone, Debug)]
pub struct Icon {
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct NewApp {
    pub name: String,
    pub protocol: Protocol,
    pub security_class: SecurityClass,
    pub audience: Option<Audience>,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub saml: Option<SamlSource>,
    pub subject_type: SubjectType,
    pub icon: Option<Icon>,
}

/// What the registrant needs to configure the app; the secret is shown only here.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Registration {
    #[serde(flatten)]
    pub app: AppRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_metadata_url: Option<String>,
    /// The OIDC settings in force (OIDC apps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSettingsRow>,
}

/// The OIDC settings a registration may choose; `None`/empty fields take the defaults
/// (client_secret_basic or none, opaque access tokens, RS256, no claims beyond `sub`).
#[derive(Clone, Debug, Default)]
pub struct OidcOptions {
    pub token_auth_method: Option<String>,
    /// The client's JWKS (JSON) for `private_key_jwt`.
    pub jwks: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// `opaque` or `jwt`.
    pub access_token_format: Option<String>,
    /// `RS256` or `ES256`.
    pub id_token_alg: Option<String>,
    /// Claim groups: `name`, `kana`, `username`, `email`, `roster`.
    pub release: Vec<String>,
    pub launch_url: Option<String>,
    /// xAPI scopes the app may be granted for the tenant's LRS (Communication 4.2.s2).
    pub xapi_scopes: Vec<String>,
    /// Where the app takes Logout Tokens (Back-Channel Logout 1.0 section 2.2).
    pub backchannel_logout_uri: Option<String>,
}

impl OidcOptions {
    fn is_default(&self) -> bool {
        self.token_auth_method.is_none()
            && self.jwks.is_none()
            && self.post_logout_redirect_uris.is_empty()
            && self.access_token_format.is_none()
            && self.id_token_alg.is_none()
            && self.release.is_empty()
            && self.launch_url.is_none()
            && self.xapi_scopes.is_empty()
            && self.backchannel_logout_uri.is_none()
    }
}

/// Checks the OIDC options against the registration; returns the settings to store.
fn plan_oidc(new: &NewApp, o: &OidcOptions) -> Result<OidcSettingsRow, AppError> {
    use crate::oauth::clients::{parse_auth_method, Release};
    use kakehashi_oidc::ClientAuthMethod;
    let method = match &o.token_auth_method {
        Some(m) => parse_auth_method(m).map_err(invalid)?,
        None if new.public => ClientAuthMethod::None,
        None => ClientAuthMethod::ClientSecretBasic,
    };
    if new.public != (method == ClientAuthMethod::None) {
        return Err(invalid(
            "--token-auth-method none goes with --public, and --public with none",
        ));
    }
    let jwks = match (&o.jwks, method) {
        (Some(j), ClientAuthMethod::PrivateKeyJwt) => {
            let set = kakehashi_oidc::JwkSet::parse(j)
                .map_err(|e| invalid(format!("--jwks is not a usable JWK set: {e}")))?;
            if set.verification_keys().map_or(true, |k| k.is_empty()) {
                return Err(invalid("--jwks holds no usable public key"));
            }
            Some(j.clone())
        }
        (None, ClientAuthMethod::PrivateKeyJwt) => {
            return Err(invalid(
                "private_key_jwt needs the client's public keys: --jwks FILE",
            ))
        }
        (Some(_), _) => {
            return Err(invalid(
                "--jwks goes with --token-auth-method private_key_jwt",
            ))
        }
        (None, _) => None,
    };
    for uri in &o.post_logout_redirect_uris {
        check_endpoint_url("post-logout redirect URI", uri)?;
    }
    if let Some(u) = &o.launch_url {
        check_endpoint_url("launch URL", u)?;
    }
    if let Some(u) = &o.backchannel_logout_uri {
        check_endpoint_url("back-channel logout URI", u)?;
    }
    let format = o
        .access_token_format
        .clone()
        .unwrap_or_else(|| "opaque".into());
    if !matches!(format.as_str(), "opaque" | "jwt") {
        return Err(invalid(format!(
            "access token format {format:?}: use opaque or jwt"
        )));
    }
    let alg = o.id_token_alg.clone().unwrap_or_else(|| "RS256".into());
    if !matches!(alg.as_str(), "RS256" | "ES256") {
        return Err(invalid(format!(
            "ID token algorithm {alg:?}: use RS256 or ES256"
        )));
    }
    let mut release: Vec<String> = Vec::new();
    for r in &o.release {
        let r: Release = r.trim().parse().map_err(invalid)?;
        if !release.iter().any(|x| x == r.as_str()) {
            release.push(r.as_str().to_owned());
        }
    }
    let mut xapi_scopes: Vec<String> = Vec::new();
    for s in &o.xapi_scopes {
        let s = s.trim();
        if kakehashi_xapi::scope::Scope::parse(s).is_none() {
            return Err(invalid(format!(
                "xAPI scope {s:?}: use statements/write, statements/read/mine, statements/read, state, define, profile, all/read or all"
            )));
        }
        if method == ClientAuthMethod::None {
            return Err(invalid(
                "--xapi-scopes needs a confidential client (client_credentials)",
            ));
        }
        if !xapi_scopes.iter().any(|x| x == s) {
            xapi_scopes.push(s.to_owned());
        }
    }
    Ok(OidcSettingsRow {
        token_auth_method: Some(method.as_str().to_owned()),
        client_jwks: jwks,
        post_logout_redirect_uris: o.post_logout_redirect_uris.clone(),
        access_token_format: format,
        id_token_alg: alg,
        release_claims: release,
        launch_url: o.launch_url.clone(),
        xapi_scopes,
        backchannel_logout_uri: o.backchannel_logout_uri.clone(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("a SAML service provider with entity id {0:?} is already registered in this tenant")]
    DuplicateEntityId(String),
    #[error("no app {id:?} in tenant {tenant}")]
    Unknown { tenant: TenantId, id: String },
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(msg: impl Into<String>) -> AppError {
    AppError::Invalid(msg.into())
}

/// The OIDC issuer of a tenant: `{public-url}/t/{tenant}`.
pub fn issuer(public_url: &str, tenant: &TenantId) -> String {
    format!("{}/t/{tenant}", public_url.trim_end_matches('/'))
}

/// RFC 6749 3.1.2: absolute, no fragment; https, or http only on this machine (development).
fn check_endpoint_url(what: &str, s: &str) -> Result<(), AppError> {
    let u = url::Url::parse(s)
        .map_err(|e| invalid(format!("{what} {s:?} is not an absolute URL: {e}")))?;
    if u.fragment().is_some() {
        return Err(invalid(format!(
            "{what} {s:?} must not have a fragment (RFC 6749 3.1.2)"
        )));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        other => Err(invalid(format!(
            "{what} {s:?} uses {other}: use https (http is allowed only for 127.0.0.1 or localhost)"
        ))),
    }
}

fn icon_type(bytes: &[u8]) -> Result<&'static str, AppError> {
    const MAX: usize = 256 * 1024;
    if bytes.len() > MAX {
        return Err(invalid(format!(
            "the icon is {} bytes; at most {MAX}",
            bytes.len()
        )));
    }
    // Raster images only: an SVG can carry script.
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Ok("image/jpeg")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok("image/webp")
    } else {
        Err(invalid("the icon must be a PNG, JPEG or WebP image"))
    }
}

/// A SAML SP's entity id, ACS URL and metadata (kept when given), checked.
fn saml_endpoint(source: &SamlSource) -> Result<(String, String, Option<String>), AppError> {
    let (entity_id, acs_url, metadata) = match source {
        SamlSource::Metadata(xml) => {
            let md = SpMetadata::parse(xml)
                .map_err(|e| invalid(format!("the SAML metadata cannot be used: {e}")))?;
            let acs = md.default_acs().map_err(|e| {
                invalid(format!(
                    "the SAML metadata has no usable AssertionConsumerService: {e}"
                ))
            })?;
            (
                md.entity_id.clone(),
                acs.endpoint.location.clone(),
                Some(xml.clone()),
            )
        }
        SamlSource::Manual { entity_id, acs_url } => {
            if entity_id.trim().is_empty() {
                return Err(invalid("--saml-entity-id must not be empty"));
            }
            (entity_id.clone(), acs_url.clone(), None)
        }
    };
    check_endpoint_url("ACS URL", &acs_url)?;
    Ok((entity_id, acs_url, metadata))
}

/// Checks a registration and fills in the defaults; returns the row to store.
fn plan(new: &NewApp, id: String, at: &str) -> Result<(AppRow, Option<String>), AppError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(invalid("the app name must not be empty"));
    }
    let audience = new.audience.unwrap_or(match new.security_class {
        SecurityClass::Learning => Audience::All,
        SecurityClass::SchoolAffairs => Audience::Staff,
    });
    if new.security_class == SecurityClass::SchoolAffairs
        && matches!(audience, Audience::All | Audience::Students)
    {
        return Err(invalid(
            "school-affairs apps hold grades and enrolment records and are for staff only: use --audience staff or teachers",
        ));
    }
    let mut row = AppRow {
        id,
        name: name.to_owned(),
        protocol: new.protocol.as_str().to_owned(),
        security_class: new.security_class.as_str().to_owned(),
        audience: audience.as_str().to_owned(),
        public_client: false,
        client_secret_hash: None,
        redirect_uris: Vec::new(),
        saml_entity_id: None,
        saml_acs_url: None,
        saml_metadata: None,
        subject_type: new.subject_type.as_str().to_owned(),
        icon_type: None,
        icon_base64: None,
        created_at: at.to_owned(),
    };
    if let Some(icon) = &new.icon {
        row.icon_type = Some(icon_type(&icon.bytes)?.to_owned());
        row.icon_base64 = Some(base64::engine::general_purpose::STANDARD.encode(&icon.bytes));
    }
    let mut secret = None;
    match new.protocol {
        Protocol::Oidc => {
            if new.saml.is_some() {
                return Err(invalid(
                    "--saml-metadata / --saml-acs-url / --saml-entity-id are for --protocol saml",
                ));
            }
            if new.redirect_uris.is_empty() {
                return Err(invalid("an OIDC app needs at least one --redirect-uri"));
            }
            for uri in &new.redirect_uris {
                check_endpoint_url("redirect URI", uri)?;
            }
            row.redirect_uris = new.redirect_uris.clone();
            row.public_client = new.public;
            if !new.public {
                let s = kakehashi_oidc::rng::random_token(&mut OsRng, 32);
                row.client_secret_hash = Some(hex::encode(ClientSecretHash::of(&s).as_bytes()));
                secret = Some(s);
            }
        }
        Protocol::Saml => {
            if new.public || !new.redirect_uris.is_empty() {
                return Err(invalid(
                    "--public and --redirect-uri are for --protocol oidc",
                ));
            }
            let Some(source) = &new.saml else {
                return Err(invalid(
                    "a SAML app needs --saml-metadata FILE, or --saml-acs-url URL with --saml-entity-id ID",
                ));
            };
            let (entity_id, acs_url, metadata) = saml_endpoint(source)?;
            row.saml_entity_id = Some(entity_id);
            row.saml_acs_url = Some(acs_url);
            row.saml_metadata = metadata;
        }
    }
    Ok((row, secret))
}

/// Registers an app in the tenant's catalog.
pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    public_url: &str,
    new: &NewApp,
) -> Result<Registration, AppError> {
    add_with_oidc(
        store,
        clock,
        actor,
        tenant,
        public_url,
        new,
        &OidcOptions::default(),
    )
    .await
}

/// Registers an app with OIDC settings beyond the defaults.
pub async fn add_with_oidc(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    public_url: &str,
    new: &NewApp,
    oidc: &OidcOptions,
) -> Result<Registration, AppError> {
    tenants::require(store, tenant).await?;
    let at = clock.now_text();
    let (mut row, mut secret) = plan(new, uuid::Uuid::new_v4().to_string(), &at)?;
    let settings = match new.protocol {
        Protocol::Oidc => Some(plan_oidc(new, oidc)?),
        Protocol::Saml if oidc.is_default() => None,
        Protocol::Saml => return Err(invalid("the OIDC options are for --protocol oidc")),
    };
    if settings
        .as_ref()
        .and_then(|s| s.token_auth_method.as_deref())
        == Some("private_key_jwt")
    {
        // The client proves itself with its key; a secret would be a second way in.
        row.client_secret_hash = None;
        secret = None;
    }
    let mut tx = store.begin().await?;
    if !identity::insert_app(&mut tx, tenant, &row).await? {
        return Err(AppError::DuplicateEntityId(
            row.saml_entity_id.clone().unwrap_or_default(),
        ));
    }
    if let Some(s) = &settings {
        kakehashi_store::oauth::set_oidc_settings(&mut tx, tenant, &row.id, s).await?;
    }
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "app.create".into(),
            target: format!("app:{}", row.id),
            details: serde_json::json!({
                "name": row.name, "protocol": row.protocol,
                "securityClass": row.security_class, "audience": row.audience,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let issuer = issuer(public_url, tenant);
    let is_oidc = new.protocol == Protocol::Oidc;
    Ok(Registration {
        client_id: is_oidc.then(|| row.id.clone()),
        client_secret: secret,
        idp_metadata_url: (!is_oidc).then(|| format!("{issuer}/saml/metadata")),
        issuer,
        app: row,
        oidc: settings,
    })
}

pub async fn list(store: &Store, tenant: &TenantId) -> Result<Vec<AppRow>, AppError> {
    tenants::require(store, tenant).await?;
    Ok(identity::list_apps(store, tenant).await?)
}

/// The OIDC settings of the tenant's OIDC apps, by app id.
pub async fn oidc_settings(
    store: &Store,
    tenant: &TenantId,
) -> Result<Vec<(String, OidcSettingsRow)>, AppError> {
    tenants::require(store, tenant).await?;
    Ok(kakehashi_store::oauth::all_oidc_settings(store, tenant).await?)
}

pub async fn remove(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    id: &str,
) -> Result<(), AppError> {
    tenants::require(store, tenant).await?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !identity::delete_app(&mut tx, tenant, id).await? {
        return Err(AppError::Unknown {
            tenant: tenant.clone(),
            id: id.to_owned(),
        });
    }
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "app.remove".into(),
            target: format!("app:{id}"),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(uris: &[&str]) -> NewApp {
        NewApp {
            name: "ドリル".into(),
            protocol: Protocol::Oidc,
            security_class: SecurityClass::Learning,
            audience: None,
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            public: false,
            saml: None,
            subject_type: SubjectType::Pairwise,
            icon: None,
        }
    }

    #[test]
    fn redirect_uris_follow_rfc6749_3_1_2() {
        assert!(plan(&oidc(&["https://drill.example/cb"]), "a".into(), "t").is_ok());
        assert!(plan(&oidc(&["http://127.0.0.1:3000/cb"]), "a".into(), "t").is_ok());
        for bad in [
            "http://drill.example/cb",
            "https://drill.example/cb#x",
            "/cb",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(
                    plan(&oidc(&[bad]), "a".into(), "t"),
                    Err(AppError::Invalid(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            plan(&oidc(&[]), "a".into(), "t"),
            Err(AppError::Invalid(_))
        ));
    }

    #[test]
    fn confidential_clients_get_a_secret_stored_as_a_hash() {
        let (row, secret) = plan(&oidc(&["https://drill.example/cb"]), "a".into(), "t").unwrap();
        let secret = secret.unwrap();
        assert!(secret.len() >= 43);
        assert_eq!(
            row.client_secret_hash.unwrap(),
            hex::encode(ClientSecretHash::of(&secret).as_bytes())
        );
        let mut public = oidc(&["https://drill.example/cb"]);
        public.public = true;
        let (row, secret) = plan(&public, "b".into(), "t").unwrap();
        assert!(secret.is_none() && row.client_secret_hash.is_none() && row.public_client);
    }

    #[test]
    fn school_affairs_apps_are_for_staff_only() {
        let mut app = oidc(&["https://c4th.example/cb"]);
        app.security_class = SecurityClass::SchoolAffairs;
        let (row, _) = plan(&app, "a".into(), "t").unwrap();
        assert_eq!(row.audience, "staff");
        app.audience = Some(Audience::Students);
        assert!(matches!(
            plan(&app, "a".into(), "t"),
            Err(AppError::Invalid(_))
        ));
    }

    #[test]
    fn icons_must_be_raster_images() {
        let mut app = oidc(&["https://drill.example/cb"]);
        app.icon = Some(Icon {
            bytes: b"<svg onload=alert(1)>".to_vec(),
        });
        assert!(plan(&app, "a".into(), "t").is_err());
        app.icon = Some(Icon {
            bytes: b"\x89PNG\r\n\x1a\n0000".to_vec(),
        });
        assert_eq!(
            plan(&app, "a".into(), "t").unwrap().0.icon_type.as_deref(),
            Some("image/png")
        );
    }

    #[test]
    fn saml_needs_metadata_or_entity_and_acs() {
        let mut app = oidc(&[]);
        app.protocol = Protocol::Saml;
        assert!(plan(&app, "a".into(), "t").is_err());
        app.saml = Some(SamlSource::Manual {
            entity_id: "https://c4th.example/sp".into(),
            acs_url: "https://c4th.example/acs".into(),
        });
        let (row, secret) = plan(&app, "a".into(), "t").unwrap();
        assert!(secret.is_none());
        assert_eq!(
            row.saml_acs_url.as_deref(),
            Some("https://c4th.example/acs")
        );
    }
}

//! The command-line grammar. Names are part of Kakehashi's interface: scripts and other
//! components rely on them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "kakehashi",
    version,
    about = "Kakehashi (架け橋): a learning e-portal for Japanese schools"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives. Every command that touches data takes these.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The data directory (embedded database, master key).
    #[arg(long, env = "KAKEHASHI_DATA_DIR", default_value = "./kakehashi-data")]
    pub data_dir: PathBuf,
    /// postgres://… to use PostgreSQL; absent = SQLite in the data directory.
    #[arg(long, env = "KAKEHASHI_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The URL users reach this server at (default: http://LISTEN).
        #[arg(long)]
        public_url: Option<String>,
        /// Create the `demo` tenant with a small generated roster.
        #[arg(long)]
        demo: bool,
    },
    /// Manage tenants (one per board of education).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// OneRoster 1.2 CSV (Japan Profile): validate, import, export.
    #[command(subcommand)]
    Oneroster(OnerosterCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The xAPI learning record store: credentials for learning tools.
    #[command(subcommand)]
    Lrs(crate::commands::lrs::LrsCommand),
    /// The LTI 1.3 platform: learning tools launched from the portal.
    #[command(subcommand)]
    Lti(crate::commands::lti::LtiCommand),
    /// Users' credentials.
    #[command(subcommand)]
    User(UserCommand),
    /// The application catalog (OIDC relying parties, SAML service providers).
    #[command(subcommand)]
    App(AppCommand),
    /// The tenants' token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Console roles: tenant admins and school admins (people or admin API clients).
    #[command(subcommand)]
    Admin(crate::commands::admin::AdminCommand),
    /// Users' second factors (security keys, backup codes).
    #[command(subcommand)]
    Mfa(MfaCommand),
}

#[derive(Subcommand, Debug)]
pub enum MfaCommand {
    /// Remove every second factor of a user (recovery); audited with the reason.
    Reset {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// Why (goes into the audit log; required).
        #[arg(long)]
        reason: String,
    },
    /// List a user's second factors.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// List a tenant's signing keys (no private material).
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Make the published next key current, retire the old one and publish a new next key.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// RS256 or ES256
        #[arg(long, default_value = "RS256")]
        alg: String,
        /// Seconds the next key must have been published (relying parties cache the JWKS).
        #[arg(long, default_value_t = 86_400)]
        min_published_seconds: i64,
        /// Seconds the retired key stays published (at least the longest token lifetime).
        #[arg(long, default_value_t = 86_400)]
        retired_seconds: i64,
    },
    /// Rotate the tenant's SAML IdP signing key: the certificate already published in the
    /// metadata as next starts signing; the old one stays published for a while.
    RotateSaml {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// Seconds the next certificate must have been in the metadata (SPs refresh it on
        /// their own schedule, some only when an operator re-imports it).
        #[arg(long, default_value_t = 7 * 86_400)]
        min_published_seconds: i64,
        /// Seconds the old certificate stays in the metadata.
        #[arg(long, default_value_t = 7 * 86_400)]
        retired_seconds: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Lift a pupil's login lockout and forget the user's failed logins (audited).
    Unlock {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Set a user's password, read from standard input (one line).
    SetPassword {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Register an app; prints the registration (an OIDC client secret is shown only here).
    Add(Box<AppAddArgs>),
    /// List the tenant's apps.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Remove an app.
    Remove {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        /// The app id (for OIDC apps, the client_id).
        #[arg(long)]
        id: String,
    },
    /// Change a SAML app's settings (those not given keep their value; docs/SAML.md).
    SamlSettings(Box<AppSamlSettingsArgs>),
    /// Change an app's audience, security class, redirect URIs or released claims (those not
    /// given keep their value; audited as app.update with before and after).
    Set(Box<AppSetArgs>),
}

#[derive(Args, Debug)]
pub struct AppSetArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub tenant: String,
    /// The app id (for OIDC apps, the client_id).
    #[arg(long)]
    pub id: String,
    /// all, staff, teachers or students.
    #[arg(long)]
    pub audience: Option<String>,
    /// learning or school-affairs (school-affairs needs audience staff or teachers).
    #[arg(long)]
    pub security_class: Option<String>,
    /// OIDC: the redirect URIs (repeat; replaces the whole list).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// OIDC: claim groups to release, comma-separated (name, kana, username, email, roster);
    /// `none` releases none beyond `sub`. Replaces the whole list.
    #[arg(long)]
    pub release: Option<String>,
    /// OIDC: where the app takes Back-Channel Logout Tokens (OpenID Connect Back-Channel
    /// Logout 1.0); https, or http only for 127.0.0.1/localhost. An empty value removes it.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// The name shown in the launcher.
    #[arg(long)]
    pub name: Option<String>,
    /// A new PNG, JPEG or WebP icon for the launcher.
    #[arg(long, conflicts_with = "no_icon")]
    pub icon: Option<PathBuf>,
    /// Remove the icon.
    #[arg(long)]
    pub no_icon: bool,
    /// OIDC, confidential clients: client_secret_basic, client_secret_post or
    /// private_key_jwt (needs --jwks unless the client has keys; the secret is forgotten).
    #[arg(long)]
    pub token_auth_method: Option<String>,
    /// OIDC: the client's new public keys (a JWK Set file) for private_key_jwt.
    #[arg(long)]
    pub jwks: Option<PathBuf>,
    /// OIDC: access tokens as opaque references or RFC 9068 JWTs (jwt).
    #[arg(long)]
    pub token_format: Option<String>,
    /// OIDC: RS256 or ES256.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// OIDC: the post_logout_redirect_uris (repeat; replaces the list; one empty value
    /// clears it).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// OIDC: where the launcher sends users; an empty value removes it.
    #[arg(long)]
    pub launch_url: Option<String>,
    /// OIDC: the xAPI scopes, comma-separated; replaces the list (`none` clears it).
    #[arg(long)]
    pub xapi_scopes: Option<String>,
    /// SAML: the SP's new metadata (XML file).
    #[arg(long, conflicts_with_all = ["saml_acs_url", "saml_entity_id"])]
    pub saml_metadata: Option<PathBuf>,
    /// SAML: a new ACS URL (the entity id is kept unless given).
    #[arg(long)]
    pub saml_acs_url: Option<String>,
    /// SAML: a new entity id (the ACS URL is kept unless given).
    #[arg(long)]
    pub saml_entity_id: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct AppSamlSettingsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub tenant: String,
    /// The app id.
    #[arg(long)]
    pub id: String,
    /// assertion, response or both.
    #[arg(long)]
    pub saml_sign: Option<String>,
    /// persistent or username.
    #[arg(long)]
    pub saml_name_id: Option<String>,
    /// Attributes to release, comma-separated (an empty value releases none).
    #[arg(long)]
    pub saml_attributes: Option<String>,
    /// true or false.
    #[arg(long)]
    pub saml_require_signed_requests: Option<bool>,
}

#[derive(Args, Debug)]
pub struct AppAddArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub name: String,
    /// oidc or saml
    #[arg(long)]
    pub protocol: String,
    /// learning or school-affairs
    #[arg(long)]
    pub security_class: String,
    /// all, staff, teachers or students (default: all for learning, staff for school-affairs)
    #[arg(long)]
    pub audience: Option<String>,
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// A public OIDC client (no secret; PKCE S256 required).
    #[arg(long)]
    pub public: bool,
    #[arg(long, conflicts_with_all = ["saml_acs_url", "saml_entity_id"])]
    pub saml_metadata: Option<PathBuf>,
    #[arg(long, requires = "saml_entity_id")]
    pub saml_acs_url: Option<String>,
    #[arg(long, requires = "saml_acs_url")]
    pub saml_entity_id: Option<String>,
    /// SAML: what to sign: assertion, response or both (default: both).
    #[arg(long)]
    pub saml_sign: Option<String>,
    /// SAML: the NameID: persistent (pairwise per SP; default) or username.
    #[arg(long)]
    pub saml_name_id: Option<String>,
    /// SAML: attributes to release, comma-separated (uid, sn, givenName, displayName, mail,
    /// kanaFamilyName, kanaGivenName, role, school, classes, userMasterIdentifier).
    #[arg(long)]
    pub saml_attributes: Option<String>,
    /// SAML: refuse unsigned AuthnRequests even when the SP's metadata does not say
    /// AuthnRequestsSigned.
    #[arg(long)]
    pub saml_require_signed_requests: bool,
    /// pairwise (default) or user-master-identifier (also spelled public)
    #[arg(long, default_value = "pairwise")]
    pub subject: String,
    /// A PNG, JPEG or WebP icon for the launcher.
    #[arg(long)]
    pub icon: Option<PathBuf>,
    /// OIDC: how the client authenticates at the token endpoint: client_secret_basic
    /// (default), client_secret_post, private_key_jwt (needs --jwks) or none (--public).
    #[arg(long)]
    pub token_auth_method: Option<String>,
    /// OIDC: the client's public keys (a JWK Set file) for private_key_jwt.
    #[arg(long)]
    pub jwks: Option<PathBuf>,
    /// OIDC: a registered post_logout_redirect_uri (RP-Initiated Logout); repeatable.
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// OIDC: access tokens as opaque references (default) or RFC 9068 JWTs (jwt).
    #[arg(long)]
    pub token_format: Option<String>,
    /// OIDC: the ID token (and JWT access token) signing algorithm: RS256 (default) or ES256.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// OIDC: claim groups the app may receive, comma-separated: name, kana, username, email,
    /// roster (default: none, only a pseudonymous sub).
    #[arg(long, value_delimiter = ',')]
    pub release: Vec<String>,
    /// OIDC: where the launcher sends users to open the app (it then signs in by OIDC).
    #[arg(long)]
    pub launch_url: Option<String>,
    /// OIDC: the xAPI scopes the app may get from client_credentials for the tenant's LRS,
    /// comma-separated (e.g. statements/write,statements/read/mine; default: none).
    #[arg(long, value_delimiter = ',')]
    pub xapi_scopes: Vec<String>,
    /// OIDC: where the app takes Back-Channel Logout Tokens when a user's portal session ends
    /// (OpenID Connect Back-Channel Logout 1.0); https, or http only for 127.0.0.1/localhost.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// The URL users reach this server at (for the issuer printed).
    #[arg(
        long,
        env = "KAKEHASHI_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Create a tenant.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// 1 to 40 characters from a-z, 0-9 and '-'.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The tenant's security policy: second factors, step-up, risk engine, shared devices.
    #[command(subcommand)]
    Security(SecurityCommand),
}

#[derive(Subcommand, Debug)]
pub enum SecurityCommand {
    /// Print the tenant's security policy (the defaults when it has none).
    Show {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Change settings of the tenant's security policy (audited); settings not given stay.
    Set(Box<SecuritySetArgs>),
}

/// `on` or `off`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Args, Debug)]
pub struct SecuritySetArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub tenant: String,
    /// School networks as CIDR blocks, comma-separated (`none` for none).
    #[arg(long)]
    pub school_networks: Option<String>,
    /// Seconds a second factor counts for school-affairs apps (default 28800 = 8 h).
    #[arg(long)]
    pub second_factor_max_age: Option<i64>,
    /// Seconds a second factor counts off the school networks (`off`: no network rule).
    #[arg(long)]
    pub offsite_max_age: Option<String>,
    /// Whether learning apps need a second factor too.
    #[arg(long, value_enum)]
    pub learning_second_factor: Option<OnOff>,
    /// `none` (attestation not asked) or `direct` (attested authenticators only).
    #[arg(long)]
    pub attestation: Option<String>,
    /// Authenticator models (AAGUIDs) allowed to register, comma-separated (`any` for all).
    #[arg(long)]
    pub aaguids: Option<String>,
    /// User verification for learning apps: `preferred` or `required`.
    #[arg(long)]
    pub uv_learning: Option<String>,
    /// User verification for school-affairs apps: `preferred` or `required`.
    #[arg(long)]
    pub uv_school_affairs: Option<String>,
    /// Whether staff may register discoverable credentials (passkeys).
    #[arg(long, value_enum)]
    pub staff_passkeys: Option<OnOff>,
    /// TOTP authenticator apps (off by default).
    #[arg(long, value_enum)]
    pub totp: Option<OnOff>,
    /// The risk engine: `off`, `step-up` or `deny`.
    #[arg(long)]
    pub risk: Option<String>,
    /// Score at which a login is asked for the second factor.
    #[arg(long)]
    pub risk_step_up_threshold: Option<i64>,
    /// Score at which a login is refused (risk `deny`).
    #[arg(long)]
    pub risk_deny_threshold: Option<i64>,
    /// A signal's weight, `SIGNAL=POINTS` (repeatable): new-device, outside-school-network,
    /// outside-school-hours, account-failures, address-failures, user-agent-changed.
    #[arg(long = "risk-weight")]
    pub risk_weights: Vec<String>,
    /// School hours in local time, `HH:MM-HH:MM` (Monday to Friday).
    #[arg(long)]
    pub school_hours: Option<String>,
    /// Local time's offset from UTC in minutes (Asia/Tokyo = 540).
    #[arg(long)]
    pub utc_offset_minutes: Option<i64>,
    /// Shared-device mode.
    #[arg(long, value_enum)]
    pub shared_device: Option<OnOff>,
    /// Idle seconds before a shared device signs out.
    #[arg(long)]
    pub shared_device_idle: Option<i64>,
    /// Local times lesson periods end, `HH:MM` comma-separated (`none` for none).
    #[arg(long)]
    pub lesson_period_ends: Option<String>,
    /// Networks whose sessions are in shared-device mode (CIDR, comma-separated; `none` = all).
    #[arg(long)]
    pub shared_device_networks: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum OnerosterCommand {
    /// Check a package (.zip or directory) without touching any database.
    Validate {
        path: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Validate, then apply everything in one transaction (nothing changes on any error).
    Import {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        path: PathBuf,
        /// Validate and compute the changes, then roll back.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Write the tenant's roster as a package (OUT ending in .zip, or a directory).
    Export {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        tenant: String,
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check that no audit row was edited, removed or reordered.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

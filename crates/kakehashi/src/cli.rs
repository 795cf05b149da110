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

//! `plenum`: the dial-in conferencing server and its command-line tools.
//!
//! - `plenum serve`: run the server (embedded default configuration if none is given).
//! - `plenum plugin deploy|activate|rollback|list`: manage tenant plugins on a running server
//!   through its admin API.
//! - `plenum plugin try`: run a plugin component locally against scripted input (the SDK
//!   harness over the same runtime the server uses).
//! - `plenum number normalize`: what a tenant's normalizer makes of dialled numbers.
//! - `plenum meeting schedule|list|show|delete`: an organizer's meetings, through C3P over SIP
//!   to the organizer's Focus Factory (digest authenticated).
//! - `plenum config default`: print the embedded default configuration.

mod admin;
mod client;
mod conference;
mod config;
mod focus;
mod ics;
mod media;
mod meeting;
mod passcodes;

mod repo;
mod server;
mod sip;
mod try_cmd;
mod uac;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LogFormat};

/// Plenum: a dial-in audio conferencing server with per-tenant WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "plenum", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage tenant plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Phone number tools.
    #[command(subcommand)]
    Number(NumberCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// A tenant's audit log (joins, leaves, failed conference IDs, passcodes and PINs,
    /// lockouts, meetings and plugin changes), newest first.
    Audit {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Most entries.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Schedule, list, show and delete an organizer's dial-in meetings (C3P over SIP).
    #[command(subcommand)]
    Meeting(meeting::MeetingCommand),
    /// A tenant's meeting-policy document (passcode and PIN rules, lockout, admission,
    /// announcements, keypad map, timeouts).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// A tenant's users: list them with their PIN sign-in state, set a PIN, lift a lockout.
    #[command(subcommand)]
    User(UserCommand),
    /// The meetings on now: who is in each, waiting, muted, leading (also as a self-refreshing
    /// page at http://ADMIN/live?token=TOKEN).
    Meetings {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Users, extensions, and whether their PIN sign-in is locked.
    List {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's PIN (from PLENUM_PIN, else one line on stdin; never an argument, so it
    /// does not show in a process list). The tenant's meeting policy must accept it.
    SetPin {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// `alice` or `sip:alice@contoso.example`.
        user: String,
    },
    /// Lift a user's PIN lockout (temporary or until unlocked) and reset the failure counts.
    Unlock {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// `alice` or `sip:alice@contoso.example`.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the document (TOML).
    Show {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Replace the document with FILE; the tenant's meeting-policy plugin must accept it.
    /// New decisions use it at once; calls in progress keep the settings they started with.
    Set {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// The TOML document.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum NumberCommand {
    /// Show what a tenant's normalizer makes of dialled numbers (on a running server).
    Normalize {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Location profile (default: the tenant's default profile).
        #[arg(long)]
        profile: Option<String>,
        /// The numbers.
        #[arg(required = true)]
        numbers: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// SIP listening point, `[udp:|tcp:]IP:PORT` (repeatable; replaces the config's list).
    #[arg(long = "sip-listen")]
    sip_listen: Vec<String>,
    /// Admin API address (loopback).
    #[arg(long = "admin-listen")]
    admin_listen: Option<SocketAddr>,
}

/// Options every command that touches a server or a data dir takes.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long, env = "PLENUM_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (database, admin token, caches).
    #[arg(long = "data-dir", env = "PLENUM_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl CommonArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let mut cfg = Config::load(self.config.as_deref())?;
        if let Some(d) = &self.data_dir {
            cfg.data_dir = d.clone();
        }
        Ok(cfg)
    }
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Upload a component for a tenant (and activate it with --activate).
    Deploy {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// The kind the component must implement (checked by the server).
        #[arg(long)]
        kind: Option<String>,
        /// Activate it at once.
        #[arg(long)]
        activate: bool,
        /// The component (`.wasm`).
        file: PathBuf,
    },
    /// Make an uploaded version the active one.
    Activate {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Kind.
        #[arg(long)]
        kind: String,
        /// Digest (hex) of the uploaded version.
        digest: String,
    },
    /// Return to the previous version.
    Rollback {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Kind.
        #[arg(long)]
        kind: String,
    },
    /// List a tenant's versions.
    List {
        #[command(flatten)]
        server: client::ServerArgs,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a component locally: its canaries, then a script (attendant), numbers (normalizer),
    /// a policy document (meeting policy) or the demo capabilities (focus factory).
    Try(try_cmd::TryArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the embedded default configuration.
    Default,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plenum: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let mut cfg = args.common.load()?;
            if !args.sip_listen.is_empty() {
                cfg.sip.listen = args.sip_listen;
                cfg.sip_listen()?;
            }
            if let Some(a) = args.admin_listen {
                if !a.ip().is_loopback() && !cfg.admin.allow_remote {
                    anyhow::bail!(
                        "--admin-listen {a} is not loopback; set admin.allow-remote in the config to allow it"
                    );
                }
                cfg.admin.listen = a;
            }
            init_tracing(&cfg);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(server::serve(cfg))
        }
        Command::Plugin(cmd) => plugin(cmd),
        Command::Number(NumberCommand::Normalize {
            server,
            tenant,
            profile,
            numbers,
        }) => client::Client::new(&server)?.normalize(&tenant, profile.as_deref(), &numbers),
        Command::Config(ConfigCommand::Default) => {
            print!("{}", config::DEFAULT_TOML);
            Ok(())
        }
        Command::Meeting(cmd) => meeting::run(cmd),
        Command::Audit {
            server,
            tenant,
            limit,
            json,
        } => client::Client::new(&server)?.audit(&tenant, limit, json),
        Command::Meetings {
            server,
            tenant,
            json,
        } => client::Client::new(&server)?.meetings(tenant.as_deref(), json),
        Command::User(UserCommand::List {
            server,
            tenant,
            json,
        }) => client::Client::new(&server)?.users(&tenant, json),
        Command::User(UserCommand::SetPin {
            server,
            tenant,
            user,
        }) => {
            let pin = match std::env::var("PLENUM_PIN") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim().to_owned()
                }
            };
            client::Client::new(&server)?.set_pin(&tenant, &user, &pin)?;
            println!("PIN of {user} set (audited)");
            Ok(())
        }
        Command::User(UserCommand::Unlock {
            server,
            tenant,
            user,
        }) => {
            client::Client::new(&server)?.unlock(&tenant, &user)?;
            println!("PIN sign-in of {user} unlocked (audited)");
            Ok(())
        }
        Command::Policy(PolicyCommand::Show { server, tenant }) => {
            print!("{}", client::Client::new(&server)?.policy(&tenant)?);
            Ok(())
        }
        Command::Policy(PolicyCommand::Set {
            server,
            tenant,
            file,
        }) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            client::Client::new(&server)?.set_policy(&tenant, &text)?;
            println!("policy of {tenant} replaced (audited); new calls use it");
            Ok(())
        }
    }
}

fn plugin(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Deploy {
            server,
            tenant,
            kind,
            activate,
            file,
        } => client::Client::new(&server)?.deploy(&tenant, kind.as_deref(), activate, &file),
        PluginCommand::Activate {
            server,
            tenant,
            kind,
            digest,
        } => client::Client::new(&server)?.activate(&tenant, &kind, &digest),
        PluginCommand::Rollback {
            server,
            tenant,
            kind,
        } => client::Client::new(&server)?.rollback(&tenant, &kind),
        PluginCommand::List {
            server,
            tenant,
            json,
        } => client::Client::new(&server)?.list(&tenant, json),
        PluginCommand::Try(args) => try_cmd::run(&args),
    }
}

fn init_tracing(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("PLENUM_LOG").unwrap_or_else(|_| EnvFilter::new(&cfg.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cfg.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

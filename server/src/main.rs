//! The `atom` command: parses the CLI and runs one subcommand. All logic lives in the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::base::config::Config;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// jemalloc for Rust's allocations instead of glibc's malloc: it gives freed pages back to
/// the system a second after their last use (`.cargo/config.toml`), where glibc kept what a
/// burst of work freed (issue 19; BENCHMARKS.md's Soak). C code (SQLite) keeps glibc's malloc:
/// jemalloc for it too made the soak worse.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "atom",
    version,
    about = "ATOM Connect: a self-hosted OAuth connection hub"
)]
struct Cli {
    /// Configuration file (default: ./atom.toml when present).
    #[arg(long, global = true, env = "ATOM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub (the default).
    Serve,
    /// Apply database migrations and exit (the only command besides `serve` that changes the
    /// schema; the others refuse a database that is behind).
    Migrate {
        /// List every migration, applied or pending, and change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Check the configuration for production; exits 1 listing every problem.
    Check,
    /// Run the local provider sandbox on its own (development and tests only).
    Sandbox,
    /// Manage local users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys for the platform's backend services.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Read the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Bring tokens over from the old system: one JSON object per line (user_id, service,
    /// access_token, and optionally refresh_token, token_secret, expires_at, scopes). Each is
    /// checked with its provider, then stored, or refused storing nothing; a line each on
    /// stdout. Exits 1 when any line was refused.
    Import {
        #[arg(long)]
        file: PathBuf,
    },
    /// Back the database up to a new file while hubs run (SQLite: a checked copy; PostgreSQL:
    /// pg_dump's custom format). Written under a temporary name, renamed when whole; exits 1
    /// and leaves nothing behind on failure; every hub's /metrics reports the last good one.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into a NEW database (a SQLite file that does not exist, or an empty
    /// PostgreSQL database), then verify it: the master key opens it, its rows are counted.
    /// The configured database is not touched: switch database.url to the new one yourself.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// The new database's URL (sqlite:///var/lib/atom/restored.db, postgres://...).
        #[arg(long)]
        into: String,
    },
    /// Master keys: generate one, rotate to a new one.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new random master key to a file (mode 0600; never overwrites).
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a new random key first in a key file (created if missing), keeping the keys already
    /// in it after it; written beside it (mode 0600, as the user running atom) and read back
    /// before it replaces the file. Restart the hubs, then `atom keys rotate`.
    Add {
        #[arg(long)]
        to: PathBuf,
    },
    /// Re-seal every ciphertext under the keyring's first key. Configure the keyring as
    /// NEW,OLD (ATOM_VAULT__KEY, or one key per line in the key file) on every instance
    /// first; resumable: run it again after an interruption. Drop OLD when it reports 0 left.
    Rotate,
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
        /// tokens:read (fresh tokens, list connections), connections:write (delete, connect
        /// and portal links), users:read, users:write, connections:import, proxy:* (every
        /// provider's API through the hub), proxy:<service> (one provider's) or mcp (an
        /// agent's key for the MCP endpoint: give --user too, and no other scope).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// The one user an agent's key (scope mcp) acts for: their username or the
        /// platform's id for them.
        #[arg(long)]
        user: Option<String>,
    },
    /// List keys (name, id, prefix, scopes, last use; never the key).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write every audit event to standard output as JSON lines, oldest first.
    Export,
    /// Check the audit log's hash chain: every sealed event's link, and the first broken one.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. Without --password-stdin a random password is generated and printed once.
    Add {
        username: String,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Succeed quietly when the user already exists.
        #[arg(long)]
        if_missing: bool,
    },
    /// Disable a user: they cannot sign in, and their open sessions end.
    Disable { username: String },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The cause chain, one line: user-safe messages, never a backtrace.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    init_logging(
        &config.log,
        config.mode == server::base::config::Mode::Production,
    );
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = server::build(config).await?;
            if let Some(link) = app.setup_link().await? {
                // Straight to the terminal, not the log: the link is a one-time secret.
                println!(
                    "No administrator yet. Open this link once to create one (valid {} hours):\n  {link}",
                    server::base::store::setup_tokens::LIFETIME_HOURS
                );
            }
            tracing::info!(port = app.port(), "ATOM Connect is listening");
            app.run().await?;
        }
        Command::Check => {
            let findings = server::check::check(&config).await;
            for f in &findings {
                println!(
                    "{} {:<13} {}",
                    if f.ok { "ok  " } else { "FAIL" },
                    f.subject,
                    f.detail
                );
            }
            let failures = findings.iter().filter(|f| !f.ok).count();
            if failures > 0 {
                anyhow::bail!("{failures} problem(s): not ready for production");
            }
            println!("ready for production");
        }
        Command::Migrate { status: true } => {
            let db = server::base::store::connect_read_only(&config.database.url).await?;
            let all = server::base::store::migration_status(&db).await?;
            for (name, state) in &all {
                println!("{state} {name}");
            }
            let count = |wanted: &str| all.iter().filter(|(_, s)| *s == wanted).count();
            let known = all.len() - count("newer");
            println!("{} pending of {known}", count("pending"));
            if count("newer") > 0 {
                println!("{} applied by a newer release", count("newer"));
            }
        }
        Command::Migrate { status: false } => {
            server::base::store::open(&config.database.url).await?;
            println!("migrations applied");
        }
        Command::Sandbox => {
            let listener = tokio::net::TcpListener::bind(config.sandbox.listen).await?;
            tracing::info!(addr = %config.sandbox.listen, "sandbox listening (not for production)");
            server::sandbox::serve(listener, server::sandbox::Sandbox::new()).await?;
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    admin,
                    password_stdin,
                    if_missing,
                },
        } => {
            let db = server::base::store::open_current(&config.database.url).await?;
            if if_missing
                && server::base::store::users::by_username(&db, &username)
                    .await?
                    .is_some()
            {
                println!("user {username} already exists");
                return Ok(());
            }
            let (password, generated) = if password_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the password")?;
                (text.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (random_password(), true)
            };
            let actor = server::domain::users::Actor::cli();
            let user = server::domain::users::add(&db, &username, &password, admin, &actor).await?;
            println!(
                "created {} user {} (id {})",
                if admin { "admin" } else { "regular" },
                user.username,
                user.id
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
        Command::User {
            command: UserCommand::Disable { username },
        } => {
            let db = server::base::store::open_current(&config.database.url).await?;
            server::domain::users::disable(&db, &username).await?;
            println!("disabled user {username}");
        }
        Command::Apikey { command } => {
            let db = server::base::store::open_current(&config.database.url).await?;
            apikey(&db, command).await?;
        }
        Command::Import { file } => {
            let ctx = server::command_ctx(&config).await?;
            let summary = server::import_file::run(&ctx, &file).await?;
            println!("imported {}, refused {}", summary.imported, summary.refused);
            if summary.refused > 0 {
                std::process::exit(1);
            }
        }
        Command::Backup { to } => {
            let db = server::base::store::open_current(&config.database.url).await?;
            let made = server::domain::backups::backup(&db, &config.database.url, &to).await?;
            println!(
                "backed up to {} ({} bytes); the master key is not in it: keep it, and every \
                 older key, as long as the backups made under it",
                made.path.display(),
                made.bytes
            );
        }
        Command::Restore { from, into } => {
            let vault = server::load_vault(&config)?;
            let verified = server::domain::backups::restore(&from, &into, &vault).await?;
            println!(
                "restored {} into the new database; verified:",
                from.display()
            );
            println!("  the master key opens its data");
            for (table, rows) in &verified.counts {
                println!("  {table}: {rows} rows");
            }
            if verified.pending_migrations > 0 {
                println!(
                    "  {} migrations behind this release: run atom migrate on it",
                    verified.pending_migrations
                );
            }
            println!("switch database.url to it and restart the hubs when these look right");
        }
        Command::Keys {
            command: KeysCommand::Generate { out },
        } => {
            use secrecy::ExposeSecret;
            let key = server::base::vault::Keyring::generate_hex();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&out)
                .with_context(|| format!("creating {} (it must not exist yet)", out.display()))?;
            writeln!(file, "{}", key.expose_secret())?;
            println!(
                "wrote a new master key to {} (mode 0600); back it up apart from the database",
                out.display()
            );
        }
        Command::Keys {
            command: KeysCommand::Add { to },
        } => {
            let (id, keys) = server::base::vault::add_key(&to)?;
            println!(
                "new key {id:08x} is first in {} ({} older kept, for data and backups sealed \
                 under them); restart every instance, then run atom keys rotate",
                to.display(),
                keys - 1
            );
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let vault = server::load_vault(&config)?;
            let db = server::base::store::open_current(&config.database.url).await?;
            server::domain::rotation::rotate_with_progress(&db, &vault).await?;
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = server::base::store::open_current(&config.database.url).await?;
            let found = server::domain::audit_chain::verify(&db).await?;
            match found.broken_at {
                None => println!(
                    "the audit chain holds: {} events verified, {} newer ones not sealed yet",
                    found.checked, found.unsealed
                ),
                Some(seq) => anyhow::bail!(
                    "the audit chain is broken at event {seq} ({} events before it hold): it, or \
                     one just before it, was changed, inserted or removed",
                    found.checked
                ),
            }
        }
        Command::Audit {
            command: AuditCommand::Export,
        } => {
            let db = server::base::store::open_current(&config.database.url).await?;
            export_audit(&db).await?;
        }
    }
    Ok(())
}

/// The hub id of the user named by username or by the platform's id.
async fn agent_user(db: &sea_orm::DatabaseConnection, name: &str) -> anyhow::Result<String> {
    use server::base::store::users;
    if let Some(user) = users::by_username(db, name).await? {
        return Ok(user.id);
    }
    let user = users::by_platform_id(db, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user {name}"))?;
    Ok(user.id)
}

async fn apikey(db: &sea_orm::DatabaseConnection, command: ApikeyCommand) -> anyhow::Result<()> {
    use app::model::admin::ApiScope;
    use secrecy::ExposeSecret;
    use server::domain::api_keys;
    use server::domain::users::Actor;
    match command {
        ApikeyCommand::Create { name, scopes, user } => {
            let scopes = api_keys::parse_scopes(&scopes).map_err(|bad| {
                let known: Vec<&str> = ApiScope::ALL.iter().map(|s| s.as_str()).collect();
                anyhow::anyhow!(
                    "unknown scope {bad}: use {}, proxy:<service> or mcp",
                    known.join(", ")
                )
            })?;
            let user_id = match user {
                Some(name) => Some(agent_user(db, &name).await?),
                None => None,
            };
            let (row, key) =
                api_keys::create(db, &name, &scopes, user_id.as_deref(), &Actor::cli()).await?;
            println!(
                "created API key {} ({}) with scopes {}",
                row.name, row.id, row.scopes
            );
            println!("key (shown once, keep it secret): {}", key.expose_secret());
        }
        ApikeyCommand::List => {
            for key in server::base::store::api_keys::list(db).await? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                let used = key
                    .last_used_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}\t{}…\t{}\t{state}\tlast used {used}",
                    key.id, key.name, key.prefix, key.scopes
                );
            }
        }
        ApikeyCommand::Revoke { id } => {
            if !api_keys::revoke(db, &id, &Actor::cli()).await? {
                anyhow::bail!("no live API key with id {id}");
            }
            println!("revoked API key {id}");
        }
    }
    Ok(())
}

async fn export_audit(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut last = 0;
    loop {
        let batch = server::base::store::audit::after(db, last, 1000).await?;
        let Some(tail) = batch.last() else { break };
        last = tail.seq;
        for event in &batch {
            serde_json::to_writer(&mut out, event)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn random_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// Human-readable logs in development, JSON lines in production; the level from `log`
/// (RUST_LOG overrides).
fn init_logging(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    use std::io::IsTerminal;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        logs.json().with_current_span(true).init();
    } else {
        logs.init();
    }
}

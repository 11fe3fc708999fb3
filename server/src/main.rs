//! The `atom` command: parses the CLI and runs one subcommand. All logic lives in the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::config::Config;
use std::io::Read;
use std::path::PathBuf;

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
    /// Apply database migrations and exit.
    Migrate,
    /// Run the local provider sandbox on its own (development and tests only).
    Sandbox,
    /// Manage local users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = server::build(config).await?;
            tracing::info!(port = app.port(), "ATOM Connect is listening");
            app.run().await?;
        }
        Command::Migrate => {
            server::store::open(&config.database.url).await?;
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
            let db = server::store::open(&config.database.url).await?;
            if if_missing
                && server::store::users::by_username(&db, &username)
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
            let user = server::users::add(&db, &username, &password, admin).await?;
            println!(
                "created {} user {}",
                if admin { "admin" } else { "regular" },
                user.username
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
    }
    Ok(())
}

fn random_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

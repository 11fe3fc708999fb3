//! SQLite's WAL checkpoints, off the request path. By default the connection whose commit
//! takes the write-ahead log past 1,000 pages copies it back into the database file, with two
//! fsyncs, before its request goes on: one connect flow in twenty or so paid that (issue 19:
//! the hub's own time on a flow, p99 9.1 ms with it, 7.5 ms with this). Here a connection of
//! its own checkpoints every `EVERY` (a passive checkpoint: it neither waits for nor blocks
//! readers and writers), and the pool's connections checkpoint themselves only past
//! `BACKSTOP` pages, should this stop.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How often the log is checkpointed.
pub const EVERY: Duration = Duration::from_millis(250);

/// The pool's connections' own `wal_autocheckpoint`, in pages (4 KiB each): 40 MiB.
pub const BACKSTOP: u32 = 10_000;

/// The checkpointing connection of one SQLite database, opened on first use.
#[derive(Clone)]
pub struct Checkpoints {
    url: Arc<str>,
    connection: Arc<OnceCell<DatabaseConnection>>,
    /// The last run failed: the next failure is not logged again (every 250 ms).
    failing: Arc<AtomicBool>,
}

impl Checkpoints {
    /// For a SQLite file (None for PostgreSQL and in-memory databases, which have no log).
    pub fn of(url: &str) -> Option<Self> {
        super::sqlite_path(url)?;
        Some(Self {
            url: url.into(),
            connection: Arc::default(),
            failing: Arc::default(),
        })
    }

    /// Copies what the log holds into the database file, as far as no reader still needs it.
    pub async fn run(&self) {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                let mut options = ConnectOptions::new(self.url.to_string());
                options.sqlx_logging(false).max_connections(1);
                Database::connect(options).await
            })
            .await;
        let checkpointed = match connection {
            Ok(connection) => {
                connection
                    .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                    .await
            }
            Err(e) => Err(e),
        };
        match checkpointed {
            Err(e) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(error = %e, "checkpointing the SQLite log failed; retrying every 250 ms, not logged again until it works")
            }
            Err(_) => {}
            Ok(_) if self.failing.swap(false, Ordering::Relaxed) => {
                tracing::info!("checkpointing the SQLite log works again")
            }
            Ok(_) => {}
        }
    }
}

//! SQLite's WAL checkpoints, off the request path. By default the connection whose commit
//! takes the write-ahead log past 1,000 pages copies it back into the database file, with two
//! fsyncs, before its request goes on: one connect flow in twenty or so paid that (issue 19:
//! the hub's own time on a flow, p99 9.1 ms with it, 7.5 ms with this). Here a connection of
//! its own checkpoints every `EVERY` (a passive checkpoint: it neither waits for nor blocks
//! readers and writers), and the pool's connections checkpoint themselves only past
//! `BACKSTOP` pages, should this stop.
//!
//! It runs often because a checkpoint still slows the commits made while it runs, and the
//! more it has to copy, the longer: token hand-outs (each waits for its audit row's commit)
//! had a p99 of 16–23 ms at 16 connections with a checkpoint every 250 ms, 6.2 ms every 100 ms
//! and 3.0–3.7 ms every 25 ms, at the same rate (BENCHMARKS.md). A log nobody writes is looked
//! at less and less often, down to once in `IDLE_AT_MOST` ticks.

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How often the log is checkpointed while it grows.
pub const EVERY: Duration = Duration::from_millis(25);

/// An idle log (nothing written since the last look) is looked at again after twice as many
/// ticks as last time, up to this many (about 0.8 s).
const IDLE_AT_MOST: u32 = 32;

/// The pool's connections' own `wal_autocheckpoint`, in pages (4 KiB each): 40 MiB.
pub const BACKSTOP: u32 = 10_000;

/// The checkpointing connection of one SQLite database, opened on first use.
#[derive(Clone)]
pub struct Checkpoints {
    url: Arc<str>,
    connection: Arc<OnceCell<DatabaseConnection>>,
    /// The last run failed: the next failure is not logged again.
    failing: Arc<AtomicBool>,
    /// The database's version at the last look (`PRAGMA data_version`: it changes with every
    /// commit of another connection), and the ticks to let pass before the next look.
    last_version: Arc<AtomicI64>,
    idle: Arc<(AtomicU32, AtomicU32)>,
}

impl Checkpoints {
    /// For a SQLite file (None for PostgreSQL and in-memory databases, which have no log).
    pub fn of(url: &str) -> Option<Self> {
        super::sqlite_path(url)?;
        Some(Self {
            url: url.into(),
            connection: Arc::default(),
            failing: Arc::default(),
            last_version: Arc::new(AtomicI64::new(-1)),
            idle: Arc::default(),
        })
    }

    /// Copies what the log holds into the database file, as far as no reader still needs it;
    /// on an idle log, every so many ticks. Whether it looked at the log.
    pub async fn run(&self) -> bool {
        let (skip, wait) = &*self.idle;
        if skip.load(Ordering::Relaxed) > 0 {
            skip.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        match self.checkpoint().await {
            Ok(wrote) => {
                let next = if wrote {
                    0
                } else {
                    (wait.load(Ordering::Relaxed) * 2).clamp(1, IDLE_AT_MOST)
                };
                wait.store(next, Ordering::Relaxed);
                skip.store(next, Ordering::Relaxed);
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("checkpointing the SQLite log works again");
                }
            }
            Err(e) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(error = %e, "checkpointing the SQLite log failed; retrying, not logged again until it works")
            }
            Err(_) => {}
        }
        true
    }

    /// One passive checkpoint, if anyone wrote since the last look; whether anyone had.
    async fn checkpoint(&self) -> Result<bool, sea_orm::DbErr> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                let mut options = ConnectOptions::new(self.url.to_string());
                options.sqlx_logging(false).max_connections(1);
                Database::connect(options).await
            })
            .await?;
        let backend = connection.get_database_backend();
        let version = connection
            .query_one_raw(Statement::from_string(backend, "PRAGMA data_version"))
            .await?
            .map_or(Ok(0), |row| row.try_get_by_index::<i64>(0))?;
        if self.last_version.swap(version, Ordering::Relaxed) == version {
            return Ok(false);
        }
        if let Err(e) = connection
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            // What was written is checkpointed at the next look, not after the next write.
            self.last_version.store(-1, Ordering::Relaxed);
            return Err(e);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_log_is_looked_at_less_and_less_often_and_a_write_brings_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
        let db = crate::base::store::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (x BLOB)")
            .await
            .unwrap();
        let checkpoints = Checkpoints::of(&url).unwrap();
        let looks = |n: usize| {
            let checkpoints = checkpoints.clone();
            async move {
                let mut looked = 0;
                for _ in 0..n {
                    looked += usize::from(checkpoints.run().await);
                }
                looked
            }
        };
        // While the log grows, every tick looks.
        for _ in 0..5 {
            db.execute_unprepared("INSERT INTO t VALUES (zeroblob(10000))")
                .await
                .unwrap();
            assert!(checkpoints.run().await);
        }
        // Idle: 1, 2, 4 ... 32 ticks apart, then every 33rd (ticks 1, 3, 6, 11, 20, 37, 70).
        assert_eq!(looks(100).await, 7);
        // A write is seen at the next look (tick 103), and the tick after it looks again.
        db.execute_unprepared("INSERT INTO t VALUES (zeroblob(10000))")
            .await
            .unwrap();
        assert_eq!(looks(3).await, 1);
        assert!(checkpoints.run().await);
    }
}

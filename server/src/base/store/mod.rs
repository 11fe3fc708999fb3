//! Storage through sea-orm: one schema for SQLite and PostgreSQL (see the migrations crate).

pub mod api_keys;
pub mod audit;
pub mod connect_links;
pub mod connections;
pub mod flow_stats;
pub mod flows;
pub mod leases;
pub mod provider_settings;
pub mod rate_limits;
pub mod revocations;
pub mod sessions;
pub mod setup_tokens;
pub mod users;
pub mod vault_check;
pub mod webhooks;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

/// Opens the database and applies pending migrations. On PostgreSQL an advisory lock makes
/// instances that start together migrate one after the other (the later ones find nothing
/// left to do).
pub async fn open(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url).await?;
    if !url.starts_with("postgres") {
        // SQLite: an exclusive lock on a file next to the database does the same.
        let lock = match sqlite_path(url) {
            Some(path) => Some(file_lock(format!("{path}.migrate-lock")).await?),
            None => None,
        };
        Migrator::up(&db, None).await?;
        drop(lock);
        return Ok(db);
    }
    use sea_orm::ConnectionTrait;
    const MIGRATION_LOCK: i64 = 0x6174_6f6d; // "atom"
    let mut options = ConnectOptions::new(url.to_string());
    options.sqlx_logging(false).max_connections(1);
    let lock = Database::connect(options).await?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await?;
    let migrated = Migrator::up(&db, None).await;
    let _ = lock
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await;
    let _ = lock.close().await;
    migrated?;
    Ok(db)
}

/// Connects to a database that is already at this release's schema: every command but
/// `serve` and `atom migrate` (an administrator's tool never changes the schema by the way).
pub async fn open_current(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url).filter(|p| !std::path::Path::new(p).exists()) {
        return Err(DbErr::Custom(format!(
            "no database file at {path}: run `atom migrate` first"
        )));
    }
    let db = connect(url).await?;
    match pending_migrations(&db).await? {
        0 => Ok(db),
        n => Err(DbErr::Custom(format!(
            "the database is {n} migration(s) behind this release: run `atom migrate` first"
        ))),
    }
}

/// Every migration this release knows, oldest first, and whether it is applied here.
pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    let all = Migrator::get_migration_with_status_read_only(db).await?;
    Ok(all
        .iter()
        .map(|m| {
            (
                m.name().to_string(),
                m.status() == migrations::MigrationStatus::Applied,
            )
        })
        .collect())
}

/// Migrations not yet applied to this database (`atom check` reports them). Read-only: not
/// even sea-orm's own table is created.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db).await?.len())
}

/// Waits for, then holds, an exclusive lock on `path` (released when the file is dropped).
async fn file_lock(path: String) -> Result<std::fs::File, DbErr> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| DbErr::Custom(e.to_string()))?
    .map_err(|e| DbErr::Custom(format!("locking migrations: {e}")))
}

/// Connects without writing anything: a SQLite file must already exist and is opened
/// read-only (`atom check`, `atom migrate --status`).
pub async fn connect_read_only(url: &str) -> Result<DatabaseConnection, DbErr> {
    let Some(path) = sqlite_path(url) else {
        return connect(url).await;
    };
    if !std::path::Path::new(&path).exists() {
        return Err(DbErr::Custom(format!(
            "no database file at {path} (`atom migrate` creates it)"
        )));
    }
    let mut options = ConnectOptions::new(format!("sqlite://{path}?mode=ro"));
    options.sqlx_logging(false).max_connections(1);
    Database::connect(options).await
}

/// Connects (creating the SQLite file's folder) without migrating.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(e.to_string()))?;
        }
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .max_connections(if url.starts_with("sqlite") { 4 } else { 10 });
    if url.starts_with("sqlite") {
        // On every pooled connection: WAL (readers never wait for the writer), NORMAL sync
        // (WAL stays consistent after a crash; a power cut may lose the last commits), and
        // waiting up to 5 s for the write lock instead of failing.
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(std::time::Duration::from_secs(5))
        });
    }
    Database::connect(options).await
}

/// The file of a SQLite URL (None for PostgreSQL and in-memory databases).
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// The hex SHA-256 of a secret: how state values and session ids are stored.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            super::sqlite_path("sqlite://.atom/a.db?mode=rwc").as_deref(),
            Some(".atom/a.db")
        );
        assert_eq!(super::sqlite_path("sqlite::memory:"), None);
        assert_eq!(super::sqlite_path("postgres://x/y"), None);
    }
}

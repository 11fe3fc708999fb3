//! Storage through sea-orm: one schema for SQLite and PostgreSQL (see the migrations crate).

pub mod api_keys;
pub mod audit;
pub mod connect_links;
pub mod connections;
pub mod flows;
pub mod leases;
pub mod revocations;
pub mod sessions;
pub mod users;
pub mod vault_check;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

/// Opens the database and applies pending migrations.
pub async fn open(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Migrations not yet applied to this database (`atom check` reports them).
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
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
    let db = Database::connect(options).await?;
    if url.starts_with("sqlite") {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")
            .await?;
    }
    Ok(db)
}

fn sqlite_path(url: &str) -> Option<String> {
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

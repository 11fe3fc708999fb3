//! Storage through sea-orm: one schema for SQLite and PostgreSQL (see the migrations crate).

pub mod api_keys;
pub mod audit;
pub mod checkpoints;
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
    if !url.starts_with("postgres") {
        // SQLite: an exclusive lock on a file next to the database does the same, taken
        // before connecting: the first connection to a new file switches it to WAL, which
        // does not wait for another process doing the same ("database is locked").
        let lock = match sqlite_path(url) {
            Some(path) => {
                if let Some(dir) = std::path::Path::new(&path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(e.to_string()))?;
                }
                Some(file_lock(format!("{path}.migrate-lock")).await?)
            }
            None => None,
        };
        let db = connect(url).await?;
        migrate(&db).await?;
        drop(lock);
        return Ok(db);
    }
    let db = connect(url).await?;
    use sea_orm::ConnectionTrait;
    const MIGRATION_LOCK: i64 = 0x6174_6f6d; // "atom"
    let mut options = ConnectOptions::new(url.to_string());
    options.sqlx_logging(false).max_connections(1);
    let lock = Database::connect(options).await?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await?;
    let migrated = migrate(&db).await;
    let _ = lock
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await;
    let _ = lock.close().await;
    migrated?;
    Ok(db)
}

/// Where a database stands against this release's migrations.
#[derive(Debug, PartialEq, Eq)]
pub enum Schema {
    /// Every migration this release knows is applied, and nothing else.
    Current,
    /// This many migrations of this release are not applied yet.
    Behind(usize),
    /// A newer release migrated it (these are unknown here) without raising the floor past
    /// this release: an expanded schema this release still serves as it is.
    Ahead(Vec<String>),
    /// A newer release migrated it past what this release can serve.
    TooNew {
        /// The migrations this release does not know.
        unknown: Vec<String>,
        /// The oldest migration a release must know to serve it.
        floor: String,
    },
}

impl Schema {
    /// Why this release cannot serve the database, for an error message.
    fn refusal(&self) -> Option<String> {
        match self {
            Schema::TooNew { unknown, floor } => Some(format!(
                "a newer release migrated this database ({}) past what this release can serve: \
                 it needs a release that knows migration {floor}; upgrade this binary",
                unknown.join(", ")
            )),
            _ => None,
        }
    }
}

/// Reads where the database stands, writing nothing (not even sea-orm's own table).
pub async fn schema(db: &DatabaseConnection) -> Result<Schema, DbErr> {
    use sea_orm::ConnectionTrait;
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let applied = applied_versions(db).await?;
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !known.contains(v))
        .cloned()
        .collect();
    if unknown.is_empty() {
        let behind = known.iter().filter(|k| !applied.contains(k)).count();
        return Ok(if behind == 0 {
            Schema::Current
        } else {
            Schema::Behind(behind)
        });
    }
    let mut floor = None;
    if migrations::SchemaManager::new(db)
        .has_table("schema_floor")
        .await?
    {
        let sql = sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT oldest_reader FROM schema_floor WHERE id = 1",
        );
        let row = db.query_one_raw(sql).await?;
        floor = row.map(|r| r.try_get_by_index::<String>(0)).transpose()?;
    }
    // Without a floor, only what this release knows is safe: refuse.
    let floor = floor.unwrap_or_else(|| unknown[0].clone());
    Ok(if known.contains(&floor) {
        Schema::Ahead(unknown)
    } else {
        Schema::TooNew { unknown, floor }
    })
}

/// Applies this release's pending migrations; a schema a newer release expanded is served as
/// it is, one it contracted is refused.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    match schema(db).await? {
        Schema::Current => Ok(()),
        Schema::Behind(_) => Migrator::up(db, None).await,
        Schema::Ahead(unknown) => {
            tracing::info!(newer = %unknown.join(","), "a newer release expanded the schema: serving it as it is");
            Ok(())
        }
        too_new => Err(DbErr::Custom(too_new.refusal().unwrap_or_default())),
    }
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
    match schema(&db).await? {
        Schema::Current | Schema::Ahead(_) => Ok(db),
        Schema::Behind(n) => Err(DbErr::Custom(format!(
            "the database is {n} migration(s) behind this release: run `atom migrate` first"
        ))),
        too_new => Err(DbErr::Custom(too_new.refusal().unwrap_or_default())),
    }
}

/// Every migration this release knows, oldest first, `applied` or `pending` here, then those
/// only a newer release knows (`newer`).
pub async fn migration_status(
    db: &DatabaseConnection,
) -> Result<Vec<(String, &'static str)>, DbErr> {
    let applied = applied_versions(db).await?;
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let mut all: Vec<(String, &'static str)> = known
        .iter()
        .map(|k| {
            (
                k.clone(),
                if applied.contains(k) {
                    "applied"
                } else {
                    "pending"
                },
            )
        })
        .collect();
    all.extend(
        applied
            .into_iter()
            .filter(|a| !known.contains(a))
            .map(|a| (a, "newer")),
    );
    Ok(all)
}

/// Migrations not yet applied to this database (`atom check` reports them). Read-only: not
/// even sea-orm's own table is created.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    match schema(db).await? {
        Schema::Behind(n) => Ok(n),
        Schema::Current | Schema::Ahead(_) => Ok(0),
        too_new => Err(DbErr::Custom(too_new.refusal().unwrap_or_default())),
    }
}

/// The migrations recorded as applied (none when sea-orm's table is not there yet).
async fn applied_versions(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    use sea_orm::ConnectionTrait;
    if !migrations::SchemaManager::new(db)
        .has_table("seaql_migrations")
        .await?
    {
        return Ok(Vec::new());
    }
    let sql = sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM seaql_migrations ORDER BY version",
    );
    db.query_all_raw(sql)
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect()
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
        // SQLite: two connections, so a long read (the admin overview) leaves one for the
        // rest. More of them only wait for the one write lock, in SQLite's busy handler, which
        // sleeps 1, 2, 5, 10 ... 100 ms between tries however soon the lock is free; the pool's
        // queue wakes a waiter at once. With eight, 16 connect flows at once had a p99 of the
        // hub's own share of 194 ms against 72 ms with two, 21 % more CPU per flow, and each
        // connection's thread its own allocator arena (issue 19, `make soak`: 50.7 MiB at
        // most in 150 s against 39.1).
        .max_connections(if url.starts_with("sqlite") { 2 } else { 10 })
        // A connection is checked (pinged) before it is handed out only after a second
        // unused, as HikariCP does (its `aliveBypassWindowMs`, 500 ms): one a server or a
        // firewall ended while it sat idle is replaced before a request sees it. By default
        // sqlx pings on every checkout, a round trip before every statement that is not in
        // a transaction (to PostgreSQL; to the SQLite connection's thread): issue 19.
        .test_before_acquire_if_idle_for(std::time::Duration::from_secs(1));
    if url.starts_with("sqlite") {
        // On every pooled connection: WAL (readers never wait for the writer), NORMAL sync
        // (WAL stays consistent after a crash; a power cut may lose the last commits), and
        // waiting up to 5 s for the write lock instead of failing, checkpoints left to the
        // hub's own job (`checkpoints`) up to a backstop. A page cache of 512 KiB
        // each instead of SQLite's 2 MiB: eight full ones held 16 MiB of a hub that grew to
        // 88 MiB in the soak when the pool had eight (issue 19); the kernel's file cache
        // keeps the pages anyway.
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(std::time::Duration::from_secs(5))
                .pragma("cache_size", "-512")
                .pragma("wal_autocheckpoint", checkpoints::BACKSTOP.to_string())
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

/// Begins a transaction that writes (every transaction of the hub does). On SQLite it takes
/// the write lock at `BEGIN IMMEDIATE`, waiting up to the busy timeout for another writer: a
/// deferred transaction that read first and wrote later failed at once with "database is
/// locked" whenever another write committed in between (16 connect flows at once lost half
/// of them in issue 19's benchmark). PostgreSQL is unaffected.
pub async fn begin(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// Whether the database could not be reached (no connection, none free, an I/O failure), as
/// opposed to a query it refused.
pub fn unreachable(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            matches!(
                inner.as_ref(),
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
            )
        }
        _ => false,
    }
}

/// How many of `len` items a batch statement takes: the largest power of two not above it. A
/// statement's text is its key in each pooled connection's cache of prepared statements (100
/// each); a batch statement for every possible length filled those caches with big
/// statements nobody used again, and SQLite's prepared statements grew a soak's hub by about
/// 1.5 MiB a minute (issue 19). In powers of two, a batch of up to 512 has ten shapes.
pub fn batch_shape(len: usize) -> usize {
    len.checked_ilog2().map_or(0, |bits| 1 << bits)
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

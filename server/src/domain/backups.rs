//! Backups that cannot fail silently (`atom backup`, `atom restore`). A backup is written under
//! a temporary name and renamed only once it is complete and reads back, so a failed run never
//! leaves a file that looks like a backup (a cron line once left a 0-byte dump over a good
//! one); a good one is recorded in the audit log, and every hub's `/metrics` reports the last
//! (`atom_backup_last_success_timestamp_seconds`, alert AtomBackupMissing). A restore goes into
//! a new database only and is verified (schema, master key, row counts) before anyone switches
//! to it: the live database is never touched.

use crate::base::audit::{Event, Kind, Origin};
use crate::base::clock::Clock;
use crate::base::store;
use crate::base::vault::Keyring;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target is there already (a backup never overwrites; a restore never mixes).
    #[error("{0}")]
    Exists(String),
    /// The database said no.
    #[error("database: {0}")]
    Database(#[from] DbErr),
    /// A file could not be written, read or renamed.
    #[error("{0}")]
    Io(String),
    /// `pg_dump` or `pg_restore` failed (their own message follows).
    #[error("{0}")]
    Tool(String),
    /// The restored copy is not one this hub can use as it is.
    #[error("{0}")]
    Unusable(String),
}

/// Which tables a restore counts, to compare with the live database before switching.
pub const COUNTED: [&str; 5] = [
    "users",
    "connections",
    "api_keys",
    "webhook_outbox",
    "audit_events",
];

/// A finished backup.
pub struct Made {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Writes a backup of the database at `url` to `to` (which must not exist), then records it.
pub async fn backup(db: &DatabaseConnection, url: &str, to: &Path) -> Result<Made, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(format!(
            "{} exists already",
            to.display()
        )));
    }
    let partial = partial_name(to);
    let _ = std::fs::remove_file(&partial);
    let written = if url.starts_with("postgres") {
        dump_postgres(url, &partial)
    } else {
        copy_sqlite(db, &partial).await
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let io = |e: std::io::Error| BackupError::Io(format!("{}: {e}", partial.display()));
    let bytes = std::fs::metadata(&partial).map_err(io)?.len();
    std::fs::rename(&partial, to).map_err(io)?;
    let origin = Origin::internal(&Clock::system());
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    store::audit::append(db, Event::new(Kind::BackupMade, &origin).reason(backend)).await?;
    Ok(Made {
        path: to.to_path_buf(),
        bytes,
    })
}

/// `atom-2026-11-29.db` is written as `atom-2026-11-29.db.partial` first.
fn partial_name(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// SQLite: a consistent copy while hubs run (`VACUUM INTO`), checked by SQLite itself.
async fn copy_sqlite(db: &DatabaseConnection, to: &Path) -> Result<(), BackupError> {
    let path = to.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{path}'"))
        .await?;
    // The copy holds sealed tokens and hashes: readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| BackupError::Io(format!("restricting {}: {e}", to.display())))?;
    let copy = store::connect_read_only(&format!("sqlite://{}", to.display())).await?;
    let row = copy
        .query_one_raw(Statement::from_string(
            copy.get_database_backend(),
            "PRAGMA quick_check",
        ))
        .await?;
    let verdict: String = row
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or_default();
    copy.close().await?;
    if verdict != "ok" {
        return Err(BackupError::Unusable(format!(
            "the copy fails SQLite's check: {verdict}"
        )));
    }
    Ok(())
}

/// PostgreSQL: `pg_dump` in its custom format, then `pg_restore --list` reads it back.
fn dump_postgres(url: &str, to: &Path) -> Result<(), BackupError> {
    let (target, password) = without_password(url)?;
    let mut dump = Command::new("pg_dump");
    dump.args(["--format=custom", "--no-owner", "--file"])
        .arg(to)
        .arg("--dbname")
        .arg(&target);
    run(dump, password.as_deref(), "pg_dump")?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| BackupError::Io(format!("restricting {}: {e}", to.display())))?;
    let mut list = Command::new("pg_restore");
    list.arg("--list").arg(to);
    run(list, None, "pg_restore --list")
}

/// The URL without its password (which goes to the tools in PGPASSWORD: never in an argument,
/// where `ps` would show it).
fn without_password(url: &str) -> Result<(String, Option<String>), BackupError> {
    let mut parsed = url::Url::parse(url)
        .map_err(|e| BackupError::Unusable(format!("database.url is not a URL: {e}")))?;
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), password))
}

fn run(mut command: Command, password: Option<&str>, what: &str) -> Result<(), BackupError> {
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let out = command.output().map_err(|e| {
        BackupError::Tool(format!(
            "{what} could not run ({e}): install postgresql-client"
        ))
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(BackupError::Tool(format!(
            "{what} failed: {}",
            stderr.trim()
        )));
    }
    Ok(())
}

/// What a restored copy holds, checked before anyone switches to it.
pub struct Verified {
    /// Migrations this release would still apply to it (a backup from an older release).
    pub pending_migrations: usize,
    /// Rows per table in [`COUNTED`].
    pub counts: Vec<(&'static str, i64)>,
}

/// Restores the backup `from` into the new database `into` (a SQLite file that must not exist,
/// or an empty PostgreSQL database), then verifies it with `vault`.
pub async fn restore(from: &Path, into: &str, vault: &Keyring) -> Result<Verified, BackupError> {
    if !from.is_file() {
        return Err(BackupError::Io(format!("no backup at {}", from.display())));
    }
    if into.starts_with("postgres") {
        let db = store::connect(into).await?;
        let tables = count(
            &db,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .await?;
        db.close().await?;
        if tables > 0 {
            return Err(BackupError::Exists(
                "the target database is not empty: restore into a new one (createdb)".into(),
            ));
        }
        let (target, password) = without_password(into)?;
        let mut restore = Command::new("pg_restore");
        restore
            .args(["--no-owner", "--exit-on-error", "--dbname"])
            .arg(&target)
            .arg(from);
        run(restore, password.as_deref(), "pg_restore")?;
    } else {
        let path = store::sqlite_path(into).ok_or_else(|| {
            BackupError::Unusable("restore into a SQLite file or PostgreSQL".into())
        })?;
        if Path::new(&path).exists() {
            return Err(BackupError::Exists(format!(
                "{path} exists already: restore into a new file, then switch database.url"
            )));
        }
        std::fs::copy(from, &path).map_err(|e| BackupError::Io(format!("{path}: {e}")))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| BackupError::Io(format!("restricting {path}: {e}")))?;
    }
    verify(into, vault).await
}

/// The checks a restored copy must pass: it opens, the master key opens its data, and what it
/// holds is counted.
async fn verify(url: &str, vault: &Keyring) -> Result<Verified, BackupError> {
    let db = store::connect(url).await?;
    let pending_migrations = store::pending_migrations(&db).await?;
    match store::vault_check::matches(&db, vault).await? {
        Some(false) => {
            return Err(BackupError::Unusable(
                "the master key does not open this backup's data: it was taken under another \
                 key (keep each old key as long as backups made under it)"
                    .into(),
            ))
        }
        Some(true) | None => {}
    }
    let mut counts = Vec::new();
    for table in COUNTED {
        counts.push((
            table,
            count(&db, &format!("SELECT count(*) FROM {table}")).await?,
        ));
    }
    db.close().await?;
    Ok(Verified {
        pending_migrations,
        counts,
    })
}

async fn count(db: &DatabaseConnection, sql: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(row
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}

/// When the last good backup was made (seconds since the epoch; 0 when never): `/metrics`.
pub async fn last_made(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(store::audit::last_of_kind(db, Kind::BackupMade.name())
        .await?
        .map(|at| at.timestamp())
        .unwrap_or(0))
}

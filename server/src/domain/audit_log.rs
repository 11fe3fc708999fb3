//! The audit viewer's reads: the admin's filter made into a store search, user ids made into
//! names. Shared by the viewer's server function and the export route.

use crate::base::store;
use app::model::admin::{AuditFilter, AuditRow};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;

/// Why a filter could not be searched.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A date is not `YYYY-MM-DD`.
    #[error("Dates are written YYYY-MM-DD.")]
    BadDate,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The store search for a filter; None when it names a user that does not exist (no events).
pub async fn search(
    db: &DatabaseConnection,
    filter: &AuditFilter,
) -> Result<Option<store::audit::Search>, FilterError> {
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let day = |v: &Option<String>, offset: i64| -> Result<_, FilterError> {
        given(v)
            .map(|text| {
                // Four-digit years only: `+262142-12-31` parses, and a day after it does not
                // exist (it panicked here before).
                chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .ok()
                    .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
                    .and_then(|d| {
                        d.and_time(chrono::NaiveTime::MIN)
                            .and_utc()
                            .checked_add_signed(chrono::Duration::days(offset))
                    })
                    .ok_or(FilterError::BadDate)
            })
            .transpose()
    };
    let user_id = match given(&filter.user) {
        None => None,
        Some(name) => match store::users::by_username(db, name.trim()).await? {
            Some(user) => Some(user.id),
            None => return Ok(None),
        },
    };
    Ok(Some(store::audit::Search {
        user_id,
        provider: given(&filter.provider),
        kind: given(&filter.kind),
        outcome: given(&filter.outcome),
        from: day(&filter.from, 0)?,
        // `to` is inclusive: up to the end of that day.
        until: day(&filter.to, 1)?,
        before: filter.before,
    }))
}

/// Rows as the viewer shows them, with usernames for user ids.
pub async fn rows(
    db: &DatabaseConnection,
    events: Vec<store::audit::Model>,
) -> Result<Vec<AuditRow>, sea_orm::DbErr> {
    let mut ids: Vec<String> = events
        .iter()
        .flat_map(|e| [e.actor_user_id.clone(), e.subject_user_id.clone()])
        .flatten()
        .collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<String, String> = store::users::by_ids(db, ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    let name = |id: Option<String>| id.map(|id| names.get(&id).cloned().unwrap_or(id));
    Ok(events
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            kind: e.kind,
            outcome: e.outcome,
            actor: name(e.actor_user_id),
            subject: name(e.subject_user_id),
            provider: e.provider,
            ip: e.ip,
            reason: e.reason,
        })
        .collect())
}

/// Why expiring the audit log stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExpireError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// The archive file could not be written (nothing was deleted).
    #[error("writing the audit archive failed: {0}")]
    Archive(#[from] std::io::Error),
}

/// Applies `[audit]`'s retention: events older than `retention_days` leave the database,
/// appended first (when `archive_dir` is set) as JSON lines to `audit-YYYY-MM.jsonl` by the
/// month they happened, flushed to disk before the rows are deleted. Returns how many went.
pub async fn expire(
    db: &DatabaseConnection,
    config: &crate::base::config::AuditConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, ExpireError> {
    if config.retention_days == 0 {
        return Ok(0);
    }
    let cutoff = now - chrono::Duration::days(i64::from(config.retention_days));
    let mut gone = 0;
    loop {
        let batch = store::audit::older_than(db, cutoff, 1000).await?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            break;
        };
        if let Some(dir) = &config.archive_dir {
            archive(dir, &batch)?;
        }
        gone += store::audit::delete_through(db, last, cutoff).await?;
    }
    Ok(gone)
}

fn archive(dir: &std::path::Path, events: &[store::audit::Model]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut files: HashMap<String, std::fs::File> = HashMap::new();
    for event in events {
        let name = format!("audit-{}.jsonl", event.at.format("%Y-%m"));
        let file = match files.entry(name) {
            std::collections::hash_map::Entry::Occupied(f) => f.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let path = dir.join(v.key());
                v.insert(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)?,
                )
            }
        };
        serde_json::to_writer(&mut *file, event)?;
        file.write_all(b"\n")?;
    }
    for file in files.values() {
        file.sync_all()?;
    }
    Ok(())
}

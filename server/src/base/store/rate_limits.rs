//! Rate-limit counters in the database, so that several instances share one limit: a fixed
//! window per key, counted with one atomic statement (insert, or add to this window's count,
//! or start the new window at what is added).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// Counts `hits` on `key` in `window` (minutes since the epoch); the hits so far in it.
pub async fn add(
    db: &impl ConnectionTrait,
    key: &str,
    window: i64,
    hits: i64,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "INSERT INTO rate_limits (key, \"window\", count) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET \
               count = CASE WHEN rate_limits.\"window\" = EXCLUDED.\"window\" \
                            THEN rate_limits.count + EXCLUDED.count ELSE EXCLUDED.count END, \
               \"window\" = EXCLUDED.\"window\" \
             RETURNING count"
        }
        _ => {
            "INSERT INTO rate_limits (key, \"window\", count) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET \
               count = CASE WHEN rate_limits.\"window\" = excluded.\"window\" \
                            THEN rate_limits.count + excluded.count ELSE excluded.count END, \
               \"window\" = excluded.\"window\" \
             RETURNING count"
        }
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [key.into(), window.into(), hits.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no count returned".into()))?;
    row.try_get::<i64>("", "count")
}

/// Forgets windows before `window` (the cleanup job).
pub async fn delete_before(db: &impl ConnectionTrait, window: i64) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => "DELETE FROM rate_limits WHERE \"window\" < $1",
        _ => "DELETE FROM rate_limits WHERE \"window\" < ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [window.into()],
    ))
    .await?;
    Ok(())
}

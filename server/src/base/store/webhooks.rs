//! The webhook outbox. Rows are added by `audit::append` in the caller's transaction, so an
//! event exists exactly when its change was committed; the delivery job claims due rows with
//! a conditional update (one instance at a time) and records who has received each.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: String,
    pub user_id: String,
    pub provider: String,
    pub occurred_at: DateTimeUtc,
    /// Endpoint names that answered 2xx, space-separated.
    pub delivered_to: String,
    pub done: bool,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Our own code for the last failure (`http_503`, `timeout`, …), never the receiver's text.
    pub last_error: Option<String>,
    /// The event's outcome code (`invalid_grant`, `revoked_at_provider`, `revoked`, …).
    pub reason: Option<String>,
    /// The connection it happened to (one of the user's accounts of the service).
    pub connection_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What happened to which connection, for the outbox.
pub struct Change<'a> {
    /// The event's kind (`connection.created`, …).
    pub kind: &'a str,
    pub user_id: &'a str,
    pub provider: &'a str,
    pub connection_id: &'a str,
    /// The event's outcome code.
    pub reason: Option<&'a str>,
}

pub async fn add(
    db: &impl ConnectionTrait,
    change: Change<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    ActiveModel {
        id: Set(super::new_id()),
        kind: Set(change.kind.to_string()),
        user_id: Set(change.user_id.to_string()),
        provider: Set(change.provider.to_string()),
        connection_id: Set(Some(change.connection_id.to_string())),
        occurred_at: Set(now),
        delivered_to: Set(String::new()),
        done: Set(false),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        reason: Set(change.reason.map(str::to_string)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Rows due for an attempt, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    limit: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Done.eq(false))
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::OccurredAt)
        .limit(limit)
        .all(db)
        .await
}

/// Takes the row for `hold` if nobody changed it since it was read; true when ours.
pub async fn claim(
    db: &impl ConnectionTrait,
    row: &Model,
    hold: chrono::Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(now + hold))
        .filter(Column::Id.eq(row.id.as_str()))
        .filter(Column::NextAttemptAt.eq(row.next_attempt_at))
        .filter(Column::Done.eq(false))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records an attempt's outcome.
pub async fn record(
    db: &impl ConnectionTrait,
    id: &str,
    delivered_to: &str,
    done: bool,
    attempts: i32,
    next_attempt_at: chrono::DateTime<chrono::Utc>,
    last_error: Option<String>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::DeliveredTo, Expr::value(delivered_to))
        .col_expr(Column::Done, Expr::value(done))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(Column::LastError, Expr::value(last_error))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets rows older than `days`, delivered or not (retries stop long before).
pub async fn delete_old(
    db: &impl ConnectionTrait,
    days: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::OccurredAt.lt(now - chrono::Duration::days(days)))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

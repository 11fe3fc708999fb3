//! Flow analytics: when each step of a connect flow happened and how it ended. Holds no
//! secret (no state, code or token), only times, the provider and a fixed reason code.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};

pub const PENDING: &str = "pending";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flow_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    pub started_at: DateTimeUtc,
    /// The browser came back from the provider.
    pub returned_at: Option<DateTimeUtc>,
    /// The provider answered the code (or verifier) exchange.
    pub exchanged_at: Option<DateTimeUtc>,
    /// Saved, or failed.
    pub finished_at: Option<DateTimeUtc>,
    pub outcome: String,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A flow started (written in the transaction that stores the pending flow).
pub async fn started(
    db: &impl ConnectionTrait,
    id: &str,
    provider: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    ActiveModel {
        id: Set(id.to_string()),
        provider: Set(provider.to_string()),
        started_at: Set(now),
        returned_at: Set(None),
        exchanged_at: Set(None),
        finished_at: Set(None),
        outcome: Set(PENDING.to_string()),
        reason: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// How a flow that came back ended, with the time of each step.
#[derive(Clone, Debug)]
pub struct Ended<'a> {
    pub returned_at: DateTimeUtc,
    /// None when it failed before the provider answered an exchange.
    pub exchanged_at: Option<DateTimeUtc>,
    pub finished_at: DateTimeUtc,
    /// None for a completed flow, else the failure's fixed code.
    pub reason: Option<&'a str>,
}

/// Writes a flow's end, all its steps at once.
pub async fn ended(db: &impl ConnectionTrait, id: &str, end: Ended<'_>) -> Result<(), DbErr> {
    let outcome = if end.reason.is_some() {
        FAILED
    } else {
        COMPLETED
    };
    Entity::update_many()
        .col_expr(Column::ReturnedAt, Expr::value(Some(end.returned_at)))
        .col_expr(Column::ExchangedAt, Expr::value(end.exchanged_at))
        .col_expr(Column::FinishedAt, Expr::value(Some(end.finished_at)))
        .col_expr(Column::Outcome, Expr::value(outcome))
        .col_expr(Column::Reason, Expr::value(end.reason.map(str::to_string)))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Flows started since `since`, oldest first, at most `limit`.
pub async fn since(
    db: &impl ConnectionTrait,
    since: DateTimeUtc,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::StartedAt.gte(since))
        .order_by_asc(Column::StartedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Forgets flows started more than `days` ago (`analytics.retention_days`).
pub async fn delete_older_than(
    db: &impl ConnectionTrait,
    days: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let result = Entity::delete_many()
        .filter(Column::StartedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

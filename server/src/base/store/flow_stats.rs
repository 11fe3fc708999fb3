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

/// How a flow that came back ended, with the time of each step.
#[derive(Clone, Debug)]
pub struct Ended<'a> {
    /// When it started (its pending flow's creation).
    pub started_at: DateTimeUtc,
    pub returned_at: DateTimeUtc,
    /// None when it failed before the provider answered an exchange.
    pub exchanged_at: Option<DateTimeUtc>,
    pub finished_at: DateTimeUtc,
    /// None for a completed flow, else the failure's fixed code.
    pub reason: Option<&'a str>,
}

/// Writes a flow's row once, at its end, with all its steps (issue 19: a flow wrote its
/// analytics at the start and again at the end). Until then the flow is counted from its
/// pending flow ([`pending_since`]); one never finished is written when its pending flow is
/// cleared ([`super::flows::delete_expired`]). An upsert: a flow started by the previous
/// release during an upgrade has a row already.
pub async fn ended(
    db: &impl ConnectionTrait,
    id: &str,
    provider: &str,
    end: Ended<'_>,
) -> Result<(), DbErr> {
    let outcome = if end.reason.is_some() {
        FAILED
    } else {
        COMPLETED
    };
    let row = ActiveModel {
        id: Set(id.to_string()),
        provider: Set(provider.to_string()),
        started_at: Set(end.started_at),
        returned_at: Set(Some(end.returned_at)),
        exchanged_at: Set(end.exchanged_at),
        finished_at: Set(Some(end.finished_at)),
        outcome: Set(outcome.to_string()),
        reason: Set(end.reason.map(str::to_string)),
    };
    Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(Column::Id)
                .update_columns([
                    Column::ReturnedAt,
                    Column::ExchangedAt,
                    Column::FinishedAt,
                    Column::Outcome,
                    Column::Reason,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Flows started since `since` whose end is not written yet, as pending rows: read from the
/// pending flows.
pub async fn pending_since(
    db: &impl ConnectionTrait,
    since: DateTimeUtc,
) -> Result<Vec<Model>, DbErr> {
    use super::flows;
    let unended = flows::Entity::find()
        .select_only()
        .columns([
            flows::Column::Id,
            flows::Column::Provider,
            flows::Column::CreatedAt,
        ])
        .filter(flows::Column::CreatedAt.gte(since))
        .filter(Expr::not_exists(recorded()))
        .into_tuple::<(String, String, DateTimeUtc)>()
        .all(db)
        .await?;
    Ok(unended
        .into_iter()
        .map(|(id, provider, started_at)| Model {
            id,
            provider,
            started_at,
            returned_at: None,
            exchanged_at: None,
            finished_at: None,
            outcome: PENDING.to_string(),
            reason: None,
        })
        .collect())
}

/// The row of the pending flow in the outer query, if its end is written (a lookup by
/// primary key).
pub(super) fn recorded() -> sea_orm::sea_query::SelectStatement {
    use super::flows;
    sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(Entity)
        .and_where(sea_orm::sea_query::ExprTrait::equals(
            Expr::col((Entity, Column::Id)),
            (flows::Entity, flows::Column::Id),
        ))
        .to_owned()
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

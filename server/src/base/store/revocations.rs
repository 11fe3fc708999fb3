//! Pending revocation retries (see jobs::revocations).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocation_retries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub tokens_sealed: Vec<u8>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<(), DbErr> {
    ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        provider: Set(row.provider),
        tokens_sealed: Set(row.tokens_sealed),
        attempts: Set(row.attempts),
        next_attempt_at: Set(row.next_attempt_at),
        created_at: Set(row.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn due(
    db: &impl ConnectionTrait,
    limit: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await
}

/// Moves the retry to `next` if it is still due as read: true when this caller claimed it
/// (two instances never retry the same row at once).
pub async fn claim(
    db: &impl ConnectionTrait,
    row: &Model,
    next: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .col_expr(Column::Attempts, Expr::value(row.attempts + 1))
        .filter(Column::Id.eq(row.id.as_str()))
        .filter(Column::Attempts.eq(row.attempts))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

/// Every pending retry (key rotation re-seals them all).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().order_by_asc(Column::Id).all(db).await
}

/// Replaces a retry's sealed tokens if they are still `old`; true if replaced.
pub async fn swap_sealed(
    db: &impl ConnectionTrait,
    id: &str,
    old: &[u8],
    new: Vec<u8>,
) -> Result<bool, DbErr> {
    let swapped = Entity::update_many()
        .col_expr(Column::TokensSealed, Expr::value(new))
        .filter(Column::Id.eq(id))
        .filter(Column::TokensSealed.eq(old.to_vec()))
        .exec(db)
        .await?;
    Ok(swapped.rows_affected == 1)
}

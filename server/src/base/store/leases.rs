//! Refresh leases: at most one holder per connection across every instance. A lease is taken
//! with one conditional upsert (free or expired rows only), so two claimants can never both win.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connection_leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: String,
    pub owner: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Takes the lease for `ttl` if nobody holds a live one; true when `owner` now holds it.
pub async fn claim(
    db: &impl ConnectionTrait,
    connection_id: &str,
    owner: &str,
    ttl: chrono::Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let row = ActiveModel {
        connection_id: Set(connection_id.to_string()),
        owner: Set(owner.to_string()),
        expires_at: Set(now + ttl),
    };
    let taken = Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::ConnectionId)
                .update_columns([Column::Owner, Column::ExpiresAt])
                .action_and_where(Expr::col((Entity, Column::ExpiresAt)).lt(now))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(taken == 1)
}

/// Gives the lease back (only if `owner` still holds it).
pub async fn release(
    db: &impl ConnectionTrait,
    connection_id: &str,
    owner: &str,
) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::Owner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives back every lease `owner` holds (graceful shutdown: others need not wait out the TTL).
pub async fn release_all(db: &impl ConnectionTrait, owner: &str) -> Result<u64, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::Owner.eq(owner))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

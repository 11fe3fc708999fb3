//! The administrator's switch per provider. A provider without a row is enabled; a disabled
//! one takes no new connect flows, while existing connections keep working.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use std::collections::HashSet;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    pub enabled: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The services an administrator turned off.
pub async fn disabled(db: &impl ConnectionTrait) -> Result<HashSet<String>, DbErr> {
    let rows = Entity::find()
        .filter(Column::Enabled.eq(false))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| r.provider).collect())
}

pub async fn is_enabled(db: &impl ConnectionTrait, provider: &str) -> Result<bool, DbErr> {
    let row = Entity::find_by_id(provider.to_string()).one(db).await?;
    Ok(row.is_none_or(|r| r.enabled))
}

pub async fn set(
    db: &impl ConnectionTrait,
    provider: &str,
    enabled: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let row = ActiveModel {
        provider: Set(provider.to_string()),
        enabled: Set(enabled),
        updated_at: Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Provider)
                .update_columns([Column::Enabled, Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

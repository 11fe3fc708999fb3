//! Connections: one per user and provider, tokens sealed by the vault.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub status: String,
    pub tokens_sealed: Vec<u8>,
    pub requested_scopes: String,
    pub granted_scopes: String,
    pub expires_at: Option<DateTimeUtc>,
    pub account_id: String,
    pub account_name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_refreshed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const CONNECTED: &str = "connected";

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: &str,
    provider: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Provider.eq(provider))
        .one(db)
        .await
}

/// How many connections each provider has in each status (the metrics gauge).
pub async fn count_by_status(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    use sea_orm::QuerySelect;
    Entity::find()
        .select_only()
        .column(Column::Provider)
        .column(Column::Status)
        .column_as(Column::Id.count(), "n")
        .group_by(Column::Provider)
        .group_by(Column::Status)
        .into_tuple()
        .all(db)
        .await
}

pub async fn for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .all(db)
        .await
}

/// Inserts the connection, or replaces the tokens and identity of the existing one.
pub async fn upsert(db: &impl ConnectionTrait, row: Model) -> Result<(), DbErr> {
    let active = ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        provider: Set(row.provider),
        status: Set(row.status),
        tokens_sealed: Set(row.tokens_sealed),
        requested_scopes: Set(row.requested_scopes),
        granted_scopes: Set(row.granted_scopes),
        expires_at: Set(row.expires_at),
        account_id: Set(row.account_id),
        account_name: Set(row.account_name),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
        last_refreshed_at: Set(row.last_refreshed_at),
    };
    Entity::insert(active)
        .on_conflict(
            OnConflict::columns([Column::UserId, Column::Provider])
                // The id moves with the tokens: they are sealed for it (see vault::Binding).
                .update_columns([
                    Column::Id,
                    Column::Status,
                    Column::TokensSealed,
                    Column::RequestedScopes,
                    Column::GrantedScopes,
                    Column::ExpiresAt,
                    Column::AccountId,
                    Column::AccountName,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

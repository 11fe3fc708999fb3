//! Calls through the hub. The proxy: after a provider answers 429 or names a `Retry-After`, the
//! connection is not called again before `cooldown_until`, on any instance (the proxy answers
//! 429 itself meanwhile). Agents: an API key for the MCP endpoint acts for one user
//! (`api_keys.user_id`). Expand-only: nullable columns the previous release never reads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Connections {
    Table,
    CooldownUntil,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    UserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .add_column(
                    ColumnDef::new(Connections::CooldownUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(ColumnDef::new(ApiKeys::UserId).string_len(64).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .drop_column(ApiKeys::UserId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .drop_column(Connections::CooldownUntil)
                .to_owned(),
        )
        .await
    }
}

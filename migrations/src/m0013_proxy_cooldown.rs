//! Calls through the hub's proxy: after a provider answers 429 or names a `Retry-After`, the
//! connection is not called again before `cooldown_until`, on any instance (the proxy answers
//! 429 itself meanwhile). Expand-only: one nullable column the previous release never reads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Connections {
    Table,
    CooldownUntil,
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
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Connections::Table)
                .drop_column(Connections::CooldownUntil)
                .to_owned(),
        )
        .await
    }
}

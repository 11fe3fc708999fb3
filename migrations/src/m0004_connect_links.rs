//! Connect links for the backend API: single-use, short-lived, stored as a hash of the token.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConnectLinks {
    Table,
    Id,
    TokenHash,
    UserId,
    Provider,
    ReturnTo,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConnectLinks::Table)
                .col(
                    ColumnDef::new(ConnectLinks::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ConnectLinks::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(ConnectLinks::UserId)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConnectLinks::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(ConnectLinks::ReturnTo).text().not_null())
                .col(
                    ColumnDef::new(ConnectLinks::CreatedBy)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConnectLinks::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConnectLinks::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConnectLinks::ConsumedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }
}

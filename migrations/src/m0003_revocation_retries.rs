//! Revocations that failed at disconnect, retried in the background with backoff. The tokens
//! stay sealed, bound to the retry row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevocationRetries {
    Table,
    Id,
    UserId,
    Provider,
    TokensSealed,
    Attempts,
    NextAttemptAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RevocationRetries::Table)
                .col(
                    ColumnDef::new(RevocationRetries::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(RevocationRetries::UserId)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RevocationRetries::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RevocationRetries::TokensSealed)
                        .blob()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RevocationRetries::Attempts)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RevocationRetries::NextAttemptAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RevocationRetries::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }
}

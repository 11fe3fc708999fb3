//! Account security: a session epoch per user (bumped by a password or role change, which
//! ends that user's other sessions) and the one-time setup link for the first administrator.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    SessionEpoch,
}

#[derive(DeriveIden)]
enum SetupTokens {
    Table,
    TokenHash,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(
                    ColumnDef::new(Users::SessionEpoch)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SetupTokens::Table)
                .col(
                    ColumnDef::new(SetupTokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(SetupTokens::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }
}

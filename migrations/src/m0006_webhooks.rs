//! The webhook outbox: one row per connection event, written in the same transaction as the
//! change and its audit event, delivered to every configured endpoint with retries.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookOutbox {
    Table,
    Id,
    Kind,
    UserId,
    Provider,
    OccurredAt,
    DeliveredTo,
    Done,
    Attempts,
    NextAttemptAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookOutbox::Table)
                .col(
                    ColumnDef::new(WebhookOutbox::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::Kind)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::UserId)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::OccurredAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::DeliveredTo)
                        .text()
                        .not_null()
                        .default(""),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::Done)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::NextAttemptAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookOutbox::LastError)
                        .string_len(64)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_outbox_due")
                .table(WebhookOutbox::Table)
                .col(WebhookOutbox::Done)
                .col(WebhookOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await
    }
}

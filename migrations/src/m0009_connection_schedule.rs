//! When each connection may next be refreshed after a provider failed (a backoff every
//! instance and the token API see) and when its never-expiring token was last checked
//! (liveness goes through them oldest check first); the outcome a webhook event carries
//! (`reason`); the audit log's `seq` 64-bit on PostgreSQL (SQLite's integer key already is).
//! SQLite adds one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Hash,
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    Window,
    Count,
}

#[derive(DeriveIden)]
enum WebhookOutbox {
    Table,
    Reason,
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    RetryAt,
    Failures,
    CheckedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Connections::RetryAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Connections::Failures)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Connections::CheckedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(WebhookOutbox::Table)
                .add_column(ColumnDef::new(WebhookOutbox::Reason).string_len(64).null())
                .to_owned(),
        )
        .await?;
        // Each audit event's link in the hash chain (set by the sealer shortly after).
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .add_column(ColumnDef::new(AuditEvents::Hash).string_len(64).null())
                .to_owned(),
        )
        .await?;
        // Rate-limit counters every instance sees (used on PostgreSQL, where several run).
        m.create_table(
            Table::create()
                .table(RateLimits::Table)
                .col(
                    ColumnDef::new(RateLimits::Key)
                        .string_len(320)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(RateLimits::Window).big_integer().not_null())
                .col(ColumnDef::new(RateLimits::Count).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            // The identity's sequence follows the column's type.
            m.get_connection()
                .execute_unprepared("ALTER TABLE audit_events ALTER COLUMN seq TYPE BIGINT")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .drop_column(AuditEvents::Hash)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(WebhookOutbox::Table)
                .drop_column(WebhookOutbox::Reason)
                .to_owned(),
        )
        .await?;
        for column in [
            Connections::RetryAt,
            Connections::Failures,
            Connections::CheckedAt,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

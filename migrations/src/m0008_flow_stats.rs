//! Flow analytics (one row per connect flow: when each step happened and how it ended), an
//! index for counting audit events by kind over a period, and the admin's per-provider switch.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FlowStats {
    Table,
    Id,
    Provider,
    StartedAt,
    ReturnedAt,
    ExchangedAt,
    FinishedAt,
    Outcome,
    Reason,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Kind,
    At,
}

#[derive(DeriveIden)]
enum ProviderSettings {
    Table,
    Provider,
    Enabled,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let when = |column: FlowStats| {
            ColumnDef::new(column)
                .timestamp_with_time_zone()
                .null()
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(FlowStats::Table)
                .col(
                    ColumnDef::new(FlowStats::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(FlowStats::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FlowStats::StartedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(when(FlowStats::ReturnedAt))
                .col(when(FlowStats::ExchangedAt))
                .col(when(FlowStats::FinishedAt))
                .col(ColumnDef::new(FlowStats::Outcome).string_len(16).not_null())
                .col(ColumnDef::new(FlowStats::Reason).string_len(64).null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("flow_stats_started")
                .table(FlowStats::Table)
                .col(FlowStats::StartedAt)
                .to_owned(),
        )
        .await?;
        // The overview counts refreshes by kind over a period.
        m.create_index(
            Index::create()
                .name("audit_events_kind_at")
                .table(AuditEvents::Table)
                .col(AuditEvents::Kind)
                .col(AuditEvents::At)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProviderSettings::Table)
                .col(
                    ColumnDef::new(ProviderSettings::Provider)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ProviderSettings::Enabled)
                        .boolean()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProviderSettings::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }
}

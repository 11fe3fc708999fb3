//! A provider's day of connect flows is counted from an index (provider, kind, time) instead
//! of by reading every event of that kind the log keeps (issue 19: `/api/{service}/health`).
//! Expand-only: the previous release ignores the index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Provider,
    Kind,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("audit_events_provider_kind_at")
                .table(AuditEvents::Table)
                .col(AuditEvents::Provider)
                .col(AuditEvents::Kind)
                .col(AuditEvents::At)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("audit_events_provider_kind_at")
                .table(AuditEvents::Table)
                .to_owned(),
        )
        .await
    }
}

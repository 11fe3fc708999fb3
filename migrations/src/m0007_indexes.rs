//! Indexes for the background scans: the refresher's due connections and the health page's
//! per-provider audit lookups stay cheap at 100,000 connections.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Connections {
    Table,
    Status,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Provider,
    Kind,
    Seq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("connections_status_expires")
                .table(Connections::Table)
                .col(Connections::Status)
                .col(Connections::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_events_provider_kind")
                .table(AuditEvents::Table)
                .col(AuditEvents::Provider)
                .col(AuditEvents::Kind)
                .col(AuditEvents::Seq)
                .to_owned(),
        )
        .await
    }
}

//! Several accounts per service (a work and a personal Gmail): a connection is one provider
//! account of a user (unique on user, service and account id, instead of user and service),
//! with a label its user can set and metadata the platform's backend can set; webhooks name
//! the connection. Existing rows are kept as they are: each already names its account.
//!
//! A *contract* migration: the previous release upserts on (user, service), which needs the
//! unique index this drops, so it raises the schema floor and older binaries refuse this
//! database instead of failing on it (see lib.rs). Upgrade all instances together.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookOutbox {
    Table,
    ConnectionId,
}

#[derive(DeriveIden)]
enum SchemaFloor {
    Table,
    Id,
    OldestReader,
}

/// Older binaries refuse a database whose floor they do not know (m0010_schema_floor).
fn floor(name: &str) -> UpdateStatement {
    Query::update()
        .table(SchemaFloor::Table)
        .value(SchemaFloor::OldestReader, name)
        .and_where(Expr::col(SchemaFloor::Id).eq(1))
        .to_owned()
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    UserId,
    Provider,
    AccountId,
    Label,
    Metadata,
}

const OLD_INDEX: &str = "connections_user_provider";
const NEW_INDEX: &str = "connections_user_provider_account";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Connections::Label)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(Connections::Metadata)
                .text()
                .null()
                .to_owned(),
        ];
        // SQLite adds one column per statement.
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        // Webhooks name the connection, now that a service may have several.
        m.alter_table(
            Table::alter()
                .table(WebhookOutbox::Table)
                .add_column(
                    ColumnDef::new(WebhookOutbox::ConnectionId)
                        .string_len(64)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(NEW_INDEX)
                .table(Connections::Table)
                .col(Connections::UserId)
                .col(Connections::Provider)
                .col(Connections::AccountId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(OLD_INDEX)
                .table(Connections::Table)
                .to_owned(),
        )
        .await?;
        m.exec_stmt(floor("m0014_several_accounts")).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Only possible while every user has at most one account per service.
        m.create_index(
            Index::create()
                .name(OLD_INDEX)
                .table(Connections::Table)
                .col(Connections::UserId)
                .col(Connections::Provider)
                .unique()
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(NEW_INDEX)
                .table(Connections::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(WebhookOutbox::Table)
                .drop_column(WebhookOutbox::ConnectionId)
                .to_owned(),
        )
        .await?;
        for column in [Connections::Label, Connections::Metadata] {
            m.alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.exec_stmt(floor("m0010_schema_floor")).await
    }
}

//! The platform's own user ids: a user the backend provisions (`PUT /api/v1/users/{id}`) keeps
//! that id, a display name, an email and the backend's metadata (JSON), and needs no password.
//! A user who signs in through the organisation's OpenID provider keeps its `iss#sub`
//! (`sso_subject`, unique).
//! A connect link, and the flow it starts, may expect a provider account (JSON
//! `expected_account`: a login hint, an email domain), checked at the callback.
//! Expand-only: nullable columns and a unique index (several NULLs are allowed on both
//! databases), so the previous release reads and writes users, links and flows as before.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    ExternalId,
    Name,
    Email,
    Metadata,
    SsoSubject,
}

#[derive(DeriveIden)]
enum ConnectLinks {
    Table,
    ExpectedAccount,
}

#[derive(DeriveIden)]
enum PendingFlows {
    Table,
    ExpectedAccount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Users::ExternalId)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(Users::Name)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(Users::Email)
                .string_len(254)
                .null()
                .to_owned(),
            ColumnDef::new(Users::Metadata).text().null().to_owned(),
            ColumnDef::new(Users::SsoSubject)
                .string_len(512)
                .null()
                .to_owned(),
        ];
        // SQLite adds one column per statement.
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(ConnectLinks::Table)
                .add_column(ColumnDef::new(ConnectLinks::ExpectedAccount).text().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(PendingFlows::Table)
                .add_column(ColumnDef::new(PendingFlows::ExpectedAccount).text().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("users_external_id")
                .table(Users::Table)
                .col(Users::ExternalId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("users_sso_subject")
                .table(Users::Table)
                .col(Users::SsoSubject)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for index in ["users_external_id", "users_sso_subject"] {
            m.drop_index(Index::drop().name(index).table(Users::Table).to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(PendingFlows::Table)
                .drop_column(PendingFlows::ExpectedAccount)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ConnectLinks::Table)
                .drop_column(ConnectLinks::ExpectedAccount)
                .to_owned(),
        )
        .await?;
        for column in [
            Users::ExternalId,
            Users::Name,
            Users::Email,
            Users::Metadata,
            Users::SsoSubject,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

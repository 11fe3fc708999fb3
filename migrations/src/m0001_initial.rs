//! Users, sessions, pending flows, connections, audit events and the vault's known-answer row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    Data,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PendingFlows {
    Table,
    Id,
    StateHash,
    UserId,
    SessionBinding,
    Provider,
    VerifierSealed,
    ExpectedIssuer,
    RedirectUri,
    ReturnTo,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
    UserId,
    Provider,
    Status,
    TokensSealed,
    RequestedScopes,
    GrantedScopes,
    ExpiresAt,
    AccountId,
    AccountName,
    CreatedAt,
    UpdatedAt,
    LastRefreshedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Seq,
    At,
    Kind,
    ActorUserId,
    SubjectUserId,
    Provider,
    Ip,
    UserAgent,
    Outcome,
    Reason,
}

#[derive(DeriveIden)]
enum VaultCheck {
    Table,
    Id,
    Sealed,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .string_len(36)
        .not_null()
        .primary_key()
        .to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn time_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(
                    ColumnDef::new(Users::Username)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(text(Users::PasswordHash))
                .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                .col(
                    ColumnDef::new(Users::Disabled)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(time(Users::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(
                    ColumnDef::new(Sessions::IdHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(text(Sessions::Data))
                .col(time(Sessions::ExpiresAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PendingFlows::Table)
                .col(id(PendingFlows::Id))
                .col(
                    ColumnDef::new(PendingFlows::StateHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(PendingFlows::UserId)
                        .string_len(36)
                        .not_null(),
                )
                .col(text(PendingFlows::SessionBinding))
                .col(
                    ColumnDef::new(PendingFlows::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(PendingFlows::VerifierSealed)
                        .blob()
                        .not_null(),
                )
                .col(text_null(PendingFlows::ExpectedIssuer))
                .col(text(PendingFlows::RedirectUri))
                .col(text(PendingFlows::ReturnTo))
                .col(time(PendingFlows::CreatedAt))
                .col(time(PendingFlows::ExpiresAt))
                .col(time_null(PendingFlows::ConsumedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Connections::Table)
                .col(id(Connections::Id))
                .col(
                    ColumnDef::new(Connections::UserId)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Connections::Provider)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Connections::Status)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Connections::TokensSealed).blob().not_null())
                .col(text(Connections::RequestedScopes))
                .col(text(Connections::GrantedScopes))
                .col(time_null(Connections::ExpiresAt))
                .col(text(Connections::AccountId))
                .col(text(Connections::AccountName))
                .col(time(Connections::CreatedAt))
                .col(time(Connections::UpdatedAt))
                .col(time_null(Connections::LastRefreshedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("connections_user_provider")
                .table(Connections::Table)
                .col(Connections::UserId)
                .col(Connections::Provider)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(
                    ColumnDef::new(AuditEvents::Seq)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(time(AuditEvents::At))
                .col(ColumnDef::new(AuditEvents::Kind).string_len(64).not_null())
                .col(text_null(AuditEvents::ActorUserId))
                .col(text_null(AuditEvents::SubjectUserId))
                .col(text_null(AuditEvents::Provider))
                .col(text_null(AuditEvents::Ip))
                .col(text_null(AuditEvents::UserAgent))
                .col(
                    ColumnDef::new(AuditEvents::Outcome)
                        .string_len(16)
                        .not_null(),
                )
                .col(text_null(AuditEvents::Reason))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(VaultCheck::Table)
                .col(
                    ColumnDef::new(VaultCheck::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(VaultCheck::Sealed).blob().not_null())
                .to_owned(),
        )
        .await
    }
}

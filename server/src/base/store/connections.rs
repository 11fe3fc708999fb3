//! Connections: one per user and provider, tokens sealed by the vault.

use app::model::ConnectionState;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::sea_query::{ExprTrait, NullOrdering};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, Order, QueryOrder, QuerySelect, Select,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub status: String,
    pub tokens_sealed: Vec<u8>,
    pub requested_scopes: String,
    pub granted_scopes: String,
    pub expires_at: Option<DateTimeUtc>,
    pub account_id: String,
    pub account_name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_refreshed_at: Option<DateTimeUtc>,
    /// After a provider failed to refresh it: not before this (every instance obeys).
    pub retry_at: Option<DateTimeUtc>,
    /// Refresh failures in a row (the backoff grows with them).
    pub failures: i32,
    /// When the liveness job last asked the provider about its never-expiring token.
    pub checked_at: Option<DateTimeUtc>,
    /// Calls through the proxy wait until then: the provider answered 429 or named a
    /// `Retry-After` (every instance sees it).
    pub cooldown_until: Option<DateTimeUtc>,
    /// A name the user gave this account ("Work").
    pub label: Option<String>,
    /// The platform's backend's JSON object about this connection.
    pub metadata: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The stored states: a usable connection, and one that waits for its user to reconnect
/// (their names are `ConnectionState`'s).
pub(crate) const CONNECTED: &str = "connected";
const NEEDS_REAUTH: &str = "needs_reauth";

/// The user's connections to one service (one per provider account), oldest first.
pub async fn of_service(
    db: &impl ConnectionTrait,
    user_id: &str,
    provider: &str,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Provider.eq(provider))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The user's connection to this provider account, if there is one.
pub async fn of_account(
    db: &impl ConnectionTrait,
    user_id: &str,
    provider: &str,
    account_id: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Provider.eq(provider))
        .filter(Column::AccountId.eq(account_id))
        .one(db)
        .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.to_string()).one(db).await
}

/// Sets the user's label and, when given, the backend's metadata (None leaves it).
pub async fn describe(
    db: &impl ConnectionTrait,
    id: &str,
    label: Option<Option<String>>,
    metadata: Option<Option<String>>,
) -> Result<(), DbErr> {
    let mut update = Entity::update_many().filter(Column::Id.eq(id));
    if let Some(label) = label {
        update = update.col_expr(Column::Label, Expr::value(label));
    }
    if let Some(metadata) = metadata {
        update = update.col_expr(Column::Metadata, Expr::value(metadata));
    }
    update.exec(db).await?;
    Ok(())
}

/// How many connections each provider has in each stored state (`Connected` or
/// `NeedsReauth`), counted by the database.
pub async fn count_by_status(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, ConnectionState, i64)>, DbErr> {
    let rows: Vec<(String, String, i64)> = Entity::find()
        .select_only()
        .column(Column::Provider)
        .column(Column::Status)
        .column_as(Column::Id.count(), "n")
        .group_by(Column::Provider)
        .group_by(Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(provider, status, n)| (provider, stored_state(&status), n))
        .collect())
}

/// Usable connections per provider whose tokens expired by `now` (they are refreshed on the
/// next hand-out, or wait for their user).
pub async fn count_expired(
    db: &impl ConnectionTrait,
    now: DateTimeUtc,
) -> Result<Vec<(String, i64)>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Provider)
        .column_as(Column::Id.count(), "n")
        .filter(Column::Status.eq(CONNECTED))
        .filter(Column::ExpiresAt.lte(now))
        .group_by(Column::Provider)
        .into_tuple()
        .all(db)
        .await
}

fn stored_state(status: &str) -> ConnectionState {
    if status == CONNECTED {
        ConnectionState::Connected
    } else {
        ConnectionState::NeedsReauth
    }
}

/// The user's connections, oldest first.
pub async fn for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Whether the provider account `account_id` has a connection to any of these services.
pub async fn account_connected(
    db: &impl ConnectionTrait,
    services: &[String],
    account_id: &str,
) -> Result<bool, DbErr> {
    let count = Entity::find()
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Provider.is_in(services.iter().cloned()))
        .count(db)
        .await?;
    Ok(count > 0)
}

/// Inserts the connection, or replaces the tokens and identity of the existing one.
pub async fn upsert(db: &impl ConnectionTrait, row: Model) -> Result<(), DbErr> {
    let active = ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        provider: Set(row.provider),
        status: Set(row.status),
        tokens_sealed: Set(row.tokens_sealed),
        requested_scopes: Set(row.requested_scopes),
        granted_scopes: Set(row.granted_scopes),
        expires_at: Set(row.expires_at),
        account_id: Set(row.account_id),
        account_name: Set(row.account_name),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
        last_refreshed_at: Set(row.last_refreshed_at),
        retry_at: Set(row.retry_at),
        failures: Set(row.failures),
        checked_at: Set(row.checked_at),
        // A reconnect keeps a cooldown: the provider's limit is on the account, not the token.
        cooldown_until: Set(row.cooldown_until),
        label: Set(row.label),
        metadata: Set(row.metadata),
    };
    Entity::insert(active)
        .on_conflict(
            OnConflict::columns([Column::UserId, Column::Provider, Column::AccountId])
                // The id moves with the tokens: they are sealed for it (see vault::Binding).
                .update_columns([
                    Column::Id,
                    Column::Status,
                    Column::TokensSealed,
                    Column::RequestedScopes,
                    Column::GrantedScopes,
                    Column::ExpiresAt,
                    Column::AccountId,
                    Column::AccountName,
                    Column::CreatedAt,
                    Column::UpdatedAt,
                    Column::RetryAt,
                    Column::Failures,
                    Column::CheckedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

/// Stores refreshed tokens, fenced: only if nobody changed the row since `row` was read.
/// True when the row was ours to update.
pub async fn save_refreshed(
    db: &impl ConnectionTrait,
    row: &Model,
    tokens_sealed: Vec<u8>,
    expires_at: Option<DateTimeUtc>,
    now: DateTimeUtc,
) -> Result<bool, DbErr> {
    let updated = Entity::update_many()
        .col_expr(Column::TokensSealed, Expr::value(tokens_sealed))
        .col_expr(Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(Column::LastRefreshedAt, Expr::value(Some(now)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::RetryAt, Expr::value(Option::<DateTimeUtc>::None))
        .col_expr(Column::Failures, Expr::value(0))
        .filter(Column::Id.eq(row.id.as_str()))
        .filter(Column::UpdatedAt.eq(row.updated_at))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The grant is gone: the connection waits for its user to reconnect, with its tokens
/// re-sealed without the dead refresh token (`tokens_sealed`, when they opened). Fenced on
/// the row as it was read; true when it was written.
pub async fn set_needs_reauth(
    db: &impl ConnectionTrait,
    row: &Model,
    tokens_sealed: Option<Vec<u8>>,
    now: DateTimeUtc,
) -> Result<bool, DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::Status, Expr::value(NEEDS_REAUTH))
        .col_expr(Column::UpdatedAt, Expr::value(now));
    if let Some(sealed) = tokens_sealed {
        update = update.col_expr(Column::TokensSealed, Expr::value(sealed));
    }
    let updated = update
        .filter(Column::Id.eq(row.id.as_str()))
        .filter(Column::UpdatedAt.eq(row.updated_at))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Connections of users who are not disabled (background jobs leave a disabled user's alone).
fn of_active_users() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Query;
    Column::UserId.not_in_subquery(
        Query::select()
            .column(super::users::Column::Id)
            .from(super::users::Entity)
            .and_where(super::users::Column::Disabled.eq(true))
            .to_owned(),
    )
}

/// Usable connections of active users whose tokens expire before `horizon`, soonest first
/// (the refresher). Connections backing off until after `now`, and those of providers not in
/// `providers` (removed from the configuration), are left out: they never hold back the rest.
pub async fn expiring_before(
    db: &impl ConnectionTrait,
    horizon: DateTimeUtc,
    now: DateTimeUtc,
    providers: &[String],
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Status.eq(CONNECTED))
        .filter(of_active_users())
        .filter(Column::ExpiresAt.lte(horizon))
        .filter(Column::Provider.is_in(providers.iter().map(String::as_str)))
        .filter(
            Condition::any()
                .add(Column::RetryAt.is_null())
                .add(Column::RetryAt.lte(now)),
        )
        .order_by_asc(Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await
}

/// Usable connections of active users whose tokens never expire and were not checked since
/// `checked_before`, never-checked first, then the longest unchecked (liveness: every one gets
/// its turn however many there are), of the `providers` still configured.
pub async fn never_expiring(
    db: &impl ConnectionTrait,
    checked_before: DateTimeUtc,
    providers: &[String],
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    never_expiring_query(providers)
        .filter(
            Condition::any()
                .add(Column::CheckedAt.is_null())
                .add(Column::CheckedAt.lte(checked_before)),
        )
        .order_by_with_nulls(Column::CheckedAt, Order::Asc, NullOrdering::First)
        .order_by_asc(Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Since when the least recently checked never-expiring token has gone unchecked (its last
/// check, or its connection if never checked); None when there is none.
pub async fn oldest_check(
    db: &impl ConnectionTrait,
    providers: &[String],
) -> Result<Option<DateTimeUtc>, DbErr> {
    let row = never_expiring_query(providers)
        .order_by_with_nulls(Column::CheckedAt, Order::Asc, NullOrdering::First)
        .order_by_asc(Column::UpdatedAt)
        .one(db)
        .await?;
    Ok(row.map(|row| row.checked_at.unwrap_or(row.updated_at)))
}

fn never_expiring_query(providers: &[String]) -> Select<Entity> {
    Entity::find()
        .filter(Column::Status.eq(CONNECTED))
        .filter(of_active_users())
        .filter(Column::ExpiresAt.is_null())
        .filter(Column::Provider.is_in(providers.iter().map(String::as_str)))
}

/// The liveness job asked the provider about this connection at `now`.
pub async fn set_checked(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTimeUtc,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::CheckedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The provider asked for a pause: no call through the proxy on this connection before
/// `until`, from any instance. A later pause never shortens an earlier one.
pub async fn cool_down(
    db: &impl ConnectionTrait,
    id: &str,
    until: DateTimeUtc,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::CooldownUntil, Expr::value(Some(until)))
        .filter(Column::Id.eq(id))
        .filter(
            Column::CooldownUntil
                .is_null()
                .or(Column::CooldownUntil.lt(until)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// A refresh failed for a reason that may pass (the provider's 5xx, 429, network): the
/// connection is not refreshed again before `retry_at`, by the refresher or the token API of
/// any instance. Counts the failure (`failures` grows by one; a successful refresh or a
/// reconnect sets it back to zero).
pub async fn back_off(
    db: &impl ConnectionTrait,
    row: &Model,
    retry_at: DateTimeUtc,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::RetryAt, Expr::value(Some(retry_at)))
        .col_expr(Column::Failures, Expr::col(Column::Failures).add(1))
        .filter(Column::Id.eq(row.id.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

impl Model {
    /// Usable, as opposed to waiting for its user to reconnect.
    pub fn is_connected(&self) -> bool {
        self.status == CONNECTED
    }
}

/// Connections in id order after `after` (key rotation walks them all in pages).
pub async fn page_after(
    db: &impl ConnectionTrait,
    after: &str,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Id.gt(after))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Replaces a connection's sealed tokens if they are still `old` (key rotation: a refresh
/// that wrote meanwhile wins); true if replaced.
pub async fn swap_sealed(
    db: &impl ConnectionTrait,
    id: &str,
    old: &[u8],
    new: Vec<u8>,
) -> Result<bool, DbErr> {
    let swapped = Entity::update_many()
        .col_expr(Column::TokensSealed, Expr::value(new))
        .filter(Column::Id.eq(id))
        .filter(Column::TokensSealed.eq(old.to_vec()))
        .exec(db)
        .await?;
    Ok(swapped.rows_affected == 1)
}

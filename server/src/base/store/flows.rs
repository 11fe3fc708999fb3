//! Pending connect flows: state stored hashed, PKCE verifier sealed, consumed exactly once.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_flows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub state_hash: String,
    pub user_id: String,
    pub session_binding: String,
    pub provider: String,
    pub verifier_sealed: Vec<u8>,
    pub expected_issuer: Option<String>,
    pub redirect_uri: String,
    pub return_to: String,
    pub created_at: DateTimeUtc,
    /// JSON: the provider account a connect link expects (`oauth::expected`).
    pub expected_account: Option<String>,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub struct NewFlow {
    pub id: String,
    pub state_hash: String,
    pub user_id: String,
    pub session_binding: String,
    pub provider: String,
    pub verifier_sealed: Vec<u8>,
    pub expected_issuer: Option<String>,
    pub redirect_uri: String,
    pub return_to: String,
    pub lifetime: chrono::Duration,
    pub expected_account: Option<String>,
}

pub async fn insert(
    db: &impl sea_orm::ConnectionTrait,
    flow: NewFlow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    ActiveModel {
        id: Set(flow.id),
        state_hash: Set(flow.state_hash),
        user_id: Set(flow.user_id),
        session_binding: Set(flow.session_binding),
        provider: Set(flow.provider),
        verifier_sealed: Set(flow.verifier_sealed),
        expected_issuer: Set(flow.expected_issuer),
        expected_account: Set(flow.expected_account),
        redirect_uri: Set(flow.redirect_uri),
        return_to: Set(flow.return_to),
        created_at: Set(now),
        expires_at: Set(now + flow.lifetime),
        consumed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Atomically marks the flow consumed if it is this session's, this provider's, unexpired and
/// unused; returns it only then. A state from another session is left untouched.
pub async fn consume(
    db: &DatabaseConnection,
    state_hash: &str,
    user_id: &str,
    session_binding: &str,
    provider: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Model>, DbErr> {
    // One statement: the update answers with the row it claimed (RETURNING).
    let mut claimed = Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .filter(Column::StateHash.eq(state_hash))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::SessionBinding.eq(session_binding))
        .filter(Column::Provider.eq(provider))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec_with_returning(db)
        .await?;
    Ok(match claimed.len() {
        1 => claimed.pop(),
        _ => None,
    })
}

/// Forgets flows that expired long ago (their rows hold nothing usable). One that never ended
/// is written to the flow analytics first, as pending (the overview counts it abandoned).
pub async fn delete_expired(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    use super::flow_stats;
    use sea_orm::sea_query::{Expr, Query};
    use sea_orm::ConnectionTrait;
    let cutoff = now - chrono::Duration::hours(1);
    let unended = Query::select()
        .columns([Column::Id, Column::Provider, Column::CreatedAt])
        .expr(Expr::val(flow_stats::PENDING))
        .from(Entity)
        .and_where(Column::ExpiresAt.lt(cutoff))
        .and_where(Expr::not_exists(flow_stats::recorded()))
        .to_owned();
    let mut copy = Query::insert();
    copy.into_table(flow_stats::Entity)
        .columns([
            flow_stats::Column::Id,
            flow_stats::Column::Provider,
            flow_stats::Column::StartedAt,
            flow_stats::Column::Outcome,
        ])
        .select_from(unended)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let txn = super::begin(db).await?;
    txn.execute(&copy).await?;
    let result = Entity::delete_many()
        .filter(Column::ExpiresAt.lt(cutoff))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(result.rows_affected)
}

/// Flows that can still be completed at `now`: unused and unexpired.
pub async fn open_at(db: &DatabaseConnection, now: DateTimeUtc) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .all(db)
        .await
}

/// Replaces a pending flow's sealed secret if it is still `old` (key rotation); true if so.
pub async fn swap_sealed(
    db: &DatabaseConnection,
    id: &str,
    old: &[u8],
    new: Vec<u8>,
) -> Result<bool, DbErr> {
    let swapped = Entity::update_many()
        .col_expr(Column::VerifierSealed, Expr::value(new))
        .filter(Column::Id.eq(id))
        .filter(Column::VerifierSealed.eq(old.to_vec()))
        .exec(db)
        .await?;
    Ok(swapped.rows_affected == 1)
}

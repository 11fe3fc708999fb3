//! The one-time setup link that creates the first administrator: stored as a hash, single
//! use, expiring. Every instance that starts without an administrator prints its own link;
//! each works until one of them is used.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "setup_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How long a printed setup link works.
pub const LIFETIME_HOURS: i64 = 24;

/// Issues a new token (256 random bits), forgetting expired ones; returns it in clear once.
pub async fn issue(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<secrecy::SecretString, DbErr> {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    ActiveModel {
        token_hash: Set(super::digest(&token)),
        expires_at: Set(now + chrono::Duration::hours(LIFETIME_HOURS)),
    }
    .insert(db)
    .await?;
    Ok(secrecy::SecretString::from(token))
}

/// Whether the token (by its hash) is live, without using it up.
pub async fn is_live(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let found = Entity::find()
        .filter(Column::TokenHash.eq(token_hash))
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Uses the token up, and every other one with it; true only for the one caller that found
/// it live.
pub async fn consume(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::TokenHash.eq(token_hash))
        .filter(Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    Entity::delete_many().exec(db).await?;
    Ok(true)
}

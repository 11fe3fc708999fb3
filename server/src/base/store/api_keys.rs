//! Backend API keys: 256 random bits shown once, stored as a SHA-256 hash, scoped, revocable.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder};
use subtle::ConstantTimeEq;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// The key's first characters, to recognise it in lists (not enough to use it).
    pub prefix: String,
    pub key_hash: String,
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// An agent's key (scope `mcp`) acts for this one user only.
    pub user_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const KEY_PREFIX: &str = "atom_";

impl Model {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.split(' ').any(|s| s == scope)
    }
}

/// Binds a new key to the one user it acts for.
pub async fn bind_user(db: &impl ConnectionTrait, id: &str, user_id: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::UserId, Expr::value(Some(user_id.to_string())))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Creates a key; returns its row and the key itself (the only time it exists in clear).
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    scopes: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Model, secrecy::SecretString), DbErr> {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let row = ActiveModel {
        id: Set(super::new_id()),
        name: Set(name.to_string()),
        prefix: Set(key.chars().take(12).collect()),
        key_hash: Set(super::digest(&key)),
        scopes: Set(scopes.join(" ")),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        user_id: Set(None),
    }
    .insert(db)
    .await?;
    Ok((row, secrecy::SecretString::from(key)))
}

/// The live key matching `presented`, if any.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    presented: &str,
) -> Result<Option<Model>, DbErr> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    let hash = super::digest(presented);
    let found = Entity::find()
        .filter(Column::KeyHash.eq(hash.as_str()))
        .one(db)
        .await?;
    // The lookup is by hash; compare again in constant time before trusting the match.
    Ok(found.filter(|k| {
        bool::from(k.key_hash.as_bytes().ct_eq(hash.as_bytes())) && k.revoked_at.is_none()
    }))
}

pub async fn touch(
    db: &impl ConnectionTrait,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().order_by_asc(Column::CreatedAt).all(db).await
}

/// Marks the key revoked; returns whether a live key was found.
pub async fn revoke(
    db: &impl ConnectionTrait,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

//! Connect and portal links: 256 random bits handed to a backend once, stored as a SHA-256
//! hash, consumed exactly once within their short lifetime.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use secrecy::SecretString;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connect_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub provider: String,
    pub return_to: String,
    /// The API key that created the link.
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
    /// JSON: the provider account the link expects (`oauth::expected`), if any.
    pub expected_account: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `provider` of a portal link: it opens its user's whole Connections page. No service
/// has this name, so a portal link is never a connect link (nor the reverse).
pub const PORTAL: &str = "";

/// A link is usable for this long after it was created.
pub const LINK_LIFETIME_MINUTES: i64 = 10;

pub struct NewLink<'a> {
    pub user_id: &'a str,
    /// The service to connect, or [`PORTAL`].
    pub provider: &'a str,
    pub return_to: &'a str,
    pub created_by: &'a str,
    pub expected_account: Option<String>,
}

/// Creates a link; returns its row and the token (the only time it exists in clear).
pub async fn create(
    db: &impl ConnectionTrait,
    link: NewLink<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Model, SecretString), DbErr> {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let row = ActiveModel {
        id: Set(super::new_id()),
        token_hash: Set(super::digest(&token)),
        user_id: Set(link.user_id.to_string()),
        provider: Set(link.provider.to_string()),
        return_to: Set(link.return_to.to_string()),
        created_by: Set(link.created_by.to_string()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::minutes(LINK_LIFETIME_MINUTES)),
        consumed_at: Set(None),
        expected_account: Set(link.expected_account),
    }
    .insert(db)
    .await?;
    Ok((row, SecretString::from(token)))
}

/// Why a presented token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Unknown,
    Used,
    Expired,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "link_unknown",
            Self::Used => "link_used",
            Self::Expired => "link_expired",
        }
    }
}

/// The row of a token that could be ours: tokens are 43 characters, and anything much longer
/// is not hashed at all.
async fn find(db: &impl ConnectionTrait, token: &str) -> Result<Option<Model>, DbErr> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    Entity::find()
        .filter(Column::TokenHash.eq(super::digest(token)))
        .one(db)
        .await
}

/// The link, if it is unused and unexpired, without using it up (opening a link only shows
/// what it will do: a link preview or a mail scanner must not spend it).
pub async fn peek(
    db: &impl ConnectionTrait,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<Model, Refused>, DbErr> {
    Ok(match find(db, token).await? {
        Some(row) if row.consumed_at.is_some() => Err(Refused::Used),
        Some(row) if row.expires_at <= now => Err(Refused::Expired),
        Some(row) => Ok(row),
        None => Err(Refused::Unknown),
    })
}

/// Atomically marks the link consumed if it is unused and unexpired; returns it only then.
pub async fn consume(
    db: &impl ConnectionTrait,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<Model, Refused>, DbErr> {
    if token.is_empty() || token.len() > 64 {
        return Ok(Err(Refused::Unknown));
    }
    let claimed = Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .filter(Column::TokenHash.eq(super::digest(token)))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        // Why not: used (by this or another caller), expired, or unknown.
        return peek(db, token, now).await;
    }
    Ok(find(db, token).await?.ok_or(Refused::Unknown))
}

/// Forgets links that expired long ago.
pub async fn delete_expired(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let cutoff = now - chrono::Duration::hours(1);
    let result = Entity::delete_many()
        .filter(Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

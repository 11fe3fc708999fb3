//! Creating users (the `atom user add` command and tests).

use crate::audit::{Event, Kind, Origin};
use crate::store;
use sea_orm::{DatabaseConnection, TransactionTrait};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a username is 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadName,
    #[error("a password needs at least 8 characters")]
    WeakPassword,
    #[error("user {0} already exists")]
    Exists(String),
    #[error("there is no user {0}")]
    Unknown(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

pub async fn add(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
    admin: bool,
) -> Result<store::users::Model, UserError> {
    let valid = !username.is_empty()
        && username.len() <= 64
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if !valid {
        return Err(UserError::BadName);
    }
    if password.chars().count() < 8 {
        return Err(UserError::WeakPassword);
    }
    if store::users::by_username(db, username).await?.is_some() {
        return Err(UserError::Exists(username.to_string()));
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    let txn = db.begin().await?;
    let user = store::users::insert(&txn, username, hash, admin).await?;
    let mut event = Event::new(Kind::UserCreated, &Origin::default()).reason("cli");
    event.subject = Some(user.id.clone());
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(user)
}

/// Disables a user: sign-in refuses them and the session middleware ends their sessions.
pub async fn disable(db: &DatabaseConnection, username: &str) -> Result<(), UserError> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let user = store::users::by_username(db, username)
        .await?
        .ok_or_else(|| UserError::Unknown(username.to_string()))?;
    let txn = db.begin().await?;
    let id = user.id.clone();
    let mut active: store::users::ActiveModel = user.into();
    active.disabled = Set(true);
    active.update(&txn).await?;
    let mut event = Event::new(Kind::UserDisabled, &Origin::default()).reason("cli");
    event.subject = Some(id);
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

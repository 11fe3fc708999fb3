//! Account changes, shared by the `atom user` commands, the admin pages and the account page.
//! Each change is audited in the same transaction, and changing a password, a role or the
//! disabled flag ends the user's other sessions (a new session epoch).

use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::base::store::users::{Change, Model};
use app::model::Role;
use sea_orm::DatabaseConnection;

/// Why a change to a user was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The username has characters or a length it may not have.
    #[error("a username is 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadName,
    /// The password is shorter than 8 or longer than 256 characters.
    #[error("a password needs 8 to 256 characters")]
    WeakPassword,
    /// The username is taken.
    #[error("user {0} already exists")]
    Exists(String),
    /// No user has that name.
    #[error("there is no user {0}")]
    Unknown(String),
    /// The last active administrator would lose the role.
    #[error("the last active administrator cannot lose the role or be disabled")]
    LastAdmin,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Who makes a change: an administrator from a browser (`id`), or no one signed in: the
/// command line or the one-time setup link (`via` says which).
pub struct Actor {
    /// The administrator, or None for the command line and the setup link.
    pub id: Option<String>,
    /// Where the change came from.
    pub origin: Origin,
    /// `admin`, `cli`, `setup_link` or `api`.
    pub via: &'static str,
}

impl Actor {
    /// The command line, on the system clock.
    pub fn cli() -> Self {
        Self {
            id: None,
            origin: Origin::internal(&crate::base::clock::Clock::system()),
            via: "cli",
        }
    }

    /// An administrator, from a browser.
    pub fn admin(id: &str, origin: Origin) -> Self {
        Self {
            id: Some(id.to_string()),
            origin,
            via: "admin",
        }
    }

    pub(crate) fn event(&self, kind: Kind, subject: &str) -> Event {
        Event::new(kind, &self.origin)
            .on(self.id.as_deref(), subject)
            .reason(self.via)
    }

    /// The backend API, with this key (`apikey:<id>` is the actor).
    pub fn api_key(key_id: &str, origin: Origin) -> Self {
        Self {
            id: Some(format!("apikey:{key_id}")),
            origin,
            via: "api",
        }
    }

    /// An event about an API key: who acted, and which key (`apikey:<id>`).
    pub(crate) fn key_event(&self, kind: Kind, key_id: &str) -> Event {
        let mut event = Event::new(kind, &self.origin).reason(&format!("apikey:{key_id}"));
        event.actor = self.id.clone();
        event
    }
}

/// A username is 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_username(username: &str) -> Result<(), UserError> {
    let valid = !username.is_empty()
        && username.len() <= 64
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(UserError::BadName)
    }
}

/// A password has 8 to 256 characters.
pub fn check_password(password: &str) -> Result<(), UserError> {
    let length = password.chars().count();
    if (8..=256).contains(&length) {
        Ok(())
    } else {
        Err(UserError::WeakPassword)
    }
}

async fn hash(password: &str) -> Result<String, UserError> {
    crate::base::passwords::hash(password.to_string())
        .await
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()).into())
}

/// A new user (an administrator when `admin`), with its audit event.
pub async fn add(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
    admin: bool,
    actor: &Actor,
) -> Result<Model, UserError> {
    check_username(username)?;
    check_password(password)?;
    if store::users::by_username(db, username).await?.is_some() {
        return Err(UserError::Exists(username.to_string()));
    }
    let hash = hash(password).await?;
    let txn = crate::base::store::begin(&db).await?;
    let user = store::users::insert(&txn, username, hash, admin, actor.origin.clock.now()).await?;
    store::audit::append(&txn, actor.event(Kind::UserCreated, &user.id)).await?;
    txn.commit().await?;
    Ok(user)
}

/// After a sign-in with `password`: a hash made with older parameters is made again with the
/// current ones (`base::passwords`), so every account moves to them as its owner signs in.
pub async fn upgrade_hash(
    db: &DatabaseConnection,
    user: &Model,
    password: String,
) -> Result<(), UserError> {
    if crate::base::passwords::is_current(&user.password_hash) {
        return Ok(());
    }
    let hash = hash(&password).await?;
    store::users::rehash(db, user, hash).await?;
    Ok(())
}

/// Sets a new password; returns the new session epoch (the caller's session moves to it).
pub async fn change_password(
    db: &DatabaseConnection,
    user: &Model,
    password: &str,
    origin: &Origin,
) -> Result<i64, UserError> {
    check_password(password)?;
    let hash = hash(password).await?;
    let txn = crate::base::store::begin(&db).await?;
    let epoch = store::users::change(&txn, user, Change::Password(hash)).await?;
    store::audit::append(&txn, Event::new(Kind::PasswordChanged, origin).by(&user.id)).await?;
    txn.commit().await?;
    Ok(epoch)
}

/// Grants or removes the admin role; the last active administrator keeps it.
pub async fn set_role(
    db: &DatabaseConnection,
    user: &Model,
    admin: bool,
    actor: &Actor,
) -> Result<(), UserError> {
    let txn = crate::base::store::begin(&db).await?;
    if !admin && user.role() == Role::Admin && store::users::active_admins(&txn).await? <= 1 {
        return Err(UserError::LastAdmin);
    }
    store::users::change(&txn, user, Change::Role { admin }).await?;
    let role = if admin { "to_admin" } else { "to_user" };
    let event = actor.event(Kind::RoleChanged, &user.id).reason(role);
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Disables (their sessions end at once) or enables a user.
pub async fn set_disabled(
    db: &DatabaseConnection,
    user: &Model,
    disabled: bool,
    actor: &Actor,
) -> Result<(), UserError> {
    let txn = crate::base::store::begin(&db).await?;
    let last_admin = user.role() == Role::Admin && store::users::active_admins(&txn).await? <= 1;
    if disabled && !user.disabled && last_admin {
        return Err(UserError::LastAdmin);
    }
    store::users::change(&txn, user, Change::Disabled(disabled)).await?;
    let kind = if disabled {
        Kind::UserDisabled
    } else {
        Kind::UserEnabled
    };
    store::audit::append(&txn, actor.event(kind, &user.id)).await?;
    txn.commit().await?;
    Ok(())
}

/// `atom user disable NAME`.
pub async fn disable(db: &DatabaseConnection, username: &str) -> Result<(), UserError> {
    let user = store::users::by_username(db, username)
        .await?
        .ok_or_else(|| UserError::Unknown(username.to_string()))?;
    set_disabled(db, &user, true, &Actor::cli()).await
}

/// At start: a one-time link that creates the first administrator, while there is no active
/// administrator; None otherwise. Each call replaces the previous link.
pub async fn setup_link(
    db: &DatabaseConnection,
    public_origin: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, sea_orm::DbErr> {
    use secrecy::ExposeSecret;
    if store::users::active_admins(db).await? > 0 {
        return Ok(None);
    }
    let token = store::setup_tokens::issue(db, now).await?;
    Ok(Some(format!(
        "{public_origin}/setup/{}",
        token.expose_secret()
    )))
}

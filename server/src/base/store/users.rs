//! Local users with argon2id password hashes.

use app::model::Role;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection, QueryOrder, QuerySelect};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    /// Sessions signed in under an older epoch are over (password or role changed).
    pub session_epoch: i64,
    /// The platform's own id for a user its backend provisioned (`PUT /api/v1/users/{id}`).
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The backend's JSON object, as sent.
    pub metadata: Option<String>,
    /// `issuer#sub` of a user who signs in through single sign-on.
    pub sso_subject: Option<String>,
}

/// The password hash of a user who has none (provisioned by the platform): it matches no
/// password, and signing in as that user costs the same work as an unknown name.
pub const NO_PASSWORD: &str = "";

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn role(&self) -> Role {
        Role::parse(&self.role)
    }

    pub fn current_user(&self) -> app::model::CurrentUser {
        app::model::CurrentUser {
            id: self.id.clone(),
            username: self.username.clone(),
            role: self.role(),
        }
    }
}

pub async fn by_username(db: &DatabaseConnection, username: &str) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await
}

pub async fn by_id(db: &DatabaseConnection, id: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.to_string()).one(db).await
}

pub async fn insert(
    db: &impl sea_orm::ConnectionTrait,
    username: &str,
    password_hash: String,
    admin: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Model, DbErr> {
    new_row(username, password_hash, role_of(admin), now)
        .insert(db)
        .await
}

/// A new user's row: enabled, at the first session epoch, nothing else known.
fn new_row(
    username: &str,
    password_hash: String,
    role: Role,
    now: chrono::DateTime<chrono::Utc>,
) -> ActiveModel {
    ActiveModel {
        id: Set(super::new_id()),
        username: Set(username.to_string()),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_string()),
        disabled: Set(false),
        created_at: Set(now),
        session_epoch: Set(0),
        external_id: Set(None),
        name: Set(None),
        email: Set(None),
        metadata: Set(None),
        sso_subject: Set(None),
    }
}

/// What the platform says of one of its users.
#[derive(Default)]
pub struct Profile {
    pub name: Option<String>,
    pub email: Option<String>,
    pub metadata: Option<String>,
}

/// A user the platform provisions under its own id: no password, the user role.
pub async fn insert_external(
    db: &impl sea_orm::ConnectionTrait,
    external_id: &str,
    username: &str,
    profile: Profile,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Model, DbErr> {
    ActiveModel {
        external_id: Set(Some(external_id.to_string())),
        name: Set(profile.name),
        email: Set(profile.email),
        metadata: Set(profile.metadata),
        ..new_row(username, NO_PASSWORD.to_string(), Role::User, now)
    }
    .insert(db)
    .await
}

/// A user made by single sign-on: named by their email, no password, the role their claims
/// give.
pub async fn insert_sso(
    db: &impl sea_orm::ConnectionTrait,
    email: &str,
    subject: &str,
    name: Option<String>,
    admin: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Model, DbErr> {
    ActiveModel {
        name: Set(name),
        email: Set(Some(email.to_string())),
        sso_subject: Set(Some(subject.to_string())),
        ..new_row(email, NO_PASSWORD.to_string(), role_of(admin), now)
    }
    .insert(db)
    .await
}

/// The user who signed in through single sign-on as `subject` (`issuer#sub`).
pub async fn by_sso_subject(
    db: &impl sea_orm::ConnectionTrait,
    subject: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::SsoSubject.eq(subject))
        .one(db)
        .await
}

/// Replaces a user's name, email and metadata.
pub async fn set_profile(
    db: &impl sea_orm::ConnectionTrait,
    id: &str,
    profile: Profile,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(profile.name))
        .col_expr(Column::Email, Expr::value(profile.email))
        .col_expr(Column::Metadata, Expr::value(profile.metadata))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The user the API names: by the platform's id first, then by the hub's own.
pub async fn by_platform_id(
    db: &impl sea_orm::ConnectionTrait,
    id: &str,
) -> Result<Option<Model>, DbErr> {
    // One round trip on the token API's path: both matches (at most two rows), the
    // platform's id preferred.
    let found = Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(Column::ExternalId.eq(id))
                .add(Column::Id.eq(id)),
        )
        .limit(2)
        .all(db)
        .await?;
    let external = found
        .iter()
        .position(|u| u.external_id.as_deref() == Some(id));
    Ok(found.into_iter().nth(external.unwrap_or(0)))
}

/// A page of users in creation order, after the user with id `after` (a cursor).
pub async fn page(
    db: &impl sea_orm::ConnectionTrait,
    after: Option<&Model>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    use sea_orm::{Condition, QuerySelect};
    let mut query = Entity::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(
            Condition::any()
                .add(Column::CreatedAt.gt(after.created_at))
                .add(
                    Condition::all()
                        .add(Column::CreatedAt.eq(after.created_at))
                        .add(Column::Id.gt(after.id.as_str())),
                ),
        );
    }
    query.all(db).await
}

/// Deletes a user's row (their connections are gone first).
pub async fn delete(db: &impl sea_orm::ConnectionTrait, id: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}

/// The users with these ids (the audit viewer names a page's actors and subjects).
pub async fn by_ids(
    db: &impl sea_orm::ConnectionTrait,
    ids: Vec<String>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find().filter(Column::Id.is_in(ids)).all(db).await
}

pub async fn list(db: &impl sea_orm::ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find().order_by_asc(Column::Username).all(db).await
}

/// Active administrators: the setup link is offered only while there are none.
pub async fn active_admins(db: &impl sea_orm::ConnectionTrait) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Role.eq(Role::Admin.as_str()))
        .filter(Column::Disabled.eq(false))
        .count(db)
        .await
}

/// What an update changes; every change ends the user's other sessions (a new epoch).
pub enum Change {
    Password(String),
    Role { admin: bool },
    Disabled(bool),
}

/// Replaces a password's hash by another of the same password (new parameters), unless the
/// password changed meanwhile. Sessions stay: it is the same password.
pub async fn rehash(db: &DatabaseConnection, user: &Model, hash: String) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .filter(Column::Id.eq(user.id.as_str()))
        .filter(Column::PasswordHash.eq(user.password_hash.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Applies the change and returns the user's new session epoch.
pub async fn change(
    db: &impl sea_orm::ConnectionTrait,
    user: &Model,
    change: Change,
) -> Result<i64, DbErr> {
    let epoch = user.session_epoch + 1;
    let mut update = Entity::update_many()
        .col_expr(Column::SessionEpoch, Expr::value(epoch))
        .filter(Column::Id.eq(user.id.as_str()));
    update = match change {
        Change::Password(hash) => update.col_expr(Column::PasswordHash, Expr::value(hash)),
        Change::Role { admin } => {
            update.col_expr(Column::Role, Expr::value(role_of(admin).as_str()))
        }
        Change::Disabled(disabled) => update.col_expr(Column::Disabled, Expr::value(disabled)),
    };
    update.exec(db).await?;
    Ok(epoch)
}

fn role_of(admin: bool) -> Role {
    if admin {
        Role::Admin
    } else {
        Role::User
    }
}

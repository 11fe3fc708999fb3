//! The platform's users: its backend provisions them under its own ids (`PUT /api/v1/users/{id}`)
//! with a name, an email and metadata, and no password; they reach the hub through connect and
//! portal links. Deleting one revokes and deletes their connections first.

use crate::base::audit::Kind;
use crate::base::store;
use crate::base::store::users::{Model, Profile};
use crate::domain::users::{check_username, Actor, UserError};
use crate::domain::Ctx;
use app::model::Role;
use sea_orm::DatabaseConnection;

/// A platform's user id: 1 to 128 visible ASCII characters (numbers, UUIDs, emails ...).
pub fn valid_platform_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// What a provisioning call did.
#[derive(Debug, PartialEq, Eq)]
pub enum Provisioned {
    /// A new user.
    Created,
    /// The profile or the disabled flag changed.
    Updated,
    /// The user already was exactly so (the call is idempotent).
    Unchanged,
}

/// Creates the user with this platform id, or brings an existing one (by platform or hub id)
/// to this profile and, when given, this disabled flag.
pub async fn provision(
    db: &DatabaseConnection,
    platform_id: &str,
    profile: Profile,
    disabled: Option<bool>,
    actor: &Actor,
) -> Result<(Model, Provisioned), UserError> {
    if !valid_platform_id(platform_id) {
        return Err(UserError::BadName);
    }
    let existing = store::users::by_platform_id(db, platform_id).await?;
    let (user, mut done) = match existing {
        Some(user) => {
            let same = user.name == profile.name
                && user.email == profile.email
                && user.metadata == profile.metadata;
            if !same {
                let txn = crate::base::store::begin(&db).await?;
                store::users::set_profile(&txn, &user.id, profile).await?;
                let event = actor.event(Kind::UserUpdated, &user.id);
                store::audit::append(&txn, event).await?;
                txn.commit().await?;
            }
            let done = if same {
                Provisioned::Unchanged
            } else {
                Provisioned::Updated
            };
            (user, done)
        }
        None => match create(db, platform_id, profile, actor).await {
            Ok(user) => (user, Provisioned::Created),
            // Two calls for one new id at once: the unique index lets one in; the other
            // finds its user.
            Err(e) => match store::users::by_platform_id(db, platform_id).await? {
                Some(user) => (user, Provisioned::Unchanged),
                None => return Err(e),
            },
        },
    };
    if let Some(disabled) = disabled.filter(|d| *d != user.disabled) {
        crate::domain::users::set_disabled(db, &user, disabled, actor).await?;
        if done == Provisioned::Unchanged {
            done = Provisioned::Updated;
        }
    }
    let user = store::users::by_id(db, &user.id)
        .await?
        .ok_or_else(|| UserError::Unknown(platform_id.to_string()))?;
    Ok((user, done))
}

async fn create(
    db: &DatabaseConnection,
    platform_id: &str,
    profile: Profile,
    actor: &Actor,
) -> Result<Model, UserError> {
    let username = username_for(db, platform_id).await?;
    let txn = crate::base::store::begin(&db).await?;
    let now = actor.origin.clock.now();
    let user = store::users::insert_external(&txn, platform_id, &username, profile, now).await?;
    store::audit::append(&txn, actor.event(Kind::UserCreated, &user.id)).await?;
    txn.commit().await?;
    Ok(user)
}

/// The dashboard's name for a provisioned user: the platform id where it is a valid and free
/// username, otherwise `user-` and a digest of it.
async fn username_for(db: &DatabaseConnection, platform_id: &str) -> Result<String, UserError> {
    if check_username(platform_id).is_ok()
        && store::users::by_username(db, platform_id).await?.is_none()
    {
        return Ok(platform_id.to_string());
    }
    let digest = store::digest(platform_id);
    let name = format!("user-{}", &digest[..16]);
    if store::users::by_username(db, &name).await?.is_none() {
        return Ok(name);
    }
    Ok(format!("user-{}", &store::new_id()[..18]))
}

/// Revokes and deletes every connection of the user, then the user (their sessions end with
/// the row). The last active administrator is never deleted. Returns how many connections went.
pub async fn delete(ctx: &Ctx, user: &Model, actor: &Actor) -> Result<usize, UserError> {
    if user.role() == Role::Admin
        && !user.disabled
        && store::users::active_admins(&ctx.db).await? <= 1
    {
        return Err(UserError::LastAdmin);
    }
    let connections = store::connections::for_user(&ctx.db, &user.id).await?;
    let count = connections.len();
    for row in connections {
        let provider = ctx.catalog.get(&row.provider);
        let event = actor.event(Kind::Disconnected, &user.id);
        crate::domain::disconnect::disconnect(ctx, row, provider.as_deref(), event).await?;
    }
    let txn = crate::base::store::begin(&ctx.db).await?;
    store::users::delete(&txn, &user.id).await?;
    store::audit::append(&txn, actor.event(Kind::UserDeleted, &user.id)).await?;
    txn.commit().await?;
    Ok(count)
}

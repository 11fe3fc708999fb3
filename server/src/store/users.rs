//! Local users with argon2id password hashes.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection};

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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn current_user(&self) -> app::model::CurrentUser {
        app::model::CurrentUser {
            id: self.id.clone(),
            username: self.username.clone(),
            admin: self.role == "admin",
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
) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(super::new_id()),
        username: Set(username.to_string()),
        password_hash: Set(password_hash),
        role: Set(if admin { "admin" } else { "user" }.to_string()),
        disabled: Set(false),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
}

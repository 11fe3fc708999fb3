//! The known-answer row: proves at start that the master key is the one this database uses.

use crate::base::vault::{Binding, Keyring};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection};
use secrecy::ExposeSecret;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vault_check")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub sealed: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

const KNOWN: &[u8] = b"atom known answer v1";
const BINDING: Binding<'static> = Binding {
    table: "vault_check",
    row_id: "1",
    user_id: "",
    provider: "",
    field: "known",
};

/// The known-answer row's binding (key rotation re-seals it).
pub fn known_binding() -> Binding<'static> {
    BINDING
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("the master key does not open this database's known-answer row: wrong key?")]
    WrongKey,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Opens the known-answer row with the keyring, writing it on first use.
pub async fn verify(db: &DatabaseConnection, vault: &Keyring) -> Result<(), CheckError> {
    match Entity::find_by_id(1).one(db).await? {
        Some(row) => match vault.open(&row.sealed, &BINDING) {
            Ok(plain) if plain.expose_secret().as_slice() == KNOWN => Ok(()),
            _ => Err(CheckError::WrongKey),
        },
        None => {
            ActiveModel {
                id: Set(1),
                sealed: Set(vault.seal(KNOWN, &BINDING)),
            }
            .insert(db)
            .await?;
            Ok(())
        }
    }
}

/// Before migrating: a database whose known answer does not open with `vault` is refused
/// with the same error as after, and nothing is written. A database without the row (or
/// without the table yet) passes: `verify` writes it after the migrations.
pub async fn refuse_a_wrong_key(url: &str, vault: &Keyring) -> Result<(), CheckError> {
    let db = super::connect(url).await?;
    let answer = matches(&db, vault).await;
    db.close().await?;
    match answer {
        Ok(Some(false)) => Err(CheckError::WrongKey),
        _ => Ok(()),
    }
}

/// Read-only: whether the known-answer row opens with `vault` (None when not written yet).
pub async fn matches(db: &DatabaseConnection, vault: &Keyring) -> Result<Option<bool>, DbErr> {
    let row = Entity::find_by_id(1).one(db).await?;
    Ok(row.map(|row| {
        vault
            .open(&row.sealed, &BINDING)
            .is_ok_and(|plain| plain.expose_secret().as_slice() == KNOWN)
    }))
}

/// The known-answer row, if the database has one yet.
pub async fn find(db: &DatabaseConnection) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(1).one(db).await
}

/// Replaces the known answer's ciphertext if it is still `old` (key rotation); true if so.
pub async fn swap_sealed(db: &DatabaseConnection, old: &[u8], new: Vec<u8>) -> Result<bool, DbErr> {
    let swapped = Entity::update_many()
        .col_expr(Column::Sealed, Expr::value(new))
        .filter(Column::Id.eq(1))
        .filter(Column::Sealed.eq(old.to_vec()))
        .exec(db)
        .await?;
    Ok(swapped.rows_affected == 1)
}

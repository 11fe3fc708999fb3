//! tower-sessions store in the database. Session ids are stored only as hashes.
//!
//! tower-sessions computes an expiry on the system clock; the store shifts it by the
//! application clock's offset when it writes and compares it with that clock when it reads,
//! so a moved clock ages sessions as if the time had passed.

use crate::base::clock::Clock;
use crate::base::hot::Hot;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection};
use std::sync::Arc;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub data: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A session row as kept in memory for a moment: its data parsed once, not on every request
/// (issue 19's profile: the status route parsed the same JSON again each time).
pub struct Kept {
    expires_at: DateTimeUtc,
    data: std::collections::HashMap<String, serde_json::Value>,
}

impl Kept {
    fn of(row: Model) -> Result<Self, DbErr> {
        let data = serde_json::from_str(&row.data).map_err(|e| DbErr::Custom(e.to_string()))?;
        Ok(Self {
            expires_at: row.expires_at,
            data,
        })
    }
}

#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    clock: Clock,
    /// Rows read recently by this instance (the browser-facing store has them; a check that
    /// must see the database's answer does not).
    hot: Option<Arc<Hot<Kept>>>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection, clock: Clock) -> Self {
        Self {
            db,
            clock,
            hot: None,
        }
    }

    /// A store that keeps rows it read in `hot` for a moment (every signed-in request reads
    /// its session; see `base::hot`). Saves and deletes through it drop the copy.
    pub fn cached(db: DatabaseConnection, clock: Clock, hot: Arc<Hot<Kept>>) -> Self {
        Self {
            hot: Some(hot),
            ..Self::new(db, clock)
        }
    }

    async fn kept(&self, id: &Id) -> session_store::Result<Option<Arc<Kept>>> {
        let key = key(id);
        let read = || async {
            let row = Entity::find_by_id(key.clone()).one(&self.db).await?;
            row.map(Kept::of).transpose()
        };
        match &self.hot {
            Some(hot) => hot.read_through(&key, read).await,
            None => read().await.map(|kept| kept.map(Arc::new)),
        }
        .map_err(backend)
    }

    fn forget(&self, id: &Id) {
        if let Some(hot) = &self.hot {
            hot.forget(&key(id));
        }
    }

    fn row(&self, record: &Record) -> session_store::Result<ActiveModel> {
        Ok(ActiveModel {
            id_hash: Set(key(&record.id)),
            data: Set(serde_json::to_string(&record.data).map_err(backend)?),
            expires_at: Set(to_chrono(record.expiry_date) + self.clock.offset()),
        })
    }
}

fn key(id: &Id) -> String {
    super::digest(&id.to_string())
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_chrono(at: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(at.unix_timestamp(), 0).unwrap_or_default()
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    /// A new session: insert only, and draw a new id in the (unlikely) case it is taken.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            match Entity::insert(self.row(record)?).exec(&self.db).await {
                Ok(_) => return Ok(()),
                Err(e)
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    record.id = Id::default();
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        Entity::insert(self.row(record)?)
            .on_conflict(
                OnConflict::column(Column::IdHash)
                    .update_columns([Column::Data, Column::ExpiresAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        self.forget(&record.id);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(kept) = self.kept(id).await? else {
            return Ok(None);
        };
        if kept.expires_at <= self.clock.now() {
            return Ok(None);
        }
        let expires_at = kept.expires_at - self.clock.offset();
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp(expires_at.timestamp()).map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data: kept.data.clone(),
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        Entity::delete_by_id(key(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        self.forget(id);
        Ok(())
    }
}

/// Removes expired sessions; run now and then.
pub async fn delete_expired(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

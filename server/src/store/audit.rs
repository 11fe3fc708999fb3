//! The append-only audit log, written in the same transaction as the change it records.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i32,
    pub at: DateTimeUtc,
    pub kind: String,
    pub actor_user_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub provider: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn append(db: &impl ConnectionTrait, event: crate::audit::Event) -> Result<(), DbErr> {
    ActiveModel {
        at: Set(chrono::Utc::now()),
        kind: Set(event.kind.name().to_string()),
        actor_user_id: Set(event.actor),
        subject_user_id: Set(event.subject),
        provider: Set(event.provider),
        ip: Set(event.ip),
        user_agent: Set(event.user_agent),
        outcome: Set(if event.ok { "success" } else { "failure" }.to_string()),
        reason: Set(event.reason),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Events after `seq`, oldest first (the live-update poller's feed).
pub async fn after(db: &impl ConnectionTrait, seq: i32, limit: u64) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Seq.gt(seq))
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i32, DbErr> {
    let last = Entity::find().order_by_desc(Column::Seq).one(db).await?;
    Ok(last.map(|e| e.seq).unwrap_or(0))
}

pub async fn for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::SubjectUserId.eq(user_id))
        .order_by_asc(Column::Seq)
        .all(db)
        .await
}

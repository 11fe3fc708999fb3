//! The append-only audit log, written in the same transaction as the change it records.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub kind: String,
    pub actor_user_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub provider: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    /// The event's link in the hash chain (`domain::audit_chain`); None until sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Appends the event (in the caller's transaction when it passes one). Nothing else: a change
/// to a connection queues its webhook through `domain::connections::record_change`.
pub async fn append(
    db: &impl ConnectionTrait,
    event: crate::base::audit::Event,
) -> Result<(), DbErr> {
    Entity::insert(row(event))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Appends events that belong to no transaction of their own (a token handed out, a proxied
/// call) by group commit: every event that arrives while one insert runs goes into the next,
/// one statement for all of them, so a burst costs the database one write instead of one
/// each. [`Writer::append`] answers only after its event's insert committed: a hand-out is
/// never acknowledged with its audit row still in memory. The writing task ends when the
/// last `Writer` is dropped.
#[derive(Clone)]
pub struct Writer {
    queue: tokio::sync::mpsc::Sender<Queued>,
}

type Queued = (
    crate::base::audit::Event,
    tokio::sync::oneshot::Sender<Result<(), std::sync::Arc<DbErr>>>,
);

/// Events in one insert, at most (ten columns each, well inside both databases' limits on
/// bound values).
const BATCH: usize = 256;

impl Writer {
    /// Starts the writing task on `db` (needs a Tokio runtime).
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        let (queue, mut queued) = tokio::sync::mpsc::channel::<Queued>(4 * BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                if batch.is_empty() && queued.recv_many(&mut batch, BATCH).await == 0 {
                    return;
                }
                while batch.len() < BATCH {
                    match queued.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                // One insert (one commit) of a power-of-two length; the events left over go
                // first into the next, with those that arrive meanwhile. Splitting a batch
                // into several inserts cost a commit each: p99 27 ms at 16 callers.
                let shape = super::batch_shape(batch.len());
                let (events, replies): (Vec<_>, Vec<_>) = batch.drain(..shape).unzip();
                let written = Entity::insert_many(events.into_iter().map(row))
                    .exec_without_returning(&db)
                    .await
                    .map(|_| ())
                    .map_err(std::sync::Arc::new);
                for reply in replies {
                    let _ = reply.send(written.clone());
                }
            }
        });
        Self { queue }
    }

    /// Appends `event`, returning once it is committed (with others that arrived with it).
    pub async fn append(&self, event: crate::base::audit::Event) -> Result<(), DbErr> {
        let (reply, written) = tokio::sync::oneshot::channel();
        let stopped = || DbErr::Custom("the audit writer has stopped".into());
        self.queue
            .send((event, reply))
            .await
            .map_err(|_| stopped())?;
        written.await.map_err(|_| stopped())?.map_err(|shared| {
            // Every event of the batch failed with it: each caller gets its kind of failure.
            std::sync::Arc::try_unwrap(shared).unwrap_or_else(|shared| {
                if super::unreachable(&shared) {
                    DbErr::Conn(sea_orm::RuntimeErr::Internal(shared.to_string()))
                } else {
                    DbErr::Custom(shared.to_string())
                }
            })
        })
    }
}

fn row(event: crate::base::audit::Event) -> ActiveModel {
    ActiveModel {
        at: Set(event.at),
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
}

/// Events after `seq`, oldest first (the live-update poller's feed).
pub async fn after(db: &impl ConnectionTrait, seq: i64, limit: u64) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Seq.gt(seq))
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// The oldest events from before `cutoff`, oldest first (the retention job's batches).
pub async fn older_than(
    db: &impl ConnectionTrait,
    cutoff: DateTimeUtc,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::At.lt(cutoff))
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes the events from before `cutoff` up to and including `seq`; how many went.
pub async fn delete_through(
    db: &impl ConnectionTrait,
    seq: i64,
    cutoff: DateTimeUtc,
) -> Result<u64, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::Seq.lte(seq))
        .filter(Column::At.lt(cutoff))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// The addresses `user_id` signed in from successfully in the last 90 days (at most 50, the
/// newest first): their usual addresses.
pub async fn signed_in_from(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: DateTimeUtc,
) -> Result<Vec<String>, DbErr> {
    let since = now - chrono::Duration::days(90);
    let rows: Vec<Option<String>> = Entity::find()
        .select_only()
        .column(Column::Ip)
        .filter(Column::Kind.eq(crate::base::audit::Kind::SignIn.name()))
        .filter(Column::Outcome.eq("success"))
        .filter(Column::ActorUserId.eq(user_id))
        .filter(Column::At.gte(since))
        .order_by_desc(Column::Seq)
        .limit(50)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// The newest sealed event (the chain's end), if any.
pub async fn last_sealed(db: &impl ConnectionTrait) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Hash.is_not_null())
        .order_by_desc(Column::Seq)
        .one(db)
        .await
}

/// Unsealed events after `seq` that happened before `before`, oldest first.
pub async fn unsealed_after(
    db: &impl ConnectionTrait,
    seq: i64,
    before: DateTimeUtc,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Seq.gt(seq))
        .filter(Column::Hash.is_null())
        .filter(Column::At.lt(before))
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Seals events, each with its hash, where nobody did yet, in order: one statement for each
/// run of a power-of-two length (a statement per event could not keep up with audited
/// hand-outs; one of every length filled the statement caches; issue 19).
pub async fn seal(db: &impl ConnectionTrait, mut links: &[(i64, String)]) -> Result<(), DbErr> {
    while !links.is_empty() {
        let (run, rest) = links.split_at(super::batch_shape(links.len()));
        seal_run(db, run).await?;
        links = rest;
    }
    Ok(())
}

async fn seal_run(db: &impl ConnectionTrait, links: &[(i64, String)]) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let mut values = Vec::with_capacity(2 * links.len());
    let rows: Vec<String> = links
        .iter()
        .enumerate()
        .map(|(i, (seq, hash))| {
            values.push((*seq).into());
            values.push(hash.as_str().into());
            match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    format!("(${}::bigint, ${}::text)", 2 * i + 1, 2 * i + 2)
                }
                _ => "(?, ?)".to_string(),
            }
        })
        .collect();
    let sql = format!(
        "WITH links (seq, hash) AS (VALUES {}) \
         UPDATE audit_events SET hash = links.hash FROM links \
         WHERE audit_events.seq = links.seq AND audit_events.hash IS NULL",
        rows.join(", ")
    );
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend, sql, values,
    ))
    .await?;
    Ok(())
}

/// When the newest event of `kind` that names no provider happened, if any (one lookup in the
/// provider, kind, seq index).
pub async fn last_of_kind(
    db: &impl ConnectionTrait,
    kind: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbErr> {
    let newest = Entity::find()
        .filter(Column::Provider.is_null())
        .filter(Column::Kind.eq(kind))
        .order_by_desc(Column::Seq)
        .one(db)
        .await?;
    Ok(newest.map(|event| event.at))
}

pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
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

/// A provider's connect flows since a moment, from the audit log.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FlowStats {
    pub succeeded: u64,
    pub failed: u64,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub last_failure_reason: Option<String>,
}

pub async fn flow_stats(
    db: &impl ConnectionTrait,
    provider: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<FlowStats, DbErr> {
    use crate::base::audit::Kind;
    // Counted by the database and the two newest read by index: a busy day's events are
    // never loaded (they were, every time a provider's health was counted).
    let (succeeded, failed) = (Kind::ConnectSucceeded.name(), Kind::ConnectFailed.name());
    let of_kind = |kind: &str| {
        Entity::find()
            .filter(Column::Provider.eq(provider))
            .filter(Column::Kind.eq(kind))
            .filter(Column::At.gte(since))
    };
    let count = |kind: &str| of_kind(kind).count(db);
    let newest = |kind: &str| of_kind(kind).order_by_desc(Column::Seq).one(db);
    let last_success = newest(succeeded).await?;
    let last_failure = newest(failed).await?;
    Ok(FlowStats {
        succeeded: count(succeeded).await?,
        failed: count(failed).await?,
        last_success_at: last_success.map(|e| e.at.to_rfc3339()),
        last_failure_at: last_failure.as_ref().map(|e| e.at.to_rfc3339()),
        last_failure_reason: last_failure.and_then(|e| e.reason),
    })
}

/// When the provider last refused the app's client credentials on a refresh, if nothing has
/// succeeded with them since (a refresh or a new connection).
pub async fn client_rejected_at(
    db: &impl ConnectionTrait,
    provider: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbErr> {
    use crate::base::audit::Kind;
    let rejected = Entity::find()
        .filter(Column::Provider.eq(provider))
        .filter(Column::Kind.eq(Kind::Refreshed.name()))
        .filter(Column::Reason.eq("invalid_client"))
        .order_by_desc(Column::Seq)
        .one(db)
        .await?;
    let Some(rejected) = rejected else {
        return Ok(None);
    };
    let since = Entity::find()
        .filter(Column::Provider.eq(provider))
        .filter(Column::Kind.is_in([Kind::Refreshed.name(), Kind::ConnectSucceeded.name()]))
        .filter(Column::Outcome.eq("success"))
        .filter(Column::Seq.gt(rejected.seq))
        .one(db)
        .await?;
    Ok(since.is_none().then_some(rejected.at))
}

/// What the audit viewer and its export filter by; every part optional.
#[derive(Default)]
pub struct Search {
    /// Events where this user acted or was acted on.
    pub user_id: Option<String>,
    pub provider: Option<String>,
    pub kind: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events older than this sequence number (paging back).
    pub before: Option<i64>,
}

/// Matching events, newest first.
pub async fn search(
    db: &impl ConnectionTrait,
    search: &Search,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    use sea_orm::Condition;
    let mut query = Entity::find();
    if let Some(user) = &search.user_id {
        query = query.filter(
            Condition::any()
                .add(Column::ActorUserId.eq(user.as_str()))
                .add(Column::SubjectUserId.eq(user.as_str())),
        );
    }
    if let Some(provider) = &search.provider {
        query = query.filter(Column::Provider.eq(provider.as_str()));
    }
    if let Some(kind) = &search.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(outcome) = &search.outcome {
        query = query.filter(Column::Outcome.eq(outcome.as_str()));
    }
    if let Some(from) = search.from {
        query = query.filter(Column::At.gte(from));
    }
    if let Some(until) = search.until {
        query = query.filter(Column::At.lt(until));
    }
    if let Some(before) = search.before {
        query = query.filter(Column::Seq.lt(before));
    }
    query.order_by_desc(Column::Seq).limit(limit).all(db).await
}

/// Refreshes since `since` by outcome and reason, grouped by the database (a week of
/// refreshes at 100,000 connections is millions of events).
pub async fn refresh_outcomes(
    db: &impl ConnectionTrait,
    since: DateTimeUtc,
) -> Result<Vec<(String, Option<String>, i64)>, DbErr> {
    use crate::base::audit::Kind;
    let kinds = [Kind::Refreshed.name(), Kind::NeedsReauth.name()];
    Entity::find()
        .select_only()
        .column(Column::Outcome)
        .column(Column::Reason)
        .column_as(Column::Seq.count(), "n")
        .filter(Column::Kind.is_in(kinds))
        .filter(Column::At.gte(since))
        .group_by(Column::Outcome)
        .group_by(Column::Reason)
        .into_tuple()
        .all(db)
        .await
}

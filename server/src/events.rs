//! Live updates. Every instance reads new audit events and publishes what changed to its open
//! pages, so a change made by any process sharing the database reaches all. On PostgreSQL every
//! committed audit insert notifies `atom_audit` (a trigger, migration m0011), which wakes each
//! instance's reader at once; on either database a request that may have changed something
//! wakes its own instance's reader as it ends (`wake`); polling (`jobs.events_poll_milliseconds`)
//! is the fallback for the rest (background jobs).

use crate::base::audit::Kind;
use crate::base::store;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::DatabaseConnection;
use std::time::Duration;
use tokio::sync::broadcast;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A user's connection to a provider changed.
    Connection { user_id: String, provider: String },
    /// Something every user's Connections page shows changed (a provider turned off).
    Everyone,
    /// New audit events were written: administrators' dashboards update their numbers.
    Audit,
    /// Something that may end a user's sessions happened (sign-out, password or role change,
    /// disabled): their open streams check whether their session still stands.
    Account { user_id: String },
}

#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<Change>,
    /// Set at shutdown: open streams end so in-flight requests can finish.
    closing: tokio::sync::watch::Sender<bool>,
    /// Wakes this instance's reader (each instance has its own).
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Events {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(256).0,
            closing: tokio::sync::watch::channel(false).0,
            wake: std::sync::Arc::default(),
        }
    }

    /// Reads new audit events now rather than at the next poll (after a request that may have
    /// written some). Several wakes before the reader runs make one read.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Ends every open stream (graceful shutdown); browsers reconnect to another instance.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves when `close` is called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Reads the audit log every `every`, and on PostgreSQL whenever it is notified, until
    /// `close` is called: every event written after this returns.
    ///
    /// Where the reading starts is taken here, before the instance answers anyone. It was
    /// taken in the reading task, after the LISTEN connection was made: a connection slow to
    /// come (seconds, on a busy machine) left the events written meanwhile unread, and a page
    /// opened at once never heard of them (`instances::a_browser_can_alternate_between_two_instances`,
    /// 3 times in about 35 runs on PostgreSQL with two busy cores).
    pub async fn spawn_poller(&self, db: DatabaseConnection, url: &str, every: Duration) {
        let sender = self.sender.clone();
        let wake = self.wake.clone();
        let closed = self.closed();
        let url = url.starts_with("postgres").then(|| url.to_string());
        let start = store::audit::last_seq(&db).await.unwrap_or(0);
        tokio::spawn(async move {
            tokio::pin!(closed);
            let mut listener = match url {
                Some(url) => listen(&url).await,
                None => None,
            };
            let mut read = Watermark::new(start);
            let (mut audit_due, mut audit_sent) =
                (false, tokio::time::Instant::now() - AUDIT_EVERY);
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    () = &mut closed => break,
                    _ = ticker.tick() => {}
                    () = wake.notified() => {}
                    heard = notified(&mut listener) => {
                        if let Err(e) = heard {
                            // sqlx reconnects on the next receive; the ticker covers the gap.
                            tracing::warn!(error = %e, "audit notifications interrupted");
                            tokio::time::sleep(every).await;
                        }
                    }
                }
                let batch = match store::audit::after(&db, read.last, 500).await {
                    Ok(batch) => read.fresh(batch),
                    Err(e) => {
                        tracing::warn!(error = %e, "event poll failed");
                        continue;
                    }
                };
                // No subscribers is fine: nobody is watching. Dashboards reload their numbers on
                // `Audit`: at most every AUDIT_EVERY, however fast events are written.
                audit_due |= !batch.is_empty();
                if audit_due && audit_sent.elapsed() >= AUDIT_EVERY {
                    let _ = sender.send(Change::Audit);
                    (audit_due, audit_sent) = (false, tokio::time::Instant::now());
                }
                for event in batch {
                    if Kind::ends_sessions(&event.kind) {
                        let who = event
                            .subject_user_id
                            .clone()
                            .or(event.actor_user_id.clone());
                        if let Some(user_id) = who {
                            let _ = sender.send(Change::Account { user_id });
                        }
                    }
                    if Kind::changes_everyone(&event.kind) {
                        let _ = sender.send(Change::Everyone);
                    }
                    if !Kind::changes_connection(&event.kind) {
                        continue;
                    }
                    if let (Some(user_id), Some(provider)) = (event.subject_user_id, event.provider)
                    {
                        let _ = sender.send(Change::Connection { user_id, provider });
                    }
                }
            }
        });
    }
}

/// How long a gap in the sequence is waited for (see `Watermark`).
const GAP_WAIT: Duration = Duration::from_secs(2);

/// What the reader has delivered. PostgreSQL hands out sequence numbers before commit, so a
/// transaction that took 101 may commit after 102 was read (and a rolled-back one leaves 101
/// empty for ever): reading on from 102 would skip 101 for good. `last` advances only over
/// what is contiguous; events past a gap are remembered so they are delivered once, and a gap
/// still open after `GAP_WAIT` is given up.
struct Watermark {
    last: i64,
    beyond: std::collections::BTreeSet<i64>,
    gap_since: Option<tokio::time::Instant>,
}

impl Watermark {
    fn new(last: i64) -> Self {
        Self {
            last,
            beyond: Default::default(),
            gap_since: None,
        }
    }

    /// The events of `batch` (everything after `last`) not delivered yet.
    fn fresh(&mut self, batch: Vec<store::audit::Model>) -> Vec<store::audit::Model> {
        let fresh: Vec<_> = batch
            .into_iter()
            .filter(|e| self.beyond.insert(e.seq))
            .collect();
        self.advance();
        if let Some(&next) = self.beyond.first() {
            let since = *self.gap_since.get_or_insert_with(tokio::time::Instant::now);
            if since.elapsed() >= GAP_WAIT {
                self.last = next - 1;
                self.advance();
            }
        }
        fresh
    }

    fn advance(&mut self) {
        while self.beyond.remove(&(self.last + 1)) {
            self.last += 1;
            self.gap_since = None;
        }
    }
}

/// How often open dashboards are told to reload their numbers, at most (a change to a
/// connection is announced at once).
const AUDIT_EVERY: Duration = Duration::from_millis(500);

/// A connection listening on `atom_audit`, or None (then polling alone delivers changes).
async fn listen(url: &str) -> Option<PgListener> {
    let connected = async {
        let mut listener = PgListener::connect(url).await?;
        listener.listen("atom_audit").await?;
        Ok::<_, sea_orm::sqlx::Error>(listener)
    };
    match connected.await {
        Ok(listener) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for audit notifications: polling only");
            None
        }
    }
}

/// The next notification (never, without a listener).
async fn notified(listener: &mut Option<PgListener>) -> Result<(), sea_orm::sqlx::Error> {
    match listener {
        Some(listener) => listener.recv().await.map(|_| ()),
        None => std::future::pending().await,
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

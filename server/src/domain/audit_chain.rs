//! A tamper-evident audit log: each event is sealed with a hash over its own fields and the
//! previous event's hash (SHA-256), so changing, inserting or removing a sealed event breaks
//! every link after it, and `atom audit verify` names the first broken one.
//!
//! Events are appended without a hash (appends stay as fast and concurrent as before) and
//! sealed in order by a background job a few seconds later ([`SEAL_AFTER_SECONDS`]: a
//! transaction still open then would otherwise commit an event below a sealed one). Sealing
//! is deterministic, so two instances sealing at once write the same values. Retention
//! removes the oldest events: the chain then starts at the first one kept.

use crate::base::store::{self, audit::Model};
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

/// Events are sealed once they are this old.
pub const SEAL_AFTER_SECONDS: i64 = 10;

/// What a chain starts from before its first event.
const GENESIS: &str = "atom-audit-chain-v1";

/// An event's link: the hash of the previous link and the event's fields.
pub fn link(previous: &str, event: &Model) -> String {
    let fields = serde_json::json!([
        event.seq,
        event
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        event.kind,
        event.actor_user_id,
        event.subject_user_id,
        event.provider,
        event.ip,
        event.user_agent,
        event.outcome,
        event.reason,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(fields.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Seals the events old enough, in order; how many were sealed.
pub async fn seal(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let before = now - chrono::Duration::seconds(SEAL_AFTER_SECONDS);
    let last = store::audit::last_sealed(db).await?;
    let (mut after, mut previous) = match last {
        Some(event) => (event.seq, event.hash.unwrap_or_default()),
        None => (0, GENESIS.to_string()),
    };
    let mut sealed = 0;
    loop {
        let batch = store::audit::unsealed_after(db, after, before, 512).await?;
        if batch.is_empty() {
            return Ok(sealed);
        }
        let mut links = Vec::with_capacity(batch.len());
        for event in batch {
            let hash = link(&previous, &event);
            after = event.seq;
            previous = hash.clone();
            links.push((event.seq, hash));
        }
        store::audit::seal(db, &links).await?;
        sealed += links.len() as u64;
    }
}

/// What a verification found.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// Sealed events whose links hold.
    pub checked: u64,
    /// Events not sealed yet (the newest few seconds').
    pub unsealed: u64,
    /// The first event whose link does not hold: it, or one before it, was changed, inserted
    /// or removed.
    pub broken_at: Option<i64>,
}

/// Walks the whole log in order and checks every sealed link.
pub async fn verify(db: &DatabaseConnection) -> Result<Verified, sea_orm::DbErr> {
    let mut result = Verified {
        checked: 0,
        unsealed: 0,
        broken_at: None,
    };
    let mut previous: Option<String> = None;
    let mut after = 0;
    loop {
        let batch = store::audit::after(db, after, 1000).await?;
        let Some(tail) = batch.last() else {
            return Ok(result);
        };
        after = tail.seq;
        for event in batch {
            let Some(hash) = &event.hash else {
                result.unsealed += 1;
                continue;
            };
            // The first event kept starts the chain: its predecessor is the genesis, or was
            // removed by retention.
            let expected = previous
                .as_ref()
                .map_or_else(|| hash.clone(), |previous| link(previous, &event));
            if result.unsealed > 0 || expected != *hash {
                // A sealed event after an unsealed one, or a link that does not hold.
                result.broken_at = Some(event.seq);
                return Ok(result);
            }
            previous = Some(hash.clone());
            result.checked += 1;
        }
    }
}

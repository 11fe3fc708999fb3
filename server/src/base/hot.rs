//! Rows read on nearly every request (a browser's session, its user), kept in memory for at
//! most [`MAX_AGE`] so a page or a status call does not read them from the database each time
//! (issue 19). Whoever changes such a row on this instance drops the copy at once
//! ([`Hot::forget`], [`Hot::forget_all`]); another instance's copy ages out within `MAX_AGE`,
//! and on PostgreSQL sooner: its notification of the change drops it (`events`).
//!
//! A read that started before a drop never stores what it read after the drop: each read
//! notes the generation it began in, and every drop moves to a new one. Copies are shared
//! (`Arc`), not cloned, on every hit.

use crate::base::store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a copy is used before the database is asked again.
pub const MAX_AGE: Duration = Duration::from_millis(500);

/// Copies kept at most; a full cache starts over (a burst of distinct keys only costs reads).
const MAX_ENTRIES: usize = 10_000;

/// How often a store sweeps out copies older than `MAX_AGE`. Without it, a copy nobody read
/// again (a session signed out, a user seen once) stayed until the cache filled: 10,000 of
/// them grew a soak's hub by megabytes (issue 19).
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// What nearly every request reads, kept in memory briefly. Sessions are dropped by the
/// session store as it saves or deletes them. Users, API keys, connections and provider
/// switches are dropped by every request that may have changed one (`http::edge`)
/// and by the audit log's news of a change made anywhere (`jobs::forget_changed_accounts`); a
/// connection also by whoever writes it outside such a request (a refresh, a provider's
/// pause, a connect flow's callback), after the write commits.
#[derive(Default)]
pub struct HotRows {
    pub sessions: Arc<Hot<store::sessions::Kept>>,
    /// By id, and by platform id under [`HotRows::platform_key`].
    pub users: Arc<Hot<store::users::Model>>,
    /// Backend API keys by the digest of the key presented (never the key itself).
    pub api_keys: Hot<store::api_keys::Model>,
    /// A user's connections to one service, oldest first (key: [`HotRows::connections_key`]).
    pub connections: Hot<Vec<store::connections::Model>>,
    /// Whether an administrator lets new flows start, by service.
    pub providers_enabled: Hot<bool>,
}

impl HotRows {
    pub fn connections_key(user_id: &str, service: &str) -> String {
        format!("{user_id}\n{service}")
    }

    pub fn platform_key(platform_id: &str) -> String {
        format!("platform:{platform_id}")
    }

    /// Drops the copy of a user's connections to `service` (call after the write commits).
    pub fn forget_connections(&self, user_id: &str, service: &str) {
        self.connections
            .forget(&Self::connections_key(user_id, service));
    }
}

pub struct Hot<V> {
    entries: Mutex<Entries<V>>,
    generation: AtomicU64,
}

struct Entries<V> {
    by_key: HashMap<String, (Instant, Arc<V>)>,
    swept: Instant,
}

impl<V> Hot<V> {
    pub fn new() -> Self {
        Self {
            entries: Mutex::new(Entries {
                by_key: HashMap::new(),
                swept: Instant::now(),
            }),
            generation: AtomicU64::new(0),
        }
    }

    /// A copy of `key` younger than `MAX_AGE`.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .by_key
            .get(key)
            .filter(|(at, _)| at.elapsed() < MAX_AGE)
            .map(|(_, value)| value.clone())
    }

    /// The generation a read begins in (pass it to [`Hot::put`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `value` for `key`, unless something was dropped since the read began (`since`).
    pub fn put(&self, key: String, value: Arc<V>, since: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != since {
            return;
        }
        let now = Instant::now();
        if now.duration_since(entries.swept) >= SWEEP_EVERY {
            entries
                .by_key
                .retain(|_, (at, _)| now.duration_since(*at) < MAX_AGE);
            entries.swept = now;
        }
        if entries.by_key.len() >= MAX_ENTRIES {
            entries.by_key.clear();
        }
        entries.by_key.insert(key, (now, value));
    }

    /// The copy of `key`, or what `load` reads (kept when it found something). `load` is
    /// called only on a miss: a query built before the lookup cost a status request 3 % of its
    /// CPU though it was never sent (issue 19's profile).
    pub async fn read_through<E, F, L>(&self, key: &str, load: L) -> Result<Option<Arc<V>>, E>
    where
        L: FnOnce() -> F,
        F: std::future::Future<Output = Result<Option<V>, E>>,
    {
        if let Some(value) = self.get(key) {
            return Ok(Some(value));
        }
        let read = self.generation();
        let value = load().await?.map(Arc::new);
        if let Some(value) = &value {
            self.put(key.to_string(), value.clone(), read);
        }
        Ok(value)
    }

    /// Drops the copy of `key` (it changed or is gone).
    pub fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.by_key.remove(key);
    }

    /// Drops every copy.
    pub fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.by_key.clear();
    }
}

impl<V> Default for Hot<V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_used_until_it_ages_or_is_dropped() {
        let hot = Hot::new();
        let read = hot.generation();
        hot.put("a".into(), Arc::new(1), read);
        assert_eq!(hot.get("a").as_deref(), Some(&1));
        hot.forget("a");
        assert_eq!(hot.get("a"), None);
        hot.put("a".into(), Arc::new(2), hot.generation());
        std::thread::sleep(MAX_AGE);
        assert_eq!(hot.get("a"), None, "older than MAX_AGE");
    }

    /// Copies nobody reads again are swept out once they are older than `MAX_AGE`, not kept
    /// until the cache is full.
    #[test]
    fn aged_copies_are_swept_out() {
        let hot = Hot::new();
        for i in 0..100 {
            hot.put(format!("session {i}"), Arc::new(i), hot.generation());
        }
        std::thread::sleep(SWEEP_EVERY);
        hot.put("fresh".into(), Arc::new(0), hot.generation());
        let entries = hot.entries.lock().expect("lock");
        assert_eq!(entries.by_key.len(), 1, "only the fresh copy is left");
    }

    /// A read that began before a change must not store the old row after the change dropped
    /// the copies: the next request would see the old row (a disabled user still signed in).
    #[test]
    fn a_read_from_before_a_drop_is_not_kept() {
        let hot = Hot::new();
        let read = hot.generation();
        hot.forget_all();
        hot.put("user".into(), Arc::new("before the change"), read);
        assert_eq!(hot.get("user"), None);
    }
}

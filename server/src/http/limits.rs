//! Rate limits: sign-in per account and per client address, connect starts per user,
//! callbacks and other state-changing requests per client address, API calls per key; 429 +
//! Retry-After. On PostgreSQL, where several instances run, the counts are in the database
//! (one per key and minute, shared by every instance: N instances no longer allow N times the
//! limit); on SQLite (one instance) in memory (governor).
//!
//! Sign-in limits are counted in the database on every attempt. The others count here first:
//! while this instance's view of a key (the shared count as last seen, plus what it took
//! since) stays within half the limit, a request takes a unit without a database write, and
//! `flush` adds those units to the shared count every quarter second. Past half, every take
//! is counted in the database at once, exactly. So two instances never pass a limit between
//! them, and N instances at most N/2 times it within a quarter second; a token hand-out or a
//! connect flow under its limit writes no count of its own (issue 19).

use super::error::ApiError;
use crate::base::config::LimitsConfig;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

/// Which limit a request counts against.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// Sign-in per account and address group.
    SignInAccount,
    /// Sign-in per account, from addresses it never signed in from.
    SignInUnknown,
    /// Sign-in per address group.
    SignInAddress,
    /// Connect starts per user.
    Connect,
    /// Callbacks per address.
    Callback,
    /// State-changing requests per address.
    Mutation,
    /// Backend API calls per key.
    Api,
}

impl Limit {
    fn name(self) -> &'static str {
        match self {
            Self::SignInAccount => "sign_in_account",
            Self::SignInUnknown => "sign_in_unknown",
            Self::SignInAddress => "sign_in_address",
            Self::Connect => "connect",
            Self::Callback => "callback",
            Self::Mutation => "mutation",
            Self::Api => "api",
        }
    }
}

pub struct Limits {
    local: HashMap<&'static str, DefaultKeyedRateLimiter<String>>,
    per_minute: HashMap<&'static str, u32>,
    /// The database every instance shares (PostgreSQL), when the counts live there.
    shared: Option<sea_orm::DatabaseConnection>,
    /// This instance's part of the shared counts, by `limit:key` (see the module's comment).
    shares: Mutex<HashMap<String, Share>>,
    clock: crate::base::clock::Clock,
    /// Refused cross-origin requests per address in the current minute: the first is audited
    /// at once, the rest as one count when the minute is over (an audit row per request let
    /// anyone make the database write as fast as they could send).
    refusals: Mutex<HashMap<String, (i64, u32)>>,
    /// Open live-update streams per user (`u:`) and per address (`a:`), and their caps.
    streams: Arc<Mutex<HashMap<String, u32>>>,
    streams_per_user: u32,
    streams_per_address: u32,
}

/// One key's shared count as this instance knows it, in one window (minute).
#[derive(Default)]
struct Share {
    window: i64,
    /// The database's count when this instance last wrote to it.
    seen: i64,
    /// Units taken here and not yet added to the database's count.
    unsent: i64,
}

/// One open stream, counted until it is dropped.
pub struct StreamSlot {
    streams: Arc<Mutex<HashMap<String, u32>>>,
    keys: [String; 2],
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        for key in &self.keys {
            if let Some(open) = streams.get_mut(key) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    streams.remove(key);
                }
            }
        }
    }
}

fn per_minute(count: u32) -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
    ))
}

impl Limits {
    /// By default five guesses per account a minute, then one every 12 s: slow, not locked.
    /// `shared`: the database to count in, where several instances share the limits.
    pub fn new(
        config: &LimitsConfig,
        shared: Option<sea_orm::DatabaseConnection>,
        clock: crate::base::clock::Clock,
    ) -> Self {
        let quotas = [
            (Limit::SignInAccount, config.sign_in_per_account),
            (
                Limit::SignInUnknown,
                config.sign_in_per_account_unknown_addresses,
            ),
            (Limit::SignInAddress, config.sign_in_per_address),
            (Limit::Connect, config.connect_per_user),
            (Limit::Callback, config.callback_per_address),
            (Limit::Mutation, config.mutation_per_address),
            (Limit::Api, config.api_per_key),
        ];
        Self {
            local: quotas
                .iter()
                .map(|(limit, n)| (limit.name(), per_minute(*n)))
                .collect(),
            per_minute: quotas
                .iter()
                .map(|(limit, n)| (limit.name(), (*n).max(1)))
                .collect(),
            shared,
            shares: Mutex::new(HashMap::new()),
            clock,
            refusals: Mutex::new(HashMap::new()),
            streams: Arc::new(Mutex::new(HashMap::new())),
            streams_per_user: config.streams_per_user.max(1),
            streams_per_address: config.streams_per_address.max(1),
        }
    }

    /// A slot for one more live stream of `user_id` from `address`, or 429 when either has
    /// its cap open already (each stream holds a connection and a task).
    pub fn open_stream(&self, user_id: &str, address: &str) -> Result<StreamSlot, ApiError> {
        let keys = [format!("u:{user_id}"), format!("a:{address}")];
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let open = |key: &String| streams.get(key).copied().unwrap_or(0);
        if open(&keys[0]) >= self.streams_per_user || open(&keys[1]) >= self.streams_per_address {
            let mut error = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                "Too many live pages are open. Close some and reload.",
            );
            error.retry_after = Some(30);
            return Err(error);
        }
        for key in &keys {
            *streams.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(StreamSlot {
            streams: self.streams.clone(),
            keys,
        })
    }

    /// Counts a refused request from `address` in `minute`; true for the first of that
    /// minute (the one to audit now).
    pub fn refused(&self, address: &str, minute: i64) -> bool {
        let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        let entry = refusals.entry(address.to_string()).or_insert((minute, 0));
        if entry.0 != minute {
            // A new minute for this address: the old count is lost only if nobody drained it,
            // which `repeated` does every minute.
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 == 1
    }

    /// The addresses refused more than once in a minute before `minute`, with how many times
    /// beyond the first (already audited); forgets them.
    pub fn repeated(&self, minute: i64) -> Vec<(String, i64, u32)> {
        let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        let done: Vec<String> = refusals
            .iter()
            .filter(|(_, (m, _))| *m < minute)
            .map(|(a, _)| a.clone())
            .collect();
        done.into_iter()
            .filter_map(|address| {
                let (m, count) = refusals.remove(&address)?;
                (count > 1).then_some((address, m, count - 1))
            })
            .collect()
    }

    /// Takes one unit of `key`'s quota for `limit`, or answers 429 with the seconds to wait.
    pub async fn take(&self, limit: Limit, key: &str) -> Result<(), ApiError> {
        let Some(db) = &self.shared else {
            return take(&self.local[limit.name()], key);
        };
        let now = self.clock.now().timestamp();
        let window = now / 60;
        let most = i64::from(self.per_minute[limit.name()]);
        let key = format!("{}:{key}", limit.name());
        let exact = matches!(
            limit,
            Limit::SignInAccount | Limit::SignInUnknown | Limit::SignInAddress
        );
        let hits = if exact {
            1
        } else {
            let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
            let share = shares.entry(key.clone()).or_default();
            if share.window != window {
                *share = Share {
                    window,
                    ..Share::default()
                };
            }
            if share.seen + share.unsent < most / 2 {
                share.unsent += 1;
                return Ok(());
            }
            // Near the limit: counted now, with what this instance had not sent yet.
            std::mem::take(&mut share.unsent) + 1
        };
        let counted = match crate::base::store::rate_limits::add(db, &key, window, hits).await {
            Ok(counted) => counted,
            Err(e) => {
                // This request failed; the units taken before it still count (next flush).
                if !exact {
                    self.give_back(&key, window, hits - 1);
                }
                return Err(e.into());
            }
        };
        if !exact {
            self.saw(&key, window, counted);
        }
        if counted > most {
            return Err(too_many((60 - now % 60) as u64));
        }
        Ok(())
    }

    /// Whether the counts are shared with other instances (in the database).
    pub fn shares_counts(&self) -> bool {
        self.shared.is_some()
    }

    /// Adds the units taken here since the last flush to the shared counts (PostgreSQL), and
    /// forgets the keys of past minutes. Every quarter second (`jobs`).
    pub async fn flush(&self) {
        let Some(db) = &self.shared else {
            return;
        };
        let window = self.clock.now().timestamp() / 60;
        let unsent: Vec<(String, i64)> = {
            let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
            // A past minute's units no longer count against anything.
            shares.retain(|_, share| share.window == window);
            shares
                .iter_mut()
                .filter(|(_, share)| share.unsent > 0)
                .map(|(key, share)| (key.clone(), std::mem::take(&mut share.unsent)))
                .collect()
        };
        for (key, hits) in unsent {
            match crate::base::store::rate_limits::add(db, &key, window, hits).await {
                Ok(counted) => self.saw(&key, window, counted),
                Err(e) => {
                    tracing::warn!(error = %e, "adding rate-limit counts failed");
                    self.give_back(&key, window, hits);
                }
            }
        }
    }

    /// Puts back units a failed database write did not add (they go with the next flush).
    fn give_back(&self, key: &str, window: i64, hits: i64) {
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(share) = shares.get_mut(key).filter(|s| s.window == window) {
            share.unsent += hits;
        }
    }

    /// Remembers the shared count of `key` the database answered in `window`.
    fn saw(&self, key: &str, window: i64, counted: i64) {
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(share) = shares.get_mut(key).filter(|s| s.window == window) {
            share.seen = share.seen.max(counted);
        }
    }

    /// Forgets keys that have been quiet long enough to be back at full quota.
    pub async fn shrink(&self) {
        for limiter in self.local.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(db) = &self.shared {
            let window = self.clock.now().timestamp() / 60;
            if let Err(e) = crate::base::store::rate_limits::delete_before(db, window).await {
                tracing::warn!(error = %e, "forgetting old rate-limit counts failed");
            }
        }
    }
}

/// The part of a client address that rate limits count: an IPv4 address, or an IPv6
/// address's /64 (one household or host holds a whole /64; counting single IPv6 addresses
/// would give an attacker 2^64 fresh quotas).
pub fn address_group(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        _ => address.to_string(),
    }
}

/// Takes one unit from `key`'s quota or answers 429 with the seconds to wait.
fn take(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), ApiError> {
    limiter.check_key(&key.to_string()).map_err(|not_until| {
        too_many(
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs(),
        )
    })
}

fn too_many(seconds: u64) -> ApiError {
    let seconds = seconds.max(1);
    let mut error = ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("Too many attempts. Try again in {seconds} seconds."),
    );
    error.retry_after = Some(seconds);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_counts_as_one_address() {
        assert_eq!(address_group("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(address_group("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_ne!(
            address_group("2001:db8:1:3::1"),
            address_group("2001:db8:1:2::1")
        );
        assert_eq!(address_group("203.0.113.9"), "203.0.113.9");
        assert_eq!(address_group("::ffff:203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn refusals_are_audited_once_a_minute_and_counted() {
        let limits = Limits::new(
            &crate::base::config::Config::default().limits,
            None,
            crate::base::clock::Clock::system(),
        );
        assert!(limits.refused("1.2.3.4", 10), "the first is audited");
        assert!(!limits.refused("1.2.3.4", 10));
        assert!(!limits.refused("1.2.3.4", 10));
        assert!(limits.refused("5.6.7.8", 10));
        assert!(limits.repeated(10).is_empty(), "the minute is not over");
        assert_eq!(limits.repeated(11), vec![("1.2.3.4".to_string(), 10, 2)]);
        assert!(limits.repeated(12).is_empty(), "and forgotten");
        assert!(limits.refused("1.2.3.4", 12), "a new minute, a new first");
    }

    #[test]
    fn the_quota_runs_out_per_key_and_says_when_to_retry() {
        let limiter = per_minute(2);
        assert!(take(&limiter, "a").is_ok());
        assert!(take(&limiter, "a").is_ok());
        let refused = take(&limiter, "a").expect_err("third is refused");
        assert!(refused.retry_after.is_some_and(|s| (1..=30).contains(&s)));
        assert!(take(&limiter, "b").is_ok(), "other keys are unaffected");
    }
}

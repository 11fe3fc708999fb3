//! Rate limits (governor): sign-in per account and per client address, connect starts per
//! user, callbacks and other state-changing requests per client address. 429 + Retry-After.

use super::error::ApiError;
use crate::base::config::LimitsConfig;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

pub struct Limits {
    pub sign_in_account: DefaultKeyedRateLimiter<String>,
    pub sign_in_address: DefaultKeyedRateLimiter<String>,
    pub connect: DefaultKeyedRateLimiter<String>,
    pub callback: DefaultKeyedRateLimiter<String>,
    pub mutation: DefaultKeyedRateLimiter<String>,
    pub api: DefaultKeyedRateLimiter<String>,
}

fn per_minute(count: u32) -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
    ))
}

impl Limits {
    /// By default five guesses per account a minute, then one every 12 s: slow, not locked.
    pub fn new(config: &LimitsConfig) -> Self {
        Self {
            sign_in_account: per_minute(config.sign_in_per_account),
            sign_in_address: per_minute(config.sign_in_per_address),
            connect: per_minute(config.connect_per_user),
            callback: per_minute(config.callback_per_address),
            mutation: per_minute(config.mutation_per_address),
            api: per_minute(config.api_per_key),
        }
    }

    /// Forgets keys that have been quiet long enough to be back at full quota.
    pub fn shrink(&self) {
        for limiter in [
            &self.sign_in_account,
            &self.sign_in_address,
            &self.connect,
            &self.callback,
            &self.mutation,
            &self.api,
        ] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Takes one unit from `key`'s quota or answers 429 with the seconds to wait.
pub fn take(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), ApiError> {
    limiter.check_key(&key.to_string()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let mut error = ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts. Wait a little and try again.",
        );
        error.retry_after = Some(wait.as_secs().max(1));
        error
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

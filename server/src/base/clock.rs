//! The one source of the current time. Production reads the system clock; tests move it
//! forward (`advance`) instead of sleeping, and everything that asks this clock (sessions,
//! flows, tokens, links, jobs) sees the same moved time.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// System time plus an offset that only ever grows. Cloning shares the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock, not moved.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, as this clock tells it.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }

    /// How far this clock has been moved ahead of the system clock.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone) forward: for tests, which age sessions, flows and
    /// tokens this way instead of sleeping.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_is_ahead_for_every_clone() {
        let clock = Clock::system();
        let clone = clock.clone();
        clock.advance(std::time::Duration::from_secs(3600));
        let ahead = clone.now() - Utc::now();
        assert!(ahead >= Duration::seconds(3599), "{ahead}");
        assert!(ahead <= Duration::seconds(3601), "{ahead}");
    }
}

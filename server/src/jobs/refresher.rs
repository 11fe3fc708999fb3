//! The background refresher: keeps connections fresh before anyone asks. Each run takes the
//! connections expiring within the window and refreshes them through the same single-flight
//! path as the token API (in-process lock + database lease, so instances never collide).
//! Transient failures back off exponentially per connection; a dead grant turns the
//! connection to needs_reauth and it leaves the candidates by itself.

use crate::base::store::connections;
use crate::domain::tokens::{ensure_fresh, TokenError};
use crate::state::AppState;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Connections expiring within this window are refreshed in the background.
const WINDOW_MINUTES: i64 = 5;
const BATCH: u64 = 200;

/// When each connection that failed may be tried again (this instance's memory).
#[derive(Default)]
pub struct Backoff {
    next: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Backoff {
    fn ready(&self, id: &str) -> bool {
        let next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        next.get(id).is_none_or(|(_, at)| Instant::now() >= *at)
    }

    fn failed(&self, id: &str) {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let failures = next.get(id).map(|(n, _)| n + 1).unwrap_or(1);
        // 10 s, 20 s, 40 s ... at most an hour, with up to 25 % jitter.
        let base = Duration::from_secs(10u64 << failures.min(9)).min(Duration::from_secs(3600));
        let jitter = base.mul_f64(rand::random::<f64>() * 0.25);
        next.insert(id.to_string(), (failures, Instant::now() + base + jitter));
    }

    fn succeeded(&self, id: &str) {
        self.next
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

pub async fn refresh_due(state: &AppState) {
    let scan = std::time::Instant::now();
    let horizon = state.clock.now() + chrono::Duration::minutes(WINDOW_MINUTES);
    let due = connections::expiring_before(&state.db, horizon, BATCH).await;
    metrics::histogram!("atom_refresher_scan_seconds").record(scan.elapsed().as_secs_f64());
    let due = match due {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "refresher could not list connections");
            return;
        }
    };
    for row in due.into_iter().filter(|row| state.backoff.ready(&row.id)) {
        let Some(provider) = state.catalog.get(&row.provider) else {
            continue;
        };
        let margin = chrono::Duration::minutes(WINDOW_MINUTES);
        match ensure_fresh(state, &row.user_id, &provider, margin).await {
            Ok(_) | Err(TokenError::NeedsReauth | TokenError::NotConnected) => {
                state.backoff.succeeded(&row.id)
            }
            Err(TokenError::Unavailable | TokenError::Internal) => state.backoff.failed(&row.id),
        }
    }
}

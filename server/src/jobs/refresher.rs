//! The background refresher: keeps connections fresh before anyone asks. Each run takes the
//! connections expiring within the window and refreshes them through the same single-flight
//! path as the token API (in-process lock + database lease, so instances never collide).
//! Transient failures back off exponentially per connection, in the database (every instance
//! and the token API obey it); a dead grant turns the connection to needs_reauth and it
//! leaves the candidates by itself. Neither backing-off connections nor those of a provider
//! removed from the configuration are among the candidates, so they never hold back others.

use crate::base::store::connections;
use crate::domain::tokens::{backoff, ensure_fresh, TokenError};
use crate::state::AppState;

/// Connections expiring within this window are refreshed in the background.
const WINDOW_MINUTES: i64 = 5;
const BATCH: u64 = 200;

pub async fn refresh_due(state: &AppState) {
    let scan = std::time::Instant::now();
    let now = state.clock.now();
    let horizon = now + chrono::Duration::minutes(WINDOW_MINUTES);
    let configured = state.catalog.configured();
    let due = connections::expiring_before(&state.db, horizon, now, &configured, BATCH).await;
    metrics::histogram!("atom_refresher_scan_seconds").record(scan.elapsed().as_secs_f64());
    let due = match due {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "refresher could not list connections");
            return;
        }
    };
    for row in due {
        let Some(provider) = state.catalog.get(&row.provider) else {
            continue;
        };
        let margin = chrono::Duration::minutes(WINDOW_MINUTES);
        // The provider's failures are recorded by the refresh itself (backoff, needs_reauth,
        // audit); ours (tokens that do not open, the database) back off here, or a broken
        // connection would be retried and audited every run.
        if let Err(TokenError::Internal) = ensure_fresh(state, &row.id, &provider, margin).await {
            let retry_at = state.clock.now() + backoff(row.failures + 1);
            if let Err(e) = connections::back_off(&state.db, &row, retry_at).await {
                tracing::warn!(error = %e, "refresher could not record a backoff");
            }
        }
    }
}

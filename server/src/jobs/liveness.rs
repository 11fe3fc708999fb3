//! Liveness checks for tokens that never expire (GitHub OAuth apps, Notion, Slack without
//! rotation, Trello): nothing else would notice that the user revoked access at the provider.
//! A cheap who-am-I call per connection (signed with OAuth 1.0a for Trello) at least once per
//! `jobs.liveness_period_seconds`: each run takes those not checked within the period, never
//! checked first, then the longest unchecked, so every one gets its turn however many there
//! are. A refusal (401 or 403, or Slack's `ok: false` for a revoked token) turns the
//! connection to needs_reauth; network trouble changes nothing but still counts as its turn.
//! `atom_liveness_oldest_check_seconds` says how long the least recently checked has waited.

use crate::base::store::connections;
use crate::domain::oauth::identity::IdentityError;
use crate::domain::oauth::who_am_i;
use crate::domain::tokens::{mark_needs_reauth, open_tokens, refresh_refused};
use crate::state::AppState;

const BATCH: u64 = 200;

pub async fn check_never_expiring(state: &AppState) {
    let configured = state.catalog.configured();
    let period = chrono::Duration::seconds(state.config.jobs.liveness_period_seconds as i64);
    let checked_before = state.clock.now() - period;
    let rows = connections::never_expiring(&state.db, checked_before, &configured, BATCH).await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "liveness check could not list connections");
            return;
        }
    };
    for row in rows {
        let Some(provider) = state.catalog.get(&row.provider) else {
            continue;
        };
        if let Err(e) = connections::set_checked(&state.db, &row.id, state.clock.now()).await {
            tracing::warn!(error = %e, "liveness check could not record its turn");
            return;
        }
        let (Ok(tokens), Ok(endpoints)) = (
            open_tokens(state, &row),
            provider.endpoints(&state.http).await,
        ) else {
            continue;
        };
        if let Err(IdentityError::Refused) = who_am_i(state, &provider, endpoints, &tokens).await {
            if tokens.refresh_token.is_some() {
                // Perhaps only this access token is gone (Notion rotates): one refresh
                // decides; a refused refresh turns the connection to needs_reauth.
                let _ = refresh_refused(state, &provider, &row.id, row.updated_at).await;
                continue;
            }
            tracing::info!(provider = %row.provider, connection_id = %row.id, "token revoked at the provider");
            let _ = mark_needs_reauth(state, &row, "revoked_at_provider").await;
        }
    }
    record_oldest_check(state).await;
}

/// The age of the least recently checked never-expiring token, as a gauge.
pub async fn record_oldest_check(state: &AppState) {
    match connections::oldest_check(&state.db, &state.catalog.configured()).await {
        Ok(oldest) => {
            let age = oldest.map_or(0.0, |at| {
                (state.clock.now() - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            crate::base::metrics::liveness_oldest_check(age);
        }
        Err(e) => tracing::warn!(error = %e, "liveness could not find its oldest check"),
    }
}

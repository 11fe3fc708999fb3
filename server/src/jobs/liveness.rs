//! Liveness checks for tokens that never expire (GitHub OAuth apps, Notion, Slack without
//! rotation, Trello): nothing else would notice that the user revoked access at the provider.
//! A cheap who-am-I call per connection (signed with OAuth 1.0a for Trello), at most once per
//! interval on this instance; a refusal (401 or 403, or Slack's `ok: false` for a revoked
//! token) turns the connection to needs_reauth. Network trouble changes nothing.

use crate::base::store::connections;
use crate::domain::oauth::identity::IdentityError;
use crate::domain::oauth::who_am_i;
use crate::domain::tokens::{mark_needs_reauth, open_tokens};
use crate::state::AppState;

const BATCH: u64 = 200;

pub async fn check_never_expiring(state: &AppState) {
    let rows = connections::never_expiring(&state.db, BATCH).await;
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
        let (Ok(tokens), Ok(endpoints)) = (
            open_tokens(state, &row),
            provider.endpoints(&state.http).await,
        ) else {
            continue;
        };
        if let Err(IdentityError::Refused) = who_am_i(state, &provider, endpoints, &tokens).await {
            tracing::info!(provider = %row.provider, connection_id = %row.id, "token revoked at the provider");
            let _ = mark_needs_reauth(state, &row, "revoked_at_provider").await;
        }
    }
}

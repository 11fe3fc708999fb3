//! Retries revocations that failed at disconnect, with exponential backoff (1, 2, 4 ...
//! minutes, at most 6 hours apart), giving up after ten attempts. Claimed row by row, so two
//! instances never retry the same one at once.

use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::domain::disconnect::{open, retry_binding, revoke_with};
use crate::state::AppState;
use app::model::Revocation;

const MAX_ATTEMPTS: i32 = 10;

pub fn backoff(attempts: i32) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(0, 9);
    chrono::Duration::minutes(minutes.min(360))
}

pub async fn retry_due(state: &AppState) {
    let due = match store::revocations::due(&state.db, 50, state.clock.now()).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read revocation retries");
            return;
        }
    };
    for row in due {
        if let Err(e) = retry(state, row).await {
            tracing::warn!(error = %e, "revocation retry failed to record");
        }
    }
}

async fn retry(state: &AppState, row: store::revocations::Model) -> Result<(), sea_orm::DbErr> {
    let next = state.clock.now() + backoff(row.attempts + 1);
    if !store::revocations::claim(&state.db, &row, next).await? {
        return Ok(());
    }
    let binding = retry_binding(&row.id, &row.user_id, &row.provider);
    let outcome = match (
        state.catalog.get(&row.provider),
        open(state, &row.tokens_sealed, &binding),
    ) {
        (Some(provider), Some(tokens)) => revoke_with(state, &provider, &tokens).await,
        (None, _) => Revocation::ProviderNotConfigured,
        // The tokens no longer open.
        (Some(_), None) => Revocation::NoRevocationEndpoint,
    };
    let mut event =
        Event::new(Kind::Revocation, &Origin::internal(&state.clock)).provider(&row.provider);
    event.subject = Some(row.user_id.clone());
    let event = match outcome {
        Revocation::Revoked | Revocation::NotConnected | Revocation::KeptForOtherServices => {
            event.reason("retry_succeeded")
        }
        Revocation::NoRevocationEndpoint | Revocation::ProviderNotConfigured => {
            event.failed("retry_impossible")
        }
        Revocation::RevocationFailed if row.attempts + 1 >= MAX_ATTEMPTS => event.failed("gave_up"),
        Revocation::RevocationFailed => return Ok(()),
    };
    // The retry goes with its audit event, or neither does.
    let txn = crate::base::store::begin(&state.db).await?;
    store::revocations::delete(&txn, &row.id).await?;
    store::audit::append(&txn, event).await?;
    txn.commit().await
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_six_hours() {
        let minutes: Vec<i64> = (1..=10).map(|a| super::backoff(a).num_minutes()).collect();
        assert_eq!(minutes, vec![2, 4, 8, 16, 32, 64, 128, 256, 360, 360]);
    }
}

//! Disconnecting: revoke at the provider where it can be done, then always delete the local
//! tokens, with the audit event in the same transaction as the delete.

use crate::audit::Event;
use crate::oauth::{complete::token_binding, revoke, TokenSet};
use crate::providers::Provider;
use crate::state::AppState;
use crate::store;
use sea_orm::TransactionTrait;
use secrecy::ExposeSecret;

/// Returns how revocation went (`revoked`, `no_revocation_endpoint`, `revocation_failed`,
/// or `not_connected` when there was nothing to disconnect). `event` names who and from where.
pub async fn disconnect(
    state: &AppState,
    provider: &Provider,
    user_id: &str,
    event: Event,
) -> Result<&'static str, sea_orm::DbErr> {
    let Some(row) = store::connections::find(&state.db, user_id, &provider.service).await? else {
        return Ok("not_connected");
    };
    let revoked = revoke_tokens(state, provider, &row).await.reason();
    let txn = state.db.begin().await?;
    store::connections::delete(&txn, &row.id).await?;
    let mut event = event.provider(&provider.service).reason(revoked);
    event.subject = Some(user_id.to_string());
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(revoked)
}

async fn revoke_tokens(
    state: &AppState,
    provider: &Provider,
    row: &store::connections::Model,
) -> revoke::Revoked {
    let binding = token_binding(&row.id, &row.user_id, &row.provider);
    let tokens = state
        .vault
        .open(&row.tokens_sealed, &binding)
        .ok()
        .and_then(|plain| serde_json::from_slice::<TokenSet>(plain.expose_secret()).ok());
    let Some(tokens) = tokens else {
        tracing::error!(provider = %row.provider, connection_id = %row.id, "stored tokens did not open");
        return revoke::Revoked::Failed;
    };
    match provider.endpoints(&state.http).await {
        Ok(endpoints) => revoke::revoke(&state.http, provider, endpoints, &tokens).await,
        Err(_) => revoke::Revoked::Failed,
    }
}

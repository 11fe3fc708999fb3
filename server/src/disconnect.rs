//! Disconnecting: revoke at the provider where it can be done, then always delete the local
//! tokens, with the audit event in the same transaction as the delete. A revocation that
//! fails is recorded for retry (jobs::revocations), its tokens sealed to the retry row.

use crate::audit::Event;
use crate::oauth::{complete::token_binding, revoke, TokenSet};
use crate::providers::Provider;
use crate::state::AppState;
use crate::store;
use crate::vault::Binding;
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
    let binding = token_binding(&row.id, &row.user_id, &row.provider);
    let tokens = open(state, &row.tokens_sealed, &binding);
    let revoked = match &tokens {
        Some(tokens) => revoke_with(state, provider, tokens).await,
        None => revoke::Revoked::Failed,
    };
    let txn = state.db.begin().await?;
    store::connections::delete(&txn, &row.id).await?;
    if let (revoke::Revoked::Failed, Some(tokens)) = (revoked, &tokens) {
        let id = store::new_id();
        let plain =
            serde_json::to_vec(tokens).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let now = chrono::Utc::now();
        let retry = store::revocations::Model {
            tokens_sealed: state
                .vault
                .seal(&plain, &retry_binding(&id, user_id, &provider.service)),
            id,
            user_id: user_id.to_string(),
            provider: provider.service.clone(),
            attempts: 0,
            next_attempt_at: now + chrono::Duration::minutes(1),
            created_at: now,
        };
        store::revocations::insert(&txn, retry).await?;
    }
    let mut event = event.provider(&provider.service).reason(revoked.reason());
    event.subject = Some(user_id.to_string());
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(revoked.reason())
}

pub fn retry_binding<'a>(id: &'a str, user_id: &'a str, provider: &'a str) -> Binding<'a> {
    Binding {
        table: "revocation_retries",
        row_id: id,
        user_id,
        provider,
        field: "tokens",
    }
}

pub fn open(state: &AppState, sealed: &[u8], binding: &Binding) -> Option<TokenSet> {
    let tokens = state
        .vault
        .open(sealed, binding)
        .ok()
        .and_then(|plain| serde_json::from_slice::<TokenSet>(plain.expose_secret()).ok());
    if tokens.is_none() {
        tracing::error!(provider = %binding.provider, row = %binding.row_id, "stored tokens did not open");
    }
    tokens
}

pub async fn revoke_with(
    state: &AppState,
    provider: &Provider,
    tokens: &TokenSet,
) -> revoke::Revoked {
    match provider.endpoints(&state.http).await {
        Ok(endpoints) => revoke::revoke(&state.http, provider, endpoints, tokens).await,
        Err(_) => revoke::Revoked::Failed,
    }
}

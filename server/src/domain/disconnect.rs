//! Disconnecting: revoke at the provider where it can be done, then always delete the local
//! tokens, with the audit event in the same transaction as the delete. A revocation that
//! fails is recorded for retry (jobs::revocations), its tokens sealed to the retry row.

use crate::base::audit::Event;
use crate::base::providers::{Provider, RevokeStyle};
use crate::base::store;
use crate::base::vault::Binding;
use crate::domain::connections::token_binding;
use crate::domain::oauth::revoke::{self, Answer};
use crate::domain::oauth::TokenSet;
use crate::domain::tokens::refresh_grant;
use crate::domain::Ctx;
use app::model::Revocation;
use secrecy::ExposeSecret;

/// Disconnects one connection; returns how revocation at the provider went. `provider` is
/// None for a service removed from the configuration: its connections are still deleted
/// here. `event` names who and from where.
pub async fn disconnect(
    ctx: &Ctx,
    row: store::connections::Model,
    provider: Option<&Provider>,
    event: Event,
) -> Result<Revocation, sea_orm::DbErr> {
    let (user_id, service) = (row.user_id.as_str(), row.provider.as_str());
    let binding = token_binding(&row.id, &row.user_id, &row.provider);
    let tokens = open(ctx, &row.tokens_sealed, &binding);
    let revoked = match (provider, &tokens) {
        // Removed from the configuration: nothing to revoke with, the local copy still goes.
        (None, _) => Revocation::ProviderNotConfigured,
        (Some(provider), _) if shares_the_grant(ctx, provider, &row).await? => {
            Revocation::KeptForOtherServices
        }
        (Some(provider), Some(tokens)) => revoke_with(ctx, provider, tokens).await,
        (Some(_), None) => Revocation::RevocationFailed,
    };
    let txn = crate::base::store::begin(&ctx.db).await?;
    store::connections::delete(&txn, &row.id).await?;
    if let (Revocation::RevocationFailed, Some(tokens)) = (revoked, &tokens) {
        let id = store::new_id();
        let plain =
            serde_json::to_vec(tokens).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let now = ctx.clock.now();
        let retry = store::revocations::Model {
            tokens_sealed: ctx
                .vault
                .seal(&plain, &retry_binding(&id, user_id, service)),
            id,
            user_id: user_id.to_string(),
            provider: service.to_string(),
            attempts: 0,
            next_attempt_at: now + chrono::Duration::minutes(1),
            created_at: now,
        };
        store::revocations::insert(&txn, retry).await?;
    }
    let mut event = event.provider(service).reason(revoked.code());
    event.subject = Some(user_id.to_string());
    crate::domain::connections::record_change(&txn, &row.id, event).await?;
    txn.commit().await?;
    Ok(revoked)
}

/// Whether revoking a token ends that token (and its own grant) only: not GitHub (the
/// user's whole grant to the app) nor Google (everything granted to the client).
pub fn revokes_only_the_token(provider: &Provider) -> bool {
    match provider.revocation {
        RevokeStyle::GitHubGrant | RevokeStyle::None => false,
        RevokeStyle::Rfc7009 => !provider.revoke_ends_client_grant,
        RevokeStyle::SlackAuthRevoke
        | RevokeStyle::DropboxRevoke
        | RevokeStyle::NotionRevoke
        | RevokeStyle::TrelloDelete => true,
    }
}

/// Whether another of the user's connections, for the same provider account, uses the same
/// client at a provider whose revocation ends that account's whole grant to the client
/// (Gmail and Drive with one Google client): revoking this one would cut that one off.
pub(crate) async fn shares_the_grant(
    ctx: &Ctx,
    provider: &Provider,
    row: &store::connections::Model,
) -> Result<bool, sea_orm::DbErr> {
    if !provider.revoke_ends_client_grant {
        return Ok(false);
    }
    let others = store::connections::for_user(&ctx.db, &row.user_id).await?;
    Ok(others.iter().any(|other| {
        other.id != row.id
            && other.account_id == row.account_id
            && ctx
                .catalog
                .get(&other.provider)
                .is_some_and(|p| p.family == provider.family && p.client_id == provider.client_id)
    }))
}

/// What the tokens of a revocation retry are sealed to.
pub fn retry_binding<'a>(id: &'a str, user_id: &'a str, provider: &'a str) -> Binding<'a> {
    Binding {
        table: "revocation_retries",
        row_id: id,
        user_id,
        provider,
        field: "tokens",
    }
}

/// Opens sealed tokens; None (logged) when they do not open.
pub fn open(ctx: &Ctx, sealed: &[u8], binding: &Binding) -> Option<TokenSet> {
    let tokens = ctx
        .vault
        .open(sealed, binding)
        .ok()
        .and_then(|plain| serde_json::from_slice::<TokenSet>(plain.expose_secret()).ok());
    if tokens.is_none() {
        tracing::error!(provider = %binding.provider, row = %binding.row_id, "stored tokens did not open");
    }
    tokens
}

/// Revokes the tokens at the provider, however it does that. Where the provider refuses the
/// access token itself (expired: a disconnect long after the last use, or a retry hours
/// later), one refresh gets a live access token and the revocation is asked again with it.
pub async fn revoke_with(ctx: &Ctx, provider: &Provider, tokens: &TokenSet) -> Revocation {
    let Ok(endpoints) = provider.endpoints(&ctx.http).await else {
        return Revocation::RevocationFailed;
    };
    let refresh_token = match revoke::revoke(&ctx.http, provider, endpoints, tokens).await {
        Answer::Done(revocation) => return revocation,
        Answer::TokenRefused => match &tokens.refresh_token {
            Some(refresh_token) => refresh_token,
            None => return Revocation::RevocationFailed,
        },
    };
    let fresh = match refresh_grant(ctx, provider, refresh_token).await {
        Ok(grant) => TokenSet {
            access_token: grant.tokens.access_token,
            refresh_token: grant.tokens.refresh_token.or(tokens.refresh_token.clone()),
            token_secret: None,
            bot_token: None,
        },
        Err(e) => {
            tracing::warn!(error = %e, "refreshing to revoke failed");
            return Revocation::RevocationFailed;
        }
    };
    match revoke::revoke(&ctx.http, provider, endpoints, &fresh).await {
        Answer::Done(revocation) => revocation,
        Answer::TokenRefused => Revocation::RevocationFailed,
    }
}

//! The refresh call itself, its failure taxonomy and the fenced write of the new tokens.

use super::{open_tokens, FreshToken, TokenError};
use crate::base::audit::{Event, Kind, Origin};
use crate::base::providers::Provider;
use crate::base::store::connections;
use crate::domain::connections::record_change;
use crate::domain::connections::seal_tokens;
use crate::domain::oauth::exchange::{parse_token_response, token_request, ExchangeError, Grant};
use crate::domain::oauth::TokenSet;
use crate::domain::Ctx;

/// Provider answers that mean the grant is gone, or needs its user: stop, and ask the user to
/// reconnect. Retrying them only repeats the refusal.
/// - RFC 6749 §5.2: `invalid_grant`, `unauthorized_client`.
/// - GitHub, "Refreshing user access tokens": a dead refresh token answers HTTP 200 with
///   `bad_refresh_token`.
/// - Microsoft identity platform (MSAL's `InteractionRequiredAuthErrorCodes`): the server's
///   `interaction_required` (e.g. AADSTS50076, MFA), `consent_required` (AADSTS65001),
///   `login_required` and `bad_token` need the user.
pub(crate) fn grant_is_dead(code: &str) -> bool {
    matches!(
        code,
        "invalid_grant"
            | "unauthorized_client"
            | "invalid_refresh_token"
            | "token_revoked"
            | "token_expired"
            | "bad_refresh_token"
            | "interaction_required"
            | "consent_required"
            | "login_required"
            | "bad_token"
    )
}

pub(super) async fn refresh(
    ctx: &Ctx,
    provider: &Provider,
    row: &connections::Model,
) -> Result<FreshToken, TokenError> {
    let tokens = open_tokens(ctx, row)?;
    let Some(refresh_token) = tokens.refresh_token.as_ref() else {
        return mark_needs_reauth(ctx, row, "no_refresh_token").await;
    };
    let grant = refresh_grant(ctx, provider, refresh_token).await;
    let grant = match grant {
        Ok(grant) => grant,
        Err(ExchangeError::Rejected(code)) if grant_is_dead(&code) => {
            return mark_needs_reauth(ctx, row, &code).await;
        }
        Err(ExchangeError::Rejected(code)) if code == "invalid_client" => {
            // The app's credentials, not this user's grant: keep the tokens, tell the
            // operator through the provider's health, not the user.
            tracing::error!(provider = %row.provider, "the provider refuses the client credentials");
            crate::base::metrics::refresh(&row.provider, "client_rejected");
            let event =
                Event::new(Kind::Refreshed, &Origin::internal(&ctx.clock)).failed("invalid_client");
            audit(ctx, row, event).await;
            return back_off(ctx, row, None).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, connection_id = %row.id, "refresh failed; the old tokens stay");
            crate::base::metrics::refresh(&row.provider, "transient_failure");
            audit(
                ctx,
                row,
                Event::new(Kind::Refreshed, &Origin::internal(&ctx.clock)).failed("transient"),
            )
            .await;
            return back_off(ctx, row, e.retry_after()).await;
        }
    };
    let now = ctx.clock.now();
    let new_tokens = TokenSet {
        access_token: grant.tokens.access_token,
        // A rotated refresh token replaces the old one; none in the answer keeps the old.
        refresh_token: grant.tokens.refresh_token.or(tokens.refresh_token),
        token_secret: tokens.token_secret,
        bot_token: grant.tokens.bot_token.or(tokens.bot_token),
    };
    let sealed = seal_tokens(ctx, &row.id, &row.user_id, &row.provider, &new_tokens)?;
    let expires_at = super::expires_at(now, grant.expires_in, provider.assumes_lifetime);
    // The new tokens, the audit event and its webhook row commit together, or none do.
    let txn = crate::base::store::begin(&ctx.db).await?;
    let updated = connections::save_refreshed(&txn, row, sealed, expires_at, now).await?;
    if !updated {
        tracing::warn!(connection_id = %row.id, "the connection changed during refresh");
        return Err(TokenError::Unavailable { retry_at: None });
    }
    let event = Event::new(Kind::Refreshed, &Origin::internal(&ctx.clock));
    record_change(&txn, &row.id, row_event(row, event)).await?;
    txn.commit().await?;
    ctx.hot.forget_connections(&row.user_id, &row.provider);
    crate::base::metrics::refresh(&row.provider, "succeeded");
    // A refresh leaves a refresh token (rotated, or the old one kept): refreshable.
    Ok(FreshToken {
        connection_id: row.id.clone(),
        access_token: new_tokens.access_token,
        expires_at,
        scopes: crate::domain::connections::split_scopes(&row.granted_scopes),
        bot_token: new_tokens.bot_token,
        refreshable: true,
        token_secret: new_tokens.token_secret,
        version: now,
        cooldown_until: row.cooldown_until,
    })
}

/// One `refresh_token` grant at the provider (RFC 6749 §6), with the provider's quirks
/// (Microsoft wants the scopes again). The connection's refresh and a revocation retry whose
/// access token has expired both use it.
pub(crate) async fn refresh_grant(
    ctx: &Ctx,
    provider: &Provider,
    refresh_token: &oauth2::RefreshToken,
) -> Result<Grant, ExchangeError> {
    let endpoints = provider
        .endpoints(&ctx.http)
        .await
        .map_err(|_| ExchangeError::Network)?;
    let scope = provider.scopes.join(&provider.scope_separator);
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret().as_str()),
    ];
    if provider.refresh_with_scopes {
        form.push(("scope", &scope));
    }
    match token_request(&ctx.http, provider, endpoints, form)
        .send()
        .await
    {
        Ok(response) => parse_token_response(provider.token_format, response).await,
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "refresh request failed");
            Err(ExchangeError::Network)
        }
    }
}

pub(crate) async fn mark_needs_reauth(
    ctx: &Ctx,
    row: &connections::Model,
    reason: &str,
) -> Result<FreshToken, TokenError> {
    crate::base::metrics::refresh(&row.provider, "needs_reauth");
    let reason = crate::domain::oauth::safe_code(reason);
    // The dead refresh token goes: nothing may use it again. Tokens that do not open stay as
    // they are (the decryption failure is audited on its own).
    let kept = open_tokens(ctx, row).ok().map(|tokens| TokenSet {
        refresh_token: None,
        ..tokens
    });
    let sealed = match &kept {
        Some(tokens) => Some(seal_tokens(
            ctx,
            &row.id,
            &row.user_id,
            &row.provider,
            tokens,
        )?),
        None => None,
    };
    let txn = crate::base::store::begin(&ctx.db).await?;
    // Fenced like every write of a connection: if someone changed it since it was read (a
    // refresh on another instance), this conclusion is stale and is not written.
    if !connections::set_needs_reauth(&txn, row, sealed, ctx.clock.now()).await? {
        tracing::warn!(connection_id = %row.id, "the connection changed before needs_reauth");
        return Err(TokenError::Unavailable { retry_at: None });
    }
    let event = Event::new(Kind::NeedsReauth, &Origin::internal(&ctx.clock)).failed(&reason);
    record_change(&txn, &row.id, row_event(row, event)).await?;
    txn.commit().await?;
    ctx.hot.forget_connections(&row.user_id, &row.provider);
    Err(TokenError::NeedsReauth)
}

/// The provider failed in a way that may pass: nobody (refresher or token API, on any
/// instance) asks it again for this connection before the backoff ends, nor before the
/// `Retry-After` it sent.
async fn back_off(
    ctx: &Ctx,
    row: &connections::Model,
    retry_after: Option<u64>,
) -> Result<FreshToken, TokenError> {
    let asked = chrono::Duration::seconds(retry_after.unwrap_or(0) as i64);
    let retry_at = ctx.clock.now() + super::backoff(row.failures + 1).max(asked);
    connections::back_off(&ctx.db, row, retry_at).await?;
    ctx.hot.forget_connections(&row.user_id, &row.provider);
    Err(TokenError::Unavailable {
        retry_at: Some(retry_at),
    })
}

/// The event about this connection: its user and provider.
fn row_event(row: &connections::Model, mut event: Event) -> Event {
    event.subject = Some(row.user_id.clone());
    event.provider = Some(row.provider.clone());
    event
}

/// A refresh that failed but changed nothing (the tokens are kept): audited, and no webhook,
/// since the connection is as it was (a `connection.refreshed` webhook means new tokens).
async fn audit(ctx: &Ctx, row: &connections::Model, event: Event) {
    if let Err(e) = crate::base::store::audit::append(&ctx.db, row_event(row, event)).await {
        tracing::error!(error = %e, "could not write the audit event");
    }
}

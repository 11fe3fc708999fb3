//! The refresh call itself, its failure taxonomy and the fenced write of the new tokens.

use super::{open_tokens, FreshToken, TokenError};
use crate::audit::{Event, Kind, Origin};
use crate::oauth::complete::seal_tokens;
use crate::oauth::exchange::{parse_token_response, token_request, ExchangeError};
use crate::oauth::TokenSet;
use crate::providers::Provider;
use crate::state::AppState;
use crate::store::{self, connections};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

/// Provider answers that mean the grant is gone: stop, and ask the user to reconnect.
pub(super) fn grant_is_dead(code: &str) -> bool {
    matches!(
        code,
        "invalid_grant"
            | "unauthorized_client"
            | "invalid_refresh_token"
            | "token_revoked"
            | "token_expired"
    )
}

pub(super) async fn refresh(
    state: &AppState,
    provider: &Provider,
    row: &connections::Model,
) -> Result<FreshToken, TokenError> {
    let tokens = open_tokens(state, row)?;
    let Some(refresh_token) = tokens.refresh_token.as_ref() else {
        return mark_needs_reauth(state, row, "no_refresh_token").await;
    };
    let endpoints = provider
        .endpoints(&state.http)
        .await
        .map_err(|_| TokenError::Unavailable)?;
    let scope = provider.scopes.join(&provider.scope_separator);
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret().as_str()),
    ];
    if provider.family == "microsoft" {
        // Microsoft wants the scopes again on refresh.
        form.push(("scope", &scope));
    }
    let sent = token_request(&state.http, provider, endpoints, form)
        .send()
        .await;
    let grant = match sent {
        Ok(response) => parse_token_response(provider.token_format, response).await,
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "refresh request failed");
            Err(ExchangeError::Network)
        }
    };
    let grant = match grant {
        Ok(grant) => grant,
        Err(ExchangeError::Rejected(code)) if grant_is_dead(&code) => {
            return mark_needs_reauth(state, row, &code).await;
        }
        Err(ExchangeError::Rejected(code)) if code == "invalid_client" => {
            // The app's credentials, not this user's grant: keep the tokens, tell the
            // operator through the provider's health, not the user.
            tracing::error!(provider = %row.provider, "the provider refuses the client credentials");
            crate::metrics::refresh(&row.provider, "client_rejected");
            let event = Event::new(Kind::Refreshed, &Origin::default()).failed("invalid_client");
            audit(state, row, event).await;
            return Err(TokenError::Unavailable);
        }
        Err(e) => {
            tracing::warn!(error = %e, connection_id = %row.id, "refresh failed; the old tokens stay");
            crate::metrics::refresh(&row.provider, "transient_failure");
            audit(
                state,
                row,
                Event::new(Kind::Refreshed, &Origin::default()).failed("transient"),
            )
            .await;
            return Err(TokenError::Unavailable);
        }
    };
    let now = chrono::Utc::now();
    let new_tokens = TokenSet {
        access_token: grant.tokens.access_token,
        // A rotated refresh token replaces the old one; none in the answer keeps the old.
        refresh_token: grant.tokens.refresh_token.or(tokens.refresh_token),
        token_secret: tokens.token_secret,
    };
    let sealed = seal_tokens(state, &row.id, &row.user_id, &row.provider, &new_tokens)
        .map_err(|_| TokenError::Internal)?;
    let expires_at = grant.expires_in.map(|s| now + chrono::Duration::seconds(s));
    // The new tokens, the audit event and its webhook row commit together, or none do.
    let txn = state.db.begin().await?;
    let updated = connections::Entity::update_many()
        .col_expr(
            connections::Column::TokensSealed,
            sea_orm::sea_query::Expr::value(sealed),
        )
        .col_expr(
            connections::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(expires_at),
        )
        .col_expr(
            connections::Column::LastRefreshedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .col_expr(
            connections::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(connections::Column::Id.eq(row.id.as_str()))
        // Fencing: only if nobody changed the row since we read it.
        .filter(connections::Column::UpdatedAt.eq(row.updated_at))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        tracing::warn!(connection_id = %row.id, "the connection changed during refresh");
        return Err(TokenError::Unavailable);
    }
    store::audit::append(
        &txn,
        row_event(row, Event::new(Kind::Refreshed, &Origin::default())),
    )
    .await?;
    txn.commit().await?;
    crate::metrics::refresh(&row.provider, "succeeded");
    Ok(FreshToken {
        connection_id: row.id.clone(),
        access_token: new_tokens.access_token,
        expires_at,
        scopes: crate::hub::split_scopes(&row.granted_scopes),
    })
}

pub(crate) async fn mark_needs_reauth(
    state: &AppState,
    row: &connections::Model,
    reason: &str,
) -> Result<FreshToken, TokenError> {
    crate::metrics::refresh(&row.provider, "needs_reauth");
    let reason = crate::oauth::safe_code(reason);
    let txn = state.db.begin().await?;
    connections::Entity::update_many()
        .col_expr(
            connections::Column::Status,
            sea_orm::sea_query::Expr::value("needs_reauth"),
        )
        .col_expr(
            connections::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(connections::Column::Id.eq(row.id.as_str()))
        .exec(&txn)
        .await?;
    let event = Event::new(Kind::NeedsReauth, &Origin::default()).failed(&reason);
    store::audit::append(&txn, row_event(row, event)).await?;
    txn.commit().await?;
    Err(TokenError::NeedsReauth)
}

/// The event about this connection: its user and provider.
fn row_event(row: &connections::Model, mut event: Event) -> Event {
    event.subject = Some(row.user_id.clone());
    event.provider = Some(row.provider.clone());
    event
}

async fn audit(state: &AppState, row: &connections::Model, event: Event) {
    if let Err(e) = store::audit::append(&state.db, row_event(row, event)).await {
        tracing::error!(error = %e, "could not write the audit event");
    }
}

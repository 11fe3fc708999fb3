//! Bringing tokens over from the old system: each grant is checked with the provider's
//! who-am-I call (after a refresh when the access token has expired or is refused), then
//! sealed and stored with its audit event in one transaction. A grant the provider does not
//! honour stores nothing (`check` before `store`). Shared by `POST /api/v1/users/{id}/connections/{service}/import`
//! and `atom import`.

use crate::base::audit::Event;
use crate::base::providers::Provider;
use crate::domain::connections::{self, NewConnection};
use crate::domain::oauth::identity::{Account, IdentityError};
use crate::domain::oauth::TokenSet;
use crate::domain::tokens::{grant_is_dead, refresh_grant};
use crate::domain::Ctx;
use chrono::{DateTime, Utc};
use oauth2::{AccessToken, RefreshToken};

/// A grant from the old system.
pub struct OldGrant {
    /// The access token.
    pub access_token: String,
    /// The refresh token, where there is one.
    pub refresh_token: Option<String>,
    /// OAuth 1.0a (Trello): the token secret.
    pub token_secret: Option<String>,
    /// When the access token expires; None when it does not (or is not known).
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes granted, as the old system knew them.
    pub scopes: Option<Vec<String>>,
}

/// Why a grant was not imported (nothing of it was stored).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The provider does not honour the tokens (revoked, expired with no working refresh).
    #[error("the provider does not honour these tokens")]
    DeadToken,
    /// The provider could not be asked; try again later.
    #[error("the provider could not be reached")]
    Unavailable,
    /// An empty access token, or OAuth 1.0a without its token secret.
    #[error("an access token (and, for Trello, its token_secret) is required")]
    Incomplete,
    /// The database failed.
    #[error("storage failed")]
    Db,
}

impl ImportError {
    /// The stable code (API answers, audit reasons, the CLI's report).
    pub fn code(&self) -> &'static str {
        match self {
            Self::DeadToken => "dead_token",
            Self::Unavailable => "provider_unavailable",
            Self::Incomplete => "invalid_request",
            Self::Db => "internal",
        }
    }
}

/// A grant the provider honours, ready to be stored.
pub struct Checked {
    tokens: TokenSet,
    expires_in: Option<i64>,
    scopes: Option<String>,
    /// The provider account the grant belongs to.
    pub account: Account,
}

/// Checks the grant with the provider: its who-am-I call, after a refresh when the access
/// token has expired (or is refused and there is a refresh token). Stores nothing.
pub async fn check(ctx: &Ctx, provider: &Provider, old: OldGrant) -> Result<Checked, ImportError> {
    let oauth1 = provider.protocol == crate::base::providers::Protocol::OAuth1;
    if old.access_token.is_empty() || (oauth1 && old.token_secret.is_none()) {
        return Err(ImportError::Incomplete);
    }
    let mut tokens = TokenSet {
        access_token: AccessToken::new(old.access_token),
        refresh_token: old
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(RefreshToken::new),
        token_secret: old.token_secret.map(AccessToken::new),
        bot_token: None,
    };
    let now = ctx.clock.now();
    let mut expires_in = old.expires_at.map(|at| (at - now).num_seconds());
    let mut scopes = old.scopes.map(|s| s.join(" "));
    let endpoints = provider
        .endpoints(&ctx.http)
        .await
        .map_err(|_| ImportError::Unavailable)?;
    let mut refreshed = false;
    if expires_in.is_some_and(|s| s <= 60) {
        refresh(ctx, provider, &mut tokens, &mut expires_in, &mut scopes).await?;
        refreshed = true;
    }
    let account = match crate::domain::oauth::who_am_i(ctx, provider, endpoints, &tokens).await {
        Ok(account) => account,
        Err(IdentityError::Refused) if !refreshed && tokens.refresh_token.is_some() => {
            refresh(ctx, provider, &mut tokens, &mut expires_in, &mut scopes).await?;
            crate::domain::oauth::who_am_i(ctx, provider, endpoints, &tokens)
                .await
                .map_err(identity_error)?
        }
        Err(e) => return Err(identity_error(e)),
    };
    Ok(Checked {
        tokens,
        expires_in,
        scopes,
        account,
    })
}

/// Seals and stores a checked grant as the user's connection to the provider (replacing the
/// one there is) with its audit event, in one transaction. `event` (a `connection.created`
/// naming who imports, from where) gets the provider, the user and the reason `imported`.
pub async fn store(
    ctx: &Ctx,
    user_id: &str,
    provider: &Provider,
    checked: Checked,
    event: Event,
) -> Result<(), ImportError> {
    let connection = NewConnection {
        user_id,
        provider,
        tokens: &checked.tokens,
        expires_in: checked.expires_in,
        granted_scopes: checked.scopes.or(checked.account.scopes.clone()),
        account: checked.account,
    };
    let mut event = event.provider(&provider.service).reason("imported");
    event.subject = Some(user_id.to_string());
    let stored = async {
        let txn = crate::base::store::begin(&ctx.db).await?;
        connections::save(ctx, &txn, connection, event).await?;
        txn.commit().await
    };
    stored.await.map_err(|e| {
        tracing::error!(error = %e, "storing an imported grant failed");
        ImportError::Db
    })
}

fn identity_error(e: IdentityError) -> ImportError {
    match e {
        IdentityError::Refused => ImportError::DeadToken,
        IdentityError::Failed | IdentityError::NoEndpoint => ImportError::Unavailable,
    }
}

async fn refresh(
    ctx: &Ctx,
    provider: &Provider,
    tokens: &mut TokenSet,
    expires_in: &mut Option<i64>,
    scopes: &mut Option<String>,
) -> Result<(), ImportError> {
    use crate::domain::oauth::exchange::ExchangeError;
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        return Err(ImportError::DeadToken);
    };
    let grant = refresh_grant(ctx, provider, &refresh_token)
        .await
        .map_err(|e| match e {
            // The provider answered, and refused: this grant will not come back to life
            // (whatever the code; `grant_is_dead`'s are only the commonest).
            ExchangeError::Rejected(code) => {
                tracing::info!(
                    dead = grant_is_dead(&code),
                    "an imported grant's refresh was refused"
                );
                ImportError::DeadToken
            }
            ExchangeError::Status(status) if status < 500 => ImportError::DeadToken,
            _ => ImportError::Unavailable,
        })?;
    tokens.access_token = grant.tokens.access_token;
    // A provider that rotates refresh tokens sends a new one; others keep the old.
    if grant.tokens.refresh_token.is_some() {
        tokens.refresh_token = grant.tokens.refresh_token;
    }
    *expires_in = grant.expires_in;
    if grant.scope.is_some() {
        *scopes = grant.scope;
    }
    Ok(())
}

//! Fresh access tokens for the platform's backends. A token close to expiry is refreshed on
//! demand with at most one provider call per connection at a time: an in-process lock makes
//! concurrent callers wait for the one refresh, and a lease in the database does the same
//! across instances.
//!
//! Order of writes on refresh (crash safety): claim the lease; call the provider; store the
//! new token set (a rotated refresh token replaces the old one, a missing one keeps the old)
//! in one UPDATE fenced on the row's `updated_at`; write the audit event; release the lease;
//! only then hand out the access token. A crash before the UPDATE keeps the old tokens (the
//! lease expires by itself); a crash after it loses nothing.

mod refresh;

pub(crate) use refresh::{grant_is_dead, mark_needs_reauth, refresh_grant};

use crate::base::providers::Provider;
use crate::base::store::{self, connections};
use crate::domain::connections::token_binding;
use crate::domain::oauth::TokenSet;
use crate::domain::Ctx;
use oauth2::AccessToken;
use refresh::refresh;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tokens this close to expiry are refreshed before being handed out.
const MARGIN_SECONDS: i64 = 60;
const LEASE_SECONDS: i64 = 30;

/// Why no token was handed out.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The user has not connected the service.
    #[error("not connected")]
    NotConnected,
    /// The grant is gone: the user must reconnect.
    #[error("the connection needs re-authorization")]
    NeedsReauth,
    /// The provider did not answer, or failed recently and is not asked again before
    /// `retry_at` (every instance obeys it); the old tokens are kept.
    #[error("the provider is unavailable; try again later")]
    Unavailable {
        /// When the provider may be asked again; None when it may be now.
        retry_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Something failed on our side (logged).
    #[error("internal error")]
    Internal,
}

impl From<sea_orm::DbErr> for TokenError {
    fn from(e: sea_orm::DbErr) -> Self {
        tracing::error!(error = %e, "database error while handing out a token");
        Self::Internal
    }
}

/// An access token fit to use for at least a minute.
pub struct FreshToken {
    /// The connection it belongs to.
    pub connection_id: String,
    /// The token itself (prints `[redacted]`).
    pub access_token: AccessToken,
    /// When it expires; None when it does not.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What it allows.
    pub scopes: Vec<String>,
    /// Slack: the installation's bot token, when bot scopes were asked for.
    pub bot_token: Option<AccessToken>,
    /// Whether the connection holds a refresh token.
    pub refreshable: bool,
    /// OAuth 1.0a (Trello): the secret that signs calls with the access token.
    pub token_secret: Option<AccessToken>,
    /// The connection's version (its `updated_at`): a refresh after the provider refused
    /// this token happens only if nobody changed the connection since.
    pub version: chrono::DateTime<chrono::Utc>,
    /// Calls through the proxy wait until then (the provider asked for a pause).
    pub cooldown_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Per-connection locks of this process, and this process's name on leases.
pub struct RefreshLocks {
    pub(crate) owner: String,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl RefreshLocks {
    /// Locks for a new process, under a fresh lease name.
    pub fn new() -> Self {
        Self {
            owner: store::new_id(),
            locks: Mutex::new(HashMap::new()),
        }
    }

    fn lock_for(&self, connection_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Locks nobody waits on are dropped as the map is used.
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(connection_id.to_string()).or_default().clone()
    }
}

impl Default for RefreshLocks {
    fn default() -> Self {
        Self::new()
    }
}

/// The lifetime given to a refreshable token whose answer stated none usable (missing, 0,
/// negative, not a number, more than a year): an hour, so it is refreshed soon and the next
/// answer tells.
pub const ASSUMED_LIFETIME_SECONDS: i64 = 3600;

/// When a token received at `received_at` expires. A usable `expires_in` (see
/// `exchange::seconds`) is taken as stated; without one, a refreshable token gets
/// [`ASSUMED_LIFETIME_SECONDS`] where the provider's tokens have lifetimes
/// (`Provider::assumes_lifetime`), and otherwise never expires (the liveness job checks
/// those instead).
pub fn expires_at(
    received_at: chrono::DateTime<chrono::Utc>,
    expires_in: Option<i64>,
    assume_lifetime: bool,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let seconds = expires_in.or(assume_lifetime.then_some(ASSUMED_LIFETIME_SECONDS))?;
    received_at.checked_add_signed(chrono::Duration::try_seconds(seconds)?)
}

/// Whether a token expiring at `expires_at` should be refreshed now; never for tokens that
/// do not expire.
pub fn is_due(
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    margin: chrono::Duration,
) -> bool {
    expires_at.is_some_and(|at| at - margin <= now)
}

/// How long a connection is left alone after its `failures`-th refresh failure in a row:
/// 10 s, 20 s, 40 s ... at most an hour, plus up to a quarter more at random (instances and
/// connections that failed together do not retry together).
pub fn backoff(failures: i32) -> chrono::Duration {
    let base = chrono::Duration::seconds((10i64 << failures.clamp(0, 9)).min(3600));
    let jitter = base.num_milliseconds() as f64 * rand::random::<f64>() * 0.25;
    base + chrono::Duration::milliseconds(jitter as i64)
}

/// A working access token of the connection: refreshed first when it expires within a
/// minute.
pub async fn access_token(
    ctx: &Ctx,
    connection_id: &str,
    provider: &Provider,
) -> Result<FreshToken, TokenError> {
    ensure_fresh(
        ctx,
        connection_id,
        provider,
        chrono::Duration::seconds(MARGIN_SECONDS),
    )
    .await
}

/// [`access_token`] of a connection row the caller just read (choosing among a user's
/// accounts reads it): not read again unless it must be refreshed first.
pub async fn access_token_of(
    ctx: &Ctx,
    row: &connections::Model,
    provider: &Provider,
) -> Result<FreshToken, TokenError> {
    let margin = chrono::Duration::seconds(MARGIN_SECONDS);
    if row.is_connected() && !is_due(row.expires_at, ctx.clock.now(), margin) {
        return open(ctx, row);
    }
    access_token(ctx, &row.id, provider).await
}

/// Refreshes the connection if it expires within `margin` (the background refresher asks
/// with a wider margin than callers do), then returns its access token.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn ensure_fresh(
    ctx: &Ctx,
    connection_id: &str,
    provider: &Provider,
    margin: chrono::Duration,
) -> Result<FreshToken, TokenError> {
    let due = |row: &connections::Model| is_due(row.expires_at, ctx.clock.now(), margin);
    single_flight(ctx, connection_id, provider, due).await
}

/// The provider refused the access token of the connection at `version` (HTTP 401)
/// though it had not expired by its stated lifetime: with a refresh token, one refresh
/// (Notion rotates refresh tokens and states no lifetime), unless someone changed the
/// connection since it was read (then its newer token is returned). A refresh the provider
/// refuses turns it to needs_reauth, as always.
pub async fn refresh_refused(
    ctx: &Ctx,
    provider: &Provider,
    connection_id: &str,
    version: chrono::DateTime<chrono::Utc>,
) -> Result<FreshToken, TokenError> {
    let unchanged = |row: &connections::Model| row.updated_at == version;
    single_flight(ctx, connection_id, provider, unchanged).await
}

/// The connection's access token, refreshed first when `due` says so: at most one provider
/// call per connection at a time (a lock in this process, a lease across instances), none
/// while the connection backs off after a failure.
async fn single_flight(
    ctx: &Ctx,
    connection_id: &str,
    provider: &Provider,
    due: impl Fn(&connections::Model) -> bool,
) -> Result<FreshToken, TokenError> {
    let row = current(ctx, connection_id).await?;
    if !due(&row) {
        return open(ctx, &row);
    }
    if let Some(retry_at) = row.retry_at.filter(|at| *at > ctx.clock.now()) {
        // The provider failed recently: not asked again before the backoff ends. A token
        // that still works meanwhile is handed out.
        if row.expires_at.is_some_and(|at| at > ctx.clock.now()) {
            return open(ctx, &row);
        }
        return Err(TokenError::Unavailable {
            retry_at: Some(retry_at),
        });
    }
    let lock = ctx.refresh_locks.lock_for(&row.id);
    let _one_at_a_time = lock.lock().await;
    // Whoever held the lock before us may have refreshed already.
    let mut row = current(ctx, connection_id).await?;
    let owner = ctx.refresh_locks.owner.clone();
    for attempt in 0..100u32 {
        if !due(&row) {
            return open(ctx, &row);
        }
        if store::leases::claim(
            &ctx.db,
            &row.id,
            &owner,
            chrono::Duration::seconds(LEASE_SECONDS),
            ctx.clock.now(),
        )
        .await?
        {
            // Another instance may have refreshed between our read and our claim: read
            // again under the lease, or we would spend a rotated refresh token twice.
            let result = match current(ctx, connection_id).await {
                Ok(row) if due(&row) => {
                    let refreshed = refresh(ctx, provider, &row).await;
                    // Its outcome (recorded by now) may change the provider's health.
                    ctx.probes.forget(&provider.service);
                    refreshed
                }
                Ok(row) => open(ctx, &row),
                Err(e) => Err(e),
            };
            store::leases::release(&ctx.db, &row.id, &owner).await?;
            return result;
        }
        // Another instance is refreshing this connection: wait for its result (10 ms, then
        // longer, up to 100 ms between looks).
        tokio::time::sleep(Duration::from_millis((10u64 << attempt.min(4)).min(100))).await;
        row = current(ctx, connection_id).await?;
    }
    Err(TokenError::Unavailable { retry_at: None })
}

async fn current(ctx: &Ctx, connection_id: &str) -> Result<connections::Model, TokenError> {
    let row = connections::by_id(&ctx.db, connection_id)
        .await?
        .ok_or(TokenError::NotConnected)?;
    if !row.is_connected() {
        return Err(TokenError::NeedsReauth);
    }
    Ok(row)
}

pub(crate) fn open_tokens(ctx: &Ctx, row: &connections::Model) -> Result<TokenSet, TokenError> {
    let plain = ctx
        .vault
        .open(
            &row.tokens_sealed,
            &token_binding(&row.id, &row.user_id, &row.provider),
        )
        .map_err(|e| {
            tracing::error!(error = %e, connection_id = %row.id, "stored tokens did not open");
            audit_decrypt_failure(ctx, row);
            TokenError::Internal
        })?;
    serde_json::from_slice(plain.expose_secret()).map_err(|_| TokenError::Internal)
}

/// A ciphertext that does not open was tampered with, moved or sealed under another key:
/// the audit log records it (in the background: opening is synchronous).
fn audit_decrypt_failure(ctx: &Ctx, row: &connections::Model) {
    use crate::base::audit::{Event, Kind, Origin};
    let mut event = Event::new(Kind::DecryptFailed, &Origin::internal(&ctx.clock))
        .provider(&row.provider)
        .failed("decrypt_failed");
    event.subject = Some(row.user_id.clone());
    let db = ctx.db.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::base::store::audit::append(&db, event).await {
            tracing::error!(error = %e, "auditing a decryption failure failed");
        }
    });
}

fn open(ctx: &Ctx, row: &connections::Model) -> Result<FreshToken, TokenError> {
    let tokens = open_tokens(ctx, row)?;
    Ok(FreshToken {
        connection_id: row.id.clone(),
        access_token: tokens.access_token,
        expires_at: row.expires_at,
        scopes: crate::domain::connections::split_scopes(&row.granted_scopes),
        bot_token: tokens.bot_token,
        refreshable: tokens.refresh_token.is_some(),
        token_secret: tokens.token_secret,
        version: row.updated_at,
        cooldown_until: row.cooldown_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_due_a_minute_before_expiry() {
        let now = chrono::Utc::now();
        let minute = chrono::Duration::seconds(MARGIN_SECONDS);
        assert!(
            !is_due(None, now, minute),
            "tokens without expiry never are"
        );
        assert!(!is_due(
            Some(now + chrono::Duration::seconds(61)),
            now,
            minute
        ));
        assert!(is_due(
            Some(now + chrono::Duration::seconds(59)),
            now,
            minute
        ));
        assert!(is_due(
            Some(now - chrono::Duration::seconds(1)),
            now,
            minute
        ));
    }

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_an_hour() {
        let secs: Vec<i64> = (0..=12).map(|n| backoff(n).num_seconds()).collect();
        for (n, s) in secs.iter().enumerate() {
            let base = (10i64 << n.min(9)).min(3600);
            assert!(*s >= base && *s <= base + base / 4, "{n}: {s}");
        }
        assert!(
            backoff(40).num_seconds() <= 4500,
            "never more than an hour and a quarter"
        );
    }

    #[test]
    fn only_dead_grant_codes_stop_refreshing() {
        use super::refresh::grant_is_dead;
        assert!(grant_is_dead("invalid_grant"));
        assert!(grant_is_dead("bad_refresh_token"), "GitHub Apps");
        assert!(grant_is_dead("interaction_required"), "Microsoft, MFA");
        assert!(grant_is_dead("consent_required"), "Microsoft, consent");
        assert!(!grant_is_dead("temporarily_unavailable"));
        assert!(!grant_is_dead("server_error"));
    }
}

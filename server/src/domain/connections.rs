//! Connections: saving one (tokens sealed, bound to their row), how one looks to its user
//! (state, scopes), and the one way a change to a connection is recorded: its audit event and
//! its webhook in the outbox, in the caller's transaction.

use crate::base::audit::Event;
use crate::base::providers::Provider;
use crate::base::store::{self, connections};
use crate::base::vault::Binding;
use crate::domain::oauth::identity::Account;
use crate::domain::oauth::TokenSet;
use crate::domain::tokens;
use crate::domain::Ctx;
use app::model::ConnectionState;
use sea_orm::{ConnectionTrait, DbErr};

/// A connection a completed flow yields, ready to be saved.
pub struct NewConnection<'a> {
    /// Whose connection it is.
    pub user_id: &'a str,
    /// The provider connected.
    pub provider: &'a Provider,
    /// The tokens the exchange yielded (sealed before they are stored).
    pub tokens: &'a TokenSet,
    /// Seconds until the access token expires; None when it does not.
    pub expires_in: Option<i64>,
    /// As the provider reported them (any separator); the requested scopes when absent.
    pub granted_scopes: Option<String>,
    /// The provider account the tokens belong to.
    pub account: Account,
}

/// Which of a user's connections to a service a caller means.
pub enum Choice {
    /// The one named, or the only one.
    One(connections::Model),
    /// None (or none with the id named).
    NotConnected,
    /// Several, and none named: the caller must say which (their ids, oldest first).
    Several(Vec<connections::Model>),
}

/// The connection `connection_id` names among a user's connections to a service (`rows`), or
/// without an id the only one.
pub fn choose(rows: &[connections::Model], connection_id: Option<&str>) -> Choice {
    if let Some(id) = connection_id {
        return match rows.iter().find(|row| row.id == id) {
            Some(row) => Choice::One(row.clone()),
            None => Choice::NotConnected,
        };
    }
    match rows {
        [] => Choice::NotConnected,
        [row] => Choice::One(row.clone()),
        _ => Choice::Several(rows.to_vec()),
    }
}

/// A user's connections to a service, oldest first, as kept in memory for a moment
/// (`base::hot`): for reading them and handing out their tokens, where a refresh reads the
/// row again. Whoever changes one reads it from the database.
pub async fn kept(
    ctx: &Ctx,
    user_id: &str,
    service: &str,
) -> Result<std::sync::Arc<Vec<connections::Model>>, DbErr> {
    let key = crate::base::hot::HotRows::connections_key(user_id, service);
    let rows = ctx.hot.connections.read_through(&key, || async {
        connections::of_service(&ctx.db, user_id, service)
            .await
            .map(Some)
    });
    Ok(rows.await?.unwrap_or_default())
}

/// Seals the tokens and saves the user's connection to that provider account (a new one, or
/// the same account's again: then it replaces its tokens and keeps its id, label and
/// metadata), with its `event`, in the caller's transaction.
/// Returns the connection it replaced, as it was.
pub async fn save(
    ctx: &Ctx,
    txn: &impl ConnectionTrait,
    new: NewConnection<'_>,
    event: Event,
) -> Result<Option<connections::Model>, DbErr> {
    let now = ctx.clock.now();
    let service = &new.provider.service;
    let existing = connections::of_account(txn, new.user_id, service, &new.account.id).await?;
    let id = existing
        .as_ref()
        .map(|c| c.id.clone())
        .unwrap_or_else(store::new_id);
    let requested = new.provider.scopes.join(" ");
    let row = connections::Model {
        tokens_sealed: seal_tokens(ctx, &id, new.user_id, service, new.tokens)?,
        id,
        user_id: new.user_id.to_string(),
        provider: service.clone(),
        status: connections::CONNECTED.to_string(),
        // A blank `scope` states nothing (a GitHub App's permissions are the app's, and it
        // answers `scope=""`): as if the requested scopes were granted.
        granted_scopes: new
            .granted_scopes
            .filter(|s| !s.trim().is_empty())
            .map(|s| normalise_scopes(&s, &requested))
            .unwrap_or_else(|| requested.clone()),
        requested_scopes: requested,
        expires_at: tokens::expires_at(
            now,
            new.expires_in,
            new.tokens.refresh_token.is_some() && new.provider.assumes_lifetime,
        ),
        account_id: new.account.id,
        account_name: new.account.name,
        // A reconnect is a new connection: the page shows when it was made.
        created_at: now,
        updated_at: now,
        last_refreshed_at: None,
        retry_at: None,
        failures: 0,
        checked_at: None,
        cooldown_until: None,
        label: None,
        metadata: None,
    };
    let id = row.id.clone();
    connections::upsert(txn, row).await?;
    record_change(txn, &id, event).await?;
    Ok(existing)
}

/// Seals a connection's tokens, bound to its row, user, provider and field.
pub fn seal_tokens(
    ctx: &Ctx,
    connection_id: &str,
    user_id: &str,
    provider: &str,
    tokens: &TokenSet,
) -> Result<Vec<u8>, DbErr> {
    let plain = serde_json::to_vec(tokens).map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok(ctx
        .vault
        .seal(&plain, &token_binding(connection_id, user_id, provider)))
}

/// What a connection's sealed tokens are bound to.
pub fn token_binding<'a>(
    connection_id: &'a str,
    user_id: &'a str,
    provider: &'a str,
) -> Binding<'a> {
    Binding {
        table: "connections",
        row_id: connection_id,
        user_id,
        provider,
        field: "tokens",
    }
}

/// Granted scopes stored space-separated whatever the provider's separator (GitHub uses
/// commas), each in the spelling it was requested in when the provider wrote it otherwise.
fn normalise_scopes(raw: &str, requested: &str) -> String {
    raw.split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(|granted| {
            scopes_in(requested)
                .find(|r| same_scope(r, granted))
                .unwrap_or(granted)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Two spellings of one scope. Microsoft answers a requested `Mail.Read` as
/// `https://graph.microsoft.com/mail.read` (its resource prefixed, lower case; Microsoft
/// identity platform, "OAuth 2.0 authorization code flow", successful token response,
/// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
fn same_scope(a: &str, b: &str) -> bool {
    fn bare(scope: &str) -> &str {
        match scope.split_once("://") {
            Some((_, rest)) => rest.split_once('/').map_or(rest, |(_, path)| path),
            None => scope,
        }
    }
    a == b || bare(a).eq_ignore_ascii_case(bare(b))
}

/// Records a change to a connection (connected, refreshed, needs re-authorization,
/// disconnected): the audit event, and the webhook that tells the platform, written to the
/// outbox in the same transaction so one exists exactly when the other does.
pub async fn record_change(
    db: &impl ConnectionTrait,
    connection_id: &str,
    event: Event,
) -> Result<(), DbErr> {
    if let (Some(user_id), Some(provider)) = (&event.subject, &event.provider) {
        let change = store::webhooks::Change {
            kind: event.kind.name(),
            user_id,
            provider,
            connection_id,
            reason: event.reason.as_deref(),
        };
        store::webhooks::add(db, change, event.at).await?;
    }
    store::audit::append(db, event).await
}

/// How a stored connection looks to its user right now.
pub fn connection_state(
    row: Option<&store::connections::Model>,
    now: chrono::DateTime<chrono::Utc>,
) -> ConnectionState {
    match row {
        None => ConnectionState::NotConnected,
        Some(c) if c.is_connected() => match c.expires_at {
            Some(at) if at <= now => ConnectionState::Expired,
            _ => ConnectionState::Connected,
        },
        Some(_) => ConnectionState::NeedsReauth,
    }
}

/// Scopes as stored (space-separated) to a list.
pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes_in(scopes).map(str::to_string).collect()
}

/// The scopes of a space-separated list, borrowed.
pub fn scopes_in(scopes: &str) -> impl Iterator<Item = &str> {
    scopes.split(' ').filter(|s| !s.is_empty())
}

/// Requested scopes the provider did not grant. Google answers the OpenID short names in long
/// form, so those count as granted under either name.
pub fn missing_scopes<'a>(requested: &'a str, granted: &str) -> Vec<&'a str> {
    let long_form = |scope: &str| match scope {
        "email" => Some("https://www.googleapis.com/auth/userinfo.email"),
        "profile" => Some("https://www.googleapis.com/auth/userinfo.profile"),
        _ => None,
    };
    scopes_in(requested)
        .filter(|scope| {
            // offline_access is a request for a refresh token, not a permission granted back.
            *scope != "offline_access"
                && !scopes_in(granted).any(|g| same_scope(g, scope) || Some(g) == long_form(scope))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::missing_scopes;

    #[test]
    fn missing_scopes_are_the_requested_ones_not_granted() {
        assert_eq!(missing_scopes("a b c", "c a"), vec!["b"]);
        let google = "openid https://www.googleapis.com/auth/userinfo.email \
                      https://www.googleapis.com/auth/userinfo.profile";
        assert!(missing_scopes("openid email profile offline_access", google).is_empty());
        assert!(missing_scopes("", "x").is_empty());
        let microsoft =
            "openid https://graph.microsoft.com/user.read https://graph.microsoft.com/mail.read";
        assert!(missing_scopes("openid User.Read Mail.Read", microsoft).is_empty());
        assert_eq!(missing_scopes("Mail.Send", microsoft), vec!["Mail.Send"]);
    }
}

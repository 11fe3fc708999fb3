//! API keys: created and revoked together with their audit event, in one transaction. What a
//! key may do is the one list [`ApiScope`], shared by the admin page, the API and the CLI.

use crate::base::audit::Kind;
use crate::base::store::{self, api_keys};
use crate::domain::users::Actor;
use app::model::admin::ApiScope;
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::SecretString;

/// Why a key was not created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The name is empty or longer than 64 characters.
    #[error("a key needs a name of 1 to 64 characters")]
    BadName,
    /// No scope was chosen.
    #[error("a key needs at least one scope")]
    NoScope,
    /// An agent's key has the `mcp` scope alone and names its user; no other key names one.
    #[error(
        "an agent's key (scope mcp) acts for one user: name the user, and give it no other scope"
    )]
    AgentKey,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The scope of an agent's key: the MCP endpoint, for the key's one user.
pub const MCP_SCOPE: &str = "mcp";

/// Checks scope names: those of [`ApiScope`], `proxy:<service>` (one service's API through
/// the proxy) and `mcp` (an agent's key); the first unknown name is the error.
pub fn parse_scopes(names: &[String]) -> Result<Vec<String>, String> {
    names
        .iter()
        .map(|name| {
            let one_service = name.strip_prefix("proxy:").is_some_and(|service| {
                !service.is_empty()
                    && service.len() <= 64
                    && service.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    })
            });
            (ApiScope::parse(name).is_some() || one_service || name == MCP_SCOPE)
                .then(|| name.clone())
                .ok_or_else(|| name.clone())
        })
        .collect()
}

/// A new key; returns its row and the key itself, in clear this once. An agent's key (scope
/// `mcp`, alone) names the user (hub id) it acts for.
pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    scopes: &[String],
    user_id: Option<&str>,
    actor: &Actor,
) -> Result<(api_keys::Model, SecretString), KeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(KeyError::BadName);
    }
    if scopes.is_empty() {
        return Err(KeyError::NoScope);
    }
    let agent = scopes.iter().any(|s| s == MCP_SCOPE);
    if agent != user_id.is_some() || (agent && scopes.len() > 1) {
        return Err(KeyError::AgentKey);
    }
    let txn = crate::base::store::begin(&db).await?;
    let now = actor.origin.clock.now();
    let (mut row, key) = api_keys::create(&txn, name, scopes, now).await?;
    if let Some(user_id) = user_id {
        api_keys::bind_user(&txn, &row.id, user_id).await?;
        row.user_id = Some(user_id.to_string());
    }
    store::audit::append(&txn, actor.key_event(Kind::ApiKeyCreated, &row.id)).await?;
    txn.commit().await?;
    Ok((row, key))
}

/// Revokes a live key; false when there is none with that id.
pub async fn revoke(db: &DatabaseConnection, id: &str, actor: &Actor) -> Result<bool, DbErr> {
    let txn = crate::base::store::begin(&db).await?;
    if !api_keys::revoke(&txn, id, actor.origin.clock.now()).await? {
        return Ok(false);
    }
    store::audit::append(&txn, actor.key_event(Kind::ApiKeyRevoked, id)).await?;
    txn.commit().await?;
    Ok(true)
}

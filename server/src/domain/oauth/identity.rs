//! Who am I: the provider account id and a display name, from the provider's own call.

use crate::base::providers::{Endpoints, Identity, Provider};
use oauth2::AccessToken;
use reqwest::header::ACCEPT;
use serde_json::Value;

/// Why the who-am-I call gave no account.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The provider has no who-am-I endpoint.
    #[error("the provider has no who-am-I endpoint")]
    NoEndpoint,
    /// The call failed or its answer was unreadable.
    #[error("the who-am-I call failed")]
    Failed,
    /// 401 or 403: the provider no longer honours the token (revoked by the user).
    #[error("the provider refused the token")]
    Refused,
}

/// The provider account a connection belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    /// The provider's id for it.
    pub id: String,
    /// A name people recognise (login, email or display name).
    pub name: String,
    /// The account's email, where the who-am-I answer carries a reliable one (`read_email`).
    pub email: Option<String>,
    /// Scopes the provider reports on the identity call (GitHub's X-OAuth-Scopes).
    pub scopes: Option<String>,
}

/// The provider's who-am-I call with a bearer token.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn who_am_i(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    token: &AccessToken,
) -> Result<Account, IdentityError> {
    let url = endpoints
        .userinfo_url
        .clone()
        .ok_or(IdentityError::NoEndpoint)?;
    let request = match provider.identity {
        Identity::GitHubUser => http.get(url).header(ACCEPT, "application/vnd.github+json"),
        Identity::OidcUserinfo | Identity::AsanaMe | Identity::MicrosoftGraph => {
            http.get(url).header(ACCEPT, "application/json")
        }
        Identity::NotionMe => provider.versioned(http.get(url)),
        Identity::SlackAuthTest => http.post(url).form(&[] as &[(&str, &str)]),
        // An RPC endpoint without arguments: no body and no Content-Type.
        Identity::DropboxAccount => http.post(url),
        // Trello's OAuth 2.0 (its OAuth 1.0a signs this call in `oauth1::identify`).
        Identity::TrelloMember => http
            .get(url)
            .query(&[("fields", "fullName,id,username")])
            .header(ACCEPT, "application/json"),
    };
    let response = request
        .bearer_auth(token.secret())
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "identity request failed");
            IdentityError::Failed
        })?;
    refused_by_status(response.status())?;
    let scopes = response
        .headers()
        .get("x-oauth-scopes")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = crate::base::bounded::json(response)
        .await
        .map_err(|_| IdentityError::Failed)?;
    if refused_in_body(provider.identity, &body) {
        return Err(IdentityError::Refused);
    }
    let (id, name) = read_identity(provider.identity, &body).ok_or(IdentityError::Failed)?;
    Ok(Account {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        email: read_email(provider.identity, &body),
        scopes,
    })
}

/// A who-am-I answer other than 200: 401 or 403 mean the provider no longer honours the token
/// (the user revoked it), anything else is a failure that changes nothing.
pub(super) fn refused_by_status(status: reqwest::StatusCode) -> Result<(), IdentityError> {
    if status == reqwest::StatusCode::OK {
        return Ok(());
    }
    tracing::warn!(%status, "identity request refused");
    Err(if matches!(status.as_u16(), 401 | 403) {
        IdentityError::Refused
    } else {
        IdentityError::Failed
    })
}

/// A refusal that a provider reports with HTTP 200. Slack's `auth.test` answers `ok: false`
/// with `token_revoked` (the app was removed or the token revoked), `invalid_auth` or
/// `account_inactive` (a deleted user or workspace): the token is dead. Other errors
/// (`ratelimited`, ...) are not a refusal.
fn refused_in_body(identity: Identity, body: &Value) -> bool {
    identity == Identity::SlackAuthTest
        && body.get("ok") == Some(&Value::Bool(false))
        && matches!(
            body.get("error").and_then(Value::as_str),
            Some("token_revoked" | "invalid_auth" | "account_inactive")
        )
}

/// The account's email from a who-am-I answer, where the provider gives a reliable one:
/// OpenID userinfo unless `email_verified` is false, Microsoft Graph's `mail` (else the
/// `userPrincipalName`), Dropbox's when `email_verified` (its documentation: "do not rely on
/// this without checking"), Asana's `data.email`, GitHub's public `email` (often null).
pub fn read_email(identity: Identity, body: &Value) -> Option<String> {
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| s.contains('@'))
            .map(str::to_string)
    };
    let verified = |pointer: &str| body.pointer(pointer).and_then(Value::as_bool);
    match identity {
        Identity::OidcUserinfo => {
            text("/email").filter(|_| verified("/email_verified") != Some(false))
        }
        Identity::MicrosoftGraph => text("/mail").or_else(|| text("/userPrincipalName")),
        Identity::DropboxAccount => {
            text("/email").filter(|_| verified("/email_verified") == Some(true))
        }
        Identity::AsanaMe => text("/data/email"),
        Identity::GitHubUser => text("/email"),
        Identity::SlackAuthTest | Identity::NotionMe | Identity::TrelloMember => None,
    }
}

/// The account id and display name from a who-am-I answer, per provider.
pub fn read_identity(identity: Identity, body: &Value) -> Option<(String, Option<String>)> {
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let first = |pointers: &[&str]| pointers.iter().find_map(|p| text(p));
    let (id, name) = match identity {
        Identity::GitHubUser => (
            body.get("id")
                .and_then(Value::as_i64)
                .map(|n| n.to_string()),
            text("/login"),
        ),
        Identity::OidcUserinfo => (
            text("/sub"),
            first(&["/name", "/preferred_username", "/email"]),
        ),
        Identity::SlackAuthTest => {
            if body.get("ok") != Some(&Value::Bool(true)) {
                return None;
            }
            let name = match (text("/user"), text("/team")) {
                (Some(user), Some(team)) => Some(format!("{user} ({team})")),
                (user, _) => user,
            };
            (text("/user_id"), name)
        }
        Identity::AsanaMe => (text("/data/gid"), first(&["/data/name", "/data/email"])),
        Identity::NotionMe => (
            text("/id"),
            first(&["/bot/owner/user/name", "/bot/workspace_name", "/name"]),
        ),
        Identity::DropboxAccount => (
            text("/account_id"),
            first(&["/name/display_name", "/email"]),
        ),
        Identity::MicrosoftGraph => (
            text("/id"),
            first(&["/displayName", "/userPrincipalName", "/mail"]),
        ),
        Identity::TrelloMember => (text("/id"), first(&["/fullName", "/username"])),
    };
    Some((id?, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_each_providers_identity_shape() {
        let cases = [
            (
                Identity::GitHubUser,
                json!({"id": 42, "login": "octo"}),
                "42",
                "octo",
            ),
            (
                Identity::OidcUserinfo,
                json!({"sub": "s1", "email": "a@b.test"}),
                "s1",
                "a@b.test",
            ),
            (
                Identity::SlackAuthTest,
                json!({"ok": true, "user_id": "U1", "user": "ann", "team": "Acme"}),
                "U1",
                "ann (Acme)",
            ),
            (
                Identity::AsanaMe,
                json!({"data": {"gid": "12", "name": "Ann"}}),
                "12",
                "Ann",
            ),
            (
                Identity::NotionMe,
                json!({"id": "b1", "bot": {"owner": {"user": {"name": "Nora"}}}}),
                "b1",
                "Nora",
            ),
            (
                Identity::DropboxAccount,
                json!({"account_id": "dbid:1", "name": {"display_name": "Dee"}}),
                "dbid:1",
                "Dee",
            ),
            (
                Identity::MicrosoftGraph,
                json!({"id": "m1", "userPrincipalName": "mo@corp.test"}),
                "m1",
                "mo@corp.test",
            ),
            (
                Identity::TrelloMember,
                json!({"id": "t1", "username": "tree"}),
                "t1",
                "tree",
            ),
        ];
        for (identity, body, id, name) in cases {
            let (got_id, got_name) = read_identity(identity, &body).expect("reads");
            assert_eq!(
                (got_id.as_str(), got_name.as_deref()),
                (id, Some(name)),
                "{identity:?}"
            );
        }
        assert!(read_identity(
            Identity::SlackAuthTest,
            &json!({"ok": false, "user_id": "U1"})
        )
        .is_none());
        assert!(read_identity(Identity::OidcUserinfo, &json!({"name": "no sub"})).is_none());
    }
}

//! Who am I: the provider account id and a display name, from the provider's own call.

use crate::providers::{Endpoints, Identity, Provider};
use oauth2::AccessToken;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the provider has no who-am-I endpoint")]
    NoEndpoint,
    #[error("the who-am-I call failed")]
    Failed,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Scopes the provider reports on the identity call (GitHub's X-OAuth-Scopes).
    pub scopes: Option<String>,
}

#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn who_am_i(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    token: &AccessToken,
) -> Result<Account, IdentityError> {
    let url = endpoints.userinfo_url.clone().ok_or(IdentityError::NoEndpoint)?;
    let accept = match provider.identity {
        Identity::GitHubUser => "application/vnd.github+json",
        Identity::OidcUserinfo => "application/json",
    };
    let response = http
        .get(url)
        .bearer_auth(token.secret())
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "identity request failed");
            IdentityError::Failed
        })?;
    if response.status() != reqwest::StatusCode::OK {
        tracing::warn!(status = %response.status(), "identity request refused");
        return Err(IdentityError::Failed);
    }
    let scopes = response
        .headers()
        .get("x-oauth-scopes")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.map_err(|_| IdentityError::Failed)?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (id, name) = match provider.identity {
        Identity::GitHubUser => {
            let id = body.get("id").and_then(Value::as_i64).map(|n| n.to_string());
            (id, text("login").map(str::to_string))
        }
        Identity::OidcUserinfo => (
            text("sub").map(str::to_string),
            text("name").or(text("preferred_username")).or(text("email")).map(str::to_string),
        ),
    };
    let id = id.ok_or(IdentityError::Failed)?;
    let name = name.unwrap_or_else(|| id.clone());
    Ok(Account { id, name, scopes })
}

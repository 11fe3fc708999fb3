//! The authorization-code exchange, with the provider's client authentication and format.
//! A response is a success only if it is HTTP 200, JSON, carries a non-empty access token and
//! no `error` (GitHub reports errors with HTTP 200).

use super::{basic_auth, safe_code, TokenSet};
use crate::providers::{ClientAuth, Endpoints, Provider};
use oauth2::{AccessToken, AuthorizationCode, PkceCodeVerifier, RefreshToken};
use secrecy::ExposeSecret;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("the token endpoint could not be reached")]
    Network,
    #[error("the token endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the token endpoint refused: {0}")]
    Rejected(String),
    #[error("the token response is malformed")]
    Malformed,
}

/// What a successful exchange yields besides the tokens.
#[derive(Debug)]
pub struct Grant {
    pub tokens: TokenSet,
    pub expires_in: Option<i64>,
    /// The scopes the provider says it granted, as sent (separator varies by provider).
    pub scope: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    access_token: Option<AccessToken>,
    refresh_token: Option<RefreshToken>,
    expires_in: Option<serde_json::Value>,
    scope: Option<String>,
    error: Option<String>,
}

#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    code: &AuthorizationCode,
    redirect_uri: &str,
    verifier: Option<&PkceCodeVerifier>,
) -> Result<Grant, ExchangeError> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier.secret()));
    }
    let mut request = http
        .post(endpoints.token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    match provider.client_auth {
        ClientAuth::Body => {
            form.push(("client_id", &provider.client_id));
            form.push(("client_secret", provider.client_secret.expose_secret()));
        }
        ClientAuth::Basic => {
            request = basic_auth(request, &provider.client_id, &provider.client_secret);
        }
    }
    let response = request.form(&form).send().await.map_err(|e| {
        tracing::warn!(error = %e.without_url(), "token request failed");
        ExchangeError::Network
    })?;
    let status = response.status();
    let body: Response = response.json().await.map_err(|_| {
        if status.is_success() { ExchangeError::Malformed } else { ExchangeError::Status(status.as_u16()) }
    })?;
    if let Some(code) = body.error {
        return Err(ExchangeError::Rejected(safe_code(&code)));
    }
    if status != reqwest::StatusCode::OK {
        return Err(ExchangeError::Status(status.as_u16()));
    }
    let access_token = body
        .access_token
        .filter(|t| !t.secret().is_empty())
        .ok_or(ExchangeError::Malformed)?;
    Ok(Grant {
        tokens: TokenSet { access_token, refresh_token: body.refresh_token },
        expires_in: body.expires_in.as_ref().and_then(seconds),
        scope: body.scope,
    })
}

/// `expires_in` as a number, or a numeric string as some providers send.
fn seconds(value: &serde_json::Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str()?.parse().ok()).filter(|s| *s > 0)
}

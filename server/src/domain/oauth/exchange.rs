//! The authorization-code exchange, with the provider's client authentication and format.
//! A response is a success only if it is HTTP 200, JSON, carries a non-empty access token and
//! passes the provider's own success flag (GitHub reports errors with HTTP 200, Slack with
//! `ok: false`).

use super::{basic_auth, safe_code, TokenSet};
use crate::base::providers::{ClientAuth, Endpoints, Provider, TokenFormat};
use oauth2::{AccessToken, AuthorizationCode, PkceCodeVerifier, RefreshToken};
use secrecy::ExposeSecret;
use serde_json::Value;

/// Why a token request (code exchange or refresh) failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// No answer.
    #[error("the token endpoint could not be reached")]
    Network,
    /// An HTTP error without an OAuth error code.
    #[error("the token endpoint answered HTTP {0}")]
    Status(u16),
    /// The provider's OAuth error code (code-shaped, never free text).
    #[error("the token endpoint refused: {0}")]
    Rejected(String),
    /// HTTP 200 without a usable token.
    #[error("the token response is malformed")]
    Malformed,
}

/// What a successful exchange yields besides the tokens. Debug prints no token.
#[derive(Debug)]
pub struct Grant {
    /// The tokens.
    pub tokens: TokenSet,
    /// Seconds until the access token expires; None when it does not.
    pub expires_in: Option<i64>,
    /// The scopes the provider says it granted, as sent (separator varies by provider).
    pub scope: Option<String>,
}

/// Exchanges an authorization code (with the PKCE verifier when the provider takes one).
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
    let request = token_request(http, provider, endpoints, form);
    let response = request.send().await.map_err(|e| {
        tracing::warn!(error = %e.without_url(), "token request failed");
        ExchangeError::Network
    })?;
    parse_token_response(provider.token_format, response).await
}

/// A POST to the token endpoint with the provider's client authentication and body format.
pub fn token_request<'a>(
    http: &reqwest::Client,
    provider: &'a Provider,
    endpoints: &Endpoints,
    mut form: Vec<(&'a str, &'a str)>,
) -> reqwest::RequestBuilder {
    let request = http
        .post(endpoints.token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    match provider.client_auth {
        ClientAuth::Body => {
            form.push(("client_id", &provider.client_id));
            form.push(("client_secret", provider.client_secret.expose_secret()));
            request.form(&form)
        }
        ClientAuth::Basic => {
            basic_auth(request, &provider.client_id, &provider.client_secret).form(&form)
        }
        ClientAuth::BasicJson => {
            let body: serde_json::Map<String, Value> = form
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect();
            basic_auth(request, &provider.client_id, &provider.client_secret).json(&body)
        }
    }
}

/// Reads a token response (from a code exchange or a refresh) strictly.
pub async fn parse_token_response(
    format: TokenFormat,
    response: reqwest::Response,
) -> Result<Grant, ExchangeError> {
    let status = response.status();
    let body: Value = response.json().await.map_err(|_| {
        if status.is_success() {
            ExchangeError::Malformed
        } else {
            ExchangeError::Status(status.as_u16())
        }
    })?;
    if let Some(code) = body.get("error").and_then(Value::as_str) {
        return Err(ExchangeError::Rejected(safe_code(code)));
    }
    if status != reqwest::StatusCode::OK {
        return Err(ExchangeError::Status(status.as_u16()));
    }
    let tokens_at = match format {
        TokenFormat::Standard => &body,
        TokenFormat::SlackV2 => {
            if body.get("ok") != Some(&Value::Bool(true)) {
                return Err(ExchangeError::Malformed);
            }
            // The user token when user scopes were asked for, else the bot token.
            body.get("authed_user")
                .filter(|u| u.get("access_token").is_some())
                .unwrap_or(&body)
        }
    };
    let text = |key: &str| {
        tokens_at
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let access_token = text("access_token").ok_or(ExchangeError::Malformed)?;
    Ok(Grant {
        tokens: TokenSet {
            access_token: AccessToken::new(access_token.to_string()),
            refresh_token: text("refresh_token").map(|t| RefreshToken::new(t.to_string())),
            token_secret: None,
        },
        expires_in: tokens_at.get("expires_in").and_then(seconds),
        scope: text("scope").map(str::to_string),
    })
}

/// The longest lifetime taken as a provider states it (a year); more is a provider's mistake.
pub const MAX_LIFETIME_SECONDS: i64 = 366 * 24 * 3600;

/// `expires_in` as an integer, a float or a numeric string, as providers variously send it;
/// None unless it is a whole, positive number of seconds of at most a year. What a token with
/// no usable lifetime is given is `tokens::expires_at`'s rule.
fn seconds(value: &Value) -> Option<i64> {
    let number = value
        .as_f64()
        .or_else(|| value.as_str()?.trim().parse::<f64>().ok())?;
    let rounded = number.round();
    (rounded.is_finite() && rounded >= 1.0 && rounded <= MAX_LIFETIME_SECONDS as f64)
        .then_some(rounded as i64)
}

#[cfg(test)]
mod tests {
    use super::seconds;
    use serde_json::json;

    #[test]
    fn lifetimes_are_read_in_every_shape_and_nonsense_is_none() {
        assert_eq!(seconds(&json!(3600)), Some(3600));
        assert_eq!(seconds(&json!("3600")), Some(3600));
        assert_eq!(seconds(&json!(3600.5)), Some(3601));
        assert_eq!(seconds(&json!(1e3)), Some(1000));
        for nonsense in [
            json!(0),
            json!(-1),
            json!(8_300_000_000_000_i64),
            json!(1e12),
            json!("soon"),
            json!(null),
            json!(f64::MAX),
        ] {
            assert_eq!(seconds(&nonsense), None, "{nonsense}");
        }
    }
}

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
    /// HTTP 429, or a rate-limit code (Slack's `ratelimited` with HTTP 200): not before the
    /// `Retry-After` seconds, when the provider said.
    #[error("the token endpoint is rate limiting")]
    RateLimited(Option<u64>),
}

impl ExchangeError {
    /// How long the provider asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited(seconds) => *seconds,
            _ => None,
        }
    }
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
    let request = provider.versioned(
        http.post(endpoints.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json"),
    );
    match provider.client_auth_at(endpoints) {
        ClientAuth::Body => {
            form.push(("client_id", &provider.client_id));
            form.push(("client_secret", provider.client_secret.expose_secret()));
            request.form(&form)
        }
        ClientAuth::Basic => {
            basic_auth(request, &provider.client_id, &provider.client_secret).form(&form)
        }
        ClientAuth::BasicJson => {
            basic_auth(request, &provider.client_id, &provider.client_secret).json(&as_json(&form))
        }
        ClientAuth::BodyJson => {
            form.push(("client_id", &provider.client_id));
            form.push(("client_secret", provider.client_secret.expose_secret()));
            request.json(&as_json(&form))
        }
    }
}

/// Form fields as one JSON object of strings.
fn as_json(form: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    form.iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect()
}

/// Reads a token response (from a code exchange or a refresh) strictly.
pub async fn parse_token_response(
    format: TokenFormat,
    response: reqwest::Response,
) -> Result<Grant, ExchangeError> {
    let status = response.status();
    // RFC 9110 §10.2.3: seconds (an HTTP date is not worth the trouble here).
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s.min(3600));
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(ExchangeError::RateLimited(retry_after));
    }
    let body: Value = crate::base::bounded::json(response).await.map_err(|_| {
        if status.is_success() {
            ExchangeError::Malformed
        } else {
            ExchangeError::Status(status.as_u16())
        }
    })?;
    if let Some(code) = body.get("error").and_then(Value::as_str) {
        // Slack answers a rate limit with HTTP 200 and `ratelimited` (Slack API, "Rate
        // limits": https://api.slack.com/apis/rate-limits).
        if code == "ratelimited" {
            return Err(ExchangeError::RateLimited(retry_after));
        }
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
    // Slack with bot scopes as well as user scopes: the bot token is the top-level one.
    let bot_token = (format == TokenFormat::SlackV2 && !std::ptr::eq(tokens_at, &body))
        .then(|| body.get("access_token").and_then(Value::as_str))
        .flatten()
        .filter(|t| !t.is_empty())
        .map(|t| AccessToken::new(t.to_string()));
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
            bot_token,
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
    use super::{parse_token_response, seconds, ExchangeError};
    use crate::base::providers::TokenFormat;
    use serde_json::json;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
        let mut response = http::Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        reqwest::Response::from(response.body(body.to_string()).expect("response"))
    }

    /// A rate limit is a rate limit however it is said: HTTP 429 with Retry-After (RFC 6585
    /// §4), or Slack's HTTP 200 `{"ok": false, "error": "ratelimited"}` (Slack API, "Rate
    /// limits", https://api.slack.com/apis/rate-limits).
    #[tokio::test]
    async fn rate_limits_are_told_apart_with_their_retry_after() {
        let limited = parse_token_response(
            TokenFormat::Standard,
            answer(429, &[("retry-after", "120")], "{}"),
        )
        .await;
        assert_eq!(limited.err().and_then(|e| e.retry_after()), Some(120));
        let slack = parse_token_response(
            TokenFormat::SlackV2,
            answer(
                200,
                &[("retry-after", "30")],
                r#"{"ok":false,"error":"ratelimited"}"#,
            ),
        )
        .await;
        assert!(matches!(slack, Err(ExchangeError::RateLimited(Some(30)))));
        let refused = parse_token_response(
            TokenFormat::SlackV2,
            answer(200, &[], r#"{"ok":false,"error":"invalid_refresh_token"}"#),
        )
        .await;
        assert!(
            matches!(refused, Err(ExchangeError::Rejected(code)) if code == "invalid_refresh_token")
        );
    }

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

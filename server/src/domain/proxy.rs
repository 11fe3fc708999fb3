//! Calls to a provider's API through the hub: the caller names a user and a path under the
//! provider's API, the hub adds the credentials the provider expects, refreshes once when the
//! provider refuses the token, and remembers a provider's request for a pause (429,
//! `Retry-After`) for every instance. No token ever leaves the hub.

use crate::base::providers::{Protocol, Provider};
use crate::base::store::connections;
use crate::domain::oauth::oauth1_sign::{Signing, TokenCredentials};
use crate::domain::tokens::{access_token_of, refresh_refused, FreshToken, TokenError};
use crate::domain::Ctx;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use std::time::Duration;
use url::Url;

/// A provider's pause never lasts longer than this here, whatever it asked for.
const LONGEST_PAUSE_SECONDS: i64 = 3600;
/// The pause after a 429 that says nothing about how long (GitHub: "wait for at least one
/// minute before retrying").
const UNSTATED_PAUSE_SECONDS: i64 = 60;

/// The proxy's own HTTP client and limits (`[proxy]`).
pub struct Proxy {
    /// No redirects, bounded waits.
    pub http: reqwest::Client,
    /// `proxy.max_request_bytes`.
    pub max_request_bytes: usize,
    /// `proxy.max_response_bytes`.
    pub max_response_bytes: usize,
}

impl Proxy {
    /// A client that never follows a redirect (a 3xx goes back to the caller as it came),
    /// waits `timeout` for the provider to start answering and for each next part.
    pub fn new(config: &crate::base::config::ProxyConfig) -> Self {
        let timeout = Duration::from_secs(config.timeout_seconds.max(1));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(timeout)
            // Sent when the caller names no User-Agent (GitHub's API refuses calls without).
            .user_agent(concat!("atom-connect/", env!("CARGO_PKG_VERSION")))
            .https_only(false)
            .build()
            .expect("the proxy's client configuration is static and valid");
        Self {
            http,
            max_request_bytes: config.max_request_bytes,
            max_response_bytes: config.max_response_bytes,
        }
    }
}

/// One call as the caller asked for it, credentials not yet added.
pub struct Call {
    /// Any method but CONNECT and TRACE.
    pub method: Method,
    /// The path under the provider's API (checked: no dot segments), without the query.
    pub path: String,
    /// The query string, as the caller sent it.
    pub query: Option<String>,
    /// The caller's headers, already without hop-by-hop and credential headers.
    pub headers: HeaderMap,
    /// The whole request body (sent again after a refresh).
    pub body: Bytes,
    /// Slack: the installation's bot token instead of the user's.
    pub bot: bool,
}

/// Why the provider was not called, or gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No usable token (not connected, needs reauth, a refresh that failed).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The provider asked for a pause that lasts until then.
    #[error("the provider asked for a pause")]
    CoolingDown(chrono::DateTime<chrono::Utc>),
    /// The provider has no API base URL configured.
    #[error("no API base URL")]
    NoApi,
    /// `bot` for a connection without a bot token.
    #[error("no bot token")]
    NoBotToken,
    /// The provider could not be reached, or did not answer in time.
    #[error("the provider did not answer")]
    Unreachable,
}

/// The answer, and the connection that made it.
pub struct Answer {
    /// The provider's answer, its body not read yet.
    pub response: reqwest::Response,
    /// The connection whose credentials made the call.
    pub connection_id: String,
    /// Whether the call was repeated after one refresh.
    pub refreshed: bool,
    /// The token that made the call, to keep it out of what an agent reads.
    token: oauth2::AccessToken,
}

impl Answer {
    /// The answer read whole for an agent (at most `bounded::PROVIDER_BODY_LIMIT`), as text,
    /// with the token that made the call blanked out should the provider echo it.
    pub async fn read_for_agent(self) -> Result<String, crate::base::bounded::BodyError> {
        let body = crate::base::bounded::bytes(self.response).await?;
        let text = String::from_utf8_lossy(&body);
        Ok(text.replace(self.token.secret().as_str(), "[redacted]"))
    }
}

/// Calls the provider with the connection's credentials: the token, refreshed first when it
/// expires within a minute; on a 401, with a refresh token, one refresh and one repeat.
pub async fn call(
    ctx: &Ctx,
    proxy: &Proxy,
    connection: &connections::Model,
    provider: &Provider,
    call: &Call,
) -> Result<Answer, ProxyError> {
    let base = provider.api_base_url.as_ref().ok_or(ProxyError::NoApi)?;
    let url = upstream_url(base, &call.path, call.query.as_deref());
    let fresh = access_token_of(ctx, connection, provider).await?;
    if let Some(until) = fresh.cooldown_until.filter(|at| *at > ctx.clock.now()) {
        return Err(ProxyError::CoolingDown(until));
    }
    let mut response = send(proxy, provider, &fresh, call, &url).await?;
    let mut refreshed = false;
    let mut token = fresh.access_token.clone();
    if response.status() == reqwest::StatusCode::UNAUTHORIZED && fresh.refreshable {
        let renewed = refresh_refused(ctx, provider, &connection.id, fresh.version).await?;
        response = send(proxy, provider, &renewed, call, &url).await?;
        refreshed = true;
        token = renewed.access_token;
    }
    if let Some(until) = pause(response.status(), response.headers(), ctx.clock.now()) {
        connections::cool_down(&ctx.db, &fresh.connection_id, until)
            .await
            .map_err(TokenError::from)?;
        ctx.hot
            .forget_connections(&connection.user_id, &connection.provider);
    }
    Ok(Answer {
        response,
        connection_id: fresh.connection_id,
        refreshed,
        token: if call.bot {
            fresh.bot_token.unwrap_or(token)
        } else {
            token
        },
    })
}

/// The provider's URL for `path`: always under the base URL's own host and path.
pub fn upstream_url(base: &Url, path: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(query);
    url
}

async fn send(
    proxy: &Proxy,
    provider: &Provider,
    fresh: &FreshToken,
    call: &Call,
    url: &Url,
) -> Result<reqwest::Response, ProxyError> {
    let token = if call.bot {
        fresh.bot_token.as_ref().ok_or(ProxyError::NoBotToken)?
    } else {
        &fresh.access_token
    };
    let mut headers = call.headers.clone();
    let credential = match (provider.protocol, &fresh.token_secret) {
        (Protocol::OAuth1, Some(secret)) => {
            let credentials = TokenCredentials {
                token: token.secret(),
                secret: secret.secret(),
            };
            let signed = signed_url(url, &call.headers, &call.body);
            Signing::new(provider, Some(credentials)).header(call.method.as_str(), &signed)
        }
        _ => format!("Bearer {}", token.secret()),
    };
    let mut value = HeaderValue::from_str(&credential).map_err(|_| TokenError::Internal)?;
    value.set_sensitive(true);
    headers.insert(http::header::AUTHORIZATION, value);
    // The provider's API version (Notion-Version), unless the caller chose one.
    if let Some((name, version)) = &provider.version_header {
        let name = HeaderName::try_from(name.as_str()).map_err(|_| TokenError::Internal)?;
        if !headers.contains_key(&name) {
            let version = HeaderValue::from_str(version).map_err(|_| TokenError::Internal)?;
            headers.insert(name, version);
        }
    }
    proxy
        .http
        .request(call.method.clone(), url.clone())
        .headers(headers)
        .body(call.body.clone())
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), provider = %provider.service, "proxied call failed");
            ProxyError::Unreachable
        })
}

/// OAuth 1.0a signs a form-encoded body's parameters with the query's (RFC 5849 §3.4.1.3.1):
/// the URL to sign carries both.
fn signed_url(url: &Url, headers: &HeaderMap, body: &[u8]) -> Url {
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut signed = url.clone();
    if form {
        signed
            .query_pairs_mut()
            .extend_pairs(url::form_urlencoded::parse(body));
    }
    signed
}

/// Until when the provider asked not to be called: `Retry-After` (seconds or an HTTP date,
/// RFC 9110 §10.2.3) on a 429 or 503 or a 403 (GitHub's secondary limits), GitHub's
/// `x-ratelimit-reset` once `x-ratelimit-remaining` is 0 (GitHub REST API, "Rate limits":
/// "you should not retry your request until after the time specified by the
/// x-ratelimit-reset header"), a minute for a 429 that says nothing. At most an hour.
pub fn pause(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let limited = matches!(status.as_u16(), 403 | 429 | 503);
    if !limited {
        return None;
    }
    let retry_after = text("retry-after").and_then(|value| match value.trim().parse::<i64>() {
        Ok(seconds) => Some(now + chrono::Duration::seconds(seconds.max(0))),
        Err(_) => chrono::DateTime::parse_from_rfc2822(value)
            .ok()
            .map(|at| at.with_timezone(&chrono::Utc)),
    });
    let exhausted = text("x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    let reset = text("x-ratelimit-reset")
        .filter(|_| exhausted)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(|epoch| chrono::DateTime::from_timestamp(epoch, 0));
    let until = retry_after.or(reset).or_else(|| {
        (status == reqwest::StatusCode::TOO_MANY_REQUESTS)
            .then(|| now + chrono::Duration::seconds(UNSTATED_PAUSE_SECONDS))
    })?;
    Some(until.min(now + chrono::Duration::seconds(LONGEST_PAUSE_SECONDS)))
        .filter(|until| *until > now)
}

/// The path as the audit log keeps it: segments that look like ids, names or anything else
/// the caller chose (digits, `@`, escapes, long) become `{id}`, so neither an address nor a
/// token in a path reaches the log.
pub fn path_template(path: &str) -> String {
    let segment = |s: &str| {
        let word = !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'.' | b'_' | b'-'));
        let version = s.strip_prefix('v').is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 6
                && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        });
        if word || version || is_version_number(s) {
            s.to_string()
        } else {
            "{id}".to_string()
        }
    };
    let segments: Vec<String> = path.split('/').map(segment).collect();
    format!("/{}", segments.join("/"))
}

/// `1.0`, `2`: API versions written as numbers (Asana's `/api/1.0`, Dropbox's `/2`).
fn is_version_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_words_and_lose_their_ids() {
        assert_eq!(
            path_template("gmail/v1/users/ada@example.com/messages/18c2f0a1"),
            "/gmail/v1/users/{id}/messages/{id}"
        );
        assert_eq!(path_template("chat.postMessage"), "/chat.postMessage");
        assert_eq!(
            path_template("pages/59833787-2cf9-4fdf-8782-e53db20768a5"),
            "/pages/{id}"
        );
        assert_eq!(path_template("tokens/xoxp-1234"), "/tokens/{id}");
        assert_eq!(path_template("users/me"), "/users/me");
    }

    #[test]
    fn pauses_follow_retry_after_and_githubs_reset() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            map
        };
        let s = |n| reqwest::StatusCode::from_u16(n).unwrap();
        let secs =
            |until: Option<chrono::DateTime<chrono::Utc>>| until.map(|u| (u - now).num_seconds());
        assert_eq!(
            secs(pause(s(429), &headers(&[("retry-after", "30")]), now)),
            Some(30)
        );
        assert_eq!(secs(pause(s(429), &headers(&[]), now)), Some(60));
        assert_eq!(
            secs(pause(
                s(503),
                &headers(&[("retry-after", "Fri, 15 Jan 2027 08:00:20 GMT")]),
                now
            )),
            Some(20)
        );
        assert_eq!(
            secs(pause(s(503), &headers(&[]), now)),
            None,
            "a 503 that names no pause"
        );
        let reset = (now.timestamp() + 120).to_string();
        assert_eq!(
            secs(pause(
                s(403),
                &headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset)
                ]),
                now
            )),
            Some(120)
        );
        assert_eq!(secs(pause(s(403), &headers(&[]), now)), None, "a plain 403");
        assert_eq!(
            secs(pause(s(200), &headers(&[("retry-after", "30")]), now)),
            None
        );
        assert_eq!(
            secs(pause(s(429), &headers(&[("retry-after", "86400")]), now)),
            Some(3600),
            "at most an hour"
        );
    }
}

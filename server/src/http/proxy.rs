//! `/api/v1/proxy/{service}/{*path}`: the platform's backends call a provider's API through
//! the hub, which adds the user's credentials (see `domain::proxy`). The user is named in
//! `X-Atom-User`; hop-by-hop and credential headers are dropped both ways; bodies are bounded;
//! every call is audited (method, path template, status, time: never a body or a token) and
//! counted per provider and status.

use super::api_key::{active_user, ApiKey};
use super::api_v1::{chosen_to_use, ready_provider, ErrorBody};
use super::error::ApiError;
use crate::base::audit::{Kind, Origin};
use crate::base::providers::Provider;
use crate::base::store;
use crate::domain::proxy::{self, Call, ProxyError};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// The header naming the user whose connection makes the call.
pub const USER_HEADER: &str = "x-atom-user";
/// The connection, when the user has several accounts of the service.
pub const CONNECTION_HEADER: &str = "x-atom-connection";
/// Slack: `bot` calls with the installation's bot token.
pub const TOKEN_HEADER: &str = "x-atom-token";

/// Headers that belong to one hop (RFC 9110 §7.6.1) or carry someone's credentials: never
/// passed on, in either direction. Every `x-atom-*` header is the hub's and stays here too.
const NOT_PASSED_ON: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    "cookie",
    "set-cookie",
    "set-cookie2",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Call the provider's API for a user, with their credentials added by the hub
#[utoipa::path(
    get, post, put, patch, delete,
    path = "/api/v1/proxy/{service}/{path}",
    operation_id = "proxy",
    description = "Requires an API key with the `proxy:*` or `proxy:{service}` scope. \
        Forwards the request to `{path}` under the provider's API (`api_base_url`) with the \
        user's credentials; the provider's answer comes back as it is, except that headers of \
        one hop and cookies are dropped. A 401 from the provider is answered by one refresh \
        and one repeat. After the provider answers 429 (or names a `Retry-After`), the hub \
        answers 429 itself, on every instance, until the pause ends.",
    params(
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
        ("path" = String, Path, description = "The path under the provider's API, e.g. `gmail/v1/users/me/profile`; may have several segments"),
        ("X-Atom-User" = String, Header, description = super::api_v1::USER_ID),
        ("X-Atom-Connection" = Option<String>, Header, description = super::api_v1::CONNECTION_ID),
        ("X-Atom-Token" = Option<String>, Header, description = "`bot`: Slack's installation bot token instead of the user's"),
    ),
    responses(
        (status = "default", description = "The provider's answer"),
        (status = 400, description = "`invalid_request`: no `X-Atom-User`, or a path with `.` or `..` segments", body = ErrorBody),
        (status = 404, description = "`unknown_user`, `unknown_service`, `not_connected`, `no_api` (no `api_base_url` for this provider) or `no_bot_token`", body = ErrorBody),
        (status = 409, description = "`needs_reauth`: the user must reconnect; `ambiguous_connection`: several accounts and no `X-Atom-Connection`", body = ErrorBody),
        (status = 413, description = "`body_too_large`: the request body is over `proxy.max_request_bytes`", body = ErrorBody),
        (status = 502, description = "`provider_unreachable`, or `response_too_large` (over `proxy.max_response_bytes`)", body = ErrorBody),
        (status = 503, description = "`provider_unavailable`: the token needs a refresh the provider does not give now", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("proxy:{service}"))),
)]
pub async fn forward(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((service, _)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    key.require_proxy(&service)?;
    let provider = ready_provider(&state, &service)?;
    let (parts, body) = request.into_parts();
    if matches!(parts.method, Method::CONNECT | Method::TRACE) {
        return Err(invalid("CONNECT and TRACE are not passed on."));
    }
    let path = upstream_path(parts.uri.path(), &service)?;
    let user_id = text(&parts.headers, USER_HEADER)
        .ok_or_else(|| invalid("Name the user in the X-Atom-User header."))?;
    let bot = match text(&parts.headers, TOKEN_HEADER) {
        None | Some("user") => false,
        Some("bot") => true,
        Some(_) => return Err(invalid("X-Atom-Token must be `user` or `bot`.")),
    };
    let user = active_user(&state, user_id).await?;
    let row = chosen_to_use(
        &state,
        &user.id,
        &service,
        text(&parts.headers, CONNECTION_HEADER),
    )
    .await?;
    let body = bounded_body(&parts.headers, body, state.proxy.max_request_bytes).await?;
    let call = Call {
        method: parts.method.clone(),
        path,
        query: parts.uri.query().map(str::to_string),
        headers: passed_on(&parts.headers),
        body,
        bot,
    };
    let answer = call_recorded(&state, &key, &origin, &row, &provider, &call).await?;
    relay(answer.response, state.proxy.max_response_bytes)
}

/// Calls the provider and records the call: an audit event (method, path template, status,
/// time) and the metrics, for answers and for calls the hub answered itself (a pause,
/// an unreachable provider). The one way the proxy route and the agents' tool call out.
pub(super) async fn call_recorded(
    state: &AppState,
    key: &ApiKey,
    origin: &Origin,
    connection: &store::connections::Model,
    provider: &Provider,
    call: &Call,
) -> Result<proxy::Answer, ApiError> {
    let started = Instant::now();
    let outcome = proxy::call(state, &state.proxy, connection, provider, call).await;
    let took = started.elapsed();
    let (status, ok) = match &outcome {
        Ok(answer) => {
            let status = answer.response.status();
            (
                status.as_str().to_string(),
                status.is_success() || status.is_redirection(),
            )
        }
        Err(ProxyError::CoolingDown(_)) => ("cooldown".to_string(), false),
        Err(ProxyError::Unreachable) => ("unreachable".to_string(), false),
        Err(_) => return outcome.map_err(|e| refusal(state, e)),
    };
    crate::base::metrics::proxy_call(&provider.service, &status, took);
    let mut event = key
        .event(Kind::ProxyCall, origin, &connection.user_id)
        .provider(&provider.service)
        .reason(&format!(
            "{} {} {status} {}ms",
            call.method,
            proxy::path_template(&call.path),
            took.as_millis()
        ));
    event.ok = ok;
    state.audit.append(event).await?;
    outcome.map_err(|e| refusal(state, e))
}

/// The path after `/api/v1/proxy/{service}/`, as the caller encoded it: no `.` or `..`
/// segment (encoded or not), no backslash, so the URL stays under the provider's API.
fn upstream_path(raw: &str, service: &str) -> Result<String, ApiError> {
    let prefix = format!("/api/v1/proxy/{service}/");
    let path = raw
        .strip_prefix(&prefix)
        .ok_or_else(|| invalid("The service name must not be encoded."))?;
    checked_path(path)?;
    Ok(path.to_string())
}

/// A path under a provider's API as the caller encoded it, refused when it could leave it.
pub(super) fn checked_path(path: &str) -> Result<(), ApiError> {
    // A segment that decodes to `..` (or hides one behind an encoded slash) could climb out
    // of the API's path at the provider, whatever our URL says.
    let dots = path.split('/').any(|segment| {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        decoded
            .split(['/', '\\'])
            .any(|part| part == "." || part == "..")
    });
    if dots || path.contains('\\') {
        return Err(invalid("The path must not contain `.` or `..` segments."));
    }
    Ok(())
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request body, whole (a refused token means sending it again), at most `max` bytes.
async fn bounded_body(headers: &HeaderMap, body: Body, max: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The request body is larger than {max} bytes."),
        )
    };
    let declared = text(headers, "content-length").and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())
}

/// The caller's headers without those of one hop, those the `Connection` header names, and
/// credentials.
fn passed_on(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    strip(&mut kept);
    kept
}

fn strip(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in NOT_PASSED_ON {
        headers.remove(*name);
    }
    let ours: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-atom-"))
        .cloned()
        .collect();
    for name in ours {
        headers.remove(name);
    }
}

/// The provider's answer, streamed back: its status and headers (without hop-by-hop ones and
/// cookies), its body cut off past `max` bytes (502 up front when it declares more).
fn relay(upstream: reqwest::Response, max: usize) -> Result<Response, ApiError> {
    if upstream
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "response_too_large",
            format!("The provider's answer is larger than {max} bytes."),
        ));
    }
    let status = upstream.status();
    let mut headers = upstream.headers().clone();
    let length = headers.get(header::CONTENT_LENGTH).cloned();
    strip(&mut headers);
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    let chunks = futures::stream::unfold(Some((upstream, 0usize)), move |state| async move {
        let (mut upstream, seen) = state?;
        match upstream.chunk().await {
            Ok(Some(chunk)) if seen + chunk.len() > max => {
                tracing::warn!("a proxied answer went over the size limit; cut off");
                Some((Err(std::io::Error::other("response_too_large")), None))
            }
            Ok(Some(chunk)) => {
                let seen = seen + chunk.len();
                Some((Ok(chunk), Some((upstream, seen))))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "a proxied answer broke off");
                Some((Err(std::io::Error::other("provider_broke_off")), None))
            }
        }
    });
    let mut response = (status, Body::from_stream(chunks)).into_response();
    *response.headers_mut() = headers;
    Ok(response)
}

/// Why the provider was not called, as the API says it.
fn refusal(state: &AppState, error: ProxyError) -> ApiError {
    match error {
        ProxyError::Token(e) => super::api_v1::token_refusal(state, e),
        ProxyError::CoolingDown(until) => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "The provider asked for a pause; try again after Retry-After seconds.",
            );
            let wait = (until - state.clock.now()).num_seconds() + 1;
            e.retry_after = Some(wait.max(1) as u64);
            e
        }
        ProxyError::NoApi => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_api",
            "This provider has no api_base_url configured.",
        ),
        ProxyError::NoBotToken => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_bot_token",
            "This connection has no bot token.",
        ),
        ProxyError::Unreachable => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "provider_unreachable",
            "The provider did not answer.",
        ),
    }
}

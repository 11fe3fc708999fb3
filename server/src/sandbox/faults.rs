//! Fault injection for tests: the next request to one sandbox path gets a broken answer, so
//! tests can prove the hub fails cleanly (clear message, nothing partial stored, no leak).

use super::Sandbox;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An HTML error page with HTTP 200.
    Html,
    /// Bytes that are not JSON.
    Garbage,
    /// Valid JSON with an empty access token.
    EmptyToken,
    /// An OAuth error reported with HTTP 200.
    ErrorWith200,
    /// HTTP 500.
    ServerError,
    /// 401 `invalid_client`: the provider no longer accepts the app's credentials.
    InvalidClient,
    /// A 307 redirect (method and body kept) to the sandbox's trap, which would answer with a
    /// token: the hub must not follow it (`Sandbox::trap_hits` stays 0).
    Redirect,
    /// No answer for this long.
    Slow(Duration),
    /// The provider does the work (issues, rotates), then the answer is lost on the way: 504.
    LoseAnswer,
    /// No answer for this long, then 504 without the request ever reaching the provider's
    /// logic (nothing issued, nothing rotated).
    Hang(Duration),
    /// The provider's own answer, with `expires_in` replaced by this JSON text (`0`, `-1`,
    /// `"3600"`, `3600.5`, `8300000000000`, ...): what a careless provider may send.
    ExpiresIn(&'static str),
    /// HTTP 400 with this OAuth error code (`interaction_required`, `invalid_grant`, ...).
    Refuse(&'static str),
    /// HTTP 200 and a JSON body that never ends (a megabyte every 10 ms, without a
    /// Content-Length): a client that reads answers whole holds ever more memory.
    Endless,
    /// HTTP 429 with `Retry-After` this many seconds (RFC 6585 §4), Slack's body
    /// `{"ok": false, "error": "ratelimited"}`.
    RateLimited(u64),
    /// The provider's own answer, with a cookie, a header its `Connection` header names and
    /// `Keep-Alive` added: what a client must not pass on.
    HopHeaders,
}

/// The requests the sandbox received last (at most [`SEEN`]): path and headers.
type Seen = std::collections::VecDeque<(String, axum::http::HeaderMap)>;
const SEEN: usize = 200;

#[derive(Clone, Default)]
pub struct Faults {
    pending: Arc<Mutex<HashMap<String, Fault>>>,
    trap_hits: Arc<std::sync::atomic::AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
}

impl Sandbox {
    /// The next request to `path` (e.g. `/github/login/oauth/access_token`) gets `fault`.
    pub fn inject(&self, path: &str, fault: Fault) {
        let mut pending = self
            .faults
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        pending.insert(path.to_string(), fault);
    }
}

impl Sandbox {
    /// The headers of each recent request to `path`, oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<axum::http::HeaderMap> {
        let seen = self.faults.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, headers)| headers.clone())
            .collect()
    }

    /// Requests that followed a `Fault::Redirect` to the trap.
    pub fn trap_hits(&self) -> usize {
        self.faults
            .trap_hits
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Where `Fault::Redirect` points: it counts the visit and answers like a token endpoint.
pub async fn trap(State(sandbox): State<Sandbox>) -> Response {
    sandbox
        .faults
        .trap_hits
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let json = [(header::CONTENT_TYPE, "application/json")];
    (
        json,
        r#"{"access_token":"trapped","token_type":"bearer","scope":""}"#,
    )
        .into_response()
}

pub async fn apply(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    {
        let mut seen = sandbox
            .faults
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if seen.len() == SEEN {
            seen.pop_front();
        }
        seen.push_back((request.uri().path().to_string(), request.headers().clone()));
    }
    let fault = {
        let mut pending = sandbox
            .faults
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        pending.remove(request.uri().path())
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    let json = [(header::CONTENT_TYPE, "application/json")];
    match fault {
        Fault::Html => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Oops</body></html>",
        )
            .into_response(),
        Fault::Garbage => (json, "\u{1}not json at all").into_response(),
        Fault::EmptyToken => (json, r#"{"access_token":"","token_type":"bearer"}"#).into_response(),
        Fault::ErrorWith200 => (
            json,
            r#"{"error":"bad_verification_code","error_description":"<script>x</script>"}"#,
        )
            .into_response(),
        Fault::InvalidClient => (
            StatusCode::UNAUTHORIZED,
            json,
            r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        )
            .into_response(),
        Fault::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, "upstream failure").into_response()
        }
        Fault::Redirect => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/trap")],
        )
            .into_response(),
        Fault::LoseAnswer => {
            let _ = next.run(request).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Fault::Hang(wait) => {
            tokio::time::sleep(wait).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Fault::Endless => {
            let chunk = axum::body::Bytes::from(vec![b' '; 1024 * 1024]);
            let opening = futures::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"access_token\":\""))
            });
            let endless = futures::stream::unfold(chunk, |chunk| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Some((Ok(chunk.clone()), chunk))
            });
            let body = axum::body::Body::from_stream(futures::StreamExt::chain(opening, endless));
            (StatusCode::OK, json, body).into_response()
        }
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            next.run(request).await
        }
        Fault::RateLimited(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            json,
            r#"{"ok":false,"error":"ratelimited"}"#,
        )
            .into_response(),
        Fault::Refuse(code) => (
            StatusCode::BAD_REQUEST,
            json,
            serde_json::json!({ "error": code, "error_description": "refused" }).to_string(),
        )
            .into_response(),
        Fault::HopHeaders => {
            let mut answer = next.run(request).await;
            let headers = answer.headers_mut();
            for (name, value) in [
                ("set-cookie", "provider_session=abc; Secure; HttpOnly"),
                ("connection", "x-provider-hop"),
                ("x-provider-hop", "one hop only"),
                ("keep-alive", "timeout=5"),
                ("x-provider-request", "kept"),
            ] {
                headers.insert(name, axum::http::HeaderValue::from_static(value));
            }
            answer
        }
        Fault::ExpiresIn(value) => {
            let answer = next.run(request).await;
            let (parts, body) = answer.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let replaced = serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
            if let Some(object) = json.as_object_mut() {
                object.insert("expires_in".into(), replaced);
            }
            let mut answer = Response::from_parts(parts, axum::body::Body::from(json.to_string()));
            answer.headers_mut().remove(header::CONTENT_LENGTH);
            answer
        }
    }
}

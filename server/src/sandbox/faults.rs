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
    /// A redirect to somewhere else (the hub must not follow it).
    Redirect,
    /// No answer for this long.
    Slow(Duration),
}

#[derive(Clone, Default)]
pub struct Faults {
    pending: Arc<Mutex<HashMap<String, Fault>>>,
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

pub async fn apply(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
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
        Fault::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, "upstream failure").into_response()
        }
        Fault::Redirect => (
            StatusCode::FOUND,
            [(header::LOCATION, "http://127.0.0.1:9/elsewhere")],
        )
            .into_response(),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            next.run(request).await
        }
    }
}

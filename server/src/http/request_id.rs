//! A request id on every response (`x-request-id`, kept when a trusted proxy already set a
//! short printable one, made fresh otherwise: a client does not write into the logs) and on
//! every log line of the request, through a span that names the method and the route
//! template only: never the query string, where callbacks carry codes and states.

use crate::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use tower_http::trace::TraceLayer;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps an incoming `x-request-id` only when a trusted proxy (`server.trusted_proxies`) sent
/// it and it is at most 128 printable ASCII characters, makes a fresh one (a UUID) otherwise,
/// and puts it on the answer too (unless the answer has its own).
pub async fn ids(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = peer.is_some_and(|p| state.config.server.trusted_proxies.contains(&p));
    let sane = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic())
        });
    let id = match request.headers().get(HEADER) {
        Some(kept) if trusted && sane => kept.clone(),
        _ => {
            let mut text = uuid::Uuid::encode_buffer();
            let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            let fresh = HeaderValue::from_str(text).expect("a UUID is a header value");
            request.headers_mut().insert(HEADER, fresh.clone());
            fresh
        }
    };
    let mut response = next.run(request).await;
    response.headers_mut().entry(HEADER).or_insert(id);
    response
}

pub fn span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route)
}

type Classifier =
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>;

/// One INFO line per answered request (status, latency) inside the request's span.
pub fn trace() -> TraceLayer<
    Classifier,
    fn(&Request) -> tracing::Span,
    tower_http::trace::DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
> {
    TraceLayer::new_for_http()
        .make_span_with(span as fn(&Request) -> tracing::Span)
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO))
}

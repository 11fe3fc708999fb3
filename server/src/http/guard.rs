//! Router-wide protections (applied by `edge`): the origin guard for every non-GET request
//! (server functions included: they have no CSRF protection of their own) and security
//! headers on every answer.

use super::limits::Limit;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};

/// docs/security.md 22: Sec-Fetch-Site must say same-origin; without it, Origin must be ours.
/// The request back when it may go on; the refusal otherwise.
pub async fn check_origin(
    state: &AppState,
    request: Request,
) -> Result<Request, super::error::ApiError> {
    // The backend API and the agents' MCP endpoint authenticate with a key in a header, never
    // a cookie: nothing to forge.
    let path = request.uri().path();
    let backend_api = path.starts_with("/api/v1/") || path == "/mcp" || path.starts_with("/mcp/");
    if backend_api
        || matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        )
    {
        return Ok(request);
    }
    let headers = request.headers();
    let allowed = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin",
        None => headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|origin| origin == state.config.public_origin()),
    };
    if !allowed {
        tracing::warn!(path = %request.uri().path(), "cross-origin request refused");
        crate::base::metrics::cross_origin_refused();
        let (parts, _) = request.into_parts();
        let address = super::account::client_address(&parts, &state.config.server.trusted_proxies)
            .unwrap_or_default();
        // The limit first, then at most one audit row per address and minute.
        state.limits.take(Limit::Mutation, &address).await?;
        let minute = state.clock.now().timestamp() / 60;
        if state.limits.refused(&address, minute) {
            audit_refusal(state, parts).await;
        }
        return Err(super::error::ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin_request",
            "This request did not come from ATOM Connect's own pages.",
        ));
    }
    let (parts, body) = request.into_parts();
    let address = super::account::client_address(&parts, &state.config.server.trusted_proxies);
    let address = address.unwrap_or_default();
    state.limits.take(Limit::Mutation, &address).await?;
    Ok(Request::from_parts(parts, body))
}

/// A refused cross-origin request is an attack or a misconfigured proxy: both belong in the
/// audit log (who and from where; never the path or the body, which the attacker chose).
async fn audit_refusal(state: &AppState, mut parts: axum::http::request::Parts) {
    use axum::extract::FromRequestParts;
    let Ok(origin) = crate::base::audit::Origin::from_request_parts(&mut parts, state).await;
    let event =
        crate::base::audit::Event::new(crate::base::audit::Kind::CrossOriginRejected, &origin)
            .failed("cross_origin");
    if let Err(e) = crate::base::store::audit::append(&state.db, event).await {
        tracing::error!(error = %e, "auditing a refused request failed");
    }
}

/// Once a minute: one audit row per address refused more than once in a minute past, with
/// how many more times (`repeated_N`), so the log keeps the count without a row per request.
pub async fn audit_repeated_refusals(state: &AppState) {
    use crate::base::audit::{Event, Kind, Origin};
    let minute = state.clock.now().timestamp() / 60;
    for (address, _, more) in state.limits.repeated(minute) {
        let origin = Origin {
            ip: Some(address),
            user_agent: None,
            clock: state.clock.clone(),
        };
        let event =
            Event::new(Kind::CrossOriginRejected, &origin).failed(&format!("repeated_{more}"));
        if let Err(e) = crate::base::store::audit::append(&state.db, event).await {
            tracing::error!(error = %e, "auditing repeated refusals failed");
        }
    }
}

/// Where a page's forms may lead (CSP `form-action`, which also governs the redirects a
/// form submission follows): the hub itself, and each provider's authorization server (the
/// Connect button posts here and is sent on there). Nowhere else: an injected form cannot
/// post a user's input away.
pub fn form_action(state: &AppState) -> String {
    let mut sources = vec!["'self'".to_string()];
    for provider in state.catalog.all() {
        sources.extend(provider.authorization_origins());
    }
    sources.sort();
    sources.dedup();
    sources.join(" ")
}

/// Pages get a CSP with this response's nonce (Leptos puts it on every script it renders);
/// a page carrying a nonce is never cached (see `secure`).
pub fn page_csp(form_action: &str) {
    let (Some(nonce), Some(options)) = (
        leptos::nonce::use_nonce(),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action {form_action}"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        options.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The security headers every answer carries (`api`: an answer with data, never cached).
pub fn secure(state: &AppState, api: bool, headers: &mut HeaderMap) {
    // Room for them at once: growing the map on the way cost a status answer 2 % of its CPU.
    headers.reserve(7);
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        headers,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    );
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if api || html {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    if state.config.server.public_url.scheme() == "https" {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    headers.remove(header::SERVER);
}

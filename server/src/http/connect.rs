//! The seed contract's routes: authorize, callback, status, disconnect, health.

use super::auth::SignedIn;
use super::continue_page;
use super::error::{wants_html, ApiError};
use super::limits::Limit;
use super::session::LinkCallback;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::providers::{Lookup, Provider};
use crate::base::store;
use crate::domain::connections::{connection_state, missing_scopes, scopes_in};
use crate::domain::oauth::callback::CallbackParams;
use crate::domain::oauth::flow::{self, CompleteError, StartError, Who};
use crate::state::AppState;
use app::model::ConnectFailure;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use tower_sessions::Session;

fn provider(state: &AppState, service: &str) -> Result<Arc<Provider>, ApiError> {
    match state.catalog.lookup(service) {
        Lookup::Ready(provider) => Ok(provider),
        Lookup::NotConfigured => Err(ApiError::new(
            StatusCode::CONFLICT,
            "provider_not_configured",
            "This service is not configured on this hub.",
        )),
        Lookup::Unknown => Err(ApiError::unknown_service(state.catalog.names())),
    }
}

/// The provider to disconnect from: the configured one, or None for a service removed from
/// the configuration that this user still has a connection to (it is deleted here). A service
/// that is neither gets the lookup's refusal.
pub(super) async fn configured_or_connected(
    state: &AppState,
    lookup: Result<Arc<Provider>, ApiError>,
    service: &str,
    user_id: &str,
) -> Result<Option<Arc<Provider>>, ApiError> {
    match lookup {
        Ok(provider) => Ok(Some(provider)),
        Err(refused) => {
            let rows = store::connections::of_service(&state.db, user_id, service).await?;
            if rows.is_empty() {
                Err(refused)
            } else {
                Ok(None)
            }
        }
    }
}

/// Status and health answer for a known but unconfigured service instead of failing.
fn not_configured(state: &AppState, service: &str) -> Option<Response> {
    matches!(state.catalog.lookup(service), Lookup::NotConfigured).then(|| {
        Json(json!({
            "service": service,
            "configured": false,
            "connected": false,
            "status": "not_configured",
            "redirect_uri": state.config.redirect_uri(service),
        }))
        .into_response()
    })
}

pub(super) fn provider_disabled() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "provider_disabled",
        "An administrator has turned off new connections to this service.",
    )
}

#[derive(Deserialize)]
pub struct AuthorizeQuery {
    return_to: Option<String>,
    /// `true` from "Add another account": the provider shows its account picker.
    another: Option<bool>,
}

/// `GET|POST /api/auth/{service}/authorize`: 303 to the provider, or its URL as JSON.
pub async fn begin_connect(
    State(state): State<AppState>,
    Path(service): Path<String>,
    method: Method,
    headers: HeaderMap,
    origin: Origin,
    signed_in: Option<SignedIn>,
    query: Result<Query<AuthorizeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let provider = provider(&state, &service)?;
    let Query(query) = query.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "The query string is malformed.",
        )
    })?;
    let Some(SignedIn { user, binding }) = signed_in else {
        return Ok(if wants_html(&headers) {
            Redirect::to("/signin").into_response()
        } else {
            ApiError::sign_in_required().into_response()
        });
    };
    let return_to = flow::safe_return_to(query.return_to.as_deref());
    // Before the quota: another site's navigations neither start a flow nor spend it.
    if !continue_page::goes_straight_on(&method, &headers, &state.config.public_origin()) {
        return Ok(continue_page::page(
            &service,
            &provider.display_name,
            &return_to,
        ));
    }
    state
        .limits
        .take(Limit::Connect, &user.id)
        .await
        .map_err(|e| e.for_browser(&headers))?;
    let who = Who {
        user: &user,
        session_binding: &binding,
        origin: &origin,
    };
    let another = query.another.unwrap_or(false);
    let nothing_expected = Default::default();
    let started = flow::start(
        &state,
        &who,
        &provider,
        &return_to,
        &nothing_expected,
        another,
    );
    let url = match started.await {
        Ok(url) => url,
        Err(StartError::Disabled) if wants_html(&headers) => {
            let back = failure_page(ConnectFailure::ProviderDisabled, &service);
            return Ok(Redirect::to(&back).into_response());
        }
        Err(StartError::Disabled) => return Err(provider_disabled()),
        Err(e) => {
            tracing::warn!(error = %e, provider = %service, "could not start a connect flow");
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                "The provider cannot be reached right now.",
            )
            .for_browser(&headers));
        }
    };
    let mut response = if wants_html(&headers) {
        Redirect::to(url.as_str()).into_response()
    } else {
        Json(json!({ "authorization_url": url.as_str() })).into_response()
    };
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// `GET /api/auth/{service}/callback`: checks, exchange, then 303 to a clean URL.
pub async fn complete_connect(
    State(state): State<AppState>,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    origin: Origin,
    signed_in: Option<SignedIn>,
    linked: Option<Extension<LinkCallback>>,
    session: Session,
) -> Result<Response, ApiError> {
    let provider = provider(&state, &service)?;
    let address = origin.ip.as_deref().unwrap_or_default();
    state
        .limits
        .take(Limit::Callback, address)
        .await
        .map_err(|e| e.for_browser(&headers))?;
    let params = CallbackParams::parse(query.as_deref()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_callback",
            format!("This sign-in link is not valid: {e}."),
        )
        .for_browser(&headers)
    })?;
    let invalid_state = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_state",
            "This sign-in link has expired, was already used or belongs to another session. \
             Nothing was stored. Go back to your connections and press Connect again.",
        )
        .for_browser(&headers)
    };
    let Some(SignedIn { user, binding }) = signed_in else {
        let event = Event::new(Kind::StateRejected, &origin)
            .provider(&service)
            .failed("no_session");
        state.audit.append(event).await?;
        return Err(invalid_state());
    };
    let who = Who {
        user: &user,
        session_binding: &binding,
        origin: &origin,
    };
    let flow::Finished {
        outcome,
        at_provider,
    } = flow::complete(&state, &who, &provider, params).await;
    let mut response = if linked.is_some() {
        super::link_done::after_callback(&state, &session, &provider, &user, outcome).await?
    } else {
        let target = match outcome {
            Ok(done) => with_query(&done.return_to, "connected", &service),
            Err(CompleteError(ConnectFailure::InvalidState | ConnectFailure::IssuerMismatch)) => {
                return Err(invalid_state())
            }
            Err(CompleteError(failure)) => failure_page(failure, &service),
        };
        Redirect::to(&target).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // How long the provider's answers took (W3C Server Timing): the rest of the callback's
    // time is the hub's own (issue 19 measures it in `scripts/flow-bench.mjs`).
    super::edge::server_timing(headers, "provider", at_provider);
    Ok(response)
}

/// The Connections page, saying why connecting `service` failed.
fn failure_page(failure: ConnectFailure, service: &str) -> String {
    format!("/connections?error={}&service={service}", failure.code())
}

fn with_query(path: &str, key: &str, value: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{key}={value}")
}

/// `GET /api/auth/{service}/status` for the signed-in user.
pub async fn status(
    State(state): State<AppState>,
    Path(service): Path<String>,
    SignedIn { user, .. }: SignedIn,
) -> Result<Response, ApiError> {
    if let Some(answer) = not_configured(&state, &service) {
        return Ok(answer);
    }
    let provider = provider(&state, &service)?;
    // Kept for a moment (`base::hot`): a status call reads nothing from the database.
    let rows = crate::domain::connections::kept(&state, &user.id, &service).await?;
    // The first (oldest) account answers as the only one always did; `accounts` lists all.
    let row = rows.first();
    let now = state.clock.now();
    let current = connection_state(row, now);
    let accounts = rows
        .iter()
        .map(|r| AccountStatus {
            connection: &r.id,
            id: &r.account_id,
            label: r.label.as_deref(),
            name: &r.account_name,
            status: connection_state(Some(r), now).as_str(),
        })
        .collect();
    Ok(Json(Status {
        service: &service,
        display_name: &provider.display_name,
        sandbox: provider.sandbox,
        connected: current == app::model::ConnectionState::Connected,
        status: current.as_str(),
        account: row.map(|r| AccountName {
            id: &r.account_id,
            name: &r.account_name,
        }),
        accounts,
        scopes: row
            .map(|r| scopes_in(&r.granted_scopes).collect())
            .unwrap_or_default(),
        requested_scopes: row
            .map(|r| scopes_in(&r.requested_scopes).collect())
            .unwrap_or_default(),
        missing_scopes: row
            .map(|r| missing_scopes(&r.requested_scopes, &r.granted_scopes))
            .unwrap_or_default(),
        expires_at: row.and_then(|r| r.expires_at).map(|t| t.to_rfc3339()),
        connected_at: row.map(|r| r.created_at.to_rfc3339()),
    })
    .into_response())
}

/// `GET /api/auth/{service}/status`'s answer, serialised straight from the rows it reads
/// (fields by name, in the order the `json!` it replaced wrote them).
#[derive(Serialize)]
struct Status<'a> {
    account: Option<AccountName<'a>>,
    accounts: Vec<AccountStatus<'a>>,
    connected: bool,
    connected_at: Option<String>,
    display_name: &'a str,
    expires_at: Option<String>,
    missing_scopes: Vec<&'a str>,
    requested_scopes: Vec<&'a str>,
    sandbox: bool,
    scopes: Vec<&'a str>,
    service: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct AccountName<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct AccountStatus<'a> {
    connection: &'a str,
    id: &'a str,
    label: Option<&'a str>,
    name: &'a str,
    status: &'static str,
}

/// `POST /api/auth/{service}/disconnect[?connection=ID]`: revoke at the provider where
/// possible, always delete. The connection is named when the user has several accounts.
pub async fn disconnect(
    State(state): State<AppState>,
    Path(service): Path<String>,
    headers: HeaderMap,
    origin: Origin,
    SignedIn { user, .. }: SignedIn,
    query: Result<Query<super::api_v1::ConnectionQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let connection = super::api_v1::named_connection(query)?;
    let lookup = provider(&state, &service);
    let provider = configured_or_connected(&state, lookup, &service, &user.id).await?;
    let event = Event::new(Kind::Disconnected, &origin).by(&user.id);
    let chosen = super::api_v1::chosen(&state, &user.id, &service, connection.as_deref()).await;
    let revoked = match chosen {
        Ok(row) => {
            crate::domain::disconnect::disconnect(&state, row, provider.as_deref(), event).await?
        }
        Err(e) if e.code == "not_connected" => app::model::Revocation::NotConnected,
        Err(e) => return Err(e.for_browser(&headers)),
    };
    Ok(if wants_html(&headers) {
        Redirect::to(&format!(
            "/connections?disconnected={service}&revocation={}",
            revoked.code()
        ))
        .into_response()
    } else {
        Json(json!({ "service": service, "connected": false, "revocation": revoked.code() }))
            .into_response()
    })
}

/// `GET /api/{service}/health`: configuration, the redirect URI to register, the last day's
/// flows and the provider's reachability (probed in the background, never on this request).
pub async fn health(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(answer) = not_configured(&state, &service) {
        return Ok(answer);
    }
    let provider = provider(&state, &service)?;
    let health = crate::domain::health::of(&state, &service).await?;
    Ok(Json(json!({
        "service": service,
        "display_name": provider.display_name,
        "configured": provider.configured(),
        "sandbox": provider.sandbox,
        "redirect_uri": state.config.redirect_uri(&service),
        "status": health.status,
        "reachability": health.reachability,
        "flows_24h": health.flows_24h,
        "success_rate_24h": health.success_rate_24h,
        // The provider refused the app's client id or secret: fix the configuration.
        "client_rejected_at": health.client_rejected_at.map(|at| at.to_rfc3339()),
    }))
    .into_response())
}

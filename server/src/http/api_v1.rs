//! The backend API under /api/v1: API keys in the Authorization header only, never cookies.
//! Fresh tokens for the platform's services, their users' connections, and deletes.

use super::error::ApiError;
use super::limits::take;
use crate::base::audit::{Event, Kind, Origin};
use crate::domain::connections::{connection_state, split_scopes};
use crate::state::AppState;
use crate::base::store;
use crate::domain::tokens::{access_token, TokenError};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub const SCOPE_TOKENS_READ: &str = "tokens:read";
pub const SCOPE_CONNECTIONS_WRITE: &str = "connections:write";

/// The API key that authenticated this request.
pub struct ApiKey(pub store::api_keys::Model);

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "A valid API key is required in the Authorization header.",
            )
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        let key = store::api_keys::authenticate(&state.db, presented)
            .await?
            .ok_or_else(unauthorized)?;
        take(&state.limits.api, &key.id)?;
        // "Last used" to the minute: one write a minute per key, not one per request (every
        // use is in the audit log anyway).
        let stale = state.clock.now() - chrono::Duration::minutes(1);
        if key.last_used_at.is_none_or(|at| at < stale) {
            store::api_keys::touch(&state.db, &key.id, state.clock.now()).await?;
        }
        Ok(Self(key))
    }
}

impl ApiKey {
    pub(super) fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.0.has_scope(scope) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("This API key lacks the {scope} scope."),
        ))
    }

    pub(super) fn event(&self, kind: Kind, origin: &Origin, user_id: &str) -> Event {
        let mut event = Event::new(kind, origin);
        event.actor = Some(format!("apikey:{}", self.0.id));
        event.subject = Some(user_id.to_string());
        event
    }
}

pub(super) async fn user_exists(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    match store::users::by_id(&state.db, user_id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_user",
            "No such user.",
        )),
    }
}

fn ready_provider(
    state: &AppState,
    service: &str,
) -> Result<std::sync::Arc<crate::base::providers::Provider>, ApiError> {
    state
        .catalog
        .get(service)
        .ok_or_else(|| ApiError::unknown_service(state.catalog.names()))
}

/// `GET /api/v1/users/{user_id}/connections`
pub async fn list_connections(
    State(state): State<AppState>,
    key: ApiKey,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    key.require(SCOPE_TOKENS_READ)?;
    user_exists(&state, &user_id).await?;
    let rows = store::connections::for_user(&state.db, &user_id).await?;
    let list: Vec<_> = rows
        .iter()
        .map(|row| {
            json!({
                "service": row.provider,
                "status": connection_state(Some(row), state.clock.now()).as_str(),
                "account": { "id": row.account_id, "name": row.account_name },
                "scopes": split_scopes(&row.granted_scopes),
                "expires_at": row.expires_at.map(|t| t.to_rfc3339()),
                "connected_at": row.created_at.to_rfc3339(),
            })
        })
        .collect();
    Ok(Json(json!({ "user_id": user_id, "connections": list })).into_response())
}

/// `GET /api/v1/users/{user_id}/connections/{service}/token`: a working access token.
pub async fn token(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    key.require(SCOPE_TOKENS_READ)?;
    let provider = ready_provider(&state, &service)?;
    user_exists(&state, &user_id).await?;
    let fresh = access_token(&state, &user_id, &provider)
        .await
        .map_err(|e| match e {
            TokenError::NotConnected => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_connected",
                "This user has not connected this service.",
            ),
            TokenError::NeedsReauth => ApiError::new(
                StatusCode::CONFLICT,
                "needs_reauth",
                "The user must reconnect this service.",
            ),
            TokenError::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_unavailable",
                "The provider did not answer; try again shortly.",
            ),
            TokenError::Internal => ApiError::internal(),
        })?;
    let event = key
        .event(Kind::TokenIssued, &origin, &user_id)
        .provider(&service)
        .reason(&format!("connection:{}", fresh.connection_id));
    store::audit::append(&state.db, event).await?;
    Ok(Json(json!({
        "service": service,
        "access_token": fresh.access_token.secret(),
        "token_type": "bearer",
        "expires_at": fresh.expires_at.map(|t| t.to_rfc3339()),
        "scopes": fresh.scopes,
    }))
    .into_response())
}

/// `DELETE /api/v1/users/{user_id}/connections/{service}`: revoke where possible, delete.
pub async fn delete_connection(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    key.require(SCOPE_CONNECTIONS_WRITE)?;
    let provider = ready_provider(&state, &service)?;
    user_exists(&state, &user_id).await?;
    let event = key.event(Kind::Disconnected, &origin, &user_id);
    let revoked = crate::domain::disconnect::disconnect(&state, &provider, &user_id, event).await?;
    Ok(
        Json(json!({ "service": service, "connected": false, "revocation": revoked.code() }))
            .into_response(),
    )
}

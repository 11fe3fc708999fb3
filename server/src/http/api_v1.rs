//! The backend API under /api/v1: API keys in the Authorization header only, never cookies.
//! Fresh tokens for the platform's services, their users' connections, and deletes.

use super::api_key::{active_user, user_exists, ApiKey};
use super::error::ApiError;
use crate::base::audit::{Kind, Origin};
use crate::base::store;
use crate::domain::connections::{connection_state, split_scopes};
use crate::domain::tokens::{access_token, TokenError};
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error of the API: a fixed code and a human-readable message.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A fixed code (`invalid_api_key`, `needs_reauth`, ...).
    pub error: String,
    pub message: String,
}

/// A user's connection, never its tokens.
#[derive(Serialize, ToSchema)]
pub struct Connection {
    pub service: String,
    /// `connected`, `expired` or `needs_reauth`.
    pub status: String,
    pub account: Account,
    pub scopes: Vec<String>,
    /// RFC 3339; null for tokens that do not expire.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub connected_at: String,
}

/// The provider account a connection belongs to.
#[derive(Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub name: String,
}

/// `GET /api/v1/users/{user_id}/connections`.
#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    pub user_id: String,
    pub connections: Vec<Connection>,
}

/// A working access token.
#[derive(Serialize, ToSchema)]
pub struct Token {
    pub service: String,
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub scopes: Vec<String>,
}

/// A connection deleted, and how revocation at the provider went.
#[derive(Serialize, ToSchema)]
pub struct Disconnected {
    pub service: String,
    /// Always false.
    pub connected: bool,
    /// `revoked`, `no_revocation_endpoint`, `revocation_failed` or `not_connected`.
    pub revocation: String,
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

/// The user's connections (never their tokens)
#[utoipa::path(
    get,
    path = "/api/v1/users/{user_id}/connections",
    operation_id = "listConnections",
    description = "Requires an API key with the `tokens:read` scope.",
    params(("user_id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Success", body = ConnectionList),
        (status = 404, description = "`unknown_user`", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("tokens:read"))),
)]
pub async fn list_connections(
    State(state): State<AppState>,
    key: ApiKey,
    Path(user_id): Path<String>,
) -> Result<Json<ConnectionList>, ApiError> {
    key.require(ApiScope::TokensRead)?;
    user_exists(&state, &user_id).await?;
    let rows = store::connections::for_user(&state.db, &user_id).await?;
    let connections = rows
        .iter()
        .map(|row| Connection {
            service: row.provider.clone(),
            status: connection_state(Some(row), state.clock.now())
                .as_str()
                .to_string(),
            account: Account {
                id: row.account_id.clone(),
                name: row.account_name.clone(),
            },
            scopes: split_scopes(&row.granted_scopes),
            expires_at: row.expires_at.map(|t| t.to_rfc3339()),
            connected_at: row.created_at.to_rfc3339(),
        })
        .collect();
    Ok(Json(ConnectionList {
        user_id,
        connections,
    }))
}

/// A working access token, refreshed first when it expires within a minute
#[utoipa::path(
    get,
    path = "/api/v1/users/{user_id}/connections/{service}/token",
    operation_id = "getToken",
    description = "Requires an API key with the `tokens:read` scope.",
    params(
        ("user_id" = String, Path, description = "The user's id"),
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
    ),
    responses(
        (status = 200, description = "Success", body = Token),
        (status = 403, description = "`user_disabled`: an administrator disabled this user", body = ErrorBody),
        (status = 404, description = "`unknown_user`, `unknown_service` or `not_connected`", body = ErrorBody),
        (status = 409, description = "`needs_reauth`: the user must reconnect", body = ErrorBody),
        (status = 503, description = "`provider_unavailable`: transient, try again", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("tokens:read"))),
)]
pub async fn token(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
) -> Result<Json<Token>, ApiError> {
    key.require(ApiScope::TokensRead)?;
    let provider = ready_provider(&state, &service)?;
    active_user(&state, &user_id).await?;
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
    Ok(Json(Token {
        service,
        access_token: fresh.access_token.secret().clone(),
        token_type: "bearer".into(),
        expires_at: fresh.expires_at.map(|t| t.to_rfc3339()),
        scopes: fresh.scopes,
    }))
}

/// Revoke at the provider where possible, then delete
#[utoipa::path(
    delete,
    path = "/api/v1/users/{user_id}/connections/{service}",
    operation_id = "deleteConnection",
    description = "Requires an API key with the `connections:write` scope.",
    params(
        ("user_id" = String, Path, description = "The user's id"),
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
    ),
    responses(
        (status = 200, description = "Success", body = Disconnected),
        (status = 404, description = "`unknown_user` or `unknown_service`", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("connections:write"))),
)]
pub async fn delete_connection(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
) -> Result<Json<Disconnected>, ApiError> {
    key.require(ApiScope::ConnectionsWrite)?;
    user_exists(&state, &user_id).await?;
    let lookup = ready_provider(&state, &service);
    let provider =
        super::connect::configured_or_connected(&state, lookup, &service, &user_id).await?;
    let event = key.event(Kind::Disconnected, &origin, &user_id);
    let revoked = crate::domain::disconnect::disconnect(
        &state,
        &service,
        provider.as_deref(),
        &user_id,
        event,
    )
    .await?;
    Ok(Json(Disconnected {
        service,
        connected: false,
        revocation: revoked.code().to_string(),
    }))
}

//! The backend API under /api/v1: API keys in the Authorization header only, never cookies.
//! Fresh tokens for the platform's services, their users' connections, and deletes.

use super::api_key::{active_user, user_exists, ApiKey};
use super::error::ApiError;
use crate::base::audit::{Kind, Origin};
use crate::base::store;
use crate::domain::connections::{connection_state, split_scopes};
use crate::domain::tokens::{access_token_of, TokenError};
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// How every route names a user.
pub const USER_ID: &str =
    "The platform's own id for the user (set by `PUT /api/v1/users/{user_id}`), or the hub's";

/// How routes name one of a user's connections to a service.
pub const CONNECTION_ID: &str =
    "The connection's id, needed only when the user has several accounts of this service";

/// Every error of the API: a fixed code and a human-readable message.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A fixed code (`invalid_api_key`, `needs_reauth`, ...).
    pub error: String,
    pub message: String,
}

/// Why no token could be used, as the API says it.
pub(super) fn token_refusal(state: &AppState, error: TokenError) -> ApiError {
    match error {
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
        TokenError::Unavailable { retry_at } => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_unavailable",
                "The provider did not answer; try again after Retry-After seconds.",
            );
            let wait = retry_at.map_or(1, |at| (at - state.clock.now()).num_seconds() + 1);
            e.retry_after = Some(wait.max(1) as u64);
            e
        }
        TokenError::Internal => ApiError::internal(),
    }
}

/// The connection a route means: the one `connection` names, or the user's only one to the
/// service; 404 `not_connected`, or 409 `ambiguous_connection` (listing them) when the user
/// has several and none is named. Read from the database: for routes that change it.
pub(super) async fn chosen(
    state: &AppState,
    user_id: &str,
    service: &str,
    connection: Option<&str>,
) -> Result<store::connections::Model, ApiError> {
    let rows = store::connections::of_service(&state.db, user_id, service).await?;
    pick(state, &rows, connection)
}

/// [`chosen`] from the copy kept for a moment: for routes that hand out its token or call
/// through it (a due token is read again before it is refreshed).
pub(super) async fn chosen_to_use(
    state: &AppState,
    user_id: &str,
    service: &str,
    connection: Option<&str>,
) -> Result<store::connections::Model, ApiError> {
    let rows = crate::domain::connections::kept(state, user_id, service).await?;
    pick(state, &rows, connection)
}

fn pick(
    state: &AppState,
    rows: &[store::connections::Model],
    connection: Option<&str>,
) -> Result<store::connections::Model, ApiError> {
    use crate::domain::connections::{choose, Choice};
    match choose(rows, connection) {
        Choice::One(row) => Ok(row),
        Choice::NotConnected => Err(token_refusal(state, TokenError::NotConnected)),
        Choice::Several(rows) => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "ambiguous_connection",
                "This user has several accounts connected to this service: name one with \
                 `connection` (the X-Atom-Connection header on the proxy).",
            );
            let now = state.clock.now();
            let listed: Vec<Connection> = rows.iter().map(|row| Connection::of(row, now)).collect();
            e.extra = Some(serde_json::json!({ "connections": listed }));
            Err(e)
        }
    }
}

/// A user's connection, never its tokens.
#[derive(Serialize, ToSchema)]
pub struct Connection {
    /// The connection's id (name it with `connection` when a user has several accounts).
    pub id: String,
    pub service: String,
    /// `connected`, `expired` or `needs_reauth`.
    pub status: String,
    pub account: Account,
    pub scopes: Vec<String>,
    /// The name its user gave it.
    pub label: Option<String>,
    /// The platform's JSON object about it (set with PATCH).
    pub metadata: Option<serde_json::Value>,
    /// RFC 3339; null for tokens that do not expire.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub connected_at: String,
}

impl Connection {
    /// A stored connection as the API shows it.
    pub fn of(row: &store::connections::Model, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            id: row.id.clone(),
            service: row.provider.clone(),
            status: connection_state(Some(row), now).as_str().to_string(),
            account: Account {
                id: row.account_id.clone(),
                name: row.account_name.clone(),
            },
            scopes: split_scopes(&row.granted_scopes),
            label: row.label.clone(),
            metadata: row
                .metadata
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
            expires_at: row.expires_at.map(|t| t.to_rfc3339()),
            connected_at: row.created_at.to_rfc3339(),
        }
    }
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

/// Which of a connection's tokens: the user's, or (Slack) the installation's bot token.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // The schema's enumeration; the handler reads the text (a JSON 400 otherwise).
pub enum TokenKind {
    User,
    Bot,
}

/// `?token=` and `?connection=` of the token route.
#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
    connection: Option<String>,
}

/// `?connection=` of the routes that name one connection.
#[derive(serde::Deserialize)]
pub struct ConnectionQuery {
    connection: Option<String>,
}

/// The connection a query names, if any; a malformed query is the API's own JSON 400.
pub(super) fn named_connection(
    query: Result<Query<ConnectionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Option<String>, ApiError> {
    match query {
        Ok(Query(query)) => Ok(query.connection),
        Err(_) => Err(malformed_query()),
    }
}

fn malformed_query() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The query string is malformed.",
    )
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
    /// `revoked`, `no_revocation_endpoint`, `revocation_failed`, `not_connected`,
    /// `provider_not_configured` or `kept_for_other_services`.
    pub revocation: String,
}

pub(super) fn ready_provider(
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
    params(("user_id" = String, Path, description = USER_ID)),
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
    let user = user_exists(&state, &user_id).await?;
    let rows = store::connections::for_user(&state.db, &user.id).await?;
    let now = state.clock.now();
    let connections = rows.iter().map(|row| Connection::of(row, now)).collect();
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
        ("user_id" = String, Path, description = USER_ID),
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
        ("token" = inline(Option<TokenKind>), Query, description = "`user` (the default) or, for Slack configured with `bot_scopes`, `bot`: the installation's bot token"),
        ("connection" = Option<String>, Query, description = CONNECTION_ID),
    ),
    responses(
        (status = 200, description = "Success", body = Token),
        (status = 400, description = "`invalid_request`: `token` is neither `user` nor `bot`", body = ErrorBody),
        (status = 403, description = "`user_disabled`: an administrator disabled this user", body = ErrorBody),
        (status = 404, description = "`unknown_user`, `unknown_service`, `not_connected`, or `no_bot_token` (`?token=bot` for a connection made without bot scopes)", body = ErrorBody),
        (status = 409, description = "`needs_reauth`: the user must reconnect; `ambiguous_connection`: several accounts and no `connection` (the error lists them)", body = ErrorBody),
        (status = 503, description = "`provider_unavailable`: transient; the provider is not asked again for this connection before the `Retry-After` header's seconds have passed", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("tokens:read"))),
)]
pub async fn token(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Token>, ApiError> {
    key.require(ApiScope::TokensRead)?;
    // A malformed query (a parameter twice, say) is the API's own JSON 400, not axum's text.
    let Ok(Query(query)) = query else {
        return Err(malformed_query());
    };
    let bot = match query.token.as_deref() {
        None | Some("user") => false,
        Some("bot") => true,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "token must be `user` or `bot`.",
            ))
        }
    };
    let provider = ready_provider(&state, &service)?;
    let user = active_user(&state, &user_id).await?;
    let row = chosen_to_use(&state, &user.id, &service, query.connection.as_deref()).await?;
    let fresh = access_token_of(&state, &row, &provider)
        .await
        .map_err(|e| token_refusal(&state, e))?;
    let (access_token, expires_at, scopes) = match (bot, fresh.bot_token) {
        (false, _) => (fresh.access_token, fresh.expires_at, fresh.scopes),
        // Slack bot tokens do not expire (without token rotation) and carry the bot scopes.
        (true, Some(bot_token)) => (bot_token, None, provider.bot_scopes.clone()),
        (true, None) => return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_bot_token",
            "This connection has no bot token: configure bot_scopes and have the user reconnect.",
        )),
    };
    let kind = if bot { "bot" } else { "user" };
    let event = key
        .event(Kind::TokenIssued, &origin, &user.id)
        .provider(&service)
        .reason(&format!("connection:{}:{kind}", fresh.connection_id));
    state.audit.append(event).await?;
    Ok(Json(Token {
        service,
        access_token: access_token.secret().clone(),
        token_type: "bearer".into(),
        expires_at: expires_at.map(|t| t.to_rfc3339()),
        scopes,
    }))
}

/// Revoke at the provider where possible, then delete
#[utoipa::path(
    delete,
    path = "/api/v1/users/{user_id}/connections/{service}",
    operation_id = "deleteConnection",
    description = "Requires an API key with the `connections:write` scope.",
    params(
        ("user_id" = String, Path, description = USER_ID),
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
        ("connection" = Option<String>, Query, description = CONNECTION_ID),
    ),
    responses(
        (status = 200, description = "Success", body = Disconnected),
        (status = 404, description = "`unknown_user` or `unknown_service`", body = ErrorBody),
        (status = 409, description = "`ambiguous_connection`: several accounts and no `connection` (the error lists them)", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("connections:write"))),
)]
pub async fn delete_connection(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
    query: Result<Query<ConnectionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Disconnected>, ApiError> {
    let connection = named_connection(query)?;
    key.require(ApiScope::ConnectionsWrite)?;
    let user = user_exists(&state, &user_id).await?;
    let lookup = ready_provider(&state, &service);
    let provider =
        super::connect::configured_or_connected(&state, lookup, &service, &user.id).await?;
    let event = key.event(Kind::Disconnected, &origin, &user.id);
    let revoked = match chosen(&state, &user.id, &service, connection.as_deref()).await {
        Ok(row) => {
            crate::domain::disconnect::disconnect(&state, row, provider.as_deref(), event).await?
        }
        Err(e) if e.code == "not_connected" => app::model::Revocation::NotConnected,
        Err(e) => return Err(e),
    };
    Ok(Json(Disconnected {
        service,
        connected: false,
        revocation: revoked.code().to_string(),
    }))
}

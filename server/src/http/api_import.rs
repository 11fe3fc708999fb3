//! `POST /api/v1/users/{user_id}/connections/{service}/import`: one grant from the old system,
//! checked with the provider before it is stored (domain::import).

use super::api_key::{active_user, user_or_new, ApiKey};
use super::api_v1::{ready_provider, Connection, ErrorBody, USER_ID};
use super::error::ApiError;
use crate::base::audit::{Kind, Origin};
use crate::base::store;
use crate::domain::import::{check, store as store_grant, ImportError, OldGrant};
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

/// A grant from the old system. Secrets only here, in the body: never in a URL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// Visible ASCII, as every provider's tokens are (RFC 6750 §2.1).
    #[schema(pattern = "^[!-~]+$", max_length = 4096)]
    pub access_token: String,
    #[schema(pattern = "^[!-~]+$", max_length = 4096)]
    pub refresh_token: Option<String>,
    /// Trello (OAuth 1.0a): the token secret.
    #[schema(pattern = "^[!-~]+$", max_length = 4096)]
    pub token_secret: Option<String>,
    /// RFC 3339; omitted for tokens that do not expire (or when unknown).
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub scopes: Option<Vec<String>>,
}

impl ImportBody {
    /// The grant, or why the body cannot be one.
    pub fn grant(self) -> Result<OldGrant, &'static str> {
        let token_like = |t: &str| t.len() <= 4096 && t.bytes().all(|b| b.is_ascii_graphic());
        let tokens = [
            Some(&self.access_token),
            self.refresh_token.as_ref(),
            self.token_secret.as_ref(),
        ];
        if !tokens.into_iter().flatten().all(|t| token_like(t)) {
            return Err("Tokens are 1 to 4096 visible ASCII characters.");
        }
        let expires_at = match self.expires_at.as_deref() {
            None => None,
            Some(at) => Some(
                chrono::DateTime::parse_from_rfc3339(at)
                    .map_err(|_| "expires_at is an RFC 3339 time, e.g. 2026-12-01T10:00:00Z.")?
                    .with_timezone(&chrono::Utc),
            ),
        };
        Ok(OldGrant {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            token_secret: self.token_secret,
            expires_at,
            scopes: self.scopes,
        })
    }
}

fn refusal(e: ImportError) -> ApiError {
    let status = match e {
        ImportError::DeadToken => StatusCode::UNPROCESSABLE_ENTITY,
        ImportError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ImportError::Incomplete => StatusCode::BAD_REQUEST,
        ImportError::Db => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// Imports a grant: checked with the provider's who-am-I call (refreshed first when expired), then stored
#[utoipa::path(
    post,
    path = "/api/v1/users/{user_id}/connections/{service}/import",
    operation_id = "importConnection",
    description = "Requires an API key with the `connections:import` scope (and `users:write` \
                   to create a user the hub does not know yet). Replaces the user's connection \
                   to the service. A grant the provider does not honour stores nothing.",
    params(
        ("user_id" = String, Path, description = USER_ID),
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
    ),
    request_body = ImportBody,
    responses(
        (status = 201, description = "Imported", body = Connection),
        (status = 400, description = "`invalid_request`: malformed JSON, an unknown field, a bad `expires_at`, no access token (or, for Trello, no `token_secret`)", body = ErrorBody),
        (status = 403, description = "`user_disabled`", body = ErrorBody),
        (status = 404, description = "`unknown_user` or `unknown_service`", body = ErrorBody),
        (status = 422, description = "`dead_token`: the provider does not honour the tokens; nothing was stored", body = ErrorBody),
        (status = 503, description = "`provider_unavailable`: the provider could not be asked; nothing was stored, try again", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("connections:import"))),
)]
pub async fn import_connection(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path((user_id, service)): Path<(String, String)>,
    body: Result<Json<ImportBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Connection>), ApiError> {
    key.require(ApiScope::ConnectionsImport)?;
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message);
    let Json(body) = body.map_err(|_| {
        bad("Send JSON with access_token and optionally refresh_token, token_secret, expires_at, scopes.")
    })?;
    let grant = body.grant().map_err(bad)?;
    let provider = ready_provider(&state, &service)?;
    // Nothing is made before the provider honours the grant: not even a new user.
    let known = match active_user(&state, &user_id).await {
        Err(e) if e.code == "unknown_user" && key.require(ApiScope::UsersWrite).is_ok() => None,
        found => Some(found?),
    };
    let checked = check(&state, &provider, grant).await.map_err(refusal)?;
    let user = match known {
        Some(user) => user,
        None => user_or_new(&state, &key, &origin, &user_id).await?,
    };
    let event = key.event(Kind::ConnectSucceeded, &origin, &user.id);
    let account_id = checked.account.id.clone();
    store_grant(&state, &user.id, &provider, checked, event)
        .await
        .map_err(refusal)?;
    let row = store::connections::of_account(&state.db, &user.id, &service, &account_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(Connection::of(&row, state.clock.now())),
    ))
}

//! The platform's users under /api/v1/users: provisioned under the platform's own ids,
//! read, paged through and deleted (which revokes and deletes their connections).

use super::api_key::{unknown_user, user_exists, ApiKey};
use super::api_v1::{ErrorBody, USER_ID};
use super::error::ApiError;
use crate::base::audit::Origin;
use crate::base::store::{self, users::Profile};
use crate::domain::platform_users::{self, Provisioned};
use crate::domain::users::{Actor, UserError};
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What the platform says of a user; every field optional. A PUT replaces name, email and
/// metadata with what it sends (an omitted one becomes null).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Up to 128 characters, no control characters.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]{0,128}$")]
    name: Option<String>,
    /// An address: one `@` with something on each side; no spaces or control characters; up
    /// to 254 characters. Empty (like null): no email.
    #[schema(
        pattern = r"^([^\s@\x00-\x1f\x7f-\x9f]+@[^\s@\x00-\x1f\x7f-\x9f]+)?$",
        max_length = 254
    )]
    email: Option<String>,
    /// Any JSON object of the backend's, up to 16 KiB.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// `true` disables the user (their tokens are refused at once), `false` enables them;
    /// omitted leaves it as it is.
    disabled: Option<bool>,
}

/// A user, never a password or a token.
#[derive(Serialize, ToSchema)]
pub struct User {
    /// The platform's id, or the hub's for a user made in the hub.
    pub id: String,
    /// The hub's own id.
    pub hub_id: String,
    /// The name the dashboard shows.
    pub username: String,
    pub name: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// `user` or `admin`.
    pub role: String,
    pub disabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<store::users::Model> for User {
    fn from(user: store::users::Model) -> Self {
        Self {
            id: user.external_id.clone().unwrap_or_else(|| user.id.clone()),
            metadata: user
                .metadata
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
            role: user.role().as_str().to_string(),
            created_at: user.created_at.to_rfc3339(),
            hub_id: user.id,
            username: user.username,
            name: user.name,
            email: user.email,
            disabled: user.disabled,
        }
    }
}

/// A page of users, oldest first.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// Paging through the users.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The id a PUT gives a user.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PutPath {
    /// The platform's own id for the user (1 to 128 visible ASCII characters), or the hub's.
    #[param(pattern = "^[!-~]{1,128}$")]
    user_id: String,
}

/// A user deleted, with their connections.
#[derive(Serialize, ToSchema)]
pub struct UserDeleted {
    pub id: String,
    /// Always true.
    pub deleted: bool,
    /// How many connections were revoked (where the provider can) and deleted.
    pub connections_deleted: usize,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn profile_of(input: UserInput) -> Result<(Profile, Option<bool>), ApiError> {
    let name = input.name.filter(|n| !n.trim().is_empty());
    if name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 128 || n.chars().any(char::is_control))
    {
        return Err(bad(
            "name has at most 128 characters and no control characters.",
        ));
    }
    let email = input.email.filter(|e| !e.is_empty());
    // Exactly the schema's pattern.
    let email_ok = |e: &str| {
        let part = |p: &str| {
            !p.is_empty()
                && !p
                    .chars()
                    .any(|c| c == '@' || c.is_whitespace() || c.is_control())
        };
        e.chars().count() <= 254 && e.split_once('@').is_some_and(|(a, b)| part(a) && part(b))
    };
    if email.as_deref().is_some_and(|e| !email_ok(e)) {
        return Err(bad("email must be an address such as ada@example.com."));
    }
    let metadata = match input.metadata {
        Some(map) => Some(serde_json::Value::Object(map).to_string()),
        None => None,
    };
    if metadata.as_ref().is_some_and(|m| m.len() > 16 * 1024) {
        return Err(bad("metadata may hold at most 16 KiB of JSON."));
    }
    let profile = Profile {
        name,
        email,
        metadata,
    };
    Ok((profile, input.disabled))
}

/// Creates the user with this id, or updates them: idempotent
#[utoipa::path(
    put,
    path = "/api/v1/users/{user_id}",
    operation_id = "putUser",
    description = "Requires an API key with the `users:write` scope. The id is the platform's \
                   own (1 to 128 visible ASCII characters). The user needs no password: they \
                   reach the hub through connect links.",
    params(PutPath),
    request_body = UserInput,
    responses(
        (status = 200, description = "Updated, or already so", body = User),
        (status = 201, description = "Created", body = User),
        (status = 400, description = "`invalid_request`: malformed JSON, an unknown field, a bad id, name, email or metadata", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last active administrator cannot be disabled", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("users:write"))),
)]
pub async fn put_user(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path(PutPath { user_id }): Path<PutPath>,
    body: Result<Json<UserInput>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    key.require(ApiScope::UsersWrite)?;
    if !platform_users::valid_platform_id(&user_id) {
        return Err(bad("A user id has 1 to 128 visible ASCII characters."));
    }
    let Json(input) = body.map_err(|e| bad(format!("Send a JSON object: {}", e.body_text())))?;
    let (profile, disabled) = profile_of(input)?;
    let actor = Actor::api_key(&key.0.id, origin);
    let (user, done) = platform_users::provision(&state.db, &user_id, profile, disabled, &actor)
        .await
        .map_err(user_error)?;
    let status = match done {
        Provisioned::Created => StatusCode::CREATED,
        Provisioned::Updated | Provisioned::Unchanged => StatusCode::OK,
    };
    Ok((status, Json(user.into())))
}

/// One user
#[utoipa::path(
    get,
    path = "/api/v1/users/{user_id}",
    operation_id = "getUser",
    description = "Requires an API key with the `users:read` scope.",
    params(("user_id" = String, Path, description = USER_ID)),
    responses(
        (status = 200, description = "Success", body = User),
        (status = 404, description = "`unknown_user`", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("users:read"))),
)]
pub async fn get_user(
    State(state): State<AppState>,
    key: ApiKey,
    Path(user_id): Path<String>,
) -> Result<Json<User>, ApiError> {
    key.require(ApiScope::UsersRead)?;
    Ok(Json(User::from(
        (*user_exists(&state, &user_id).await?).clone(),
    )))
}

/// Every user, a page at a time, oldest first
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "listUsers",
    description = "Requires an API key with the `users:read` scope.",
    params(PageQuery),
    responses(
        (status = 200, description = "Success", body = UserPage),
        (status = 400, description = "`invalid_request`: a limit outside 1 to 200", body = ErrorBody),
        (status = 404, description = "`unknown_cursor`: the cursor names no user (never given, or its user was deleted since)", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("users:read"))),
)]
pub async fn list_users(
    State(state): State<AppState>,
    key: ApiKey,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<UserPage>, ApiError> {
    key.require(ApiScope::UsersRead)?;
    let Ok(Query(query)) = query else {
        return Err(bad(
            "limit is a number from 1 to 200; cursor is a previous next_cursor.",
        ));
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad("limit is a number from 1 to 200."));
    }
    let after =
        match query.cursor.as_deref() {
            None => None,
            Some(cursor) => Some(store::users::by_id(&state.db, cursor).await?.ok_or_else(
                || {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "unknown_cursor",
                        "This cursor names no user: start again without one.",
                    )
                },
            )?),
        };
    let mut rows = store::users::page(&state.db, after.as_ref(), limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(|u| u.id.clone())).flatten();
    Ok(Json(UserPage {
        users: rows.into_iter().map(User::from).collect(),
        next_cursor,
    }))
}

/// Deletes the user after revoking (where the provider can) and deleting their connections
#[utoipa::path(
    delete,
    path = "/api/v1/users/{user_id}",
    operation_id = "deleteUser",
    description = "Requires an API key with the `users:write` scope. Their sessions and \
                   unused links end with them; their tokens are refused at once.",
    params(("user_id" = String, Path, description = USER_ID)),
    responses(
        (status = 200, description = "Success", body = UserDeleted),
        (status = 404, description = "`unknown_user`", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last active administrator cannot be deleted", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("users:write"))),
)]
pub async fn delete_user(
    State(state): State<AppState>,
    key: ApiKey,
    origin: Origin,
    Path(user_id): Path<String>,
) -> Result<Json<UserDeleted>, ApiError> {
    key.require(ApiScope::UsersWrite)?;
    let user = user_exists(&state, &user_id).await?;
    let actor = Actor::api_key(&key.0.id, origin);
    let gone = platform_users::delete(&state, &user, &actor)
        .await
        .map_err(user_error)?;
    Ok(Json(UserDeleted {
        id: user_id,
        deleted: true,
        connections_deleted: gone,
    }))
}

fn user_error(e: UserError) -> ApiError {
    match e {
        UserError::BadName => bad("A user id has 1 to 128 visible ASCII characters."),
        UserError::LastAdmin => ApiError::new(
            StatusCode::CONFLICT,
            "last_admin",
            "The last active administrator cannot be disabled or deleted.",
        ),
        UserError::Unknown(_) => unknown_user(),
        e => {
            tracing::error!(error = %e, "a change to a user failed");
            ApiError::internal()
        }
    }
}

//! Naming a connection: the label its user gives it ("Work") and the platform's metadata about
//! it (a JSON object), through `PATCH /api/v1/users/{user_id}/connections/{service}` and the
//! Connections page's "Name this account" form.

use super::api_key::{user_exists, ApiKey};
use super::api_v1::{chosen, named_connection, Connection, ConnectionQuery, ErrorBody};
use super::auth::SignedIn;
use super::error::ApiError;
use crate::base::store;
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use utoipa::ToSchema;

/// The most of a label, in characters.
const LABEL_CHARS: usize = 64;
/// The most of the metadata, as JSON text.
const METADATA_BYTES: usize = 16 * 1024;

/// What to change; a field left out stays, `null` clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// A name for the account, 1 to 64 characters (`Work`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]{0,64}$")]
    label: Option<Option<String>>,
    /// The platform's own JSON object about this connection (at most 16 KiB).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    metadata: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(d).map(Some)
}

/// A label as stored: trimmed, printable, at most 64 characters; empty clears it.
fn label(text: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(text) = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > LABEL_CHARS || text.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "A label is at most 64 characters, without control characters.",
        ));
    }
    Ok(Some(text))
}

/// Set a connection's label and metadata
#[utoipa::path(
    patch,
    path = "/api/v1/users/{user_id}/connections/{service}",
    operation_id = "describeConnection",
    description = "Requires an API key with the `connections:write` scope.",
    params(
        ("user_id" = String, Path, description = super::api_v1::USER_ID),
        ("service" = String, Path, description = "The service, e.g. `gmail`"),
        ("connection" = Option<String>, Query, description = super::api_v1::CONNECTION_ID),
    ),
    request_body = Description,
    responses(
        (status = 200, description = "Success", body = Connection),
        (status = 400, description = "`invalid_request`: malformed JSON, an unknown field, a label or metadata too large", body = ErrorBody),
        (status = 404, description = "`unknown_user` or `not_connected`", body = ErrorBody),
        (status = 409, description = "`ambiguous_connection`: several accounts and no `connection`", body = ErrorBody),
    ),
    extensions(("x-required-scope" = json!("connections:write"))),
)]
pub async fn describe_connection(
    State(state): State<AppState>,
    key: ApiKey,
    Path((user_id, service)): Path<(String, String)>,
    query: Result<Query<ConnectionQuery>, QueryRejection>,
    body: Result<Json<Description>, JsonRejection>,
) -> Result<Json<Connection>, ApiError> {
    key.require(ApiScope::ConnectionsWrite)?;
    let connection = named_connection(query)?;
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message);
    let Json(body) = body.map_err(|_| bad("Send JSON with label and/or metadata."))?;
    let label = body.label.map(label).transpose()?;
    let metadata = match body.metadata {
        Some(Some(object)) => {
            let text = serde_json::Value::Object(object).to_string();
            if text.len() > METADATA_BYTES {
                return Err(bad("metadata may hold at most 16 KiB of JSON."));
            }
            Some(Some(text))
        }
        Some(None) => Some(None),
        None => None,
    };
    let user = user_exists(&state, &user_id).await?;
    let row = chosen(&state, &user.id, &service, connection.as_deref()).await?;
    store::connections::describe(&state.db, &row.id, label, metadata).await?;
    let row = store::connections::by_id(&state.db, &row.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Json(Connection::of(&row, state.clock.now())))
}

/// The Connections page's "Name this account" form.
#[derive(Deserialize)]
pub struct LabelForm {
    label: String,
}

/// `POST /api/auth/{service}/label?connection=ID` (origin-guarded): the signed-in user names
/// one of their accounts, then goes back to their Connections page.
pub async fn label_form(
    State(state): State<AppState>,
    Path(service): Path<String>,
    SignedIn { user, .. }: SignedIn,
    query: Result<Query<ConnectionQuery>, QueryRejection>,
    Form(form): Form<LabelForm>,
) -> Result<Response, ApiError> {
    let connection = named_connection(query)?;
    let label = label(Some(form.label))?;
    let row = chosen(&state, &user.id, &service, connection.as_deref()).await?;
    store::connections::describe(&state.db, &row.id, Some(label), None).await?;
    Ok(Redirect::to(&format!("/connections?named={service}")).into_response())
}

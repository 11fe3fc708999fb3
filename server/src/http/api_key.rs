//! The backend API's authentication: an API key in the Authorization header (never a cookie),
//! rate-limited per key, checked for the scope each route needs.

use super::error::ApiError;
use super::limits::Limit;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::state::AppState;
use app::model::admin::ApiScope;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, StatusCode};

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
        state.limits.take(Limit::Api, &key.id).await?;
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
    pub(super) fn require(&self, scope: ApiScope) -> Result<(), ApiError> {
        if self.0.has_scope(scope.as_str()) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("This API key lacks the {} scope.", scope.as_str()),
        ))
    }

    pub(super) fn event(&self, kind: Kind, origin: &Origin, user_id: &str) -> Event {
        let mut event = Event::new(kind, origin);
        event.actor = Some(format!("apikey:{}", self.0.id));
        event.subject = Some(user_id.to_string());
        event
    }
}

/// 404 `unknown_user` unless the user exists.
pub(super) async fn user_exists(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    existing_user(state, user_id).await.map(|_| ())
}

/// 404 `unknown_user` unless the user exists, 403 `user_disabled` if an administrator disabled
/// them: nothing is handed out or started for a disabled user (listing and deleting their
/// connections still work).
pub(super) async fn active_user(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    if existing_user(state, user_id).await?.disabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "user_disabled",
            "This user is disabled.",
        ));
    }
    Ok(())
}

async fn existing_user(state: &AppState, user_id: &str) -> Result<store::users::Model, ApiError> {
    store::users::by_id(&state.db, user_id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_user", "No such user."))
}

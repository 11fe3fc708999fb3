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
pub struct ApiKey(pub std::sync::Arc<store::api_keys::Model>);

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
        // Kept for a moment by the key's digest (`base::hot`): a revocation through this
        // instance drops it at once, elsewhere within `MAX_AGE`.
        let digest = store::digest(presented);
        let key = state
            .hot
            .api_keys
            .read_through(&digest, || {
                store::api_keys::authenticate(&state.db, presented)
            })
            .await?
            .ok_or_else(unauthorized)?;
        state.limits.take(Limit::Api, &key.id).await?;
        // "Last used" to the minute: one write a minute per key, not one per request (every
        // use is in the audit log anyway).
        let stale = state.clock.now() - chrono::Duration::minutes(1);
        if key.last_used_at.is_none_or(|at| at < stale) {
            store::api_keys::touch(&state.db, &key.id, state.clock.now()).await?;
            state.hot.api_keys.forget(&digest);
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

    /// `proxy:*`, or `proxy:<service>` for this one.
    pub(super) fn require_proxy(&self, service: &str) -> Result<(), ApiError> {
        if self.0.has_scope(&format!("proxy:{service}")) {
            return Ok(());
        }
        self.require(ApiScope::ProxyAll).map_err(|mut e| {
            e.message = format!("This API key lacks the proxy:* or proxy:{service} scope.");
            e
        })
    }

    pub(super) fn event(&self, kind: Kind, origin: &Origin, user_id: &str) -> Event {
        let mut event = Event::new(kind, origin);
        event.actor = Some(format!("apikey:{}", self.0.id));
        event.subject = Some(user_id.to_string());
        event
    }
}

/// The user a route names, by the platform's own id or the hub's; 404 `unknown_user` when
/// there is none.
pub(super) async fn user_exists(
    state: &AppState,
    user_id: &str,
) -> Result<std::sync::Arc<store::users::Model>, ApiError> {
    if !crate::domain::platform_users::valid_platform_id(user_id) {
        return Err(unknown_user());
    }
    // Kept for a moment (`base::hot`), dropped with the other copies of users.
    let key = crate::base::hot::HotRows::platform_key(user_id);
    state
        .hot
        .users
        .read_through(&key, || store::users::by_platform_id(&state.db, user_id))
        .await?
        .ok_or_else(unknown_user)
}

/// As [`user_exists`], and 403 `user_disabled` if an administrator or the platform disabled
/// them: nothing is handed out or started for a disabled user (listing and deleting their
/// connections still work).
pub(super) async fn active_user(
    state: &AppState,
    user_id: &str,
) -> Result<std::sync::Arc<store::users::Model>, ApiError> {
    let user = user_exists(state, user_id).await?;
    if user.disabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "user_disabled",
            "This user is disabled.",
        ));
    }
    Ok(user)
}

pub(super) fn unknown_user() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "unknown_user", "No such user.")
}

/// The (enabled) user a link or an import is for, by the platform's id or the hub's; one the
/// platform has not provisioned yet is made now, with no profile, when the key has
/// `users:write`.
pub(super) async fn user_or_new(
    state: &AppState,
    key: &ApiKey,
    origin: &Origin,
    user_id: &str,
) -> Result<std::sync::Arc<store::users::Model>, ApiError> {
    match active_user(state, user_id).await {
        Err(e) if e.code == "unknown_user" && key.require(ApiScope::UsersWrite).is_ok() => {
            new_user(state, key, origin, user_id).await
        }
        found => found,
    }
}

async fn new_user(
    state: &AppState,
    key: &ApiKey,
    origin: &Origin,
    platform_id: &str,
) -> Result<std::sync::Arc<store::users::Model>, ApiError> {
    use crate::domain::platform_users::{provision, valid_platform_id};
    if !valid_platform_id(platform_id) {
        return Err(unknown_user());
    }
    let actor = crate::domain::users::Actor::api_key(&key.0.id, origin.clone());
    let (user, _) = provision(&state.db, platform_id, Default::default(), None, &actor)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "provisioning a user failed");
            ApiError::internal()
        })?;
    Ok(std::sync::Arc::new(user))
}

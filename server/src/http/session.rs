//! The browser session: signing in on it, the connect-link grant, and the middleware that
//! puts the signed-in user on each request. Sessions end after the idle and absolute
//! timeouts, and when the user's epoch moves (password, role, disabled).

use super::error::ApiError;
use crate::base::store;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";

/// What a signed-in session holds: no secret, only who, since when, under which session
/// epoch of the user, and the flow binding.
#[derive(serde::Serialize, serde::Deserialize)]
struct SessionAuth {
    user_id: String,
    /// Pending connect flows are bound to this random value.
    binding: String,
    signed_in_at: i64,
    /// The last request (kept to the minute): idle sessions end.
    #[serde(default)]
    last_seen: i64,
    /// A password, role or disabled change moves the user to a new epoch, ending this session.
    #[serde(default)]
    epoch: i64,
}

/// Signs the user in on this browser: a new session id (no fixation), a new flow binding.
pub async fn start_session(
    session: &Session,
    user: &store::users::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), super::error::ApiError> {
    let internal = |_| super::error::ApiError::internal();
    session.cycle_id().await.map_err(internal)?;
    let auth = SessionAuth {
        user_id: user.id.clone(),
        binding: crate::base::store::new_id(),
        signed_in_at: now.timestamp(),
        last_seen: now.timestamp(),
        epoch: user.session_epoch,
    };
    session.insert(AUTH_KEY, auth).await.map_err(internal)
}

/// A random value per signed-in session that pending flows are bound to.
#[derive(Clone)]
pub struct SessionBinding(pub String);

/// Marks a callback completed on a connect link's grant (the browser is not signed in): its
/// outcome is shown on a page of its own (`link_done`), not on the Connections page.
#[derive(Clone)]
pub struct LinkCallback;

const LINK_KEY: &str = "connect_link";

/// What a browser that opened a connect link holds: it may complete that one flow (the
/// callback of that service, once, before `expires_at`) and nothing else. It never signs in.
#[derive(serde::Serialize, serde::Deserialize)]
struct LinkGrant {
    user_id: String,
    provider: String,
    binding: String,
    expires_at: i64,
}

/// Gives this browser a new session id and a grant for one flow; returns the flow binding.
pub async fn grant_link(
    session: &Session,
    user_id: &str,
    provider: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, super::error::ApiError> {
    let internal = |_| super::error::ApiError::internal();
    session.cycle_id().await.map_err(internal)?;
    let binding = crate::base::store::new_id();
    let lifetime = crate::domain::oauth::flow::FLOW_LIFETIME_MINUTES * 60;
    let grant = LinkGrant {
        user_id: user_id.to_string(),
        provider: provider.to_string(),
        binding: binding.clone(),
        expires_at: now.timestamp() + lifetime,
    };
    session.insert(LINK_KEY, grant).await.map_err(internal)?;
    Ok(binding)
}

/// On the callback of the granted service, the grant is taken (used once) and stands in for
/// a signed-in user on this request only.
async fn use_link_grant(state: &AppState, session: &Session, request: &mut Request) -> bool {
    let path = request.uri().path();
    let Some(service) = path
        .strip_prefix("/api/auth/")
        .and_then(|rest| rest.strip_suffix("/callback"))
    else {
        return false;
    };
    match session.get::<LinkGrant>(LINK_KEY).await {
        Ok(Some(grant)) if grant.provider == service => {}
        _ => return false,
    }
    let Ok(Some(grant)) = session.remove::<LinkGrant>(LINK_KEY).await else {
        return false;
    };
    if grant.expires_at <= state.clock.now().timestamp() {
        return false;
    }
    match store::users::by_id(&state.db, &grant.user_id).await {
        Ok(Some(user)) if !user.disabled => {
            request.extensions_mut().insert(user.current_user());
            request
                .extensions_mut()
                .insert(SessionBinding(grant.binding));
            request.extensions_mut().insert(LinkCallback);
            true
        }
        Ok(_) => false,
        Err(e) => {
            tracing::error!(error = %e, "loading the connect link's user failed");
            false
        }
    }
}

/// Whether the session `id` still signs `user_id` in: it exists, is within its idle and
/// absolute lifetimes, and the user is neither disabled nor moved to a new epoch (password,
/// role). A live stream asks this to end with its session, on every instance. A database
/// that does not answer keeps the stream (it only says that something changed; every fetch
/// it prompts checks the session again).
pub async fn still_signed_in(
    state: &AppState,
    id: &tower_sessions::session::Id,
    user_id: &str,
) -> bool {
    use tower_sessions::SessionStore;
    let sessions = store::sessions::DbSessionStore::new(state.db.clone(), state.clock.clone());
    let record = match sessions.load(id).await {
        Ok(record) => record,
        Err(_) => return true,
    };
    let Some(auth) = record
        .and_then(|r| r.data.get(AUTH_KEY).cloned())
        .and_then(|v| serde_json::from_value::<SessionAuth>(v).ok())
    else {
        return false;
    };
    let lifetimes = &state.config.sessions;
    let now = state.clock.now().timestamp();
    let fresh = now - auth.signed_in_at < lifetimes.absolute_timeout_seconds as i64
        && now - auth.last_seen.max(auth.signed_in_at) < lifetimes.idle_timeout_seconds as i64;
    if auth.user_id != user_id || !fresh {
        return false;
    }
    match store::users::by_id(&state.db, user_id).await {
        Ok(Some(user)) => !user.disabled && user.session_epoch == auth.epoch,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Puts the signed-in user (and the session's flow binding) on the request, or nothing: what
/// a route may do without one is decided where it is mounted (`auth`).
pub async fn load_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if use_link_grant(&state, &session, &mut request).await {
        return next.run(request).await;
    }
    let auth = match session.get::<SessionAuth>(AUTH_KEY).await {
        Ok(auth) => auth,
        // The session store (the database) cannot be read: not "signed out", unavailable.
        Err(e) => {
            tracing::error!(error = %e, "reading the session failed");
            return ApiError::database_unavailable()
                .for_browser(request.headers())
                .into_response();
        }
    };
    if let Some(auth) = auth {
        let lifetimes = &state.config.sessions;
        let now = state.clock.now().timestamp();
        let idle = lifetimes.idle_timeout_seconds as i64;
        let last_seen = auth.last_seen.max(auth.signed_in_at);
        let fresh = now - auth.signed_in_at < lifetimes.absolute_timeout_seconds as i64
            && now - last_seen < idle;
        let user = state.hot.users.read_through(&auth.user_id, || {
            store::users::by_id(&state.db, &auth.user_id)
        });
        match user.await {
            Ok(Some(user)) if fresh && !user.disabled && user.session_epoch == auth.epoch => {
                request.extensions_mut().insert(user.current_user());
                request
                    .extensions_mut()
                    .insert(SessionBinding(auth.binding.clone()));
                // Write the session back now and then, not on every request.
                if now - last_seen >= (idle / 4).min(60) {
                    let touched = SessionAuth {
                        last_seen: now,
                        ..auth
                    };
                    let _ = session.insert(AUTH_KEY, touched).await;
                }
            }
            // Too old, idle, the user gone, disabled or changed: the session ends server-side.
            Ok(_) => {
                let _ = session.flush().await;
            }
            Err(e) => {
                return ApiError::from(e)
                    .for_browser(request.headers())
                    .into_response()
            }
        }
    }
    next.run(request).await
}

//! Sign in, sign out, and the middleware that puts the signed-in user on each request.

use super::limits::take;
use crate::audit::{Event, Kind, Origin};
use crate::state::AppState;
use crate::store;
use app::model::CurrentUser;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::LazyLock;
use tower_sessions::Session;

const AUTH_KEY: &str = "auth";

/// What a signed-in session holds: no secret, only who, since when, under which session
/// epoch of the user, and the flow binding.
#[derive(serde::Serialize, serde::Deserialize)]
struct SignedIn {
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

/// Pages that need a signed-in user; others are public. The admin area needs the admin role.
fn signed_in_page(path: &str) -> bool {
    matches!(path, "/connections" | "/account" | "/admin") || path.starts_with("/admin/")
}

fn admin_area(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/") || path.starts_with("/rpc/admin/")
}

/// Signs the user in on this browser: a new session id (no fixation), a new flow binding.
pub async fn start_session(
    session: &Session,
    user: &store::users::Model,
) -> Result<(), super::error::ApiError> {
    let internal = |_| super::error::ApiError::internal();
    session.cycle_id().await.map_err(internal)?;
    let auth = SignedIn {
        user_id: user.id.clone(),
        binding: crate::store::new_id(),
        signed_in_at: chrono::Utc::now().timestamp(),
        last_seen: chrono::Utc::now().timestamp(),
        epoch: user.session_epoch,
    };
    session.insert(AUTH_KEY, auth).await.map_err(internal)
}

/// A random value per signed-in session that pending flows are bound to.
#[derive(Clone)]
pub struct SessionBinding(pub String);

/// Verified against for unknown users, so both failures take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| password_auth::generate_hash("not a real password"));

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
) -> Result<String, super::error::ApiError> {
    let internal = |_| super::error::ApiError::internal();
    session.cycle_id().await.map_err(internal)?;
    let binding = crate::store::new_id();
    let lifetime = crate::oauth::start::FLOW_LIFETIME_MINUTES * 60;
    let grant = LinkGrant {
        user_id: user_id.to_string(),
        provider: provider.to_string(),
        binding: binding.clone(),
        expires_at: chrono::Utc::now().timestamp() + lifetime,
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
    if grant.expires_at <= chrono::Utc::now().timestamp() {
        return false;
    }
    match store::users::by_id(&state.db, &grant.user_id).await {
        Ok(Some(user)) if !user.disabled => {
            request.extensions_mut().insert(user.current_user());
            request
                .extensions_mut()
                .insert(SessionBinding(grant.binding));
            true
        }
        Ok(_) => false,
        Err(e) => {
            tracing::error!(error = %e, "loading the connect link's user failed");
            false
        }
    }
}

pub async fn load_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if use_link_grant(&state, &session, &mut request).await {
        return next.run(request).await;
    }
    if let Ok(Some(auth)) = session.get::<SignedIn>(AUTH_KEY).await {
        let lifetimes = &state.config.sessions;
        let now = chrono::Utc::now().timestamp();
        let idle = lifetimes.idle_timeout_seconds as i64;
        let last_seen = auth.last_seen.max(auth.signed_in_at);
        let fresh = now - auth.signed_in_at < lifetimes.absolute_timeout_seconds as i64
            && now - last_seen < idle;
        match store::users::by_id(&state.db, &auth.user_id).await {
            Ok(Some(user)) if fresh && !user.disabled && user.session_epoch == auth.epoch => {
                request.extensions_mut().insert(user.current_user());
                request
                    .extensions_mut()
                    .insert(SessionBinding(auth.binding.clone()));
                // Write the session back now and then, not on every request.
                if now - last_seen >= (idle / 4).min(60) {
                    let touched = SignedIn {
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
            Err(e) => tracing::error!(error = %e, "loading the session's user failed"),
        }
    }
    let path = request.uri().path();
    let forbidden = || {
        let message = "This part of ATOM Connect is for administrators.";
        super::error::ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            .for_browser(request.headers())
            .into_response()
    };
    match request.extensions().get::<CurrentUser>() {
        None if signed_in_page(path) => Redirect::to("/signin").into_response(),
        None if admin_area(path) => super::error::ApiError::sign_in_required().into_response(),
        Some(_) if path == "/signin" => Redirect::to("/connections").into_response(),
        Some(user) if admin_area(path) && !user.admin => forbidden(),
        _ => next.run(request).await,
    }
}

/// The client's address: the peer, or the last X-Forwarded-For hop when the peer is one of
/// the configured trusted proxies.
pub fn client_address(parts: &Parts, trusted: &[std::net::IpAddr]) -> Option<String> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let last_hop = forwarded.and_then(|v| v.rsplit(',').next()).map(str::trim);
    let hop = last_hop
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .unwrap_or(peer);
    Some(hop.to_string())
}

/// The client's address and user agent, for the audit log and the rate limits.
impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_address(parts, &state.config.server.trusted_proxies);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Origin { ip, user_agent })
    }
}

/// Checks a password off the async threads; an unknown user costs the same argon2id work.
pub async fn password_matches(user: Option<&store::users::Model>, password: String) -> bool {
    let hash = user
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    tokio::task::spawn_blocking(move || password_auth::verify_password(password, &hash).is_ok())
        .await
        .unwrap_or(false)
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, super::error::ApiError> {
    let throttled = |e: super::error::ApiError| e.for_browser(&headers);
    let address = origin.ip.clone().unwrap_or_default();
    take(&state.limits.sign_in_address, &address).map_err(throttled)?;
    take(&state.limits.sign_in_account, &form.username.to_lowercase()).map_err(throttled)?;
    let user = if form.username.len() <= 64 {
        store::users::by_username(&state.db, &form.username).await?
    } else {
        None
    };
    let matches = password_matches(user.as_ref(), form.password).await;
    let user = user.filter(|u| matches && !u.disabled);
    let Some(user) = user else {
        let event = Event::new(Kind::SignIn, &origin).failed("bad_credentials");
        store::audit::append(&state.db, event).await?;
        return Ok(Redirect::to("/signin?error=1").into_response());
    };
    start_session(&session, &user).await?;
    store::audit::append(&state.db, Event::new(Kind::SignIn, &origin).by(&user.id)).await?;
    Ok(Redirect::to("/connections").into_response())
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    origin: Origin,
    user: Option<axum::Extension<CurrentUser>>,
) -> Result<Response, super::error::ApiError> {
    if let Some(axum::Extension(user)) = user {
        store::audit::append(&state.db, Event::new(Kind::SignOut, &origin).by(&user.id)).await?;
    }
    session
        .flush()
        .await
        .map_err(|_| super::error::ApiError::internal())?;
    Ok(Redirect::to("/signin").into_response())
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use axum::extract::ConnectInfo;
    use std::net::{IpAddr, SocketAddr};

    fn parts(peer: &str, forwarded: Option<&str>) -> axum::http::request::Parts {
        let mut builder = axum::http::Request::builder();
        if let Some(value) = forwarded {
            builder = builder.header("x-forwarded-for", value);
        }
        let mut parts = builder.body(()).expect("request").into_parts().0;
        let addr: SocketAddr = format!("{peer}:4000").parse().expect("addr");
        parts.extensions.insert(ConnectInfo(addr));
        parts
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let spoofed = parts("192.0.2.7", Some("198.51.100.1"));
        assert_eq!(
            client_address(&spoofed, &[proxy]).as_deref(),
            Some("192.0.2.7")
        );
        let proxied = parts("10.0.0.1", Some("198.51.100.1, 203.0.113.9"));
        assert_eq!(
            client_address(&proxied, &[proxy]).as_deref(),
            Some("203.0.113.9")
        );
        let garbage = parts("10.0.0.1", Some("not an address"));
        assert_eq!(
            client_address(&garbage, &[proxy]).as_deref(),
            Some("10.0.0.1")
        );
    }
}

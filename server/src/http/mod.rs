//! Router assembly: plain axum routes for the contract, Leptos for pages and server functions.

mod account;
mod admin;
mod admin_audit;
mod api_v1;
mod connect;
mod connect_links;
pub mod error;
mod events;
mod guard;
pub(crate) mod limits;
pub mod openapi;
mod password;
mod request_id;
mod setup;

use crate::hub::ServerHub;
use crate::state::AppState;
use app::hub::SharedHub;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let hub: SharedHub = Arc::new(ServerHub::new(state.clone()));
    let production = state.config.mode == crate::config::Mode::Production;
    let sessions = SessionManagerLayer::new(crate::store::sessions::DbSessionStore::new(
        state.db.clone(),
    ))
    .with_name(if production {
        "__Host-atom_session"
    } else {
        "atom_session"
    })
    .with_secure(production)
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_path("/")
    .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
        state.config.sessions.idle_timeout_seconds as i64,
    )));

    let context = {
        let hub = hub.clone();
        move || {
            provide_context(hub.clone());
            guard::page_csp();
        }
    };
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    let metrics_here = state.config.server.metrics_listen.is_none();
    let router = Router::new();
    let router = if metrics_here {
        router.route("/metrics", get(crate::metrics::render))
    } else {
        router
    };
    router
        .route("/", get(|| async { Redirect::to("/connections") }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/auth/signin", post(account::sign_in))
        .route("/auth/signout", post(account::sign_out))
        .route("/auth/password", post(password::change))
        .route("/setup/{token}", get(setup::open))
        .route("/auth/setup", post(setup::complete))
        .route("/admin/users/new", post(admin::create_user))
        .route("/admin/users/{id}/role", post(admin::set_role))
        .route("/admin/users/{id}/status", post(admin::set_state))
        .route("/admin/keys/new", post(admin::create_key))
        .route("/admin/keys/{id}/revoke", post(admin::revoke_key))
        .route(
            "/admin/providers/{service}/enabled",
            post(admin::set_provider),
        )
        .route("/admin/audit/export", get(admin_audit::export))
        .route("/api/events", get(events::stream))
        .route(
            "/api/auth/{service}/authorize",
            get(connect::begin_connect).post(connect::begin_connect),
        )
        .route(
            "/api/auth/{service}/callback",
            get(connect::complete_connect),
        )
        .route("/api/auth/{service}/status", get(connect::status))
        .route("/api/auth/{service}/disconnect", post(connect::disconnect))
        .route("/api/{service}/health", get(connect::health))
        .route("/rpc/{*name}", post(server_fn).get(server_fn))
        .merge(openapi::router())
        .route("/connect/{token}", get(connect_links::open))
        .leptos_routes_with_context(&state, generate_route_list(app::App), context, shell)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(from_fn_with_state(state.clone(), account::load_user))
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), guard::origin_guard))
        .layer(from_fn_with_state(state.clone(), guard::security_headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(request_id::propagate())
        .layer(request_id::trace())
        .layer(request_id::set())
        .with_state(state)
}

async fn server_fn(State(state): State<AppState>, request: Request<Body>) -> Response {
    let hub: SharedHub = Arc::new(ServerHub::new(state));
    handle_server_fns_with_context(move || provide_context(hub.clone()), request)
        .await
        .into_response()
}

/// Ready when the database answers and the vault's key is loaded (it is, once built).
async fn ready(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database_unreachable" })),
            )
                .into_response()
        }
    }
}

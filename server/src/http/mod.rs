//! Router assembly: plain axum routes for the contract, Leptos for pages and server functions.

mod account;
mod admin;
mod admin_audit;
mod api_describe;
mod api_import;
mod api_key;
mod api_users;
mod api_v1;
mod auth;
mod connect;
mod connect_links;
mod continue_page;
mod edge;
pub mod error;
mod link_done;
pub use guard::audit_repeated_refusals;
mod events;
mod guard;
pub(crate) mod limits;
mod mcp;
pub mod metrics;
pub mod openapi;
mod password;
mod portal_links;
mod proxy;
mod request_id;
mod session;
mod setup;
mod sso;

use crate::base::store::sessions::DbSessionStore;
use crate::hub::ServerHub;
use crate::state::AppState;
use app::hub::SharedHub;
use app::Access;
use auth::SignedOut;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::provide_context;
use leptos_axum::{
    generate_route_list_with_exclusions, handle_server_fns_with_context, AxumRouteListing,
    LeptosRoutes,
};
use std::sync::{Arc, OnceLock};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

const BODY_LIMIT: usize = 64 * 1024;

/// The pages' routes, worked out once per process. Working them out runs the app with
/// resource loading switched off by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`), and a page whose resource first polls while that flag is up waits
/// forever (leptos-rs/leptos#4773): a second router built beside a serving one, as the tests'
/// many hubs in one process do, hung pages under load.
fn page_listings(functions: &[String]) -> Vec<AxumRouteListing> {
    static LISTINGS: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    LISTINGS
        .get_or_init(|| generate_route_list_with_exclusions(app::App, Some(functions.to_vec())))
        .clone()
}

/// Routes in groups, each with the layer that decides who may call it: public, the backend
/// API (API keys, checked by its handlers' extractor), signed-in pages and calls, admin pages
/// and calls. Static assets are served without touching the session store.
pub fn router(state: AppState) -> Router {
    let hub: SharedHub = Arc::new(ServerHub::new(state.clone()));
    let context = {
        let hub = hub.clone();
        let form_action = guard::form_action(&state);
        move || {
            provide_context(hub.clone());
            guard::page_csp(&form_action);
        }
    };
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    // Server functions are served by the call groups below, not beside every page group.
    let functions: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    let listings = page_listings(&functions);
    // Admin functions are declared under the admin prefix, public ones under theirs; every
    // other one needs a user.
    let (admin_functions, others): (Vec<String>, Vec<String>) = functions
        .iter()
        .cloned()
        .partition(|path| path.starts_with(app::api::ADMIN_PREFIX));
    let (public_functions, user_functions): (Vec<String>, Vec<String>) = others
        .into_iter()
        .partition(|path| path.starts_with(app::api::PUBLIC_PREFIX));
    let (skipped, listings): (Vec<_>, Vec<_>) = listings
        .into_iter()
        .partition(|l| functions.iter().any(|f| f == l.path()));
    let mut pages: [Vec<AxumRouteListing>; 4] = Default::default();
    for page in listings {
        let group = match app::page_access(page.path()) {
            Access::SignedOut => 0,
            Access::Public => 1,
            Access::SignedIn => 2,
            Access::Admin => 3,
        };
        pages[group].push(page);
    }
    let [signed_out_pages, public_pages, user_pages, admin_pages] = pages;
    let mount = |router: Router<AppState>, mut listing: Vec<AxumRouteListing>| {
        listing.extend(skipped.iter().cloned());
        router.leptos_routes_with_context(&state, listing, context.clone(), shell.clone())
    };

    let signed_out = mount(Router::new(), signed_out_pages)
        .route_layer(axum::middleware::from_fn(auth::signed_out_only));
    let public = mount(Router::new(), public_pages)
        .route("/", get(|| async { Redirect::to("/connections") }))
        .route("/auth/signin", post(account::sign_in))
        .route("/auth/signout", post(account::sign_out))
        .route("/auth/sso", get(sso::start))
        .route("/auth/sso/callback", get(sso::callback))
        .route("/setup/{token}", get(setup::open))
        .route("/auth/setup", post(setup::complete))
        // The platform's contract: each answers the signed-out in its documented way.
        .route(
            "/api/auth/{service}/authorize",
            get(connect::begin_connect).post(connect::begin_connect),
        )
        .route(
            "/api/auth/{service}/callback",
            get(connect::complete_connect),
        )
        .route("/api/{service}/health", get(connect::health))
        .route(
            "/connect/{token}",
            get(connect_links::open).post(connect_links::proceed),
        )
        .route("/connect/done", get(link_done::page).post(link_done::undo))
        .route(
            "/portal/{token}",
            get(portal_links::open).post(portal_links::proceed),
        )
        .merge(functions_in(Router::new(), &public_functions))
        // A function nobody declared: Leptos' own 400, whoever asks.
        .route("/rpc/{*name}", post(server_fn).get(server_fn));
    let user_pages = mount(Router::new(), user_pages)
        .route_layer(from_fn_with_state(SignedOut::ToSignIn, auth::need_user));
    let user_calls = Router::new()
        .route("/auth/password", post(password::change))
        .route("/api/events", get(events::stream))
        .route("/api/auth/{service}/status", get(connect::status))
        .route("/api/auth/{service}/disconnect", post(connect::disconnect))
        .route("/api/auth/{service}/label", post(api_describe::label_form));
    let user_calls = functions_in(user_calls, &user_functions)
        .route_layer(from_fn_with_state(SignedOut::Unauthorized, auth::need_user));
    let admin_pages = mount(Router::new(), admin_pages)
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
        .route_layer(from_fn_with_state(SignedOut::ToSignIn, auth::need_admin));
    let admin_calls = functions_in(Router::new(), &admin_functions).route_layer(
        from_fn_with_state(SignedOut::Unauthorized, auth::need_admin),
    );

    let sessions = session_layer(&state);
    let with_session = public
        .merge(signed_out)
        .merge(user_pages)
        .merge(user_calls)
        .merge(admin_pages)
        .merge(admin_calls)
        .layer(from_fn_with_state(state.clone(), session::load_user))
        .layer(sessions);

    let metrics_here = state.config.server.metrics_listen.is_none();
    let without_session = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .merge(openapi::router())
        .nest_service(
            "/mcp",
            tower::ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), mcp::authenticate))
                .service(mcp::service(&state)),
        );
    let without_session = if metrics_here {
        without_session.route("/metrics", get(metrics::render))
    } else {
        without_session
    };
    without_session
        .merge(with_session)
        // Static files (wasm, CSS, logos) and the not-found page: no session needed.
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), edge::edge))
        .layer(request_id::trace())
        .layer(from_fn_with_state(state.clone(), request_id::ids))
        .with_state(state)
}

/// Sessions in the database, their cookie hardened (`__Host-` and Secure in production).
fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let production = state.config.mode == crate::base::config::Mode::Production;
    SessionManagerLayer::new(DbSessionStore::cached(
        state.db.clone(),
        state.clock.clone(),
        state.hot.sessions.clone(),
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
    )))
}

/// The server functions at `paths`, each at its own route (the group's layer applies).
fn functions_in(mut router: Router<AppState>, paths: &[String]) -> Router<AppState> {
    for path in paths {
        router = router.route(path, post(server_fn).get(server_fn));
    }
    router
}

async fn server_fn(State(state): State<AppState>, request: Request<Body>) -> Response {
    // Read whole here, within the limit: Leptos would answer a body cut off by the limit
    // with a 500 (an alert anyone could trip), where it is the caller's 413.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request is too large.",
        )
        .into_response();
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    let hub: SharedHub = Arc::new(ServerHub::new(state));
    handle_server_fns_with_context(move || provide_context(hub.clone()), request)
        .await
        .into_response()
}

/// Ready when the database answers and the vault's key is loaded (it is, once built).
async fn ready(State(state): State<AppState>) -> Response {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        let status = Json(serde_json::json!({ "status": "draining" }));
        return (StatusCode::SERVICE_UNAVAILABLE, status).into_response();
    }
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

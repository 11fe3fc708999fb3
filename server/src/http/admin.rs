//! The admin pages' changes: plain form posts (they work without JavaScript), each answered
//! with a redirect carrying a fixed message code. The router already refused non-admins
//! (403); each handler checks the role again. A new API key is shown once, in this answer.

use super::error::ApiError;
use crate::audit::{Event, Kind, Origin};
use crate::state::AppState;
use crate::store;
use crate::users::{self, Actor, UserError};
use app::model::CurrentUser;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use secrecy::ExposeSecret;
use serde::Deserialize;

pub(super) type Admin = Option<Extension<CurrentUser>>;

pub(super) fn require_admin(user: Admin, headers: &HeaderMap) -> Result<CurrentUser, ApiError> {
    match user {
        Some(Extension(user)) if user.admin => Ok(user),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This part of ATOM Connect is for administrators.",
        )
        .for_browser(headers)),
        None => Err(ApiError::sign_in_required().for_browser(headers)),
    }
}

fn back(page: &str, outcome: &str, code: &str) -> Response {
    Redirect::to(&format!("/admin/{page}?{outcome}={code}")).into_response()
}

fn user_error(e: UserError) -> Result<Response, ApiError> {
    let code = match e {
        UserError::BadName => "bad_name",
        UserError::WeakPassword => "weak_password",
        UserError::Exists(_) => "exists",
        UserError::LastAdmin => "last_admin",
        UserError::Unknown(_) => "not_found",
        UserError::Db(e) => return Err(e.into()),
    };
    Ok(back("users", "error", code))
}

#[derive(Deserialize)]
pub struct NewUser {
    username: String,
    password: String,
    role: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    user: Admin,
    Form(form): Form<NewUser>,
) -> Result<Response, ApiError> {
    let me = require_admin(user, &headers)?;
    let actor = Actor::admin(&me.id, origin);
    let admin_role = form.role == "admin";
    match users::add(
        &state.db,
        &form.username,
        &form.password,
        admin_role,
        &actor,
    )
    .await
    {
        Ok(_) => Ok(back("users", "done", "user_created")),
        Err(e) => user_error(e),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    user: Admin,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, ApiError> {
    let me = require_admin(user, &headers)?;
    let Some(target) = store::users::by_id(&state.db, &id).await? else {
        return Ok(back("users", "error", "not_found"));
    };
    let actor = Actor::admin(&me.id, origin);
    match users::set_role(&state.db, &target, form.role == "admin", &actor).await {
        Ok(()) => Ok(back("users", "done", "role_changed")),
        Err(e) => user_error(e),
    }
}

#[derive(Deserialize)]
pub struct StateForm {
    state: String,
}

pub async fn set_state(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    user: Admin,
    Path(id): Path<String>,
    Form(form): Form<StateForm>,
) -> Result<Response, ApiError> {
    let me = require_admin(user, &headers)?;
    let Some(target) = store::users::by_id(&state.db, &id).await? else {
        return Ok(back("users", "error", "not_found"));
    };
    let disabled = form.state == "disabled";
    let actor = Actor::admin(&me.id, origin);
    match users::set_disabled(&state.db, &target, disabled, &actor).await {
        Ok(()) => Ok(back(
            "users",
            "done",
            if disabled { "disabled" } else { "enabled" },
        )),
        Err(e) => user_error(e),
    }
}

#[derive(Deserialize)]
pub struct NewKey {
    name: String,
    tokens_read: Option<String>,
    connections_write: Option<String>,
}

pub async fn create_key(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    user: Admin,
    Form(form): Form<NewKey>,
) -> Result<Response, ApiError> {
    let me = require_admin(user, &headers)?;
    let name = form.name.trim();
    let scopes: Vec<String> = [
        (form.tokens_read.is_some(), "tokens:read"),
        (form.connections_write.is_some(), "connections:write"),
    ]
    .into_iter()
    .filter_map(|(on, scope)| on.then(|| scope.to_string()))
    .collect();
    if name.is_empty() || name.chars().count() > 64 || scopes.is_empty() {
        return Ok(back("keys", "error", "bad_key_name"));
    }
    let (row, key) = store::api_keys::create(&state.db, name, &scopes).await?;
    let mut event = Event::new(Kind::ApiKeyCreated, &origin).reason(&format!("apikey:{}", row.id));
    event.actor = Some(me.id);
    store::audit::append(&state.db, event).await?;
    let mut response = Html(key_page(&row.name, key.expose_secret())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    Ok(response)
}

pub async fn revoke_key(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    user: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let me = require_admin(user, &headers)?;
    if !store::api_keys::revoke(&state.db, &id).await? {
        return Ok(back("keys", "error", "not_found"));
    }
    let mut event = Event::new(Kind::ApiKeyRevoked, &origin).reason(&format!("apikey:{id}"));
    event.actor = Some(me.id);
    store::audit::append(&state.db, event).await?;
    Ok(back("keys", "done", "key_revoked"))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    enabled: String,
}

/// Turns new connections to a provider on or off, for every instance (the setting is stored).
pub async fn set_provider(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    user: Admin,
    Path(service): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Result<Response, ApiError> {
    let me = require_admin(user, &headers)?;
    if !state.catalog.names().contains(&service) {
        return Ok(back("providers", "error", "not_found"));
    }
    let enabled = form.enabled == "true";
    store::provider_settings::set(&state.db, &service, enabled).await?;
    let kind = if enabled {
        Kind::ProviderEnabled
    } else {
        Kind::ProviderDisabled
    };
    let mut event = Event::new(kind, &origin).provider(&service);
    event.actor = Some(me.id);
    store::audit::append(&state.db, event).await?;
    let code = if enabled {
        "provider_enabled"
    } else {
        "provider_disabled"
    };
    Ok(back("providers", "done", code))
}

/// The one time a key is shown: a small page of its own, never stored, never cached.
fn key_page(name: &str, key: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>New API key · ATOM Connect</title><link rel=\"stylesheet\" href=\"/pkg/atom.css\">\
         </head><body class=\"bg-slate-50 text-slate-900\"><main class=\"mx-auto mt-16 max-w-2xl \
         rounded-xl bg-white p-8 shadow\"><h1 class=\"mb-4 text-2xl font-semibold\">API key \
         “{name}” created</h1><p class=\"mb-2\">Copy it now: it is shown once and cannot be \
         shown again.</p><p><code id=\"new-key\" class=\"block break-all rounded bg-slate-100 \
         p-3\">{key}</code></p><p class=\"mt-6\"><a class=\"text-indigo-800 underline\" \
         href=\"/admin/keys\">Back to API keys</a></p></main></body></html>"
    )
}

//! The admin pages' changes: plain form posts (they work without JavaScript), each answered
//! with a redirect carrying a fixed message code. The router already refused non-admins
//! (403); each handler checks the role again. A new API key is shown once, in this answer.

use super::auth::Admin;
use super::error::ApiError;
use crate::base::audit::Origin;
use crate::base::store;
use crate::domain::api_keys::{self, KeyError};
use crate::domain::provider_settings;
use crate::domain::users::{self, Actor, UserError};
use crate::state::AppState;
use app::model::admin::ApiScope;
use app::model::notice::Notice;
use app::model::Role;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use secrecy::ExposeSecret;
use serde::Deserialize;

fn back(page: &str, notice: Notice) -> Response {
    Redirect::to(&notice.redirect_to(&format!("/admin/{page}"))).into_response()
}

fn user_error(e: UserError) -> Result<Response, ApiError> {
    let notice = match e {
        UserError::BadName => Notice::BadName,
        UserError::WeakPassword => Notice::WeakPassword,
        UserError::Exists(_) => Notice::Exists,
        UserError::LastAdmin => Notice::LastAdmin,
        UserError::Unknown(_) => Notice::NotFound,
        UserError::Db(e) => return Err(e.into()),
    };
    Ok(back("users", notice))
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
    Admin(me): Admin,
    Form(form): Form<NewUser>,
) -> Result<Response, ApiError> {
    let actor = Actor::admin(&me.id, origin);
    let admin_role = Role::parse(&form.role) == Role::Admin;
    match users::add(
        &state.db,
        &form.username,
        &form.password,
        admin_role,
        &actor,
    )
    .await
    {
        Ok(_) => Ok(back("users", Notice::UserCreated)),
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
    Admin(me): Admin,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, ApiError> {
    let Some(target) = store::users::by_id(&state.db, &id).await? else {
        return Ok(back("users", Notice::NotFound));
    };
    let actor = Actor::admin(&me.id, origin);
    match users::set_role(
        &state.db,
        &target,
        Role::parse(&form.role) == Role::Admin,
        &actor,
    )
    .await
    {
        Ok(()) => Ok(back("users", Notice::RoleChanged)),
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
    Admin(me): Admin,
    Path(id): Path<String>,
    Form(form): Form<StateForm>,
) -> Result<Response, ApiError> {
    let Some(target) = store::users::by_id(&state.db, &id).await? else {
        return Ok(back("users", Notice::NotFound));
    };
    let disabled = form.state == "disabled";
    let actor = Actor::admin(&me.id, origin);
    match users::set_disabled(&state.db, &target, disabled, &actor).await {
        Ok(()) if disabled => Ok(back("users", Notice::UserDisabled)),
        Ok(()) => Ok(back("users", Notice::UserEnabled)),
        Err(e) => user_error(e),
    }
}

/// The new key form: its name, and a checkbox per scope named after it (`tokens_read`).
pub async fn create_key(
    State(state): State<AppState>,
    origin: Origin,
    Admin(me): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let name = field("name").unwrap_or_default().to_string();
    let scopes: Vec<String> = ApiScope::ALL
        .into_iter()
        .filter(|scope| field(&scope.form_name()).is_some())
        .map(|scope| scope.as_str().to_string())
        .collect();
    let actor = Actor::admin(&me.id, origin);
    let (row, key) = match api_keys::create(&state.db, &name, &scopes, None, &actor).await {
        Ok(created) => created,
        Err(KeyError::Db(e)) => return Err(e.into()),
        Err(KeyError::BadName | KeyError::NoScope | KeyError::AgentKey) => {
            return Ok(back("keys", Notice::BadKeyName))
        }
    };
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
    Admin(me): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !api_keys::revoke(&state.db, &id, &Actor::admin(&me.id, origin)).await? {
        return Ok(back("keys", Notice::NotFound));
    }
    Ok(back("keys", Notice::KeyRevoked))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    enabled: String,
}

/// Turns new connections to a provider on or off, for every instance (the setting is stored).
pub async fn set_provider(
    State(state): State<AppState>,
    origin: Origin,
    Admin(me): Admin,
    Path(service): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Result<Response, ApiError> {
    if !state.catalog.names().contains(&service) {
        return Ok(back("providers", Notice::NotFound));
    }
    let enabled = form.enabled == "true";
    let actor = Actor::admin(&me.id, origin);
    provider_settings::set_enabled(&state.db, &service, enabled, &actor).await?;
    if enabled {
        Ok(back("providers", Notice::ProviderEnabled))
    } else {
        Ok(back("providers", Notice::ProviderDisabled))
    }
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

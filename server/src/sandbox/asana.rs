//! Asana OAuth, from docs/providers/asana.md: client credentials in the form body only; the
//! sandbox's app is registered for granular scopes (`tasks:read` …, plus `openid email
//! profile`), so `default` (full permissions) is refused, alone or mixed in, as Asana refuses
//! it for such apps (the two modes are mutually exclusive since 2025); access tokens of about an hour,
//! refresh answers without a new refresh token, `users/me` as `{data: {gid, name, email}}`,
//! and `POST /-/oauth_revoke` with the refresh token (access tokens are refused).

use super::consent::{authorize, require, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests::{self, oauth_error, ClientAuth};
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

static ASANA: Family = Family {
    title: "Asana",
    client_id: "sandbox-asana",
    services: &["asana"],
};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/-/oauth_authorize", authorize(&ASANA, check))
        .route("/-/oauth_token", post(token))
        .route("/api/1.0/users/me", get(me))
        .route("/-/oauth_revoke", post(revoke))
}

fn scope_ok(scope: &str) -> bool {
    matches!(scope, "default" | "openid" | "email" | "profile")
        || scope.split_once(':').is_some_and(|(resource, action)| {
            !resource.is_empty()
                && matches!(action, "read" | "write" | "delete")
                && resource
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
        })
}

fn check(q: &Params) -> Result<(), Refusal> {
    require(
        q,
        "response_type",
        &["code"],
        Refusal::Page("response_type must be code."),
    )?;
    if q.get("scope").is_some_and(|s| !s.split(' ').all(scope_ok)) {
        return Err(Refusal::Redirect(
            "invalid_scope",
            "The requested scope is invalid.",
        ));
    }
    // Asana, "OAuth scopes" (https://developers.asana.com/docs/oauth#oauth-scopes): an app
    // registered for granular scopes may only request those; `default` is the full-permissions
    // mode, and an app is in one mode or the other.
    if q.get("scope")
        .is_none_or(|s| s.split(' ').any(|s| s == "default"))
    {
        return Err(Refusal::Redirect(
            "forbidden_scopes",
            "This app is registered for granular scopes: request them instead of default.",
        ));
    }
    Ok(())
}

/// The form body with the client's credentials in it, or the error answer.
fn client_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, Box<Response>> {
    let Some(form) = requests::form_body(headers, body) else {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body must be form-encoded.",
        )));
    };
    if !requests::client_authenticated(&ASANA, headers, &form, ClientAuth::Body) {
        return Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret.",
        )));
    }
    Ok(form)
}

fn user(login: &str) -> serde_json::Value {
    let gid = format!("12{:014}", grants::stable_id(&format!("asana:{login}")));
    json!({
        "gid": gid, "id": gid, "name": grants::display_name(login),
        "email": format!("{login}@asana.test"), "resource_type": "user",
    })
}

async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match client_form(&headers, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let get = |key: &str| form.get(key).map(String::as_str);
    let bad = |error, description| oauth_error(StatusCode::BAD_REQUEST, error, description);
    let (grant, first) = match get("grant_type") {
        Some("authorization_code") => {
            match grants::redeem(
                &sandbox,
                ASANA.client_id,
                get("code"),
                get("redirect_uri"),
                get("code_verifier"),
            ) {
                Ok(code) => {
                    let scope = code.param("scope").unwrap_or("default");
                    (grants::new_grant(ASANA.client_id, &code.login, scope), true)
                }
                Err(Refused::RedirectMismatch) => {
                    return bad("invalid_grant", "The redirect_uri does not match.")
                }
                Err(_) => return bad("invalid_grant", "The code is invalid or expired."),
            }
        }
        Some("refresh_token") => {
            match get("refresh_token")
                .and_then(|t| grants::live(&sandbox, ASANA.client_id, t, true))
            {
                // No new refresh token: the client keeps the old one.
                Some(old) => (old, false),
                None => return bad("invalid_grant", "The refresh token is invalid."),
            }
        }
        _ => return bad("unsupported_grant_type", "Unsupported grant_type."),
    };
    let issued = grants::issue(&sandbox, &grant, "2/", first.then_some("1/"));
    let mut answer = json!({
        "access_token": issued.access, "token_type": "bearer", "expires_in": 3600,
        "data": user(&grant.login),
    });
    if let Some(refresh) = issued.refresh {
        answer["refresh_token"] = refresh.into();
    }
    if first && grant.scope.split(' ').any(|s| s == "openid") {
        answer["id_token"] = format!("sandbox-id-token-{}", grant.login).into();
    }
    Json(answer).into_response()
}

async fn me(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let errors = |status: StatusCode, message: &str| {
        (status, Json(json!({ "errors": [{ "message": message }] }))).into_response()
    };
    let Some(grant) = grants::bearer_grant(&sandbox, ASANA.client_id, &headers) else {
        return errors(StatusCode::UNAUTHORIZED, "Not Authorized");
    };
    if !grant
        .scope
        .split(' ')
        .any(|s| s == "default" || s == "users:read")
    {
        return errors(
            StatusCode::FORBIDDEN,
            "This request requires the users:read scope.",
        );
    }
    let mut data = user(&grant.login);
    data["workspaces"] = json!([{ "gid": "1200000000000001", "name": "Sandbox Workspace", "resource_type": "workspace" }]);
    Json(json!({ "data": data })).into_response()
}

/// Form `client_id`, `client_secret`, `token` (a refresh token): the grant ends.
async fn revoke(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match client_form(&headers, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let refresh = form
        .get("token")
        .and_then(|t| grants::live(&sandbox, ASANA.client_id, t, true).map(|_| t));
    match refresh {
        Some(t) if grants::revoke(&sandbox, ASANA.client_id, t, true) => {
            StatusCode::OK.into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token must be a valid refresh token.",
        ),
    }
}

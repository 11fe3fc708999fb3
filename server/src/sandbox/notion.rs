//! Notion's public-integration OAuth, from docs/providers/notion.md: `owner=user` on authorize; HTTP Basic
//! client auth with a JSON body (a form body fails) at the token and revoke endpoints; an
//! answer with `bot_id`, `workspace_*` and `owner` but no `expires_in` and no scopes; rotating
//! refresh tokens; a `Notion-Version` header required on every call, the token and revoke
//! endpoints included (Notion API reference, "Refresh a token" and "Versioning": the header
//! is listed as required on each endpoint).

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
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

static NOTION: Family = Family {
    title: "Notion",
    client_id: "sandbox-notion",
    services: &["notion"],
};

const VERSIONS: &[&str] = &[
    "2021-05-13",
    "2021-08-16",
    "2022-02-22",
    "2022-06-28",
    "2025-09-03",
    "2026-03-11",
];
const WORKSPACE: &str = "Sandbox Workspace";

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/v1/oauth/authorize", authorize(&NOTION, check))
        .route("/v1/oauth/token", post(token))
        .route("/v1/users/me", get(me))
        .route("/v1/oauth/revoke", post(revoke))
}

fn check(q: &Params) -> Result<(), Refusal> {
    require(
        q,
        "response_type",
        &["code"],
        Refusal::Page("response_type must be code."),
    )?;
    require(q, "owner", &["user"], Refusal::Page("owner must be user."))
}

/// A stable UUID per seed (bot, workspace and user ids).
fn id_for(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    uuid::Builder::from_random_bytes(digest[..16].try_into().unwrap_or_default())
        .into_uuid()
        .to_string()
}

fn owner(login: &str) -> Value {
    json!({ "type": "user", "user": {
        "object": "user", "id": id_for(&format!("user:{login}")),
        "name": grants::display_name(login), "avatar_url": null, "type": "person",
        "person": { "email": format!("{login}@notion.test") },
    }})
}

/// The Basic client and the JSON body, or the error answer.
fn client_json(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, Box<Response>> {
    let bad = |description| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description);
    let Some(json) = requests::json_body(headers, body) else {
        return Err(Box::new(bad(
            "body failed validation: the body must be a JSON object.",
        )));
    };
    let form: Params = Params::new();
    if !requests::client_authenticated(&NOTION, headers, &form, ClientAuth::Basic) {
        return Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client.",
        )));
    }
    Ok(json)
}

async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = version_refused(&headers) {
        return refused;
    }
    let body = match client_json(&headers, &body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let get = |key: &str| body.get(key).and_then(Value::as_str);
    let bad = |error, description| oauth_error(StatusCode::BAD_REQUEST, error, description);
    let grant = match get("grant_type") {
        Some("authorization_code") => {
            match grants::redeem(
                &sandbox,
                NOTION.client_id,
                get("code"),
                get("redirect_uri"),
                get("code_verifier"),
            ) {
                Ok(code) => grants::new_grant(NOTION.client_id, &code.login, ""),
                Err(Refused::RedirectMismatch) => {
                    return bad("invalid_grant", "Invalid redirect_uri.")
                }
                Err(_) => return bad("invalid_grant", "Invalid code."),
            }
        }
        Some("refresh_token") => {
            let old = get("refresh_token")
                .and_then(|t| grants::live(&sandbox, NOTION.client_id, t, true));
            let Some(old) = old else {
                return bad("invalid_grant", "Invalid refresh token.");
            };
            // Rotating: the old refresh token is spent.
            grants::revoke(
                &sandbox,
                NOTION.client_id,
                get("refresh_token").unwrap_or_default(),
                false,
            );
            old
        }
        _ => return bad("unsupported_grant_type", "Unsupported grant_type."),
    };
    let issued = grants::issue(&sandbox, &grant, "ntn_", Some("nrt_"));
    Json(json!({
        "access_token": issued.access, "token_type": "bearer",
        "refresh_token": issued.refresh,
        "bot_id": id_for(&grant.grant_id),
        "workspace_id": id_for(WORKSPACE), "workspace_name": WORKSPACE, "workspace_icon": null,
        "owner": owner(&grant.login), "duplicated_template_id": null,
        "request_id": id_for(&issued.access),
    }))
    .into_response()
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        json!({ "object": "error", "status": status.as_u16(), "code": code, "message": message });
    (status, Json(body)).into_response()
}

/// Notion's answer to a call without a valid `Notion-Version` header.
fn version_refused(headers: &HeaderMap) -> Option<Response> {
    match headers.get("notion-version").and_then(|v| v.to_str().ok()) {
        None => Some(api_error(StatusCode::BAD_REQUEST, "missing_version", "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.")),
        Some(v) if !VERSIONS.contains(&v) => Some(api_error(StatusCode::BAD_REQUEST, "validation_error", "Notion-Version header failed validation.")),
        Some(_) => None,
    }
}

async fn me(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    if let Some(refused) = version_refused(&headers) {
        return refused;
    }
    let Some(grant) = grants::bearer_grant(&sandbox, NOTION.client_id, &headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "API token is invalid.",
        );
    };
    Json(json!({
        "object": "user", "id": id_for(&grant.grant_id), "name": "ATOM Connect",
        "avatar_url": null, "type": "bot",
        "bot": { "owner": owner(&grant.login), "workspace_name": WORKSPACE },
    }))
    .into_response()
}

/// Basic client auth with JSON `{"token": …}`: the whole grant ends.
async fn revoke(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = version_refused(&headers) {
        return refused;
    }
    let body = match client_json(&headers, &body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    match body.get("token").and_then(Value::as_str) {
        Some(t) if grants::revoke(&sandbox, NOTION.client_id, t, true) => {
            Json(json!({})).into_response()
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid token."),
    }
}

//! Dropbox OAuth 2, from docs/providers/dropbox.md: a refresh token only with `token_access_type=offline`
//! (long-lived, not rotated), access tokens of about 4 h, PKCE S256, client auth in the body
//! or Basic; RPC endpoints without arguments take no body and no Content-Type (a JSON
//! Content-Type with an empty body fails with 400, as at Dropbox); revoke with the Bearer token.

use super::consent::{authorize, optional, require, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests::{self, oauth_error, ClientAuth};
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

static DROPBOX: Family = Family {
    title: "Dropbox",
    client_id: "sandbox-dropbox",
    services: &["dropbox"],
};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/oauth2/authorize", authorize(&DROPBOX, check))
        .route("/oauth2/token", post(token))
        .route("/2/users/get_current_account", post(current_account))
        .route("/2/auth/token/revoke", post(revoke))
}

fn check(q: &Params) -> Result<(), Refusal> {
    require(
        q,
        "response_type",
        &["code"],
        Refusal::Page("Invalid response_type."),
    )?;
    optional(
        q,
        "token_access_type",
        &["online", "offline", "legacy"],
        Refusal::Page("Invalid token_access_type."),
    )?;
    let scope_ok = |s: &str| {
        matches!(s, "openid" | "email" | "profile")
            || s.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && s.bytes()
                        .all(|c| c.is_ascii_lowercase() || c == b'.' || c == b'_')
            })
    };
    if q.get("scope").is_some_and(|s| !s.split(' ').all(scope_ok)) {
        return Err(Refusal::Page("Invalid scope."));
    }
    Ok(())
}

async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let bad = |error, description| oauth_error(StatusCode::BAD_REQUEST, error, description);
    let Some(form) = requests::form_body(&headers, &body) else {
        return bad(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded.",
        );
    };
    if !requests::client_authenticated(&DROPBOX, &headers, &form, ClientAuth::Either) {
        return bad("invalid_client", "Invalid client_id or client_secret");
    }
    let get = |key: &str| form.get(key).map(String::as_str);
    let (grant, offline) = match get("grant_type") {
        Some("authorization_code") => {
            match grants::redeem(
                &sandbox,
                DROPBOX.client_id,
                get("code"),
                get("redirect_uri"),
                get("code_verifier"),
            ) {
                Ok(code) => (
                    grants::new_grant(
                        DROPBOX.client_id,
                        &code.login,
                        code.param("scope").unwrap_or_default(),
                    ),
                    code.param("token_access_type") == Some("offline"),
                ),
                Err(Refused::RedirectMismatch) => {
                    return bad("invalid_grant", "redirect_uri mismatch")
                }
                Err(_) => return bad("invalid_grant", "code doesn't exist or has expired"),
            }
        }
        Some("refresh_token") => {
            match get("refresh_token")
                .and_then(|t| grants::live(&sandbox, DROPBOX.client_id, t, true))
            {
                // Not rotated: a new access token only.
                Some(old) => (old, false),
                None => return bad("invalid_grant", "refresh token is invalid or revoked"),
            }
        }
        _ => return bad("unsupported_grant_type", "grant_type is not supported"),
    };
    let issued = grants::issue(&sandbox, &grant, "sl.", offline.then_some("sbx-refresh-"));
    let mut answer = json!({
        "access_token": issued.access, "token_type": "bearer", "expires_in": 14400,
        "scope": grant.scope, "uid": grants::stable_id(&grant.login).to_string(),
        "account_id": account_id(&grant.login),
    });
    if let Some(refresh) = issued.refresh {
        answer["refresh_token"] = refresh.into();
    }
    Json(answer).into_response()
}

fn account_id(login: &str) -> String {
    format!(
        "dbid:AA{:030}",
        grants::stable_id(&format!("dropbox:{login}"))
    )
}

/// An RPC endpoint without arguments: no body and no Content-Type, or JSON `null`.
fn no_arguments(function: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), Box<Response>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let message = match content_type {
        None if body.is_empty() => return Ok(()),
        Some("application/json") if body == b"null" => return Ok(()),
        Some("application/json") => "request body: could not decode input as JSON".to_string(),
        other => format!(
            "Bad HTTP \"Content-Type\" header: \"{}\".  Expecting one of \"application/json\", \
             \"application/octet-stream\", \"text/plain; charset=dropbox-cors-hack\".",
            other.unwrap_or_default()
        ),
    };
    let text = format!("Error in call to API function \"{function}\": {message}");
    Err(Box::new(
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response(),
    ))
}

fn auth_error(tag: &str) -> Response {
    let body = json!({ "error_summary": format!("{tag}/.."), "error": { ".tag": tag } });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn current_account(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = no_arguments("users/get_current_account", &headers, &body) {
        return *response;
    }
    let Some(grant) = grants::bearer_grant(&sandbox, DROPBOX.client_id, &headers) else {
        return auth_error(refused_token(&sandbox, &headers));
    };
    if !grant.scope.split(' ').any(|s| s == "account_info.read") {
        return auth_error("missing_scope");
    }
    let name = grants::display_name(&grant.login);
    let first = name.split(' ').next().unwrap_or_default().to_string();
    Json(json!({
        "account_id": account_id(&grant.login),
        "name": {
            "given_name": first, "surname": name.split_once(' ').map(|(_, s)| s).unwrap_or_default(),
            "familiar_name": first, "display_name": name,
            "abbreviated_name": name.split(' ').filter_map(|w| w.chars().next()).collect::<String>(),
        },
        "email": format!("{}@dropbox.test", grant.login), "email_verified": true,
        "disabled": false, "country": "US", "locale": "en", "account_type": { ".tag": "basic" },
    }))
    .into_response()
}

/// Disables the calling token, its refresh token and the grant's other access tokens.
async fn revoke(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = no_arguments("auth/token/revoke", &headers, &body) {
        return *response;
    }
    match grants::bearer(&headers) {
        Some(token) if grants::is_expired(&sandbox, token) => auth_error("expired_access_token"),
        Some(token) if grants::revoke(&sandbox, DROPBOX.client_id, token, true) => {
            ([(header::CONTENT_TYPE, "application/json")], "null").into_response()
        }
        _ => auth_error("invalid_access_token"),
    }
}

/// Dropbox's AuthError tag for a refused bearer token: `expired_access_token` once its four
/// hours have passed, `invalid_access_token` otherwise (Dropbox HTTP API, "Errors", AuthError:
/// https://www.dropbox.com/developers/documentation/http/documentation#error-handling).
fn refused_token(sandbox: &Sandbox, headers: &HeaderMap) -> &'static str {
    match grants::bearer(headers) {
        Some(token) if grants::is_expired(sandbox, token) => "expired_access_token",
        _ => "invalid_access_token",
    }
}

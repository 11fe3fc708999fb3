//! Google's OAuth 2.0 + OpenID server (Gmail and Drive), from docs/providers/gmail.md and
//! gdrive.md: a refresh token
//! only with `access_type=offline` (for a returning user only with `prompt=consent` too),
//! `scope` answered in long form, client auth in the body or Basic, refresh tokens not
//! rotated, userinfo with `sub`/`name`/`email`, `POST /revoke` with `token` ending the grant.

use super::consent::{authorize, optional, require, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests::{self, oauth_error, ClientAuth};
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::json;

static GOOGLE: Family = Family {
    title: "Google",
    client_id: "sandbox-google",
    services: &["gmail", "gdrive"],
};

const AUTH: &str = "https://www.googleapis.com/auth/";

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/o/oauth2/v2/auth", authorize(&GOOGLE, check))
        .route("/token", post(token))
        .route("/v1/userinfo", get(userinfo))
        .route("/revoke", post(revoke))
        .route("/gmail/v1/users/{user_id}/profile", get(gmail_profile))
        .route("/drive/v3/about", get(drive_about))
}

/// Google APIs refuse a missing or dead token with 401 and their JSON error envelope.
fn unauthenticated() -> Response {
    let body = json!({ "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials.",
        "status": "UNAUTHENTICATED",
    }});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

fn google_error(status: StatusCode, message: &str, reason: &str) -> Response {
    let body = json!({ "error": {
        "code": status.as_u16(), "message": message, "status": reason,
    }});
    (status, Json(body)).into_response()
}

/// Gmail API `users.getProfile` (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users/getProfile):
/// `userId` is the user's address or `me`; one of the Gmail scopes (mail.google.com,
/// gmail.modify, gmail.compose, gmail.readonly, gmail.metadata) is required.
async fn gmail_profile(
    State(sandbox): State<Sandbox>,
    axum::extract::Path(user_id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(grant) = grants::bearer_grant(&sandbox, GOOGLE.client_id, &headers) else {
        return unauthenticated();
    };
    let gmail = [
        "gmail.modify",
        "gmail.compose",
        "gmail.readonly",
        "gmail.metadata",
    ];
    let allowed = grant.scope.split(' ').any(|s| {
        s == "https://mail.google.com/" || gmail.iter().any(|g| s == format!("{AUTH}{g}"))
    });
    if !allowed {
        return google_error(
            StatusCode::FORBIDDEN,
            "Request had insufficient authentication scopes.",
            "PERMISSION_DENIED",
        );
    }
    let address = email(&grant.login);
    if user_id != "me" && user_id != address {
        return google_error(
            StatusCode::FORBIDDEN,
            "Delegation denied",
            "PERMISSION_DENIED",
        );
    }
    Json(json!({
        "emailAddress": address,
        "messagesTotal": 42,
        "threadsTotal": 17,
        "historyId": "4711",
    }))
    .into_response()
}

/// Drive API `about.get`: `fields` is required for every method of `about` (Drive API,
/// "Return specific fields": "For all methods of the about ... resources you must set the
/// fields parameter"; https://developers.google.com/workspace/drive/api/guides/fields-parameter).
async fn drive_about(
    State(sandbox): State<Sandbox>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let Some(grant) = grants::bearer_grant(&sandbox, GOOGLE.client_id, &headers) else {
        return unauthenticated();
    };
    let Some(fields) = query.get("fields").filter(|f| !f.is_empty()) else {
        return google_error(
            StatusCode::BAD_REQUEST,
            "The 'fields' parameter is required for this method.",
            "INVALID_ARGUMENT",
        );
    };
    let user = json!({
        "kind": "drive#user",
        "displayName": grants::display_name(&grant.login),
        "emailAddress": email(&grant.login),
        "me": true,
        "permissionId": subject(&grant.login),
    });
    if fields == "*" || fields.split(',').any(|f| f.trim().starts_with("user")) {
        return Json(json!({ "user": user })).into_response();
    }
    google_error(
        StatusCode::BAD_REQUEST,
        &format!("Invalid field selection {fields}"),
        "INVALID_ARGUMENT",
    )
}

fn check(q: &Params) -> Result<(), Refusal> {
    require(
        q,
        "response_type",
        &["code"],
        Refusal::Page("Required parameter is missing: response_type"),
    )?;
    let scope = q.get("scope").map(String::as_str).unwrap_or_default();
    if scope.trim().is_empty() {
        return Err(Refusal::Page("Missing required parameter: scope"));
    }
    if scope.split(' ').any(|s| long_form(s).is_none()) {
        return Err(Refusal::Page("Error 400: invalid_scope"));
    }
    optional(
        q,
        "access_type",
        &["online", "offline"],
        Refusal::Page("Invalid access_type"),
    )?;
    optional(
        q,
        "include_granted_scopes",
        &["true", "false"],
        Refusal::Page("Invalid include_granted_scopes"),
    )?;
    let prompts = q.get("prompt").map(String::as_str).unwrap_or("consent");
    if !prompts
        .split(' ')
        .all(|p| matches!(p, "none" | "consent" | "select_account"))
    {
        return Err(Refusal::Page("Invalid prompt"));
    }
    Ok(())
}

/// Google answers every scope in its long form; unknown scopes are refused.
fn long_form(scope: &str) -> Option<String> {
    match scope {
        "openid" => Some(scope.into()),
        "email" | "profile" => Some(format!("{AUTH}userinfo.{scope}")),
        s if s.starts_with(AUTH) && s.len() > AUTH.len() => Some(s.into()),
        _ => None,
    }
}

async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let bad =
        |error: &str, description: &str| oauth_error(StatusCode::BAD_REQUEST, error, description);
    let Some(form) = requests::form_body(&headers, &body) else {
        return bad("invalid_request", "Invalid request body.");
    };
    if !requests::client_authenticated(&GOOGLE, &headers, &form, ClientAuth::Either) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    let get = |key: &str| form.get(key).map(String::as_str);
    match get("grant_type") {
        Some("authorization_code") => {}
        Some("refresh_token") => {
            let Some(grant) = get("refresh_token")
                .and_then(|t| grants::live(&sandbox, GOOGLE.client_id, t, true))
            else {
                return bad("invalid_grant", "Token has been expired or revoked.");
            };
            // Refresh tokens are not rotated: only a new access token.
            let issued = grants::issue(&sandbox, &grant, "ya29.", None);
            return Json(json!({
                "access_token": issued.access, "expires_in": 3599,
                "scope": grant.scope, "token_type": "Bearer",
            }))
            .into_response();
        }
        _ => return bad("unsupported_grant_type", "Invalid grant_type."),
    }
    let code = match grants::redeem(
        &sandbox,
        GOOGLE.client_id,
        get("code"),
        get("redirect_uri"),
        get("code_verifier"),
    ) {
        Ok(code) => code,
        Err(Refused::RedirectMismatch) => return bad("redirect_uri_mismatch", "Bad Request"),
        Err(Refused::BadVerifier) => return bad("invalid_grant", "Missing code verifier."),
        Err(Refused::BadCode) => return bad("invalid_grant", "Bad Request"),
    };
    let scope = code
        .param("scope")
        .unwrap_or_default()
        .split(' ')
        .filter_map(long_form)
        .collect::<Vec<_>>()
        .join(" ");
    let offline = code.param("access_type") == Some("offline")
        && (code.first_consent || code.param("prompt").is_some_and(|p| p.contains("consent")));
    let grant = grants::new_grant(GOOGLE.client_id, &code.login, &scope);
    let issued = grants::issue(&sandbox, &grant, "ya29.", offline.then_some("1//"));
    let mut answer = json!({
        "access_token": issued.access, "expires_in": 3599,
        "scope": scope, "token_type": "Bearer",
    });
    if let Some(refresh) = issued.refresh {
        answer["refresh_token"] = refresh.into();
    }
    if scope.split(' ').any(|s| s == "openid") {
        answer["id_token"] = id_token(&code.login).into();
    }
    Json(answer).into_response()
}

fn subject(login: &str) -> String {
    format!("1{:020}", grants::stable_id(&format!("google:{login}")))
}

/// An unsigned stand-in for Google's ID token (the hub reads identity from userinfo).
fn id_token(login: &str) -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = chrono::Utc::now().timestamp();
    format!(
        "{}.{}.c2FuZGJveA",
        b64(json!({"alg": "RS256", "kid": "sandbox", "typ": "JWT"})),
        b64(json!({
            "iss": "https://accounts.google.com", "aud": GOOGLE.client_id,
            "sub": subject(login), "email": email(login), "iat": now, "exp": now + 3600,
        }))
    )
}

fn email(login: &str) -> String {
    format!("{login}@gmail.test")
}

async fn userinfo(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let Some(grant) = grants::bearer_grant(&sandbox, GOOGLE.client_id, &headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Invalid Credentials",
        );
    };
    let has = |s: &str| grant.scope.split(' ').any(|g| g == s);
    let mut answer = json!({ "sub": subject(&grant.login) });
    if has(&format!("{AUTH}userinfo.profile")) {
        answer["name"] = grants::display_name(&grant.login).into();
    }
    if has(&format!("{AUTH}userinfo.email")) {
        answer["email"] = email(&grant.login).into();
        answer["email_verified"] = true.into();
    }
    Json(answer).into_response()
}

/// `POST /revoke` with `token` in the query or the form body; the whole grant ends.
async fn revoke(
    State(sandbox): State<Sandbox>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = if body.is_empty() {
        Some(Params::new())
    } else {
        requests::form_body(&headers, &body)
    };
    let token = form
        .as_ref()
        .and_then(|f| f.get("token"))
        .or(query.get("token"));
    // Google ends every scope the user granted to this client, whichever service asked for
    // it: revoking Gmail's token also kills Drive's when both use one client (Google Identity,
    // "Using OAuth 2.0 for Web Server Applications", Revoking a token: "all of the scopes
    // granted to the client"; https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke).
    match token {
        Some(t) if grants::revoke(&sandbox, GOOGLE.client_id, t, true) => {
            grants::revoke_client_for_user(&sandbox, GOOGLE.client_id, t);
            Json(json!({})).into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        ),
    }
}

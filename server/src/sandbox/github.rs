//! GitHub's OAuth app flow, emulated strictly from docs/providers/github.md: PKCE S256 only, client
//! credentials required, codes single use and bound to redirect_uri and challenge, errors
//! with HTTP 200, form-encoded answers unless JSON is asked for, User-Agent required.

use super::consent::{authorize, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests;
use super::Sandbox;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

static GITHUB: Family = Family {
    title: "GitHub",
    client_id: "sandbox-github",
    services: &["github"],
};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/login/oauth/authorize", authorize(&GITHUB, check))
        .route("/login/oauth/access_token", post(access_token))
        .route("/user", get(user))
        .route("/applications/{client_id}/grant", delete(revoke_grant))
}

/// GitHub needs nothing beyond the shared checks (response_type is not required).
fn check(_: &Params) -> Result<(), Refusal> {
    Ok(())
}

#[derive(Deserialize)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

/// GitHub answers token errors with HTTP 200, in JSON only when asked.
fn token_answer(headers: &HeaderMap, pairs: &[(&str, &str)]) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        Json(map).into_response()
    } else {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        (
            [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
            body,
        )
            .into_response()
    }
}

fn token_error(headers: &HeaderMap, error: &str, description: &str) -> Response {
    token_answer(
        headers,
        &[("error", error), ("error_description", description)],
    )
}

async fn access_token(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Form(req): Form<TokenRequest>,
) -> Response {
    if !requests::client_ok(
        &GITHUB,
        req.client_id.as_deref(),
        req.client_secret.as_deref(),
    ) {
        return token_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let grant = match grants::redeem(
        &sandbox,
        GITHUB.client_id,
        req.code.as_deref(),
        req.redirect_uri.as_deref(),
        req.code_verifier.as_deref(),
    ) {
        Ok(grant) => grant,
        Err(Refused::RedirectMismatch) => {
            return token_error(
                &headers,
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            )
        }
        Err(Refused::BadCode | Refused::BadVerifier) => {
            return token_error(
                &headers,
                "bad_verification_code",
                "The code passed is incorrect or expired.",
            )
        }
    };
    // GitHub reports granted scopes comma-separated.
    let scope = grant
        .param("scope")
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    let new = grants::new_grant(GITHUB.client_id, &grant.login, &scope);
    let token = grants::issue(&sandbox, &new, "gho_", None).access;
    token_answer(
        &headers,
        &[
            ("access_token", &token),
            ("token_type", "bearer"),
            ("scope", &scope),
        ],
    )
}

async fn user(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    if !headers.contains_key(header::USER_AGENT) {
        return (StatusCode::FORBIDDEN, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.").into_response();
    }
    // GitHub also takes the older `token` scheme.
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        });
    let Some(grant) = token.and_then(|t| grants::live(&sandbox, GITHUB.client_id, t, false)) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Bad credentials"})),
        )
            .into_response();
    };
    let id = grants::stable_id(&grant.login);
    let scopes = grant.scope.replace(',', ", ");
    (
        [("x-oauth-scopes", scopes)],
        Json(serde_json::json!({"login": grant.login, "id": id, "name": null, "type": "User"})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct RevokeBody {
    access_token: String,
}

async fn revoke_grant(
    State(sandbox): State<Sandbox>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RevokeBody>,
) -> Response {
    let (id, secret) = requests::basic_credentials(&headers).unzip();
    if client_id != GITHUB.client_id
        || !requests::client_ok(&GITHUB, id.as_deref(), secret.as_deref())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let Some(login) =
        grants::live(&sandbox, GITHUB.client_id, &body.access_token, false).map(|g| g.login)
    else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"message": "Not Found"})),
        )
            .into_response();
    };
    // Deleting the grant ends every token of this user for this application.
    let mut inner = sandbox.lock();
    for grant in inner
        .tokens
        .values_mut()
        .filter(|g| g.login == login && g.client_id == GITHUB.client_id)
    {
        grant.revoked = true;
    }
    StatusCode::NO_CONTENT.into_response()
}

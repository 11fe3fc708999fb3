//! GitHub's OAuth app flow, emulated strictly from docs/providers/github.md: PKCE S256 only, client
//! credentials required, codes single use and bound to redirect_uri and challenge, errors
//! with HTTP 200, form-encoded answers unless JSON is asked for, User-Agent required.
//!
//! Under `/github-app`, the same endpoints as a GitHub App with expiring user tokens answers
//! them (GitHub Docs, "Refreshing user access tokens",
//! https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens):
//! `ghu_` access tokens with `expires_in` 28800 (8 hours), `ghr_` refresh tokens with
//! `refresh_token_expires_in` 15897600 (about 6 months), each refresh spending the old
//! refresh token, and a dead one answered with HTTP 200 `bad_refresh_token`.

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

/// A GitHub App (its user tokens expire), beside the OAuth app above.
static GITHUB_APP: Family = Family {
    title: "GitHub",
    client_id: "sandbox-github-app",
    services: &["github"],
};

/// A GitHub App user token's lifetime and its refresh token's, in seconds.
const APP_TOKEN_SECONDS: &str = "28800";
const APP_REFRESH_SECONDS: &str = "15897600";

pub fn router() -> Router<Sandbox> {
    routes(&GITHUB)
}

/// The GitHub App's endpoints (served under `/github-app`).
pub fn app_router() -> Router<Sandbox> {
    routes(&GITHUB_APP)
}

fn routes(family: &'static Family) -> Router<Sandbox> {
    Router::new()
        .route("/login/oauth/authorize", authorize(family, check))
        .route(
            "/login/oauth/access_token",
            post(move |state, headers, form| access_token(family, state, headers, form)),
        )
        .route(
            "/user",
            get(move |state, headers| user(family, state, headers)),
        )
        .route(
            "/applications/{client_id}/grant",
            delete(move |state, path, headers, body| {
                revoke_grant(family, state, path, headers, body)
            }),
        )
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
    grant_type: Option<String>,
    refresh_token: Option<String>,
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
    family: &'static Family,
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Form(req): Form<TokenRequest>,
) -> Response {
    if !requests::client_ok(
        family,
        req.client_id.as_deref(),
        req.client_secret.as_deref(),
    ) {
        return token_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let is_app = family.client_id == GITHUB_APP.client_id;
    if req.grant_type.as_deref() == Some("refresh_token") {
        if !is_app {
            // An OAuth app's tokens do not expire and come without refresh tokens.
            return token_error(
                &headers,
                "unsupported_grant_type",
                "Refresh tokens are not enabled.",
            );
        }
        return refresh(&sandbox, &headers, req.refresh_token.as_deref());
    }
    let grant = match grants::redeem(
        &sandbox,
        family.client_id,
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
    let new = grants::new_grant(family.client_id, &grant.login, &scope);
    if is_app {
        // A GitHub App's permissions come from the app, not from scopes: `scope` is empty.
        let new = grants::new_grant(family.client_id, &grant.login, "");
        return app_tokens(&sandbox, &headers, &new);
    }
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

/// A GitHub App's answer: an 8-hour user token and a 6-month refresh token.
fn app_tokens(sandbox: &Sandbox, headers: &HeaderMap, grant: &grants::TokenGrant) -> Response {
    let issued = grants::issue(sandbox, grant, "ghu_", Some("ghr_"));
    let refresh = issued.refresh.unwrap_or_default();
    token_answer(
        headers,
        &[
            ("access_token", &issued.access),
            ("expires_in", APP_TOKEN_SECONDS),
            ("refresh_token", &refresh),
            ("refresh_token_expires_in", APP_REFRESH_SECONDS),
            ("scope", ""),
            ("token_type", "bearer"),
        ],
    )
}

/// `grant_type=refresh_token`: a new pair, and the old refresh token is spent; an unknown,
/// spent or revoked one answers HTTP 200 `bad_refresh_token`.
fn refresh(sandbox: &Sandbox, headers: &HeaderMap, token: Option<&str>) -> Response {
    let Some(grant) = token.and_then(|t| grants::live(sandbox, GITHUB_APP.client_id, t, true))
    else {
        return token_error(
            headers,
            "bad_refresh_token",
            "The refresh token passed is incorrect or expired.",
        );
    };
    grants::revoke(
        sandbox,
        GITHUB_APP.client_id,
        token.unwrap_or_default(),
        false,
    );
    app_tokens(sandbox, headers, &grant)
}

async fn user(
    family: &'static Family,
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
) -> Response {
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
    let Some(grant) = token.and_then(|t| grants::live(&sandbox, family.client_id, t, false)) else {
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
    family: &'static Family,
    State(sandbox): State<Sandbox>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RevokeBody>,
) -> Response {
    let (id, secret) = requests::basic_credentials(&headers).unzip();
    if client_id != family.client_id
        || !requests::client_ok(family, id.as_deref(), secret.as_deref())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let Some(login) =
        grants::live(&sandbox, family.client_id, &body.access_token, false).map(|g| g.login)
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
        .filter(|g| g.login == login && g.client_id == family.client_id)
    {
        grant.revoked = true;
    }
    StatusCode::NO_CONTENT.into_response()
}

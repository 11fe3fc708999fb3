//! Trello's OAuth 2.0 (3LO), beside its OAuth 1.0a, as Trello documents it (Trello Developers,
//! "Getting Started with OAuth 2.0" and "Using OAuth 2.0 with a Confidential Client",
//! https://developer.atlassian.com/cloud/trello/guides/rest-api/oauth-2-getting-started/,
//! checked 2026-11-29): Atlassian's authorization server (`/authorize`, `/oauth/token`),
//! PKCE S256 required, `prompt=consent`, scopes `<action>:<resource>:trello` plus
//! `offline_access` for a refresh token, a JSON token request with the client's credentials
//! in it, access tokens of an hour, refresh tokens rotated on use (a spent one answers 403
//! `invalid_grant`), and the REST API with `Authorization: Bearer` (`/1/members/me`, served by
//! the 1.0a module, which tells the two apart). Atlassian offers no revocation endpoint.

use super::consent::{authorize, require, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests::{self, oauth_error};
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

static TRELLO: Family = Family {
    title: "Trello",
    client_id: "sandbox-trello",
    services: &["trello"],
};

/// The scope every OAuth 2.0 token needs to read its member (`/1/members/me`).
pub const READ_MEMBER: &str = "read:member:trello";

/// Adds Atlassian's two endpoints to the Trello family's router.
pub fn routes(router: Router<Sandbox>) -> Router<Sandbox> {
    router
        .route("/authorize", authorize(&TRELLO, check))
        .route("/oauth/token", post(token))
}

fn scope_ok(scope: &str) -> bool {
    scope == "offline_access"
        || scope.strip_suffix(":trello").is_some_and(|rest| {
            rest.split_once(':').is_some_and(|(action, resource)| {
                matches!(action, "read" | "write" | "delete")
                    && !resource.is_empty()
                    && resource
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'-')
            })
        })
}

fn check(q: &Params) -> Result<(), Refusal> {
    require(
        q,
        "response_type",
        &["code"],
        Refusal::Page("response_type must be code."),
    )?;
    require(
        q,
        "code_challenge_method",
        &["S256"],
        Refusal::Page("Trello requires PKCE with S256."),
    )?;
    require(
        q,
        "prompt",
        &["consent"],
        Refusal::Page("prompt must be consent."),
    )?;
    match q.get("scope") {
        Some(scopes) if !scopes.is_empty() && scopes.split(' ').all(scope_ok) => Ok(()),
        _ => Err(Refusal::Redirect(
            "invalid_scope",
            "Scopes are <action>:<resource>:trello or offline_access, space-separated.",
        )),
    }
}

/// The token request: a JSON object only, with the client's credentials in it.
async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let fields: Option<serde_json::Map<String, Value>> = json_body
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    let Some(fields) = fields else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token request must be a JSON object.",
        );
    };
    let field = |key: &str| fields.get(key).and_then(Value::as_str);
    if !requests::client_ok(&TRELLO, field("client_id"), field("client_secret")) {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    match field("grant_type") {
        Some("authorization_code") => {
            let code = grants::redeem(
                &sandbox,
                TRELLO.client_id,
                field("code"),
                field("redirect_uri"),
                field("code_verifier"),
            );
            match code {
                Ok(code) => {
                    let scope = code.param("scope").unwrap_or_default();
                    let grant = grants::new_grant(TRELLO.client_id, &code.login, scope);
                    answer(&sandbox, &grant)
                }
                Err(Refused::BadCode | Refused::BadVerifier | Refused::RedirectMismatch) => {
                    oauth_error(
                        StatusCode::FORBIDDEN,
                        "invalid_grant",
                        "Invalid authorization code",
                    )
                }
            }
        }
        Some("refresh_token") => {
            let token = field("refresh_token").unwrap_or_default();
            match grants::live(&sandbox, TRELLO.client_id, token, true) {
                Some(grant) => {
                    grants::revoke(&sandbox, TRELLO.client_id, token, false);
                    answer(&sandbox, &grant)
                }
                None => oauth_error(
                    StatusCode::FORBIDDEN,
                    "invalid_grant",
                    "Unknown or invalid refresh token.",
                ),
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token.",
        ),
    }
}

/// An hour's access token, and a refresh token when `offline_access` was granted.
fn answer(sandbox: &Sandbox, grant: &grants::TokenGrant) -> Response {
    let offline = grant.scope.split(' ').any(|s| s == "offline_access");
    let issued = grants::issue(sandbox, grant, "trello2_", offline.then_some("trello2r_"));
    let mut body = json!({
        "access_token": issued.access,
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": grant.scope,
    });
    if let Some(refresh) = issued.refresh {
        body["refresh_token"] = refresh.into();
    }
    Json(body).into_response()
}

/// The OAuth 2.0 grant behind a Bearer token, for the REST API; None when the token is
/// unknown, spent or revoked.
pub fn bearer_grant(sandbox: &Sandbox, headers: &HeaderMap) -> Option<grants::TokenGrant> {
    grants::bearer_grant(sandbox, TRELLO.client_id, headers)
}

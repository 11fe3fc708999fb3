//! GitHub's OAuth app flow, emulated strictly from PROVIDERS.md: PKCE S256 only, client
//! credentials required, codes single use and bound to redirect_uri and challenge, errors
//! with HTTP 200, form-encoded answers unless JSON is asked for, User-Agent required.

use super::page::{escape, layout};
use super::{
    random_token, redirect_allowed, CodeGrant, Sandbox, TokenGrant, SANDBOX_CLIENT_SECRET,
};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "sandbox-github";
const CODE_LIFETIME: Duration = Duration::from_secs(600);

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/login/oauth/authorize", get(consent_page).post(decide))
        .route("/login/oauth/access_token", post(access_token))
        .route("/user", get(user))
        .route("/applications/{client_id}/grant", delete(revoke_grant))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

#[derive(Deserialize)]
struct Decision {
    #[serde(flatten)]
    request: AuthorizeQuery,
    login: String,
    decision: String,
}

/// Problems that must not redirect (the redirect URI itself is not trusted yet).
fn check(q: &AuthorizeQuery) -> Result<(), &'static str> {
    if q.client_id.as_deref() != Some(CLIENT_ID) {
        return Err("Unknown client_id.");
    }
    if !q
        .redirect_uri
        .as_deref()
        .is_some_and(|r| redirect_allowed(r, "github"))
    {
        return Err("The redirect_uri is not registered for this application.");
    }
    if q.state.as_deref().is_none_or(str::is_empty) {
        return Err("This sandbox requires a state parameter.");
    }
    match (
        q.code_challenge.as_deref(),
        q.code_challenge_method.as_deref(),
    ) {
        (None, None) | (Some(_), Some("S256")) => Ok(()),
        _ => Err("code_challenge_method must be S256 with a code_challenge."),
    }
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        layout(
            "Sandbox GitHub: bad request",
            &format!("<p>{}</p>", escape(message)),
        ),
    )
        .into_response()
}

async fn consent_page(Query(q): Query<AuthorizeQuery>) -> Response {
    if let Err(message) = check(&q) {
        return bad_request(message);
    }
    let hidden = |name: &str, value: &Option<String>| match value {
        Some(v) => format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(v)
        ),
        None => String::new(),
    };
    let fields = [
        hidden("client_id", &q.client_id),
        hidden("redirect_uri", &q.redirect_uri),
        hidden("scope", &q.scope),
        hidden("state", &q.state),
        hidden("code_challenge", &q.code_challenge),
        hidden("code_challenge_method", &q.code_challenge_method),
    ]
    .concat();
    let scope = escape(q.scope.as_deref().unwrap_or("(none)"));
    let body = format!(
        "<h1>Sandbox GitHub</h1><p>Authorize <strong>ATOM Connect</strong> to use your \
         sandbox GitHub account. Requested scopes: <code>{scope}</code></p>\
         <form method=\"post\">{fields}\
         <label for=\"login\">Login</label>\
         <input id=\"login\" name=\"login\" value=\"sandbox-user\" required maxlength=\"39\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form>"
    );
    layout("Sandbox GitHub: authorize", &body).into_response()
}

async fn decide(State(sandbox): State<Sandbox>, Form(d): Form<Decision>) -> Response {
    if let Err(message) = check(&d.request) {
        return bad_request(message);
    }
    let q = d.request;
    let (Some(redirect_uri), Some(state)) = (q.redirect_uri, q.state) else {
        return bad_request("Missing redirect_uri or state.");
    };
    let mut target = match url::Url::parse(&redirect_uri) {
        Ok(url) => url,
        Err(_) => return bad_request("Bad redirect_uri."),
    };
    if d.decision != "allow" {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair(
                "error_description",
                "The user has denied your application access.",
            )
            .append_pair("state", &state);
        return Redirect::to(target.as_str()).into_response();
    }
    let login = d.login.trim();
    if login.is_empty()
        || login.len() > 39
        || !login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return bad_request("A login is 1 to 39 letters, digits or hyphens.");
    }
    let code = random_token("");
    sandbox.lock().codes.insert(
        code.clone(),
        CodeGrant {
            client_id: CLIENT_ID.to_string(),
            redirect_uri,
            code_challenge: q.code_challenge,
            login: login.to_string(),
            scope: q.scope.unwrap_or_default(),
            issued: Instant::now(),
        },
    );
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state);
    Redirect::to(target.as_str()).into_response()
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
    if req.client_id.as_deref() != Some(CLIENT_ID)
        || req.client_secret.as_deref() != Some(SANDBOX_CLIENT_SECRET)
    {
        return token_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    // The code is spent whatever happens next: a second attempt always fails.
    let Some(grant) = req
        .code
        .as_deref()
        .and_then(|c| sandbox.lock().codes.remove(c))
    else {
        return token_error(
            &headers,
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    };
    if grant.issued.elapsed() > CODE_LIFETIME || grant.client_id != CLIENT_ID {
        return token_error(
            &headers,
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    }
    if req.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return token_error(
            &headers,
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    if let Some(challenge) = &grant.code_challenge {
        let computed = req.code_verifier.as_deref().map(|v| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
        });
        if computed.as_deref() != Some(challenge.as_str()) {
            return token_error(
                &headers,
                "bad_verification_code",
                "The code passed is incorrect or expired.",
            );
        }
    }
    let token = random_token("gho_");
    // GitHub reports granted scopes comma-separated.
    let scope = grant
        .scope
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    sandbox.lock().tokens.insert(
        token.clone(),
        TokenGrant {
            client_id: grant.client_id,
            login: grant.login,
            scope: scope.clone(),
            revoked: false,
        },
    );
    token_answer(
        &headers,
        &[
            ("access_token", &token),
            ("token_type", "bearer"),
            ("scope", &scope),
        ],
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
}

async fn user(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    if !headers.contains_key(header::USER_AGENT) {
        return (StatusCode::FORBIDDEN, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.").into_response();
    }
    let grant = bearer(&headers).and_then(|t| sandbox.lock().tokens.get(t).cloned());
    let Some(grant) = grant.filter(|g| !g.revoked) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Bad credentials"})),
        )
            .into_response();
    };
    let id = account_id(&grant.login);
    let scopes = grant.scope.replace(',', ", ");
    (
        [("x-oauth-scopes", scopes)],
        Json(serde_json::json!({"login": grant.login, "id": id, "name": null, "type": "User"})),
    )
        .into_response()
}

/// A stable numeric id per login, as GitHub has.
fn account_id(login: &str) -> u32 {
    let d = Sha256::digest(login.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) >> 1
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
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{SANDBOX_CLIENT_SECRET}"))
    );
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str());
    if client_id != CLIENT_ID || !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let mut inner = sandbox.lock();
    let Some(login) = inner
        .tokens
        .get(&body.access_token)
        .map(|g| g.login.clone())
    else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"message": "Not Found"})),
        )
            .into_response();
    };
    // Deleting the grant ends every token of this user for this application.
    for grant in inner
        .tokens
        .values_mut()
        .filter(|g| g.login == login && g.client_id == CLIENT_ID)
    {
        grant.revoked = true;
    }
    StatusCode::NO_CONTENT.into_response()
}

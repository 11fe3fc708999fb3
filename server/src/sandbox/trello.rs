//! Trello's OAuth 1.0a server, emulated strictly: every request HMAC-SHA1 signed (consumer
//! `sandbox-trello`), nonces never reused, timestamps within five minutes, a request token
//! bound to its secret and spent by the first access-token attempt, `oauth_verifier` required,
//! tokens that never expire with `expiration=never`, `members/me`, and `DELETE /1/tokens/{t}`.
//! Cancel sends the browser back with `oauth_token` and `denied` but no verifier (Trello does
//! not document its Deny redirect; OAuth 1.0a servers that send one use such a marker).

use super::consent::redirect_allowed;
use super::page::{escape, layout};
use super::trello_auth::{authorized, refuse, Signed};
use super::trello_page::{authorize_page, decide};
use super::{random_token, Sandbox};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

pub const CONSUMER_KEY: &str = "sandbox-trello";
pub const REQUEST_LIFETIME: Duration = Duration::from_secs(600);

pub struct RequestToken {
    pub secret: String,
    pub callback: String,
    pub issued: Instant,
    pub approval: Option<Approval>,
}

pub struct Approval {
    pub login: String,
    pub verifier: String,
    pub expiration: String,
}

pub(super) struct AccessGrant {
    pub secret: String,
    login: String,
    expires: Option<Instant>,
    revoked: bool,
}

impl AccessGrant {
    pub fn live(&self) -> bool {
        !self.revoked && self.expires.is_none_or(|at| Instant::now() < at)
    }
}

/// Trello's side of the sandbox.
#[derive(Default)]
pub struct Store {
    pub requests: HashMap<String, RequestToken>,
    pub(super) tokens: HashMap<String, AccessGrant>,
    /// (nonce, timestamp, token) already seen within the clock-skew window.
    pub(super) nonces: HashSet<(String, u64, String)>,
}

pub fn router() -> Router<Sandbox> {
    let oauth1 = Router::new()
        .route(
            "/1/OAuthGetRequestToken",
            get(request_token).post(request_token),
        )
        .route("/1/OAuthAuthorizeToken", get(authorize_page).post(decide))
        .route(
            "/1/OAuthGetAccessToken",
            get(access_token).post(access_token),
        )
        .route("/1/members/me", get(member))
        .route("/1/tokens/{token}", delete(revoke));
    super::trello_oauth2::routes(oauth1)
}

impl Sandbox {
    /// Trello access tokens issued so far, with their token secrets (tests grep for both).
    pub fn trello_credentials(&self) -> Vec<(String, String)> {
        let store = self.trello_store();
        let tokens = store.tokens.iter();
        tokens.map(|(t, g)| (t.clone(), g.secret.clone())).collect()
    }

    /// The user revokes this access token in Trello's settings ("Applications": Revoke).
    pub fn revoke_trello_token(&self, token: &str) -> bool {
        let mut store = self.trello_store();
        let Some(grant) = store.tokens.get_mut(token).filter(|g| g.live()) else {
            return false;
        };
        grant.revoked = true;
        true
    }

    /// Whether Trello still honours this access token.
    pub fn trello_token_is_live(&self, token: &str) -> bool {
        self.trello_store()
            .tokens
            .get(token)
            .is_some_and(AccessGrant::live)
    }

    pub(super) fn trello_store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.trello
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn form_answer(pairs: &[(&str, &str)]) -> Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Leg one: temporary credentials for a registered (loopback) callback.
async fn request_token(State(sandbox): State<Sandbox>, signed: Signed) -> Response {
    let params = match signed.protocol() {
        Ok(p) if !p.contains_key("oauth_token") => p,
        Ok(_) => return refuse(StatusCode::BAD_REQUEST, "no token expected").into_response(),
        Err(refused) => return refused.into_response(),
    };
    let params = match signed.verify(&sandbox, params, "") {
        Ok(p) => p,
        Err(refused) => return refused.into_response(),
    };
    let Some(callback) = params
        .get("oauth_callback")
        .filter(|c| redirect_allowed(c, &["trello"]))
    else {
        return refuse(StatusCode::BAD_REQUEST, "invalid return_url").into_response();
    };
    let (token, secret) = (random_token(""), random_token(""));
    sandbox.trello_store().requests.insert(
        token.clone(),
        RequestToken {
            secret: secret.clone(),
            callback: callback.clone(),
            issued: Instant::now(),
            approval: None,
        },
    );
    form_answer(&[
        ("oauth_token", &token),
        ("oauth_token_secret", &secret),
        ("oauth_callback_confirmed", "true"),
    ])
}

/// Leg three: the approved request token (spent by this attempt, whatever its outcome), its
/// secret in the signature and the matching verifier give token credentials.
async fn access_token(State(sandbox): State<Sandbox>, signed: Signed) -> Response {
    let params = match signed.protocol() {
        Ok(p) => p,
        Err(refused) => return refused.into_response(),
    };
    let token = params.get("oauth_token").cloned().unwrap_or_default();
    let Some(request) = sandbox.trello_store().requests.remove(&token) else {
        return refuse(StatusCode::UNAUTHORIZED, "invalid token").into_response();
    };
    let params = match signed.verify(&sandbox, params, &request.secret) {
        Ok(p) => p,
        Err(refused) => return refused.into_response(),
    };
    let Some(approval) = request
        .approval
        .filter(|_| request.issued.elapsed() <= REQUEST_LIFETIME)
    else {
        return refuse(StatusCode::UNAUTHORIZED, "invalid token").into_response();
    };
    if params.get("oauth_verifier") != Some(&approval.verifier) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid verifier").into_response();
    }
    let lifetime = match approval.expiration.as_str() {
        "1hour" => Some(3_600),
        "1day" => Some(86_400),
        "30days" => Some(30 * 86_400),
        _ => None,
    };
    let (access, secret) = (random_token("ATTA"), random_token(""));
    sandbox.trello_store().tokens.insert(
        access.clone(),
        AccessGrant {
            secret: secret.clone(),
            login: approval.login,
            expires: lifetime.map(|s| Instant::now() + Duration::from_secs(s)),
            revoked: false,
        },
    );
    form_answer(&[("oauth_token", &access), ("oauth_token_secret", &secret)])
}

async fn member(State(sandbox): State<Sandbox>, signed: Signed) -> Response {
    let login = if signed.has_bearer() {
        // OAuth 2.0: a Bearer token with the member scope.
        match super::trello_oauth2::bearer_grant(&sandbox, signed.headers()) {
            Some(grant)
                if grant
                    .scope
                    .split(' ')
                    .any(|s| s == super::trello_oauth2::READ_MEMBER) =>
            {
                grant.login
            }
            Some(_) => {
                return (StatusCode::FORBIDDEN, "missing scope read:member:trello").into_response()
            }
            None => return (StatusCode::UNAUTHORIZED, "invalid token").into_response(),
        }
    } else {
        let token = match authorized(&sandbox, &signed) {
            Ok(token) => token,
            Err(refused) => return refused.into_response(),
        };
        let login = sandbox
            .trello_store()
            .tokens
            .get(&token)
            .map(|g| g.login.clone());
        login.unwrap_or_default()
    };
    let id = hex::encode(&Sha256::digest(login.as_bytes())[..12]);
    let full_name = login
        .split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    Json(serde_json::json!({"id": id, "username": login, "fullName": full_name})).into_response()
}

async fn revoke(
    State(sandbox): State<Sandbox>,
    Path(target): Path<String>,
    signed: Signed,
) -> Response {
    let token = match authorized(&sandbox, &signed) {
        Ok(token) => token,
        Err(refused) => return refused.into_response(),
    };
    let mut store = sandbox.trello_store();
    let owner = store.tokens.get(&token).map(|g| g.login.clone());
    match store.tokens.get_mut(&target) {
        Some(grant) if Some(&grant.login) == owner.as_ref() => {
            grant.revoked = true;
            Json(serde_json::json!({"_value": null})).into_response()
        }
        _ => refuse(StatusCode::NOT_FOUND, "token not found").into_response(),
    }
}

/// A 400 page in Trello's words.
pub fn bad_page(message: &str) -> Response {
    let body = format!("<h1>Sandbox Trello</h1><p>{}</p>", escape(message));
    (
        StatusCode::BAD_REQUEST,
        layout("Sandbox Trello: error", &body),
    )
        .into_response()
}

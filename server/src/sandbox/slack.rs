//! Slack OAuth v2, from docs/providers/slack.md: bot scopes in `scope`, user scopes in `user_scope`,
//! comma-separated; no PKCE (the sandbox app is a confidential client); form bodies only;
//! client auth Basic or in the body; errors as HTTP 200 `{"ok": false, "error": …}`; the user
//! token under `authed_user`; tokens that never expire (rotation is off); `auth.test` and
//! `auth.revoke` (the calling token only).

use super::consent::{authorize, optional, Refusal};
use super::grants::{self, Family, Params, Refused};
use super::requests::{self, ClientAuth};
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

static SLACK: Family = Family {
    title: "Slack",
    client_id: "sandbox-slack",
    services: &["slack"],
};

const TEAM_ID: &str = "T0SANDBOX";
const TEAM_NAME: &str = "Sandbox Team";
/// The bot user's login: bot tokens speak for the app, not the person.
const BOT: &str = "atom-connect";

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/oauth/v2/authorize", authorize(&SLACK, check))
        .route("/api/oauth.v2.access", post(access))
        .route("/api/auth.test", post(auth_test))
        .route("/api/auth.revoke", post(auth_revoke))
        .route("/api/chat.postMessage", post(post_message))
}

fn check(q: &Params) -> Result<(), Refusal> {
    if q.contains_key("code_challenge") {
        return Err(Refusal::Page(
            "PKCE is not enabled for this app: enabling it would make it a public client.",
        ));
    }
    optional(
        q,
        "response_type",
        &["code"],
        Refusal::Page("Invalid response_type."),
    )?;
    let lists: Vec<&str> = ["scope", "user_scope"]
        .iter()
        .filter_map(|k| q.get(*k).map(String::as_str))
        .filter(|s| !s.is_empty())
        .collect();
    let scope_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b":._-".contains(&b))
    };
    // Comma-separated only: a space-separated list is one invalid scope.
    if lists.is_empty() || !lists.iter().all(|l| l.split(',').all(scope_ok)) {
        return Err(Refusal::Redirect(
            "invalid_scope",
            "Invalid permissions requested",
        ));
    }
    Ok(())
}

/// Slack answers every Web API error with HTTP 200.
fn failed(error: &str) -> Response {
    Json(json!({ "ok": false, "error": error })).into_response()
}

fn user_id(login: &str) -> String {
    format!("U{:010}", grants::stable_id(&format!("slack:{login}")))
}

async fn access(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(form) = requests::form_body(&headers, &body) else {
        return failed("invalid_form_data");
    };
    if !requests::client_authenticated(&SLACK, &headers, &form, ClientAuth::Either) {
        let id = requests::basic_credentials(&headers)
            .map(|(id, _)| id)
            .or_else(|| form.get("client_id").cloned());
        let known = id.as_deref() == Some(SLACK.client_id);
        return failed(if known {
            "bad_client_secret"
        } else {
            "invalid_client_id"
        });
    }
    let get = |key: &str| form.get(key).map(String::as_str);
    if get("grant_type").is_some_and(|g| g != "authorization_code") {
        // Refresh needs token rotation, which this app has not opted into.
        return failed("invalid_grant_type");
    }
    if get("code_verifier").is_some() {
        return failed("invalid_code_verifier");
    }
    let code = match grants::redeem(
        &sandbox,
        SLACK.client_id,
        get("code"),
        get("redirect_uri"),
        None,
    ) {
        Ok(code) => code,
        Err(Refused::RedirectMismatch) => return failed("bad_redirect_uri"),
        Err(Refused::BadCode | Refused::BadVerifier) => return failed("invalid_code"),
    };
    let mut answer = json!({
        "ok": true, "app_id": "A0SANDBOX",
        "team": { "id": TEAM_ID, "name": TEAM_NAME },
        "enterprise": null, "is_enterprise_install": false,
    });
    let mut authed_user = json!({ "id": user_id(&code.login) });
    if let Some(scope) = code.param("scope").filter(|s| !s.is_empty()) {
        let grant = grants::new_grant(SLACK.client_id, BOT, scope);
        let bot = grants::issue(&sandbox, &grant, "xoxb-", None).access;
        answer["access_token"] = bot.into();
        answer["token_type"] = "bot".into();
        answer["scope"] = scope.into();
        answer["bot_user_id"] = user_id(BOT).into();
    }
    if let Some(scope) = code.param("user_scope").filter(|s| !s.is_empty()) {
        let grant = grants::new_grant(SLACK.client_id, &code.login, scope);
        let user = grants::issue(&sandbox, &grant, "xoxp-", None).access;
        authed_user["access_token"] = user.into();
        authed_user["token_type"] = "user".into();
        authed_user["scope"] = scope.into();
    }
    answer["authed_user"] = authed_user;
    Json(answer).into_response()
}

/// The calling token: `Authorization: Bearer`, or a `token` form field.
fn calling_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    grants::bearer(headers)
        .map(str::to_string)
        .or_else(|| requests::form_body(headers, body)?.remove("token"))
}

async fn auth_test(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = calling_token(&headers, &body) else {
        return failed("not_authed");
    };
    let Some(grant) = grants::live(&sandbox, SLACK.client_id, &token, false) else {
        // Slack, auth.test: `token_revoked` once the app was removed or the token revoked,
        // `invalid_auth` for a token it does not know; both with HTTP 200.
        if grants::was_revoked(&sandbox, SLACK.client_id, &token) {
            return failed("token_revoked");
        }
        return failed("invalid_auth");
    };
    let mut answer = json!({
        "ok": true, "url": "https://sandbox-team.slack.test/", "team": TEAM_NAME,
        "user": grant.login, "team_id": TEAM_ID, "user_id": user_id(&grant.login),
    });
    if grant.login == BOT {
        answer["bot_id"] = Value::from("B0SANDBOX");
    }
    Json(answer).into_response()
}

/// `chat.postMessage` (https://docs.slack.dev/reference/methods/chat.postMessage): the token
/// as a Bearer header (a JSON body cannot carry it) or a form field, the `chat:write` scope,
/// `channel` and one of `text`, `blocks`, `attachments`; errors with HTTP 200.
async fn post_message(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let token = if json {
        grants::bearer(&headers).map(str::to_string)
    } else {
        calling_token(&headers, &body)
    };
    let Some(token) = token else {
        return failed("not_authed");
    };
    let Some(grant) = grants::live(&sandbox, SLACK.client_id, &token, false) else {
        return failed("invalid_auth");
    };
    if !grant.scope.split(',').any(|s| s == "chat:write") {
        return failed("missing_scope");
    }
    let args: serde_json::Map<String, Value> = if json {
        match serde_json::from_slice(&body) {
            Ok(args) => args,
            Err(_) => return failed("invalid_json"),
        }
    } else {
        requests::form_body(&headers, &body)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect()
    };
    let text = |key: &str| args.get(key).and_then(Value::as_str).unwrap_or_default();
    let channel = text("channel");
    if channel.is_empty() || !(channel == "general" || channel.starts_with('C')) {
        return failed("channel_not_found");
    }
    if ["text", "blocks", "attachments"]
        .iter()
        .all(|k| !args.contains_key(*k))
    {
        return failed("no_text");
    }
    let channel_id = if channel == "general" {
        "C0GENERAL"
    } else {
        channel
    };
    let ts = format!("{}.000100", grants::stable_id(text("text")));
    Json(json!({
        "ok": true, "channel": channel_id, "ts": ts,
        "message": { "type": "message", "user": user_id(&grant.login), "text": text("text"), "ts": ts },
    }))
    .into_response()
}

async fn auth_revoke(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = calling_token(&headers, &body) else {
        return failed("not_authed");
    };
    let testing = requests::form_body(&headers, &body)
        .and_then(|f| f.get("test").cloned())
        .is_some_and(|t| t == "1" || t == "true");
    if grants::live(&sandbox, SLACK.client_id, &token, false).is_none() {
        return failed("invalid_auth");
    }
    let revoked = !testing && grants::revoke(&sandbox, SLACK.client_id, &token, false);
    Json(json!({ "ok": true, "revoked": revoked })).into_response()
}

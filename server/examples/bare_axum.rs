//! Bare axum on 127.0.0.1:<port>, the references scripts/bench-peer.sh measures the hub
//! against in the same run on the same machine:
//! - `GET /`: a bare handler, the ceiling of the status endpoint;
//! - a bare connect flow against the sandbox GitHub (`bare_axum PORT SANDBOX_URL`): the hub's
//!   sign-in, authorize (state and PKCE) and callback (code exchange and `/user`) answered as
//!   `scripts/flow-bench.mjs` expects, with the hub's HTTP client, and nothing else: no
//!   database, no sealing, no audit, no limits, sessions and states in memory. What a connect
//!   flow costs on this machine when the server does next to nothing: the ceiling of flows.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use server::sandbox::SANDBOX_CLIENT_SECRET;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The sandbox's GitHub client (the catalog's development credentials: `sandbox-<family>`).
const CLIENT_ID: &str = "sandbox-github";

#[derive(Clone)]
struct Bare {
    sandbox: String,
    redirect_uri: String,
    http: reqwest::Client,
    sessions: Arc<Mutex<HashSet<String>>>,
    /// State → PKCE verifier, taken once.
    states: Arc<Mutex<HashMap<String, String>>>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(5070);
    let sandbox = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:5069".into());
    let bare = Bare {
        sandbox,
        redirect_uri: format!("http://127.0.0.1:{port}/api/auth/github/callback"),
        http: server::domain::oauth::http_client(),
        sessions: Arc::default(),
        states: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/auth/signin", post(sign_in))
        .route("/api/auth/github/authorize", get(authorize))
        .route("/api/auth/github/callback", get(callback))
        .with_state(bare);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}

fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// Any sign-in succeeds: the bench signs each browser in once.
async fn sign_in(State(bare): State<Bare>) -> Response {
    let session = random();
    bare.sessions.lock().unwrap().insert(session.clone());
    let cookie = format!("bare={session}; Path=/; HttpOnly");
    let mut response = redirect("/connections");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie.parse().unwrap());
    response
}

fn signed_in(bare: &Bare, headers: &HeaderMap) -> bool {
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let session = cookies.and_then(|c| c.split("; ").find_map(|kv| kv.strip_prefix("bare=")));
    session.is_some_and(|s| bare.sessions.lock().unwrap().contains(s))
}

async fn authorize(State(bare): State<Bare>, headers: HeaderMap) -> Response {
    if !signed_in(&bare, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (state, verifier) = (random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    bare.states.lock().unwrap().insert(state.clone(), verifier);
    let mut url = url::Url::parse(&format!("{}/github/login/oauth/authorize", bare.sandbox))
        .expect("the sandbox URL is valid");
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &bare.redirect_uri)
        .append_pair("scope", "read:user")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Json(serde_json::json!({ "authorization_url": url.as_str() })).into_response()
}

async fn callback(
    State(bare): State<Bare>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let verifier = query
        .get("state")
        .and_then(|state| bare.states.lock().unwrap().remove(state));
    let (Some(verifier), Some(code), true) =
        (verifier, query.get("code"), signed_in(&bare, &headers))
    else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let token: serde_json::Value = match bare
        .http
        .post(format!("{}/github/login/oauth/access_token", bare.sandbox))
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
            ("code", code),
            ("redirect_uri", &bare.redirect_uri),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
    {
        Ok(answer) => answer.json().await.unwrap_or_default(),
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let Some(access_token) = token["access_token"].as_str() else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let user = bare
        .http
        .get(format!("{}/github/user", bare.sandbox))
        .bearer_auth(access_token)
        .send()
        .await;
    match user {
        Ok(answer) if answer.status().is_success() => match answer.bytes().await {
            Ok(_) => redirect("/connections?connected=github"),
            Err(_) => StatusCode::BAD_GATEWAY.into_response(),
        },
        _ => StatusCode::BAD_GATEWAY.into_response(),
    }
}

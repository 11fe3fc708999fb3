//! `atom sandbox`: strict local emulations of the providers' servers, for newcomers without
//! client credentials (development mode only) and for the tests. Each provider lives under
//! `/<service>` with the real endpoint's path.

mod github;
mod page;

use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The client secret every sandboxed provider expects. It protects nothing real.
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-secret-not-for-production";

/// The provider families the sandbox emulates (in development they stand in for providers
/// without credentials).
const FAMILIES: &[&str] = &["github"];

pub fn emulates(family: &str) -> bool {
    FAMILIES.contains(&family)
}

/// An authorization code waiting to be exchanged (single use, ten minutes).
#[derive(Clone)]
struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    login: String,
    scope: String,
    issued: Instant,
}

#[derive(Clone)]
struct TokenGrant {
    client_id: String,
    login: String,
    scope: String,
    revoked: bool,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, CodeGrant>,
    tokens: HashMap<String, TokenGrant>,
}

/// The sandbox's in-memory state, shared by its handlers.
#[derive(Clone, Default)]
pub struct Sandbox {
    inner: Arc<Mutex<Inner>>,
}

impl Sandbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/", axum::routing::get(page::index))
            .nest("/github", github::router())
            .with_state(self.clone())
    }

    /// Every access token the sandbox has issued (tests grep storage and pages for them).
    pub fn issued_access_tokens(&self) -> Vec<String> {
        self.lock().tokens.keys().cloned().collect()
    }

    /// Whether the provider still honours this access token.
    pub fn token_is_live(&self, token: &str) -> bool {
        self.lock().tokens.get(token).is_some_and(|t| !t.revoked)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn random_token(prefix: &str) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 36)
    )
}

/// A sandbox client registers only loopback redirect URIs ending in its callback path.
fn redirect_allowed(redirect_uri: &str, service: &str) -> bool {
    let Ok(url) = url::Url::parse(redirect_uri) else {
        return false;
    };
    let loopback = matches!(
        url.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    ) || url.host_str().is_some_and(|h| h.starts_with("127."));
    matches!(url.scheme(), "http" | "https")
        && loopback
        && url.path() == format!("/api/auth/{service}/callback")
        && url.query().is_none()
        && url.fragment().is_none()
}

pub async fn serve(listener: tokio::net::TcpListener, sandbox: Sandbox) -> std::io::Result<()> {
    axum::serve(listener, sandbox.router()).await
}

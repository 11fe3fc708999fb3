//! `atom sandbox`: strict local emulations of the providers' servers, for newcomers without
//! client credentials (development mode only) and for the tests. Each provider lives under
//! `/<service>` with the real endpoint's path.

mod apps;
mod asana;
mod consent;
mod dropbox;
mod faults;
mod github;
mod google;
mod grants;
pub mod hostile;
mod microsoft;
mod notion;
mod oauth1_verify;
mod page;
mod requests;
mod slack;
mod trello;
mod trello_auth;
mod trello_oauth2;
mod trello_page;

pub use faults::Fault;

use axum::Router;
use grants::Inner;
use std::sync::{Arc, Mutex};

/// The client secret every sandboxed provider expects. It protects nothing real.
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-secret-not-for-production";

/// The provider families the sandbox emulates (in development they stand in for providers
/// without credentials).
const FAMILIES: &[&str] = &[
    "github",
    "google",
    "microsoft",
    "slack",
    "notion",
    "dropbox",
    "asana",
    "trello",
];

pub fn emulates(family: &str) -> bool {
    FAMILIES.contains(&family)
}

/// The sandbox's in-memory state, shared by its handlers.
#[derive(Clone, Default)]
pub struct Sandbox {
    inner: Arc<Mutex<Inner>>,
    /// Trello's OAuth 1.0a state (request tokens, token credentials, nonces).
    trello: Arc<Mutex<trello::Store>>,
    faults: faults::Faults,
}

impl Sandbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/", axum::routing::get(page::index))
            .route("/trap", axum::routing::any(faults::trap))
            .route("/apps", axum::routing::get(apps::list))
            .route("/apps/revoke", axum::routing::post(apps::revoke))
            .nest("/github", github::router())
            .nest("/github-app", github::app_router())
            .nest("/google", google::router())
            .nest("/microsoft", microsoft::router())
            .nest("/slack", slack::router())
            .nest("/notion", notion::router())
            .nest("/dropbox", dropbox::router())
            .nest("/asana", asana::router())
            .nest("/hostile", hostile::router())
            .nest("/trello", trello::router())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                faults::apply,
            ))
            .with_state(self.clone())
    }

    /// Every access token the sandbox has issued (tests grep storage and pages for them).
    pub fn issued_access_tokens(&self) -> Vec<String> {
        let inner = self.lock();
        let access = inner.tokens.iter().filter(|(_, t)| !t.refresh);
        access.map(|(token, _)| token.clone()).collect()
    }

    /// Whether the provider still honours this access token.
    pub fn token_is_live(&self, token: &str) -> bool {
        self.lock().tokens.get(token).is_some_and(|t| !t.revoked)
    }

    /// What a user removing the app at the provider does: every token of the grant that
    /// `access_token` belongs to dies, refresh tokens included. False if it is unknown.
    pub fn revoke_grant(&self, access_token: &str) -> bool {
        let client_id = self
            .lock()
            .tokens
            .get(access_token)
            .map(|g| g.client_id.clone());
        client_id.is_some_and(|client| grants::revoke(self, &client, access_token, true))
    }

    /// Every access token issued so far reaches the end of its lifetime (Dropbox's 4 hours, a
    /// GitHub App's 8), as if that time had passed: the provider refuses them, and their
    /// refresh tokens still work.
    pub fn expire_access_tokens(&self) {
        let mut inner = self.lock();
        let access: Vec<String> = inner
            .tokens
            .iter()
            .filter(|(_, g)| !g.refresh)
            .map(|(t, _)| t.clone())
            .collect();
        inner.expired.extend(access);
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

pub async fn serve(listener: tokio::net::TcpListener, sandbox: Sandbox) -> std::io::Result<()> {
    axum::serve(listener, sandbox.router()).await
}

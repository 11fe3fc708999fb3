//! ATOM Connect's server: everything that touches a token, a key, a secret or the database.
//! `build(config)` assembles the application and binds its listener (port 0 in tests).

//!
//! Layers (docs/architecture.md): `base` (storage, vault, clock, catalogue, audit types,
//! configuration) imports nothing above it; `domain` (flows, tokens, connections, users)
//! imports only `base`; the entry points (`http`, `jobs`, `hub`, `events`, `check`, this
//! file and `main.rs`) may import both. The `sandbox` imports nothing of the hub.

#[cfg(test)]
mod architecture;
pub mod base;
pub mod check;
pub mod domain;
pub mod events;
mod http;
pub mod hub;
pub mod import_file;
pub mod jobs;
pub mod sandbox;
pub mod state;

use anyhow::Context;
use base::clock::Clock;
use base::config::{Config, Mode};
use base::{metrics, providers, store, vault};
use domain::{oauth, tokens, users, Ctx};
use leptos::config::LeptosOptions;
use state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use vault::Keyring;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    /// `server.metrics_listen`, when /metrics has a port of its own.
    metrics: Option<TcpListener>,
    /// The background jobs, ended by `state.shutdown`.
    jobs: tokio::task::JoinSet<()>,
}

impl Application {
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The first administrator's one-time setup link, while there is none.
    pub async fn setup_link(&self) -> Result<Option<String>, sea_orm::DbErr> {
        let origin = self.state.config.public_origin();
        users::setup_link(&self.state.db, &origin, self.state.clock.now()).await
    }

    /// The clock every part of this application reads: tests move it instead of sleeping.
    pub fn clock(&self) -> Clock {
        self.state.clock.clone()
    }

    /// The rows this instance keeps in memory for a moment (`base::hot`): a test that moves a
    /// connection's expiry in the database, as if time had passed, drops them as the time
    /// would have.
    pub fn hot(&self) -> Arc<base::hot::HotRows> {
        self.state.hot.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains (`/readyz` 503 and `Connection: close` for
    /// `server.drain_seconds`), then stops accepting, ends live-update streams, lets
    /// in-flight requests finish (at most `server.shutdown_timeout_seconds`) and gives back
    /// this instance's refresh leases.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// `run`, with the shutdown trigger given (tests).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Some(listener) = self.metrics {
            let metrics = http::metrics::router(self.state.clone());
            tokio::spawn(async move { axum::serve(listener, metrics).await });
        }
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let stopping = Arc::new(tokio::sync::Notify::new());
        let events = self.state.events.clone();
        let jobs_stop = self.state.shutdown.clone();
        let trigger = stopping.clone();
        let draining = self.state.draining.clone();
        let drain = self.state.config.drain();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(async move {
            signal.await;
            // Proxies see /readyz fail and connections close; requests still get answers.
            draining.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!(seconds = drain.as_secs(), "draining: /readyz answers 503");
            tokio::time::sleep(drain).await;
            tracing::info!("shutting down: finishing in-flight requests and jobs");
            events.close();
            jobs_stop.cancel();
            trigger.notify_one();
        });
        let mut jobs = self.jobs;
        let limits = self.state.limits.clone();
        let served_and_jobs_ended = async move {
            let served = server.await;
            while jobs.join_next().await.is_some() {}
            // What the last requests took goes to the shared rate-limit counts (PostgreSQL).
            limits.flush().await;
            served
        };
        let grace = Duration::from_secs(self.state.config.server.shutdown_timeout_seconds);
        let deadline = async {
            stopping.notified().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = served_and_jobs_ended => served?,
            () = deadline => tracing::warn!(
                seconds = grace.as_secs(),
                "in-flight requests did not finish in time: exiting anyway"
            ),
        }
        let owner = &self.state.refresh_locks.owner;
        match store::leases::release_all(&self.state.db, owner).await {
            Ok(released) => tracing::info!(released, "refresh leases given back; stopped"),
            Err(e) => tracing::warn!(error = %e, "giving back refresh leases failed"),
        }
        Ok(())
    }
}

/// Binds the configured address, then builds the application on it.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    build_on(config, listener).await
}

/// Loads the key, opens and migrates the database and resolves providers, serving on
/// `listener` (tests bind port 0 first so the public URL can name the port).
pub async fn build_on(config: Config, listener: TcpListener) -> anyhow::Result<Application> {
    metrics::install();
    if config.mode == Mode::Production {
        let insecure = config.insecure_urls();
        if !insecure.is_empty() {
            anyhow::bail!("production mode: {}", insecure.join("; "));
        }
    }
    let vault = load_vault(&config)?;
    // A wrong key is refused before anything is written, migrations included.
    store::vault_check::refuse_a_wrong_key(&config.database.url, &vault).await?;
    let db = store::open(&config.database.url)
        .await
        .context("opening the database")?;
    store::vault_check::verify(&db, &vault).await?;
    let catalog = providers::Catalog::from_config(&config)?;
    if config.mode == Mode::Development && config.sandbox.embedded && catalog.uses_sandbox() {
        spawn_sandbox(config.sandbox.listen).await?;
    }
    let events = events::Events::new();
    events
        .spawn_poller(
            db.clone(),
            &config.database.url,
            Duration::from_millis(config.jobs.events_poll_milliseconds),
        )
        .await;
    // Several instances run on PostgreSQL only: there the limits are counted in the database.
    let shared =
        (db.get_database_backend() == sea_orm::DatabaseBackend::Postgres).then(|| db.clone());
    let clock = Clock::system();
    let limits = Arc::new(http::limits::Limits::new(
        &config.limits,
        shared,
        clock.clone(),
    ));
    let ctx = Ctx {
        audit: store::audit::Writer::new(db.clone()),
        db,
        vault: Arc::new(vault),
        catalog: Arc::new(catalog),
        http: oauth::http_client(),
        clock,
        public_url: config.server.public_url.clone(),
        refresh_locks: Arc::new(tokens::RefreshLocks::new()),
        probes: Arc::new(domain::health::Probes::default()),
        hot: Arc::default(),
    };
    let proxy = Arc::new(domain::proxy::Proxy::new(&config.proxy));
    let state = AppState::new(state::Inner {
        ctx,
        leptos: leptos_options(&config, listener.local_addr()?),
        config: Arc::new(config),
        events,
        limits,
        proxy,
        shutdown: tokio_util::sync::CancellationToken::new(),
        draining: Arc::default(),
    });
    let jobs = jobs::spawn(&state);
    let metrics = match state.config.server.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the metrics address {addr}"))?,
        ),
        None => None,
    };
    Ok(Application {
        router: http::router(state.clone()),
        listener,
        state,
        metrics,
        jobs,
    })
}

/// The master key from ATOM_VAULT__KEY or the key file; development mode generates one.
/// Production refuses to generate a key and refuses a generated development key.
/// What a command that works on connections needs (`atom import`): the domain's context on
/// a database at the current schema, without serving anything.
pub async fn command_ctx(config: &Config) -> anyhow::Result<Ctx> {
    let vault = load_vault(config)?;
    let db = store::open_current(&config.database.url).await?;
    store::vault_check::verify(&db, &vault).await?;
    Ok(Ctx {
        audit: store::audit::Writer::new(db.clone()),
        db,
        vault: Arc::new(vault),
        catalog: Arc::new(providers::Catalog::from_config(config)?),
        http: oauth::http_client(),
        clock: Clock::system(),
        public_url: config.server.public_url.clone(),
        refresh_locks: Arc::new(tokens::RefreshLocks::new()),
        probes: Arc::new(domain::health::Probes::default()),
        hot: Arc::default(),
    })
}

pub fn load_vault(config: &Config) -> anyhow::Result<Keyring> {
    if let Some(key) = &config.vault.key {
        return Ok(Keyring::from_hex(key)?);
    }
    let development = config.mode == Mode::Development;
    let loaded = Keyring::load_or_create(&config.vault.key_file, development)
        .context("loading the master key (set ATOM_VAULT__KEY or vault.key_file)")?;
    if loaded.development && !development {
        anyhow::bail!(
            "the master key in {} is a generated development key: production needs your own \
             key (see atom check)",
            config.vault.key_file.display()
        );
    }
    let (keyring, created) = (loaded.keyring, loaded.created);
    if created {
        tracing::warn!(
            path = %config.vault.key_file.display(),
            "GENERATED A DEVELOPMENT MASTER KEY. It is for development only: in production, \
             provide your own key (ATOM_VAULT__KEY or vault.key_file) and back it up."
        );
    }
    Ok(keyring)
}

async fn spawn_sandbox(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the sandbox on {addr}"))?;
    tracing::warn!(%addr, "development mode: providers without credentials use the local sandbox");
    tokio::spawn(sandbox::serve(listener, sandbox::Sandbox::new()));
    Ok(())
}

/// Leptos options from our own configuration plus Leptos.toml's asset names.
fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    struct LeptosToml {
        output_name: String,
        site_pkg_dir: String,
    }
    let names: LeptosToml = toml::from_str(include_str!("../../Leptos.toml"))
        .expect("Leptos.toml is part of the build and valid");
    LeptosOptions::builder()
        .output_name(names.output_name)
        .site_pkg_dir(names.site_pkg_dir)
        .site_root(config.server.site_root.to_string_lossy().to_string())
        .site_addr(addr)
        .env(match config.mode {
            Mode::Development => leptos::config::Env::DEV,
            Mode::Production => leptos::config::Env::PROD,
        })
        .build()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

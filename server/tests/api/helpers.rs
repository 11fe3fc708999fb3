use reqwest::header::{ACCEPT, ORIGIN};
use reqwest::{redirect::Policy, Client, Response, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::SecretString;
use server::base::config::{Config, ProviderSettings};
use server::sandbox::Sandbox;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::net::TcpListener;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub sandbox: Sandbox,
    pub db: DatabaseConnection,
    pub sqlite_file: Option<PathBuf>,
    /// The master key (hex), so leak tests can open what the hub sealed.
    pub key: String,
    /// The hub's clock: tests move it instead of sleeping.
    pub clock: server::base::clock::Clock,
    /// What this hub and its other instances keep in memory (see `set_expiry`).
    kept: Arc<Mutex<Vec<Arc<server::base::hot::HotRows>>>>,
    config: Config,
    _dir: tempfile::TempDir,
}

/// Everything the servers logged in this test binary (checked for secrets).
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().expect("log lock")).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            // Everything the hub says, down to TRACE: the leak tests read it all. The test
            // client's own cookie jar (cookie_store) is quiet: it is not the hub.
            .with_env_filter("trace,hyper=info,hyper_util=info,h2=info,sqlx=info,rustls=info,tower=info,reqwest=info,cookie_store=info")
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buffer
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub async fn database_url(dir: &std::path::Path) -> (String, Option<PathBuf>) {
    if std::env::var("ATOM_TEST_DATABASE").as_deref() != Ok("postgres") {
        let file = dir.join("atom.db");
        return (format!("sqlite://{}?mode=rwc", file.display()), Some(file));
    }
    let admin = std::env::var("ATOM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("atom_test_{}", uuid::Uuid::new_v4().simple());
    let db = sea_orm::Database::connect(&admin)
        .await
        .expect("PostgreSQL is reachable");
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    (format!("{base}/{name}"), None)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the sandbox and the hub; `tweak` may change the configuration first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_until(tweak, std::future::pending()).await.0
}

/// A hub that shuts down gracefully when `stop` resolves; the handle ends when it has.
pub async fn spawn_app_until(
    tweak: impl FnOnce(&mut Config),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<std::io::Result<()>>) {
    log_buffer();
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::new();
    let sandbox_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind sandbox");
    let sandbox_port = sandbox_listener.local_addr().expect("addr").port();
    tokio::spawn(server::sandbox::serve(sandbox_listener, sandbox.clone()));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind hub");
    let port = listener.local_addr().expect("addr").port();
    let (url, sqlite_file) = database_url(dir.path()).await;
    let mut config = Config::default();
    config.server.listen = listener.local_addr().expect("addr");
    config.server.public_url = format!("http://127.0.0.1:{port}").parse().expect("url");
    config.database.url = url.clone();
    let key = hex::encode(rand::random::<[u8; 32]>());
    config.vault.key = Some(SecretString::from(key.clone()));
    config.sandbox.public_url = format!("http://127.0.0.1:{sandbox_port}")
        .parse()
        .expect("url");
    config.sandbox.embedded = false;
    tweak(&mut config);
    let app = server::build_on(config.clone(), listener)
        .await
        .expect("the hub builds");
    let clock = app.clock();
    let kept = Arc::new(Mutex::new(vec![app.hot()]));
    let running = tokio::spawn(app.run_until(stop));
    let db = server::base::store::open(&url)
        .await
        .expect("test connection");
    let app = TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: browser(),
        sandbox,
        db,
        sqlite_file,
        key,
        clock,
        kept,
        config,
        _dir: dir,
    };
    (app, running)
}

/// A hub with an administrator `ada`, signed in with the app's client.
pub async fn admin_app() -> TestApp {
    admin_app_with(|_| {}).await
}

/// `admin_app`, with the configuration tweaked first.
pub async fn admin_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_with(tweak).await;
    server::domain::users::add(
        &app.db,
        "ada",
        PASSWORD,
        true,
        &server::domain::users::Actor::cli(),
    )
    .await
    .expect("admin");
    app.sign_in_as(&app.client, "ada").await;
    app
}

/// The seconds a response's `Retry-After` header says to wait.
pub fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

/// A client like a browser: keeps cookies, does not follow redirects on its own. A request
/// that gets no answer in two minutes fails its test (naming the request) instead of
/// hanging the whole run: no test waits that long on purpose.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("client")
}

/// Override one provider's settings in a test configuration.
pub fn provider<'a>(config: &'a mut Config, service: &str) -> &'a mut ProviderSettings {
    config.providers.entry(service.to_string()).or_default()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        match self.client.get(self.url(path)).send().await {
            Ok(response) => response,
            // A page that never answered (seen twice under load on GET /admin): what the hubs
            // said last, for whoever looks next.
            Err(e) => {
                let logs = logs();
                let tail: Vec<&str> = logs.lines().rev().take(60).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "GET {path}: {e}\n--- the last log lines ---\n{}",
                    tail.join("\n")
                )
            }
        }
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .client
            .get(self.url(path))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// A same-origin POST, as the hub's own pages send it.
    pub async fn post(&self, path: &str) -> Response {
        self.client
            .post(self.url(path))
            .header(ORIGIN, &self.base)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("POST")
    }

    pub async fn add_user(&self, username: &str) {
        server::domain::users::add(
            &self.db,
            username,
            PASSWORD,
            false,
            &server::domain::users::Actor::cli(),
        )
        .await
        .expect("user added");
    }

    pub async fn sign_in_as(&self, client: &Client, username: &str) {
        let response = client
            .post(self.url("/auth/signin"))
            .header(ORIGIN, &self.base)
            .form(&[("username", username), ("password", PASSWORD)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/connections", "signed in");
    }

    /// A new user, signed in with this app's client.
    pub async fn signed_in(&self, username: &str) {
        self.add_user(username).await;
        self.sign_in_as(&self.client, username).await;
    }

    /// Starts a GitHub connect flow; returns the provider URL the browser is sent to.
    pub async fn start_connect(&self, client: &Client) -> url::Url {
        self.start_connect_to(client, "github").await
    }

    /// Starts a connect flow for any service; returns the provider URL.
    pub async fn start_connect_to(&self, client: &Client, service: &str) -> url::Url {
        let response = client
            .get(self.url(&format!("/api/auth/{service}/authorize")))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.expect("json");
        body["authorization_url"]
            .as_str()
            .expect("url")
            .parse()
            .expect("valid url")
    }

    /// Answers the sandbox's consent page; returns where the sandbox redirects the browser.
    pub async fn consent(&self, authorize: &url::Url, login: &str, decision: &str) -> String {
        let page = self
            .client
            .get(authorize.clone())
            .send()
            .await
            .expect("consent page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains("<h1>Sandbox "), "a sandbox consent page");
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.push(("login".into(), login.into()));
        form.push(("decision".into(), decision.into()));
        let mut target = authorize.clone();
        target.set_query(None);
        let response = self
            .client
            .post(target)
            .form(&form)
            .send()
            .await
            .expect("decision");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        location(&response)
    }

    /// The full GitHub flow through the sandbox; returns the hub's final redirect.
    pub async fn connect_github(&self, login: &str) -> String {
        self.connect("github", login).await
    }

    /// The full flow for any sandboxed service; returns the hub's final redirect.
    pub async fn connect(&self, service: &str, login: &str) -> String {
        let authorize = self.start_connect_to(&self.client, service).await;
        let callback = self.consent(&authorize, login, "allow").await;
        let response = self.client.get(callback).send().await.expect("callback");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "callback answers 303"
        );
        location(&response)
    }

    /// Sets every connection's access-token expiry (tests of refresh and status).
    pub async fn set_expiry(&self, at: chrono::DateTime<chrono::Utc>) {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => "UPDATE connections SET expires_at = $1",
            _ => "UPDATE connections SET expires_at = ?",
        };
        self.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [at.into()],
            ))
            .await
            .expect("set expiry");
        // As if the time had passed: copies kept in memory would have aged out by then.
        for hot in self.kept.lock().expect("kept").iter() {
            hot.connections.forget_all();
        }
    }

    /// Another instance on the same database, key and sandbox, with the same public URL (as
    /// behind a load balancer); returns its own address.
    pub async fn second_instance(&self) -> String {
        self.instance_with_key(&self.key)
            .await
            .expect("second instance")
    }

    /// Another instance with this keyring (hex keys, comma-separated); its address, or why
    /// it refused to start.
    pub async fn instance_with_key(&self, keyring: &str) -> Result<String, String> {
        let keyring = keyring.to_string();
        self.instance_with(move |c| c.vault.key = Some(SecretString::from(keyring)))
            .await
    }

    /// Another instance with this app's configuration changed by `tweak`.
    pub async fn instance_with(&self, tweak: impl FnOnce(&mut Config)) -> Result<String, String> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut config = self.config.clone();
        config.server.listen = listener.local_addr().expect("addr");
        tweak(&mut config);
        let base = format!("http://127.0.0.1:{}", config.server.listen.port());
        let app = server::build_on(config, listener)
            .await
            .map_err(|e| format!("{e:#}"))?;
        self.kept.lock().expect("kept").push(app.hot());
        tokio::spawn(app.run());
        Ok(base)
    }

    pub fn sandbox_url(&self) -> String {
        self.config.sandbox.public_url.to_string()
    }

    pub fn db_url(&self) -> &str {
        &self.config.database.url
    }

    /// A new API key with these scopes (the key itself, as a backend would hold it).
    pub async fn api_key(&self, scopes: &[&str]) -> String {
        use secrecy::ExposeSecret;
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let (_, key) = server::base::store::api_keys::create(
            &self.db,
            "test backend",
            &scopes,
            self.clock.now(),
        )
        .await
        .expect("key");
        key.expose_secret().to_string()
    }

    /// The first administrator's setup link, as `atom serve` prints it (None once one exists).
    pub async fn setup_link(&self) -> Option<String> {
        server::domain::users::setup_link(&self.db, &self.base, self.clock.now())
            .await
            .expect("db")
    }

    pub async fn user_id(&self, username: &str) -> String {
        let user = server::base::store::users::by_username(&self.db, username)
            .await
            .expect("db");
        user.expect("user").id
    }

    /// Everything the hub stored, as text: every table's rows, and the SQLite file and WAL.
    pub async fn stored_text(&self) -> Vec<(String, String)> {
        let mut places = Vec::new();
        let tables = [
            "users",
            "sessions",
            "pending_flows",
            "connections",
            "audit_events",
            "api_keys",
            "vault_check",
            "revocation_retries",
            "connect_links",
            "setup_tokens",
        ];
        for table in tables {
            let rows = self
                .db
                .query_all_raw(sea_orm::Statement::from_string(
                    self.db.get_database_backend(),
                    format!("SELECT * FROM {table}"),
                ))
                .await
                .expect("select");
            places.push((format!("table {table}"), format!("{rows:?}")));
        }
        if let Some(file) = &self.sqlite_file {
            for path in [file.clone(), file.with_extension("db-wal")] {
                if let Ok(bytes) = std::fs::read(&path) {
                    places.push((
                        format!("{path:?}"),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    ));
                }
            }
        }
        places
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Waits up to five seconds for the service's connection to be in `state`; the last seen.
    pub async fn wait_for_status(&self, service: &str, state: &str) -> String {
        let mut seen = String::new();
        for _ in 0..50 {
            let (_, status) = self.get_json(&format!("/api/auth/{service}/status")).await;
            seen = status["status"].as_str().unwrap_or_default().to_string();
            if seen == state {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        seen
    }

    /// Revokes the first grant on the sandbox's "authorized apps" page, as its user would at
    /// the provider.
    pub async fn revoke_first_app_grant(&self) {
        let sandbox = self.sandbox_url().trim_end_matches('/').to_string();
        let page = self
            .client
            .get(format!("{sandbox}/apps"))
            .send()
            .await
            .expect("apps")
            .text()
            .await
            .expect("html");
        let grant = page
            .split("name=\"grant\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a grant");
        let revoked = self
            .client
            .post(format!("{sandbox}/apps/revoke"))
            .form(&[("grant", grant)])
            .send()
            .await
            .expect("revoke");
        assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    }

    /// The token API's answer for a user's service, asked with `key`.
    /// `GET /api/v1/users/{user_id}/connections`, with a fresh `tokens:read` key.
    pub async fn connections_of(&self, user_id: &str) -> serde_json::Value {
        let reader = self.api_key(&["tokens:read"]).await;
        let response = self
            .client
            .get(self.url(&format!("/api/v1/users/{user_id}/connections")))
            .bearer_auth(reader)
            .send()
            .await
            .expect("GET");
        response.json().await.expect("json")
    }

    pub async fn token_answer(&self, key: &str, user_id: &str, service: &str) -> Response {
        Client::new()
            .get(self.url(&format!(
                "/api/v1/users/{user_id}/connections/{service}/token"
            )))
            .bearer_auth(key)
            .send()
            .await
            .expect("token API")
    }

    pub async fn audit_kinds(&self) -> Vec<(String, String, Option<String>)> {
        use sea_orm::EntityTrait;
        server::base::store::audit::Entity::find()
            .all(&self.db)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| (e.kind, e.outcome, e.reason))
            .collect()
    }
}

/// Asks `holds` every 25 ms until it says yes, failing (with `what`) after a second: for what
/// another instance, or a change behind the hub's back, may take up to a second to show.
pub async fn within_a_second<F, Fut>(what: &str, holds: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !holds().await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{what}: not so after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The HTML of the page at `url`, as `client` sees it.
pub async fn page_html(client: &Client, url: &str) -> String {
    let page = client.get(url).send().await.expect("page");
    page.text().await.expect("html")
}

/// Reads an event stream until `wanted` appears or `wait` passes; returns what was read.
pub async fn read_until(stream: &mut Response, wanted: &str, wait: std::time::Duration) -> String {
    let mut seen = String::new();
    let _ = tokio::time::timeout(wait, async {
        while let Ok(Some(chunk)) = stream.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(wanted) {
                return;
            }
        }
    })
    .await;
    seen
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

//! One typed configuration: defaults < atom.toml < ATOM_* environment (`__` nests), loaded once.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

/// The top-level sections; other ATOM_* variables (for tools around the hub) are ignored.
const SECTIONS: &[&str] = &[
    "limits",
    "jobs",
    "mode",
    "server",
    "database",
    "vault",
    "sandbox",
    "providers",
    "log",
    "sessions",
    "webhooks",
    "audit",
    "auth",
    "proxy",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub mode: Mode,
    pub log: String,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub vault: VaultConfig,
    pub sandbox: SandboxConfig,
    pub limits: LimitsConfig,
    pub jobs: JobsConfig,
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSettings>,
    #[serde(default)]
    pub webhooks: BTreeMap<String, WebhookEndpoint>,
    #[serde(default)]
    pub audit: AuditConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub proxy: ProxyConfig,
}

/// `[proxy]`: calls to the providers' APIs through the hub (`/api/v1/proxy/<service>/…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// The largest request body forwarded (larger: 413, the provider is not called).
    pub max_request_bytes: usize,
    /// The largest response body passed back (larger: 502 when the provider declares its
    /// length, else the answer is cut off there).
    pub max_response_bytes: usize,
    /// How long the provider may take to start answering, and to send each next part.
    pub timeout_seconds: u64,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            max_request_bytes: 10 * 1024 * 1024,
            max_response_bytes: 50 * 1024 * 1024,
            timeout_seconds: 60,
        }
    }
}

/// `[auth]`: how people sign in to the dashboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Username and password (true by default). False leaves single sign-on the only way in
    /// (the first administrator can still come from `atom user add` and sign in through it).
    #[serde(default = "yes")]
    pub password_sign_in: bool,
    /// `[auth.oidc]`: single sign-on through the organisation's OpenID Connect provider.
    #[serde(default)]
    pub oidc: Option<OidcSignIn>,
}

fn yes() -> bool {
    true
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            password_sign_in: true,
            oidc: None,
        }
    }
}

/// `[auth.oidc]`: the provider (discovered from `issuer`), the hub's client there (its
/// redirect URI is `<public_url>/auth/sso/callback`), who may sign in and who is an admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSignIn {
    pub issuer: Url,
    pub client_id: String,
    #[serde(skip_serializing)]
    pub client_secret: SecretString,
    /// On the sign-in page's button: "Sign in with <display_name>".
    #[serde(default = "single_sign_on")]
    pub display_name: String,
    /// The claim that makes an administrator (e.g. `groups`); unset: nobody becomes one
    /// through single sign-on, and roles are the dashboard's to set.
    #[serde(default)]
    pub admin_claim: Option<String>,
    /// The value the claim must be or contain (e.g. `atom-admins`); unset: the claim is true.
    #[serde(default)]
    pub admin_value: Option<String>,
    /// Email domains that may sign in (a verified email is always required); empty: any.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Hosts besides the issuer's that its endpoints may be on.
    #[serde(default)]
    pub endpoint_hosts: Vec<String>,
}

fn single_sign_on() -> String {
    "single sign-on".into()
}

impl OidcSignIn {
    /// A configuration for tests of what it decides.
    #[cfg(test)]
    pub fn example() -> Self {
        Self {
            issuer: Url::parse("https://sso.example.test").expect("url"),
            client_id: "hub".into(),
            client_secret: SecretString::from("secret"),
            display_name: single_sign_on(),
            admin_claim: None,
            admin_value: None,
            allowed_domains: Vec::new(),
            endpoint_hosts: Vec::new(),
        }
    }
}

/// `[audit]`: how long the audit log keeps events. By default, for ever.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Events older than this many days leave the database (0: never).
    #[serde(default)]
    pub retention_days: u32,
    /// Where they go first: appended as JSON lines to `audit-YYYY-MM.jsonl` in this directory
    /// (unset: they are deleted).
    #[serde(default)]
    pub archive_dir: Option<PathBuf>,
}

/// `[webhooks.<name>]`: connection events are POSTed to `url`, signed with `secret`
/// (HMAC-SHA256 over `id.timestamp.body`, the Standard Webhooks layout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    pub url: Url,
    #[serde(skip_serializing)]
    pub secret: SecretString,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The origin people and providers reach the hub at; redirect URIs derive from it only.
    pub public_url: Url,
    /// Where cargo-leptos put the compiled site (wasm, js, css).
    pub site_root: PathBuf,
    /// Reverse proxies whose X-Forwarded-For is believed; from anyone else it is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve /metrics on this address only (and not on `listen`); unset: on `listen`.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// After SIGTERM, how long in-flight requests may take before the process exits anyway.
    pub shutdown_timeout_seconds: u64,
    /// After SIGTERM and before the listener closes, how long `/readyz` answers 503 while
    /// requests are still served (proxies stop sending new ones). Default: 5 s in production,
    /// 0 in development.
    pub drain_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// File holding the hex master key; generated on first run in development mode.
    pub key_file: PathBuf,
    /// The hex master key itself (ATOM_VAULT__KEY); wins over the file.
    #[serde(default, skip_serializing)]
    pub key: Option<SecretString>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub public_url: Url,
    /// In development, `atom serve` runs the sandbox in-process when a provider needs it.
    pub embedded: bool,
}

/// How often the background jobs run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    /// Provider reachability probes.
    pub probe_interval_seconds: u64,
    /// The background refresher (connections expiring within five minutes).
    pub refresh_interval_seconds: u64,
    /// How often the liveness job looks for never-expiring tokens due a who-am-I check.
    pub liveness_interval_seconds: u64,
    /// Every never-expiring token is checked at least this often (least recently checked
    /// first, up to 200 per run: raise the interval's frequency for more than
    /// 200 × period / interval connections; `atom_liveness_oldest_check_seconds` shows it).
    pub liveness_period_seconds: u64,
    /// Retries of revocations that failed at disconnect (each row has its own backoff).
    pub revocation_interval_seconds: u64,
    /// Webhook deliveries; a failed one is retried after this, doubling, up to an hour.
    pub webhook_interval_seconds: u64,
    /// How often each instance reads new audit events for its open pages. On PostgreSQL a
    /// notification from the database wakes it at once; this is the fallback.
    #[serde(default = "default_events_poll")]
    pub events_poll_milliseconds: u64,
    /// Flow analytics (the admin overview's charts) are kept this many days.
    pub flow_stats_retention_days: u32,
}

/// How long a signed-in session lasts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// Ends after this long without a request.
    pub idle_timeout_seconds: u64,
    /// Ends this long after sign-in, however active.
    pub absolute_timeout_seconds: u64,
}

/// Requests allowed per minute before 429 (each bucket refills evenly over the minute).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Sign-in attempts per account from one address (an IPv6 /64 counts as one).
    pub sign_in_per_account: u32,
    /// Sign-in attempts per account from addresses it never signed in from: a stranger's
    /// guesses, however many addresses they use, never lock its owner out of her usual ones.
    pub sign_in_per_account_unknown_addresses: u32,
    pub sign_in_per_address: u32,
    pub connect_per_user: u32,
    pub callback_per_address: u32,
    pub mutation_per_address: u32,
    pub api_per_key: u32,
    /// Live-update streams open at once per user, and per client address.
    pub streams_per_user: u32,
    pub streams_per_address: u32,
}

/// `[providers.<service>]`: every key optional; built-in services have real defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    pub enabled: Option<bool>,
    pub kind: Option<String>,
    pub display_name: Option<String>,
    pub issuer: Option<Url>,
    pub client_id: Option<String>,
    #[serde(default, skip_serializing)]
    pub client_secret: Option<SecretString>,
    pub scopes: Option<Scopes>,
    pub authorize_url: Option<Url>,
    pub token_url: Option<Url>,
    pub revoke_url: Option<Url>,
    pub userinfo_url: Option<Url>,
    /// The provider's API, where calls through the proxy (`/api/v1/proxy/<service>/…`) go:
    /// built-in services have their real one (GitHub Enterprise, sovereign clouds override it).
    pub api_base_url: Option<Url>,
    /// Microsoft: `common` (the default; Teams: `organizations`), `organizations`, `consumers` or
    /// a tenant id. Filled into `{tenant}` in every URL, configured or built in.
    pub tenant: Option<String>,
    /// Slack: bot scopes asked for as well as the user scopes (`scopes`); the connection then
    /// keeps the installation's bot token beside the user's (the token API's `?token=bot`).
    pub bot_scopes: Option<Scopes>,
    /// Custom `oidc` providers: hosts besides the issuer's that its discovery document may
    /// point endpoints at (e.g. Google's `oauth2.googleapis.com`); others are refused.
    pub endpoint_hosts: Option<Vec<String>>,
    /// Custom providers: `client_secret_basic` or `client_secret_post` at the token endpoint
    /// (default: what the discovery document offers, Basic first).
    pub client_auth: Option<String>,
    /// Trello: `oauth1` (OAuth 1.0a, the default) or `oauth2` (Trello's OAuth 2.0, 3LO).
    pub protocol: Option<String>,
    /// Notion: the `Notion-Version` sent on every call (default 2025-09-03).
    pub api_version: Option<String>,
    /// Trello (OAuth 1.0a).
    pub request_token_url: Option<Url>,
    /// Trello (OAuth 1.0a); the same as token_url.
    pub access_token_url: Option<Url>,
}

/// Scopes as a TOML list or as one space- or comma-separated string (handy in env vars).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scopes {
    List(Vec<String>),
    Text(String),
}

impl Scopes {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::List(list) => list.clone(),
            Self::Text(text) => text
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let url = |s: &str| Url::parse(s).expect("default URLs are valid");
        Self {
            mode: Mode::Development,
            log: "info".into(),
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 5058)),
                public_url: url("http://localhost:5058"),
                site_root: PathBuf::from("target/site"),
                trusted_proxies: Vec::new(),
                metrics_listen: None,
                shutdown_timeout_seconds: 25,
                drain_seconds: None,
            },
            database: DatabaseConfig {
                url: "sqlite://.atom/atom.db?mode=rwc".into(),
            },
            vault: VaultConfig {
                key_file: PathBuf::from(".atom/master.key"),
                key: None,
            },
            sandbox: SandboxConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 5059)),
                public_url: url("http://127.0.0.1:5059"),
                embedded: true,
            },
            jobs: JobsConfig {
                probe_interval_seconds: 300,
                refresh_interval_seconds: 15,
                revocation_interval_seconds: 60,
                liveness_interval_seconds: 300,
                liveness_period_seconds: 24 * 3600,
                webhook_interval_seconds: 5,
                events_poll_milliseconds: default_events_poll(),
                flow_stats_retention_days: 30,
            },
            sessions: SessionsConfig {
                idle_timeout_seconds: 8 * 3600,
                absolute_timeout_seconds: 24 * 3600,
            },
            limits: LimitsConfig {
                sign_in_per_account: 5,
                sign_in_per_account_unknown_addresses: 30,
                sign_in_per_address: 20,
                connect_per_user: 30,
                callback_per_address: 60,
                mutation_per_address: 240,
                api_per_key: 6000,
                streams_per_user: 10,
                streams_per_address: 50,
            },
            providers: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            audit: AuditConfig::default(),
            proxy: ProxyConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
}

/// `ATOM_SEVER__LISTEN`: a variable in the configuration's form (a section, `__`, a key) whose
/// section does not exist. Other ATOM_* variables (for tools around the hub) are not ours.
fn misspelled_section(name: &str) -> bool {
    name.strip_prefix("ATOM_")
        .and_then(|rest| rest.split_once("__"))
        .is_some_and(|(top, _)| !SECTIONS.iter().any(|s| top.eq_ignore_ascii_case(s)))
}

fn default_events_poll() -> u64 {
    500
}

impl Config {
    /// Defaults, then the TOML file (if present), then ATOM_* environment variables.
    /// A file named with `--config` (or ATOM_CONFIG) must exist; `ATOM_<SECTION>__...`
    /// variables must name a section that exists.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        if let Some(file) = file.filter(|f| !f.exists()) {
            return Err(ConfigError::Invalid(format!(
                "no configuration file at {}",
                file.display()
            )));
        }
        if let Some(name) = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .find(|name| misspelled_section(name))
        {
            return Err(ConfigError::Invalid(format!(
                "{name}: no such section (sections: {})",
                SECTIONS.join(", ")
            )));
        }
        let file = file
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("atom.toml"));
        let env = Env::prefixed("ATOM_")
            .filter(|key| {
                let top = key.as_str().split("__").next().unwrap_or_default();
                SECTIONS.iter().any(|s| top.eq_ignore_ascii_case(s))
            })
            .split("__");
        Self::extract(
            Figment::from(Serialized::defaults(Config::default()))
                .merge(Toml::file(file))
                .merge(env),
        )
    }

    /// Defaults, then a TOML text, without the environment (the fuzzer's way in).
    pub fn parse(toml: &str) -> Result<Self, ConfigError> {
        Self::extract(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)),
        )
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.server.public_url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid(
                "server.public_url must be http or https".into(),
            ));
        }
        let url = &self.server.public_url;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::Invalid(
                "server.public_url is an origin only (https://host[:port]), without a path: \
                 the hub is served at the root of its host"
                    .into(),
            ));
        }
        if self.mode == Mode::Production && self.server.public_url.scheme() != "https" {
            return Err(ConfigError::Invalid(
                "server.public_url must be https in production mode".into(),
            ));
        }
        for name in self.providers.keys() {
            let valid = !name.is_empty()
                && name.len() <= 32
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(ConfigError::Invalid(format!(
                    "providers.{name}: a service name is lowercase letters, digits and _"
                )));
            }
        }
        Ok(())
    }

    /// The drain period after SIGTERM (`server.drain_seconds`).
    pub fn drain(&self) -> std::time::Duration {
        let default = if self.mode == Mode::Production { 5 } else { 0 };
        std::time::Duration::from_secs(self.server.drain_seconds.unwrap_or(default))
    }

    /// What production refuses: a provider URL or a webhook that is not https (production
    /// sends secrets, codes, tokens and webhook signatures only over TLS). `serve` does not
    /// start with any; `atom check` lists them.
    pub fn insecure_urls(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, p) in &self.providers {
            let urls = [
                ("issuer", &p.issuer),
                ("authorize_url", &p.authorize_url),
                ("token_url", &p.token_url),
                ("revoke_url", &p.revoke_url),
                ("userinfo_url", &p.userinfo_url),
                ("request_token_url", &p.request_token_url),
                ("access_token_url", &p.access_token_url),
            ];
            for (field, url) in urls {
                if url.as_ref().is_some_and(|u| u.scheme() != "https") {
                    problems.push(format!("providers.{name}.{field} must be https"));
                }
            }
        }
        for (name, hook) in &self.webhooks {
            if hook.url.scheme() != "https" {
                problems.push(format!("webhooks.{name}.url must be https"));
            }
        }
        problems
    }

    /// The public origin (scheme://host[:port]) the origin guard compares against.
    pub fn public_origin(&self) -> String {
        self.server.public_url.origin().ascii_serialization()
    }

    /// The one redirect URI for a service: derived from the public URL, never from a request.
    pub fn redirect_uri(&self, service: &str) -> String {
        redirect_uri(&self.server.public_url, service)
    }
}

/// The redirect URI of a service under a public URL.
pub fn redirect_uri(public_url: &url::Url, service: &str) -> String {
    let base = public_url.as_str().trim_end_matches('/');
    format!("{base}/api/auth/{service}/callback")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_accept_text_and_lists() {
        assert_eq!(Scopes::Text("a b,c".into()).to_vec(), vec!["a", "b", "c"]);
        assert_eq!(Scopes::List(vec!["x".into()]).to_vec(), vec!["x"]);
    }

    #[test]
    fn environment_overrides_nested_keys_and_rejects_typos() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ATOM_SERVER__PUBLIC_URL", "http://hub.test:9000");
            jail.set_env("ATOM_PROVIDERS__GITHUB__CLIENT_ID", "abc");
            jail.set_env("ATOM_BIN", "ignored: not a section");
            let config = Config::load(None).expect("loads");
            assert_eq!(config.public_origin(), "http://hub.test:9000");
            assert_eq!(config.providers["github"].client_id.as_deref(), Some("abc"));
            assert_eq!(
                config.redirect_uri("github"),
                "http://hub.test:9000/api/auth/github/callback"
            );
            jail.set_env("ATOM_PROVIDERS__GITHUB__CLIENT_IDD", "typo");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn production_requires_https() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ATOM_MODE", "production");
            let err = Config::load(None).expect_err("plain http is refused");
            assert!(err.to_string().contains("https"));
            Ok(())
        });
    }
}

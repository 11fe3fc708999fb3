//! The provider catalogue: data for each provider, resolved against configuration once.

mod builtin;
mod discovery;

pub use builtin::BUILTIN;
use discovery::discover;

use crate::config::{Config, Mode, ProviderSettings};
use crate::sandbox::SANDBOX_CLIENT_SECRET;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::OnceCell;
use url::Url;

/// How the hub authenticates itself at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// client_id and client_secret in the form body.
    Body,
    /// HTTP Basic `client_id:client_secret`.
    Basic,
}

/// The who-am-I call's shape (the one place providers differ in code, not data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// GitHub's `GET /user`: numeric `id`, `login`, `name`.
    GitHubUser,
    /// OpenID Connect userinfo: `sub`, `name` / `preferred_username` / `email`.
    OidcUserinfo,
}

/// How disconnect revokes at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// GitHub: `DELETE /applications/{client_id}/grant`, Basic auth, JSON body.
    GitHubGrant,
    /// RFC 7009 token revocation.
    Rfc7009,
}

/// A built-in provider's facts, with its real endpoints.
pub struct Definition {
    pub service: &'static str,
    pub display_name: &'static str,
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub userinfo_url: &'static str,
    pub revoke_url: &'static str,
    pub scopes: &'static [&'static str],
    pub scope_separator: &'static str,
    pub pkce: bool,
    pub client_auth: ClientAuth,
    pub identity: Identity,
    pub revocation: Revocation,
}

/// Where the provider's endpoints are: fixed, or found by OpenID discovery on first use.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub authorize_url: Url,
    pub token_url: Url,
    pub userinfo_url: Option<Url>,
    pub revoke_url: Option<Url>,
    /// The `iss` the authorization response must carry (RFC 9207), when the provider sends it.
    pub issuer: Option<String>,
}

enum Source {
    Fixed(Endpoints),
    Discovered { issuer: Url, cell: OnceCell<Endpoints> },
}

/// One usable provider: definition plus credentials, ready for flows.
pub struct Provider {
    pub service: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub scope_separator: String,
    pub pkce: bool,
    pub client_auth: ClientAuth,
    pub identity: Identity,
    pub revocation: Revocation,
    /// Pointed at the local sandbox because no credentials were configured (development only).
    pub sandbox: bool,
    source: Source,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider {0}: {1}")]
    Config(String, String),
    #[error("provider discovery failed")]
    Discovery,
}

impl Provider {
    pub async fn endpoints(&self, http: &reqwest::Client) -> Result<&Endpoints, ProviderError> {
        match &self.source {
            Source::Fixed(endpoints) => Ok(endpoints),
            Source::Discovered { issuer, cell } => {
                cell.get_or_try_init(|| discover(http, issuer)).await
            }
        }
    }

    /// Whether the configuration holds everything a flow needs (no network call).
    pub fn configured(&self) -> bool {
        !self.client_id.is_empty()
    }
}

/// All enabled providers, by service name.
pub struct Catalog {
    providers: BTreeMap<String, Arc<Provider>>,
}

impl Catalog {
    pub fn from_config(config: &Config) -> Result<Self, ProviderError> {
        let mut providers = BTreeMap::new();
        for def in BUILTIN {
            let settings = config.providers.get(def.service).cloned().unwrap_or_default();
            if let Some(provider) = builtin_provider(config, def, settings)? {
                providers.insert(def.service.to_string(), Arc::new(provider));
            }
        }
        for (name, settings) in &config.providers {
            if BUILTIN.iter().any(|d| d.service == name) || settings.enabled == Some(false) {
                continue;
            }
            providers.insert(name.clone(), Arc::new(custom_provider(name, settings.clone())?));
        }
        Ok(Self { providers })
    }

    pub fn get(&self, service: &str) -> Option<Arc<Provider>> {
        self.providers.get(service).cloned()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.providers.values()
    }

    pub fn names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    pub fn uses_sandbox(&self) -> bool {
        self.all().any(|p| p.sandbox)
    }
}

fn builtin_provider(
    config: &Config,
    def: &Definition,
    s: ProviderSettings,
) -> Result<Option<Provider>, ProviderError> {
    if s.enabled == Some(false) {
        return Ok(None);
    }
    let error = |text: &str| ProviderError::Config(def.service.to_string(), text.to_string());
    let (client_id, client_secret, sandbox) = match (s.client_id, s.client_secret) {
        (Some(id), Some(secret)) => (id, secret, false),
        (None, None) if config.mode == Mode::Development => (
            format!("sandbox-{}", def.service),
            SecretString::from(SANDBOX_CLIENT_SECRET),
            true,
        ),
        (None, None) if s.enabled != Some(true) => return Ok(None),
        _ => return Err(error("set both client_id and client_secret")),
    };
    let real = |configured: Option<Url>, default: &str| -> Result<Url, ProviderError> {
        match configured {
            Some(url) => Ok(url),
            None if sandbox => sandbox_url(config, def, default),
            None => Url::parse(&default.replace("{client_id}", &client_id))
                .map_err(|_| error("bad built-in URL")),
        }
    };
    let endpoints = Endpoints {
        authorize_url: real(s.authorize_url, def.authorize_url)?,
        token_url: real(s.token_url, def.token_url)?,
        userinfo_url: Some(real(s.userinfo_url, def.userinfo_url)?),
        revoke_url: Some(real(s.revoke_url, def.revoke_url)?),
        issuer: None,
    };
    Ok(Some(Provider {
        service: def.service.to_string(),
        display_name: s.display_name.unwrap_or_else(|| def.display_name.to_string()),
        scopes: s
            .scopes
            .map(|s| s.to_vec())
            .unwrap_or_else(|| def.scopes.iter().map(|s| s.to_string()).collect()),
        client_id,
        client_secret,
        scope_separator: def.scope_separator.to_string(),
        pkce: def.pkce,
        client_auth: def.client_auth,
        identity: def.identity,
        revocation: def.revocation,
        sandbox,
        source: Source::Fixed(endpoints),
    }))
}

/// The sandbox serves each provider under `/<service>` with the real URL's path.
fn sandbox_url(config: &Config, def: &Definition, real: &str) -> Result<Url, ProviderError> {
    let real = Url::parse(real)
        .map_err(|_| ProviderError::Config(def.service.into(), "bad built-in URL".into()))?;
    let base = config.sandbox.public_url.as_str().trim_end_matches('/');
    let path = real.path().replace("%7Bclient_id%7D", &format!("sandbox-{}", def.service));
    Url::parse(&format!("{base}/{}{path}", def.service))
        .map_err(|_| ProviderError::Config(def.service.into(), "bad sandbox URL".into()))
}

fn custom_provider(name: &str, s: ProviderSettings) -> Result<Provider, ProviderError> {
    let error = |text: &str| ProviderError::Config(name.to_string(), text.to_string());
    let (Some(client_id), Some(client_secret)) = (s.client_id, s.client_secret) else {
        return Err(error("a custom provider needs client_id and client_secret"));
    };
    let source = match s.kind.as_deref() {
        Some("oidc") => Source::Discovered {
            issuer: s.issuer.ok_or_else(|| error("kind = \"oidc\" needs issuer"))?,
            cell: OnceCell::new(),
        },
        Some("oauth2") => Source::Fixed(Endpoints {
            authorize_url: s.authorize_url.ok_or_else(|| error("needs authorize_url"))?,
            token_url: s.token_url.ok_or_else(|| error("needs token_url"))?,
            userinfo_url: s.userinfo_url,
            revoke_url: s.revoke_url,
            issuer: None,
        }),
        _ => return Err(error("unknown provider: set kind = \"oidc\" or \"oauth2\"")),
    };
    Ok(Provider {
        service: name.to_string(),
        display_name: s.display_name.unwrap_or_else(|| name.to_string()),
        client_id,
        client_secret,
        scopes: s.scopes.map(|s| s.to_vec()).unwrap_or_else(|| vec!["openid".into()]),
        scope_separator: " ".into(),
        pkce: true,
        client_auth: ClientAuth::Basic,
        identity: Identity::OidcUserinfo,
        revocation: Revocation::Rfc7009,
        sandbox: false,
        source,
    })
}

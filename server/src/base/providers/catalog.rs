//! The catalogue: built-in definitions and custom providers resolved against configuration
//! once at start (credentials, sandbox in development, tenant, overridden URLs).

use super::{
    ClientAuth, Definition, Endpoints, Identity, Protocol, Provider, ProviderError, RevokeStyle,
    Source, TokenFormat, BUILTIN, TRELLO_OAUTH2,
};
use crate::base::config::{Config, Mode, ProviderSettings, Scopes};
use crate::sandbox::SANDBOX_CLIENT_SECRET;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::OnceCell;
use url::Url;

/// All enabled providers, by service name.
pub struct Catalog {
    providers: BTreeMap<String, Arc<Provider>>,
    /// Built-in services left out: disabled, or without credentials (and no sandbox).
    not_configured: Vec<String>,
    /// `[auth.oidc]`: the provider people sign in to the dashboard with (no service of its
    /// own: nothing is connected through it).
    sign_in: Option<Arc<Provider>>,
}

/// What a service name in a URL refers to.
pub enum Lookup {
    Ready(Arc<Provider>),
    /// A built-in service this hub has no credentials for (or disabled).
    NotConfigured,
    Unknown,
}

impl Catalog {
    pub fn from_config(config: &Config) -> Result<Self, ProviderError> {
        let mut providers = BTreeMap::new();
        let mut not_configured = Vec::new();
        for def in BUILTIN {
            let settings = config
                .providers
                .get(def.service)
                .cloned()
                .unwrap_or_default();
            let def = protocol_variant(def, &settings)?;
            match builtin_provider(config, def, settings)? {
                Some(provider) => {
                    providers.insert(def.service.to_string(), Arc::new(provider));
                }
                None => not_configured.push(def.service.to_string()),
            }
        }
        for (name, settings) in &config.providers {
            if BUILTIN.iter().any(|d| d.service == name) || settings.enabled == Some(false) {
                continue;
            }
            providers.insert(
                name.clone(),
                Arc::new(custom_provider(
                    name,
                    settings.clone(),
                    config.mode == Mode::Production,
                )?),
            );
        }
        let sign_in = match &config.auth.oidc {
            None => None,
            Some(oidc) => {
                let settings = ProviderSettings {
                    kind: Some("oidc".into()),
                    display_name: Some(oidc.display_name.clone()),
                    issuer: Some(oidc.issuer.clone()),
                    client_id: Some(oidc.client_id.clone()),
                    client_secret: Some(oidc.client_secret.clone()),
                    scopes: Some(Scopes::Text("openid email profile".into())),
                    endpoint_hosts: Some(oidc.endpoint_hosts.clone()),
                    ..Default::default()
                };
                let production = config.mode == Mode::Production;
                Some(Arc::new(custom_provider("sso", settings, production)?))
            }
        };
        Ok(Self {
            providers,
            not_configured,
            sign_in,
        })
    }

    /// The provider of single sign-on to the dashboard, when `[auth.oidc]` is configured.
    pub fn sign_in(&self) -> Option<Arc<Provider>> {
        self.sign_in.clone()
    }

    pub fn get(&self, service: &str) -> Option<Arc<Provider>> {
        self.providers.get(service).cloned()
    }

    pub fn lookup(&self, service: &str) -> Lookup {
        match self.get(service) {
            Some(provider) => Lookup::Ready(provider),
            None if self.not_configured.iter().any(|s| s == service) => Lookup::NotConfigured,
            None => Lookup::Unknown,
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.providers.values()
    }

    /// Every service name this hub knows, usable or not.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.providers.keys().cloned().collect();
        names.extend(self.not_configured.iter().cloned());
        names.sort();
        names
    }

    /// The services configured with credentials, the ones whose connections can be refreshed.
    pub fn configured(&self) -> Vec<String> {
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
        (None, None)
            if config.mode == Mode::Development && crate::sandbox::emulates(def.family) =>
        {
            (
                format!("sandbox-{}", def.family),
                SecretString::from(SANDBOX_CLIENT_SECRET),
                true,
            )
        }
        (None, None) if s.enabled != Some(true) => return Ok(None),
        (None, None) if config.mode == Mode::Development => {
            return Err(error(
                "enabled, but no client_id/client_secret and no sandbox emulation",
            ))
        }
        _ => return Err(error("set both client_id and client_secret")),
    };
    if s.client_auth.is_some() {
        return Err(error(
            "client_auth is for custom providers: built-in ones follow their documentation",
        ));
    }
    if s.bot_scopes.is_some() && def.scope_param != "user_scope" {
        return Err(error(
            "bot_scopes is for Slack only (its user scopes are `scopes`)",
        ));
    }
    let tenant = s
        .tenant
        .clone()
        .unwrap_or_else(|| def.default_tenant.to_string());
    // `{client_id}` and `{tenant}` are filled in every URL, configured (where parsing
    // percent-encoded the braces) or built in: sovereign clouds, GitHub Enterprise.
    let fill = |text: &str| {
        text.replace("{client_id}", &client_id)
            .replace("%7Bclient_id%7D", &client_id)
            .replace("{tenant}", &tenant)
            .replace("%7Btenant%7D", &tenant)
    };
    let real = |configured: Option<Url>, default: &str| -> Result<Option<Url>, ProviderError> {
        let default = fill(default);
        match configured {
            Some(url) => Url::parse(&fill(url.as_str()))
                .map(Some)
                .map_err(|_| error("a configured URL is not valid once filled in")),
            None if default.is_empty() => Ok(None),
            None if sandbox => sandbox_url(config, def, &default).map(Some),
            None => Url::parse(&default)
                .map(Some)
                .map_err(|_| error("bad built-in URL")),
        }
    };
    let required = |url: Option<Url>| url.ok_or_else(|| error("missing URL"));
    let token_url = s.token_url.or(s.access_token_url);
    let api_base_url = real(s.api_base_url.clone(), def.api_base_url)?;
    let endpoints = Endpoints {
        authorize_url: required(real(s.authorize_url, def.authorize_url)?)?,
        token_url: required(real(token_url, def.token_url)?)?,
        userinfo_url: real(s.userinfo_url, def.userinfo_url)?,
        revoke_url: real(s.revoke_url, def.revoke_url)?,
        request_token_url: real(s.request_token_url, def.request_token_url)?,
        issuer: None,
        client_auth: None,
    };
    Ok(Some(Provider {
        service: def.service.to_string(),
        display_name: s
            .display_name
            .unwrap_or_else(|| def.display_name.to_string()),
        scopes: s
            .scopes
            .map(|s| s.to_vec())
            .unwrap_or_else(|| def.scopes.iter().map(|s| s.to_string()).collect()),
        client_id,
        client_secret,
        family: def.family.to_string(),
        protocol: def.protocol,
        scope_separator: def.scope_separator.to_string(),
        scope_param: def.scope_param.to_string(),
        authorize_params: def
            .authorize_params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        pkce: def.pkce,
        client_auth: def.client_auth,
        token_format: def.token_format,
        identity: def.identity,
        revocation: def.revocation,
        refresh_with_scopes: def.refresh_with_scopes,
        consent_for_offline_access: false,
        assumes_lifetime: def.assumes_lifetime,
        client_auth_configured: None,
        bot_scopes: s.bot_scopes.map(|s| s.to_vec()).unwrap_or_default(),
        revoke_ends_client_grant: def.revoke_ends_client_grant,
        account_picker: def.account_picker,
        version_header: def.version_header.map(|(name, default)| {
            (
                name.to_string(),
                s.api_version.clone().unwrap_or_else(|| default.to_string()),
            )
        }),
        api_base_url,
        sandbox,
        source: Source::Fixed(endpoints),
    }))
}

/// The definition for the configured `protocol`: Trello speaks OAuth 1.0a (the default) or
/// OAuth 2.0; no other provider has a choice.
fn protocol_variant<'a>(
    def: &'a Definition,
    settings: &ProviderSettings,
) -> Result<&'a Definition, ProviderError> {
    match (def.service, settings.protocol.as_deref()) {
        (_, None) => Ok(def),
        ("trello", Some("oauth2")) => Ok(&TRELLO_OAUTH2),
        ("trello", Some("oauth1")) => Ok(def),
        ("trello", Some(_)) => Err(ProviderError::Config(
            def.service.into(),
            "protocol must be oauth1 or oauth2".into(),
        )),
        (_, Some(_)) => Err(ProviderError::Config(
            def.service.into(),
            "protocol is for Trello only".into(),
        )),
    }
}

/// The sandbox serves each provider family under `/<family>` with the real URL's path, so
/// Gmail and Drive share one emulated Google, Outlook and Teams one Microsoft.
fn sandbox_url(config: &Config, def: &Definition, real: &str) -> Result<Url, ProviderError> {
    let real = Url::parse(real)
        .map_err(|_| ProviderError::Config(def.service.into(), "bad built-in URL".into()))?;
    let base = config.sandbox.public_url.as_str().trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}/{}{}", def.family, real.path()))
        .map_err(|_| ProviderError::Config(def.service.into(), "bad sandbox URL".into()))?;
    url.set_query(real.query());
    Ok(url)
}

fn custom_provider(
    name: &str,
    s: ProviderSettings,
    production: bool,
) -> Result<Provider, ProviderError> {
    let error = |text: &str| ProviderError::Config(name.to_string(), text.to_string());
    let (Some(client_id), Some(client_secret)) = (s.client_id, s.client_secret) else {
        return Err(error("a custom provider needs client_id and client_secret"));
    };
    let client_auth = match s.client_auth.as_deref() {
        None => None,
        Some(name) => Some(ClientAuth::from_method(name).ok_or_else(|| {
            error("client_auth must be client_secret_basic or client_secret_post")
        })?),
    };
    let source = match s.kind.as_deref() {
        Some("oidc") => Source::Discovered {
            issuer: s
                .issuer
                .ok_or_else(|| error("kind = \"oidc\" needs issuer"))?,
            rules: super::discovery::Rules {
                require_https: production,
                other_hosts: s.endpoint_hosts.clone().unwrap_or_default(),
            },
            cell: OnceCell::new(),
        },
        Some("oauth2") => Source::Fixed(Endpoints {
            authorize_url: s
                .authorize_url
                .ok_or_else(|| error("needs authorize_url"))?,
            token_url: s.token_url.ok_or_else(|| error("needs token_url"))?,
            userinfo_url: s.userinfo_url,
            revoke_url: s.revoke_url,
            request_token_url: None,
            issuer: None,
            client_auth: None,
        }),
        _ => return Err(error("unknown provider: set kind = \"oidc\" or \"oauth2\"")),
    };
    Ok(Provider {
        service: name.to_string(),
        display_name: s.display_name.unwrap_or_else(|| name.to_string()),
        family: name.to_string(),
        protocol: Protocol::OAuth2,
        client_id,
        client_secret,
        scopes: s
            .scopes
            .map(|s| s.to_vec())
            .unwrap_or_else(|| vec!["openid".into()]),
        scope_separator: " ".into(),
        scope_param: "scope".into(),
        authorize_params: Vec::new(),
        pkce: true,
        client_auth: ClientAuth::Basic,
        token_format: TokenFormat::Standard,
        identity: Identity::OidcUserinfo,
        revocation: RevokeStyle::Rfc7009,
        refresh_with_scopes: false,
        consent_for_offline_access: true,
        version_header: None,
        assumes_lifetime: true,
        revoke_ends_client_grant: false,
        // OpenID Connect Core §3.1.2.1 defines `prompt=select_account`; plain OAuth 2 does not.
        account_picker: matches!(source, Source::Discovered { .. }),
        bot_scopes: Vec::new(),
        client_auth_configured: client_auth,
        api_base_url: s.api_base_url.clone(),
        sandbox: false,
        source,
    })
}

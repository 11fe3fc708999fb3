//! The provider catalogue: data for each provider, resolved against configuration once.

mod builtin;
mod catalog;
mod discovery;

pub use builtin::{BUILTIN, TRELLO_OAUTH2};
pub use catalog::{Catalog, Lookup};
use discovery::discover;

use secrecy::SecretString;
use tokio::sync::OnceCell;
use url::Url;

/// The protocol family a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    OAuth2,
    /// OAuth 1.0a three-legged (Trello): request token, authorize, access token, HMAC-SHA1.
    OAuth1,
}

/// How the hub authenticates itself at the token endpoint, and the body format it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// client_id and client_secret in the form body.
    Body,
    /// HTTP Basic `client_id:client_secret`, form body.
    Basic,
    /// HTTP Basic with a JSON body (Notion).
    BasicJson,
    /// client_id and client_secret in a JSON body (Atlassian's, for Trello's OAuth 2.0).
    BodyJson,
}

impl ClientAuth {
    /// The method by its RFC 8414 / OpenID registration name (`client_secret_basic`,
    /// `client_secret_post`); None for one the hub does not speak.
    pub fn from_method(name: &str) -> Option<Self> {
        match name {
            "client_secret_basic" => Some(Self::Basic),
            "client_secret_post" => Some(Self::Body),
            _ => None,
        }
    }
}

/// Where the tokens sit in the token response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFormat {
    /// RFC 6749 at the top level (errors may still come with HTTP 200: `error` is checked).
    Standard,
    /// Slack OAuth v2: `ok` flag; the user token under `authed_user`, the bot token on top.
    SlackV2,
}

/// The who-am-I call's shape (the one place providers differ in code, not data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// GitHub's `GET /user`: numeric `id`, `login`, `name`.
    GitHubUser,
    /// OpenID Connect userinfo: `sub`, `name` / `preferred_username` / `email`.
    OidcUserinfo,
    /// Slack `auth.test` (POST, Bearer): `user_id`, `user`, `team`; `ok` flag.
    SlackAuthTest,
    /// Asana `GET /users/me`: `data.gid`, `data.name`.
    AsanaMe,
    /// Notion `GET /v1/users/me` with a Notion-Version header: the bot and its owner.
    NotionMe,
    /// Dropbox `POST /2/users/get_current_account` with no body and no Content-Type.
    DropboxAccount,
    /// Microsoft Graph `GET /me`: `id`, `displayName`, `userPrincipalName`.
    MicrosoftGraph,
    /// Trello `GET /1/members/me`, signed with OAuth 1.0a: `id`, `fullName`, `username`.
    TrelloMember,
}

/// How disconnect revokes at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeStyle {
    /// No revocation endpoint (Microsoft): delete locally, tell the user where to remove access.
    None,
    /// GitHub: `DELETE /applications/{client_id}/grant`, Basic auth, JSON body.
    GitHubGrant,
    /// RFC 7009: form `token` (+ hint), client authentication as for the token endpoint.
    Rfc7009,
    /// Slack `auth.revoke` with the token as Bearer; `ok` flag.
    SlackAuthRevoke,
    /// Dropbox `POST /2/auth/token/revoke` with the token as Bearer and no body.
    DropboxRevoke,
    /// Notion `POST /v1/oauth/revoke`: Basic auth, JSON `{"token": …}`.
    NotionRevoke,
    /// Trello `DELETE /1/tokens/{token}`, signed with OAuth 1.0a.
    TrelloDelete,
}

/// A built-in provider's facts, with its real endpoints.
pub struct Definition {
    pub service: &'static str,
    pub display_name: &'static str,
    /// Providers of one family share an authorization server (Google, Microsoft).
    pub family: &'static str,
    pub protocol: Protocol,
    /// `{tenant}` is replaced by the configured Microsoft tenant.
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub userinfo_url: &'static str,
    /// Where the provider's API is: calls through the hub's proxy go to paths under it.
    pub api_base_url: &'static str,
    /// Empty when the provider has none.
    pub revoke_url: &'static str,
    /// OAuth 1.0a only: where the request token comes from.
    pub request_token_url: &'static str,
    pub scopes: &'static [&'static str],
    pub scope_separator: &'static str,
    /// The authorize parameter that carries the scopes (`user_scope` for Slack user tokens).
    pub scope_param: &'static str,
    /// Extra fixed authorize parameters (offline access, consent prompts, owner=user ...).
    pub authorize_params: &'static [(&'static str, &'static str)],
    pub pkce: bool,
    pub client_auth: ClientAuth,
    pub token_format: TokenFormat,
    pub identity: Identity,
    pub revocation: RevokeStyle,
    /// The refresh request repeats the scopes (Microsoft).
    pub refresh_with_scopes: bool,
    /// A header naming the API version, sent on every call to the provider (token, identity,
    /// revocation): Notion's `Notion-Version`. The value is the default; `api_version` in
    /// the configuration overrides it.
    pub version_header: Option<(&'static str, &'static str)>,
    /// A refreshable token whose answer states no lifetime is given an assumed hour (most
    /// providers); false where such tokens do not expire and the refresh token is spent on
    /// use (Notion), so the hub refreshes only when the provider refuses the token.
    pub assumes_lifetime: bool,
    /// Revoking one token ends everything the user granted to the client (Google): while
    /// another of the user's connections uses the same client, disconnect does not revoke.
    pub revoke_ends_client_grant: bool,
    /// The authorize endpoint shows its account picker for `prompt=select_account` (Google,
    /// Microsoft, GitHub since 2024-06, any OpenID provider): "Add another account" asks for
    /// it, so a person signed in to one account can pick or add another.
    pub account_picker: bool,
    /// `{tenant}` when the configuration names none (Microsoft: `common`; Teams:
    /// `organizations`, since its chat APIs do not serve personal accounts).
    pub default_tenant: &'static str,
    /// The provider's logo in `public/logos/`.
    pub logo: &'static str,
}

/// Where the provider's endpoints are: fixed, or found by OpenID discovery on first use.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub authorize_url: Url,
    pub token_url: Url,
    pub userinfo_url: Option<Url>,
    pub revoke_url: Option<Url>,
    /// OAuth 1.0a only.
    pub request_token_url: Option<Url>,
    /// The `iss` the authorization response must carry (RFC 9207), when the provider sends it.
    pub issuer: Option<String>,
    /// How the token endpoint wants the client authenticated, when its metadata says
    /// (`token_endpoint_auth_methods_supported`); None: the provider's own rule.
    pub client_auth: Option<ClientAuth>,
}

enum Source {
    Fixed(Endpoints),
    Discovered {
        issuer: Url,
        rules: discovery::Rules,
        cell: OnceCell<Endpoints>,
    },
}

/// One usable provider: definition plus credentials, ready for flows.
pub struct Provider {
    pub service: String,
    pub display_name: String,
    pub family: String,
    pub protocol: Protocol,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub scope_separator: String,
    pub scope_param: String,
    pub authorize_params: Vec<(String, String)>,
    pub pkce: bool,
    pub client_auth: ClientAuth,
    pub token_format: TokenFormat,
    pub identity: Identity,
    pub revocation: RevokeStyle,
    /// The refresh request repeats the scopes (Microsoft).
    pub refresh_with_scopes: bool,
    /// Asking for `offline_access` also asks for `prompt=consent`, as OpenID Connect Core §11
    /// requires of a client that wants a refresh token (every generic provider; built-in
    /// providers follow their own documentation instead).
    pub consent_for_offline_access: bool,
    /// A header (name, value) every call to the provider carries (Notion-Version).
    pub version_header: Option<(String, String)>,
    /// See `Definition::assumes_lifetime`.
    pub assumes_lifetime: bool,
    /// `client_auth` from the configuration: it overrides what discovery says.
    pub client_auth_configured: Option<ClientAuth>,
    /// Slack: bot scopes, asked for in `scope` beside the user scopes in `user_scope`.
    pub bot_scopes: Vec<String>,
    /// See `Definition::revoke_ends_client_grant`.
    pub revoke_ends_client_grant: bool,
    /// See `Definition::account_picker`.
    pub account_picker: bool,
    /// The provider's API, for calls through the proxy; None for a custom provider
    /// configured without `api_base_url`.
    pub api_base_url: Option<Url>,
    /// Pointed at the local sandbox because no credentials were configured (development only).
    pub sandbox: bool,
    source: Source,
}

/// The logo's path on the hub: a built-in provider's own, any other service the generic one.
pub fn logo(service: &str) -> String {
    let file = BUILTIN
        .iter()
        .find(|d| d.service == service)
        .map_or("generic.svg", |d| d.logo);
    format!("/logos/{file}")
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider {0}: {1}")]
    Config(String, String),
    #[error("provider discovery failed")]
    Discovery,
}

impl Provider {
    /// `request` with the provider's API version header, where it has one.
    pub fn versioned(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.version_header {
            Some((name, value)) => request.header(name.as_str(), value.as_str()),
            None => request,
        }
    }

    /// How to authenticate at these endpoints: the configured `client_auth`, else what the
    /// provider's metadata offers, else the provider's own rule.
    pub fn client_auth_at(&self, endpoints: &Endpoints) -> ClientAuth {
        self.client_auth_configured
            .or(endpoints.client_auth)
            .unwrap_or(self.client_auth)
    }

    /// The origins a browser is sent to for consent: the authorize endpoint's, or for a
    /// discovered provider its issuer's and the other hosts its document may name.
    pub fn authorization_origins(&self) -> Vec<String> {
        match &self.source {
            Source::Fixed(endpoints) => {
                vec![endpoints.authorize_url.origin().ascii_serialization()]
            }
            Source::Discovered { issuer, rules, .. } => {
                let mut origins = vec![issuer.origin().ascii_serialization()];
                origins.extend(rules.other_hosts.iter().map(|h| format!("https://{h}")));
                origins
            }
        }
    }

    /// The endpoints as configured and filled in (`{tenant}`, `{client_id}`); None for a
    /// provider whose endpoints are discovered at first use.
    pub fn fixed_endpoints(&self) -> Option<&Endpoints> {
        match &self.source {
            Source::Fixed(endpoints) => Some(endpoints),
            Source::Discovered { .. } => None,
        }
    }

    pub async fn endpoints(&self, http: &reqwest::Client) -> Result<&Endpoints, ProviderError> {
        match &self.source {
            Source::Fixed(endpoints) => Ok(endpoints),
            Source::Discovered {
                issuer,
                rules,
                cell,
            } => cell.get_or_try_init(|| discover(http, issuer, rules)).await,
        }
    }

    /// Whether the configuration holds everything a flow needs (no network call).
    pub fn configured(&self) -> bool {
        !self.client_id.is_empty()
    }
}

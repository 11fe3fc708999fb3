//! The flow engine: one connect flow, whatever the protocol. Starting stores a pending flow
//! (the hash of the state, the sealed secret that finishing needs) and gives the provider's
//! authorize URL; completing consumes that flow (this session's, this provider's, unexpired,
//! unused), checks `iss`, honours a provider error, and only then has the protocol adapter
//! exchange the code and read the identity. The steps return what happened; the recorder
//! (`record.rs`) writes analytics, metrics and audit once, at the end.
//!
//! Order of checks (docs/security.md): state before anything else, `iss` before the error
//! parameter, the exchange last.

use super::callback::CallbackParams;
use super::expected::Expected;
use super::record::{self, Steps};
use super::{oauth1, oauth2};
use crate::base::audit::Origin;
use crate::base::providers::{Protocol, Provider, ProviderError};
use crate::base::store::{self, flows::NewFlow};
use crate::base::vault::Binding;
use crate::domain::Ctx;
use app::model::{ConnectFailure, CurrentUser};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// A flow left unfinished for this long cannot be completed.
pub const FLOW_LIFETIME_MINUTES: i64 = 10;

/// Who runs the flow: the user, the browser session it is bound to, where the request came
/// from.
pub struct Who<'a> {
    /// The signed-in user (or the one a connect link names).
    pub user: &'a CurrentUser,
    /// The browser session's flow binding.
    pub session_binding: &'a str,
    /// Where the request came from.
    pub origin: &'a Origin,
}

/// Why a flow did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// OpenID discovery failed.
    #[error("the provider's endpoints could not be found")]
    Provider(#[from] ProviderError),
    /// The database failed.
    #[error("storage failed")]
    Db(#[from] sea_orm::DbErr),
    /// The provider's definition lacks what its protocol needs.
    #[error("this provider's protocol is not supported yet")]
    Unsupported,
    /// OAuth 1.0a: no request token.
    #[error("the provider refused a request token")]
    RequestToken,
    /// An administrator turned the provider off.
    #[error("an administrator turned this provider off")]
    Disabled,
}

/// A completed flow: where its user goes next, and the provider account now connected.
pub struct Completed {
    /// The flow's return path.
    pub return_to: String,
    /// The provider's id for the account (the connection is the user's for that account).
    pub account_id: String,
}

/// Why a flow did not complete: a [`ConnectFailure`], which the Connections page explains.
#[derive(Debug, thiserror::Error)]
#[error("the connect flow failed: {}", .0.code())]
pub struct CompleteError(pub ConnectFailure);

impl From<sea_orm::DbErr> for CompleteError {
    fn from(e: sea_orm::DbErr) -> Self {
        tracing::error!(error = %e, "database error while completing a flow");
        Self(ConnectFailure::Internal)
    }
}

/// What an adapter's start leg yields: the value the callback will carry back (its hash is
/// stored), the secret finishing needs (sealed in the pending flow), the URL to send the
/// browser to.
pub(super) struct Begun {
    pub state: SecretString,
    pub secret: SecretString,
    pub expected_issuer: Option<String>,
    pub authorize_url: Url,
}

/// What an adapter's exchange yields, ready to be saved.
pub struct Grant {
    /// The tokens.
    pub tokens: super::TokenSet,
    /// Seconds until the access token expires; None when it does not.
    pub expires_in: Option<i64>,
    /// As the provider reported them (any separator); None when it did not say.
    pub granted_scopes: Option<String>,
}

/// The vault fields of the secret a pending flow keeps: OAuth 2's PKCE verifier, OAuth
/// 1.0a's request-token secret.
pub const SECRET_FIELDS: [&str; 2] = ["pkce_verifier", "request_token_secret"];

fn secret_field(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::OAuth2 => SECRET_FIELDS[0],
        Protocol::OAuth1 => SECRET_FIELDS[1],
    }
}

/// `prompt=select_account`, beside any prompt already asked for (`consent`): one parameter
/// with space-delimited values, as Google and OpenID Connect Core §3.1.2.1 define it.
fn ask_for_account_picker(url: &mut Url) {
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let mut prompts = vec!["select_account".to_string()];
    for (_, value) in pairs.iter().filter(|(k, _)| k == "prompt") {
        prompts.extend(
            value
                .split(' ')
                .filter(|p| !p.is_empty() && *p != "select_account")
                .map(str::to_string),
        );
    }
    let mut query = url.query_pairs_mut();
    query.clear();
    for (key, value) in pairs.iter().filter(|(k, _)| k != "prompt") {
        query.append_pair(key, value);
    }
    query.append_pair("prompt", &prompts.join(" "));
}

fn flow_binding<'a>(flow_id: &'a str, user_id: &'a str, provider: &'a Provider) -> Binding<'a> {
    Binding {
        table: "pending_flows",
        row_id: flow_id,
        user_id,
        provider: &provider.service,
        field: secret_field(provider.protocol),
    }
}

/// Starts a connect flow; returns the provider's authorize URL. `another_account`: the user
/// adds a further account of a service they connected, so the provider is asked to show its
/// account picker where it has one.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn start(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    return_to: &str,
    expected: &Expected,
    another_account: bool,
) -> Result<Url, StartError> {
    if !crate::domain::provider_settings::is_enabled(ctx, &provider.service).await? {
        return Err(StartError::Disabled);
    }
    let redirect_uri = ctx.redirect_uri(&provider.service);
    let mut begun = match provider.protocol {
        Protocol::OAuth2 => oauth2::begin(ctx, provider, &redirect_uri).await?,
        Protocol::OAuth1 => oauth1::begin(ctx, provider, &redirect_uri).await?,
    };
    for (name, value) in expected.authorize_params(provider) {
        begun
            .authorize_url
            .query_pairs_mut()
            .append_pair(name, &value);
    }
    if another_account && provider.account_picker {
        ask_for_account_picker(&mut begun.authorize_url);
    }
    let flow_id = store::new_id();
    let binding = flow_binding(&flow_id, &who.user.id, provider);
    let flow = NewFlow {
        verifier_sealed: ctx
            .vault
            .seal(begun.secret.expose_secret().as_bytes(), &binding),
        id: flow_id,
        state_hash: store::digest(begun.state.expose_secret()),
        user_id: who.user.id.clone(),
        session_binding: who.session_binding.to_string(),
        provider: provider.service.clone(),
        expected_issuer: begun.expected_issuer,
        redirect_uri,
        return_to: return_to.to_string(),
        lifetime: chrono::Duration::minutes(FLOW_LIFETIME_MINUTES),
        expected_account: expected.to_stored(),
    };
    record::started(ctx, flow, who.origin).await?;
    Ok(begun.authorize_url)
}

/// A flow's end, and how long of it was spent waiting for the provider (the callback's
/// `Server-Timing`: the rest is the hub's own share).
pub struct Finished {
    /// Completed, or why not.
    pub outcome: Result<Completed, CompleteError>,
    /// Time spent waiting for the provider's answers.
    pub at_provider: std::time::Duration,
}

/// Completes a connect flow: where to send the browser back to, or why it failed.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn complete(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    params: CallbackParams,
) -> Finished {
    let mut steps = Steps::default();
    let result = run(ctx, who, provider, params, &mut steps).await;
    let at_provider = steps.at_provider;
    Finished {
        outcome: record::ended(ctx, who, provider, steps, result).await,
        at_provider,
    }
}

async fn run(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    params: CallbackParams,
    steps: &mut Steps,
) -> Result<(store::flows::Model, Grant, super::identity::Account), ConnectFailure> {
    // An OAuth 1.0a answer to an OAuth 2 flow (or the reverse) names no flow of ours.
    if params.oauth1 != (provider.protocol == Protocol::OAuth1) {
        return Err(ConnectFailure::InvalidState);
    }
    let flow = store::flows::consume(
        &ctx.db,
        &store::digest(&params.state),
        &who.user.id,
        who.session_binding,
        &provider.service,
        ctx.clock.now(),
    )
    .await
    .map_err(|e| CompleteError::from(e).0)?
    .ok_or(ConnectFailure::InvalidState)?;
    steps.returned(&flow, ctx.clock.now());

    if let Some(expected) = &flow.expected_issuer {
        if params.iss.as_deref() != Some(expected.as_str()) {
            return Err(ConnectFailure::IssuerMismatch);
        }
    }
    if let Some(error) = &params.error {
        return Err(match error.as_str() {
            "access_denied" => ConnectFailure::AccessDenied,
            _ => ConnectFailure::ProviderError,
        });
    }
    let code = params.code.as_ref().ok_or(ConnectFailure::ExchangeFailed)?;
    let secret = open_secret(ctx, &flow, provider)?;
    let endpoints = provider
        .endpoints(&ctx.http)
        .await
        .map_err(|_| ConnectFailure::ExchangeFailed)?;
    let asked = std::time::Instant::now();
    let grant = match provider.protocol {
        Protocol::OAuth2 => oauth2::exchange(ctx, provider, endpoints, &flow, code, secret).await,
        Protocol::OAuth1 => {
            oauth1::exchange(ctx, provider, endpoints, &params.state, code, secret).await
        }
    };
    steps.at_provider += asked.elapsed();
    let grant = grant?;
    steps.exchanged(ctx.clock.now());
    let asked = std::time::Instant::now();
    let account = super::who_am_i(ctx, provider, endpoints, &grant.tokens).await;
    steps.at_provider += asked.elapsed();
    let account = account.map_err(|_| ConnectFailure::IdentityFailed)?;
    let expected = Expected::from_stored(flow.expected_account.as_deref());
    if !expected.is_empty() && !expected.matches(&account) {
        super::expected::give_back(ctx, provider, &grant.tokens, &account)
            .await
            .map_err(|e| CompleteError::from(e).0)?;
        return Err(ConnectFailure::WrongAccount);
    }
    Ok((flow, grant, account))
}

/// The authorize URL's part that both protocols share: the scopes, in the provider's
/// parameter and separator, and its fixed extra parameters.
pub(super) fn scopes_and_params(
    query: &mut url::form_urlencoded::Serializer<'_, url::UrlQuery<'_>>,
    provider: &Provider,
) {
    if !provider.scopes.is_empty() {
        query.append_pair(
            &provider.scope_param,
            &provider.scopes.join(&provider.scope_separator),
        );
    }
    if !provider.bot_scopes.is_empty() {
        // Slack: bot scopes go in `scope`, comma-separated (the user's are in `user_scope`).
        query.append_pair(
            "scope",
            &provider.bot_scopes.join(&provider.scope_separator),
        );
    }
    for (key, value) in &provider.authorize_params {
        query.append_pair(key, value);
    }
}

/// Opens the secret the pending flow keeps (PKCE verifier, request-token secret).
fn open_secret(
    ctx: &Ctx,
    flow: &store::flows::Model,
    provider: &Provider,
) -> Result<SecretString, ConnectFailure> {
    let binding = flow_binding(&flow.id, &flow.user_id, provider);
    let plain = ctx
        .vault
        .open(&flow.verifier_sealed, &binding)
        .map_err(|e| {
            tracing::error!(error = %e, "a pending flow's secret did not open");
            ConnectFailure::Internal
        })?;
    String::from_utf8(plain.expose_secret().clone())
        .map(SecretString::from)
        .map_err(|_| ConnectFailure::Internal)
}

/// `return_to` may only be a relative same-origin path; anything else gets the default page.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    const DEFAULT: &str = "/connections";
    let Some(path) = candidate else {
        return DEFAULT.to_string();
    };
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        path.to_string()
    } else {
        DEFAULT.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_accepts_only_relative_paths() {
        assert_eq!(safe_return_to(Some("/connections?x=1")), "/connections?x=1");
        for bad in [
            "//evil.test",
            "/\\evil.test",
            "https:evil",
            "javascript:alert(1)",
            "x",
            "/a\\b",
            "/\n",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/connections", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/connections");
    }
}

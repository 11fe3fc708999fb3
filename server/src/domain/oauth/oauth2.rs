//! The OAuth 2 adapter of the flow engine: the authorize URL with a fresh state and PKCE
//! challenge, the code exchange with the verifier, the who-am-I call with the access token.
//! The provider's quirks come from its definition (scope parameter and separator, extra
//! authorize parameters, client authentication, token format, identity call).

use super::flow::{self, Begun, Grant, StartError};
use super::identity::{self, Account};
use super::{exchange, TokenSet};
use crate::base::providers::{Endpoints, Identity, Provider};
use crate::base::store::flows;
use crate::domain::Ctx;
use app::model::ConnectFailure;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use secrecy::{ExposeSecret, SecretString};

/// The start leg: a fresh state (the value the callback brings back) and PKCE verifier (the
/// secret the pending flow keeps), and the authorize URL.
pub(super) async fn begin(
    ctx: &Ctx,
    provider: &Provider,
    redirect_uri: &str,
) -> Result<Begun, StartError> {
    let endpoints = provider.endpoints(&ctx.http).await?;
    let csrf = CsrfToken::new_random_len(32);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
    let mut url = endpoints.authorize_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", csrf.secret());
        flow::scopes_and_params(&mut query, provider);
        if provider.pkce {
            query
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", challenge.method().as_str());
        }
        // OpenID Connect Core §11: offline_access is granted only with an explicit consent
        // prompt (for a generic provider, whether or not it names its issuer).
        if provider.consent_for_offline_access
            && provider.scopes.iter().any(|s| s == "offline_access")
        {
            query.append_pair("prompt", "consent");
        }
    }
    Ok(Begun {
        state: SecretString::from(csrf.secret().clone()),
        secret: SecretString::from(verifier.secret().clone()),
        expected_issuer: endpoints.issuer.clone(),
        authorize_url: url,
    })
}

/// The exchange leg: the code, the redirect URI the flow used and the PKCE verifier.
pub(super) async fn exchange(
    ctx: &Ctx,
    provider: &Provider,
    endpoints: &Endpoints,
    flow: &flows::Model,
    code: &AuthorizationCode,
    verifier: SecretString,
) -> Result<Grant, ConnectFailure> {
    let verifier = PkceCodeVerifier::new(verifier.expose_secret().to_string());
    let grant = exchange::exchange_code(
        &ctx.http,
        provider,
        endpoints,
        code,
        &flow.redirect_uri,
        provider.pkce.then_some(&verifier),
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "code exchange failed");
        ConnectFailure::ExchangeFailed
    })?;
    Ok(Grant {
        tokens: grant.tokens,
        expires_in: grant.expires_in,
        granted_scopes: grant.scope,
    })
}

/// The identity leg: the provider's who-am-I call with the new access token.
pub(super) async fn identify(
    ctx: &Ctx,
    provider: &Provider,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Result<Account, identity::IdentityError> {
    if endpoints.userinfo_url.is_none() && provider.identity == Identity::OidcUserinfo {
        // A plain OAuth 2 provider configured without a userinfo endpoint: connected, with
        // no account name to show (the page says "Connected").
        return Ok(Account {
            id: String::new(),
            name: String::new(),
            email: None,
            scopes: None,
        });
    }
    identity::who_am_i(&ctx.http, provider, endpoints, &tokens.access_token).await
}

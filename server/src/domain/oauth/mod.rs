//! Connect flows: the engine (`flow`) with its two protocol adapters (`oauth2`, `oauth1`)
//! and its recorder (`record`); the pieces they use (the callback's parameters, the code
//! exchange, the who-am-I call, OAuth 1.0a signing) and revocation at the provider.

pub mod callback;
pub mod exchange;
pub mod expected;
pub mod flow;
pub mod identity;
pub mod oauth1;
pub mod oauth1_sign;
mod oauth2;
mod record;
pub mod revoke;

use ::oauth2::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The tokens a connection holds. Debug prints `[redacted]` (oauth2's secret types).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token, where the provider gives one.
    pub refresh_token: Option<RefreshToken>,
    /// OAuth 1.0a: the token secret that signs requests with the access token.
    #[serde(default)]
    pub token_secret: Option<AccessToken>,
    /// Slack: the bot token of the same installation, when bot scopes were asked for too
    /// (the access token above is then the user's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<AccessToken>,
}

/// The account these tokens belong to, by the provider's who-am-I call in its protocol (a
/// bearer token, or an OAuth 1.0a signature). `Refused` means the provider no longer honours
/// the token: the liveness job turns such a connection to needs_reauth.
pub async fn who_am_i(
    ctx: &crate::domain::Ctx,
    provider: &crate::base::providers::Provider,
    endpoints: &crate::base::providers::Endpoints,
    tokens: &TokenSet,
) -> Result<identity::Account, identity::IdentityError> {
    use crate::base::providers::Protocol;
    match provider.protocol {
        Protocol::OAuth2 => oauth2::identify(ctx, provider, endpoints, tokens).await,
        Protocol::OAuth1 => oauth1::identify(ctx, provider, endpoints, tokens).await,
    }
}

/// The first leg of single sign-on to the dashboard (domain::sso): the connect flow's own
/// (state, PKCE, the provider's parameters), whose secrets stay with the caller.
pub struct SignInStart {
    /// Where to send the browser.
    pub authorize_url: url::Url,
    /// The value the callback must bring back.
    pub state: secrecy::SecretString,
    /// The PKCE verifier the exchange needs.
    pub verifier: secrecy::SecretString,
    /// The `iss` the callback must carry (RFC 9207), when the provider sends one.
    pub issuer: Option<String>,
}

/// Starts a sign-in through an OpenID provider.
pub async fn begin_sign_in(
    ctx: &crate::domain::Ctx,
    provider: &crate::base::providers::Provider,
    redirect_uri: &str,
) -> Result<SignInStart, flow::StartError> {
    let begun = oauth2::begin(ctx, provider, redirect_uri).await?;
    Ok(SignInStart {
        authorize_url: begun.authorize_url,
        state: begun.state,
        verifier: begun.secret,
        issuer: begun.expected_issuer,
    })
}

/// The one HTTP client for provider calls: no redirects (SSRF), bounded time, TLS verified.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("atom-connect/", env!("CARGO_PKG_VERSION")))
        .https_only(false)
        .build()
        .expect("the HTTP client configuration is static and valid")
}

/// A provider's error code, kept only if it looks like one (never free text from a provider).
pub fn safe_code(code: &str) -> String {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if ok {
        code.to_string()
    } else {
        "unrecognised".to_string()
    }
}

/// RFC 6749 section 2.3.1: Basic credentials are form-encoded before base64.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub(crate) fn basic_auth(
    request: reqwest::RequestBuilder,
    client_id: &str,
    secret: &secrecy::SecretString,
) -> reqwest::RequestBuilder {
    use secrecy::ExposeSecret;
    request.basic_auth(
        form_encode(client_id),
        Some(form_encode(secret.expose_secret())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_codes_are_kept_only_when_code_shaped() {
        assert_eq!(safe_code("bad_verification_code"), "bad_verification_code");
        assert_eq!(safe_code("<b>evil</b>"), "unrecognised");
        assert_eq!(safe_code(&"a".repeat(65)), "unrecognised");
    }

    #[test]
    fn token_sets_never_print_their_tokens() {
        let set = TokenSet {
            access_token: AccessToken::new("gho_topsecret".into()),
            refresh_token: Some(RefreshToken::new("ghr_topsecret".into())),
            token_secret: None,
            bot_token: Some(AccessToken::new("xoxb-topsecret".into())),
        };
        assert!(!format!("{set:?}").contains("topsecret"));
    }
}

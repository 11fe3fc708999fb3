//! OAuth 1.0a (RFC 5849), three-legged, as Trello speaks it: a signed request-token call with
//! `oauth_callback`, the user's consent at the provider, a signed access-token exchange with
//! `oauth_verifier`, then signed API calls. The HMAC-SHA1 `Authorization` header comes from
//! the `oauth1-request` crate. Token secrets are never put in a URL nor logged.

use super::flow::{self, Begun, Grant, StartError};
use super::identity::{read_identity, refused_by_status, Account, IdentityError};
use super::oauth1_sign::{read_answer, Signing, TokenCredentials};
use super::TokenSet;
use crate::base::providers::{Endpoints, Identity, Provider};
use crate::domain::Ctx;
use app::model::{ConnectFailure, Revocation};
use oauth2::{AccessToken, AuthorizationCode};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// The start leg: temporary credentials from a signed request-token call (with
/// `oauth_callback`); the request token plays the state (its hash finds the flow), its secret
/// is what finishing needs.
pub(super) async fn begin(
    ctx: &Ctx,
    provider: &Provider,
    redirect_uri: &str,
) -> Result<Begun, StartError> {
    let endpoints = provider.endpoints(&ctx.http).await?;
    let url = endpoints
        .request_token_url
        .clone()
        .ok_or(StartError::Unsupported)?;
    let mut signing = Signing::new(provider, None);
    signing.callback = Some(redirect_uri);
    let header = signing.header("POST", &url);
    let response = ctx
        .http
        .post(url)
        .header(AUTHORIZATION, header)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "request token call failed");
            StartError::RequestToken
        })?;
    let answer = read_answer(response)
        .await
        .filter(|a| a.callback_confirmed)
        .ok_or(StartError::RequestToken)?;
    let mut url = endpoints.authorize_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("oauth_token", answer.token.secret());
        flow::scopes_and_params(&mut query, provider);
    }
    Ok(Begun {
        state: SecretString::from(answer.token.secret().clone()),
        secret: answer.secret,
        expected_issuer: None,
        authorize_url: url,
    })
}

/// The exchange leg: the verifier and the request token, signed with the request-token
/// secret, for token credentials (which do not expire).
pub(super) async fn exchange(
    ctx: &Ctx,
    provider: &Provider,
    endpoints: &Endpoints,
    request_token: &str,
    verifier: &AuthorizationCode,
    secret: SecretString,
) -> Result<Grant, ConnectFailure> {
    let request_token = TokenCredentials {
        token: request_token,
        secret: secret.expose_secret(),
    };
    let mut signing = Signing::new(provider, Some(request_token));
    signing.verifier = Some(verifier.secret());
    let header = signing.header("POST", &endpoints.token_url);
    let response = ctx
        .http
        .post(endpoints.token_url.clone())
        .header(AUTHORIZATION, header)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "access token call failed");
            ConnectFailure::ExchangeFailed
        })?;
    let answer = read_answer(response)
        .await
        .ok_or(ConnectFailure::ExchangeFailed)?;
    Ok(Grant {
        tokens: TokenSet {
            access_token: answer.token,
            refresh_token: None,
            token_secret: Some(AccessToken::new(answer.secret.expose_secret().to_string())),
            bot_token: None,
        },
        expires_in: None,
        granted_scopes: None,
    })
}

fn token_credentials(tokens: &TokenSet) -> Option<TokenCredentials<'_>> {
    Some(TokenCredentials {
        token: tokens.access_token.secret(),
        secret: tokens.token_secret.as_ref()?.secret(),
    })
}

/// The identity leg: Trello's `GET /1/members/me`, signed with the access token.
pub(super) async fn identify(
    ctx: &Ctx,
    provider: &Provider,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Result<Account, IdentityError> {
    let http = &ctx.http;
    let mut url = endpoints
        .userinfo_url
        .clone()
        .ok_or(IdentityError::NoEndpoint)?;
    url.query_pairs_mut()
        .append_pair("fields", "fullName,id,username");
    let header = Signing::new(provider, token_credentials(tokens)).header("GET", &url);
    let response = http
        .get(url)
        .header(AUTHORIZATION, header)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "identity request failed");
            IdentityError::Failed
        })?;
    // Trello answers 401 "invalid token" for a token the user revoked.
    refused_by_status(response.status())?;
    let body: serde_json::Value = crate::base::bounded::json(response)
        .await
        .map_err(|_| IdentityError::Failed)?;
    let (id, name) = read_identity(Identity::TrelloMember, &body).ok_or(IdentityError::Failed)?;
    Ok(Account {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        email: None,
        scopes: None,
    })
}

/// Where the token goes in a revocation URL: at `{token}`, or, for a configured URL without
/// one (`…/1/tokens`), appended as its last segment.
fn token_path(path: &str, token: &str) -> String {
    let path = path.replace("%7Btoken%7D", "{token}");
    if path.contains("{token}") {
        path.replace("{token}", token)
    } else {
        format!("{}/{token}", path.trim_end_matches('/'))
    }
}

/// Trello's `DELETE /1/tokens/{token}`, signed with that token. Trello's API names the token
/// in the path (unavoidable, and it is useless without the consumer and token secrets); the
/// token secret never leaves the signature.
pub async fn revoke(
    http: &reqwest::Client,
    provider: &Provider,
    mut url: Url,
    tokens: &TokenSet,
) -> Revocation {
    let token = tokens.access_token.secret();
    let Some(credentials) = token_credentials(tokens) else {
        return Revocation::RevocationFailed;
    };
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Revocation::RevocationFailed;
    }
    url.set_path(&token_path(url.path(), token));
    let header = Signing::new(provider, Some(credentials)).header("DELETE", &url);
    match http.delete(url).header(AUTHORIZATION, header).send().await {
        Ok(r) if r.status().is_success() => Revocation::Revoked,
        Ok(r) => {
            tracing::warn!(status = %r.status(), "revocation refused");
            Revocation::RevocationFailed
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "revocation request failed");
            Revocation::RevocationFailed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::token_path;

    #[test]
    fn the_token_goes_where_the_revocation_url_says_or_last() {
        assert_eq!(token_path("/1/tokens/{token}", "abc"), "/1/tokens/abc");
        assert_eq!(token_path("/1/tokens/%7Btoken%7D", "abc"), "/1/tokens/abc");
        assert_eq!(token_path("/1/tokens", "abc"), "/1/tokens/abc");
        assert_eq!(token_path("/1/tokens/", "abc"), "/1/tokens/abc");
    }
}

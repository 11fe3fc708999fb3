//! OAuth 1.0a (RFC 5849), three-legged, as Trello speaks it: a signed request-token call with
//! `oauth_callback`, the user's consent at the provider, a signed access-token exchange with
//! `oauth_verifier`, then signed API calls. The HMAC-SHA1 `Authorization` header comes from
//! the `oauth1-request` crate. Token secrets are never put in a URL nor logged.

use super::callback::CallbackParams;
use super::complete::{self, CompleteError, Outcome};
use super::identity::{read_identity, Account};
use super::oauth1_sign::{read_answer, Signing, TokenCredentials};
use super::revoke::Revoked;
use super::start::{StartError, FLOW_LIFETIME_MINUTES};
use super::TokenSet;
use crate::audit::Origin;
use crate::providers::{Endpoints, Identity, Provider};
use crate::state::AppState;
use crate::store::{self, flows::NewFlow};
use crate::vault::Binding;
use app::model::CurrentUser;
use oauth2::AccessToken;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// The vault field of the request-token secret kept in `pending_flows.verifier_sealed`.
const SECRET_FIELD: &str = "request_token_secret";

fn secret_binding<'a>(flow_id: &'a str, user_id: &'a str, provider: &'a str) -> Binding<'a> {
    Binding {
        table: "pending_flows",
        row_id: flow_id,
        user_id,
        provider,
        field: SECRET_FIELD,
    }
}

/// Temporary credentials, a pending flow like OAuth 2's (the request token's hash plays the
/// state, its secret is sealed), then the provider's authorize URL.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn start(
    state: &AppState,
    user: &CurrentUser,
    session_binding: &str,
    provider: &Provider,
    return_to: &str,
    origin: &Origin,
) -> Result<Url, StartError> {
    let endpoints = provider.endpoints(&state.http).await?;
    let url = endpoints
        .request_token_url
        .clone()
        .ok_or(StartError::Unsupported)?;
    let redirect_uri = state.config.redirect_uri(&provider.service);
    let mut signing = Signing::new(provider, None);
    signing.callback = Some(&redirect_uri);
    let header = signing.header("POST", &url);
    let response = state
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

    let flow_id = store::new_id();
    let sealed = state.vault.seal(
        answer.secret.expose_secret().as_bytes(),
        &secret_binding(&flow_id, &user.id, &provider.service),
    );
    let flow = NewFlow {
        id: flow_id.clone(),
        state_hash: store::digest(answer.token.secret()),
        user_id: user.id.clone(),
        session_binding: session_binding.to_string(),
        provider: provider.service.clone(),
        verifier_sealed: sealed,
        expected_issuer: None,
        redirect_uri,
        return_to: return_to.to_string(),
        lifetime: chrono::Duration::minutes(FLOW_LIFETIME_MINUTES),
    };
    super::start::save_pending(state, flow, origin).await?;

    let mut url = endpoints.authorize_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("oauth_token", answer.token.secret());
        if !provider.scopes.is_empty() {
            query.append_pair(
                &provider.scope_param,
                &provider.scopes.join(&provider.scope_separator),
            );
        }
        for (key, value) in &provider.authorize_params {
            query.append_pair(key, value);
        }
    }
    Ok(url)
}

/// The callback leg: consume the flow (same session, unexpired, single use), then exchange
/// the verifier for token credentials, read the identity and save the connection.
pub async fn complete(
    state: &AppState,
    user: &CurrentUser,
    session_binding: &str,
    provider: &Provider,
    params: CallbackParams,
    origin: &Origin,
    flow_id: &mut Option<String>,
) -> Result<String, CompleteError> {
    if !params.oauth1 {
        return Err(CompleteError::InvalidState);
    }
    let flow =
        complete::consume_flow(state, user, session_binding, provider, &params, flow_id).await?;
    if params.error.is_some() {
        return Err(CompleteError::Denied("access_denied"));
    }
    let verifier = params.code.ok_or(CompleteError::Exchange)?;
    let secret = SecretString::from(complete::open_flow_secret(state, &flow, SECRET_FIELD)?);

    let endpoints = provider
        .endpoints(&state.http)
        .await
        .map_err(|_| CompleteError::Exchange)?;
    let request_token = TokenCredentials {
        token: &params.state,
        secret: secret.expose_secret(),
    };
    let mut signing = Signing::new(provider, Some(request_token));
    signing.verifier = Some(verifier.secret());
    let header = signing.header("POST", &endpoints.token_url);
    let response = state
        .http
        .post(endpoints.token_url.clone())
        .header(AUTHORIZATION, header)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e.without_url(), "access token call failed");
            CompleteError::Exchange
        })?;
    let answer = read_answer(response).await.ok_or(CompleteError::Exchange)?;
    complete::exchanged(state, &flow).await;
    let tokens = TokenSet {
        access_token: answer.token,
        refresh_token: None,
        token_secret: Some(AccessToken::new(answer.secret.expose_secret().to_string())),
    };
    let account = who_am_i(&state.http, provider, endpoints, &tokens)
        .await
        .ok_or(CompleteError::Identity)?;
    let outcome = Outcome {
        tokens: &tokens,
        expires_in: None,
        granted_scopes: None,
        account,
    };
    complete::save_connection(state, user, provider, outcome, origin).await?;
    crate::metrics::flow_duration(&provider.service, flow.created_at);
    Ok(flow.return_to)
}

fn token_credentials(tokens: &TokenSet) -> Option<TokenCredentials<'_>> {
    Some(TokenCredentials {
        token: tokens.access_token.secret(),
        secret: tokens.token_secret.as_ref()?.secret(),
    })
}

/// Trello's `GET /1/members/me`, signed with the access token.
async fn who_am_i(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Option<Account> {
    let mut url = endpoints.userinfo_url.clone()?;
    url.query_pairs_mut()
        .append_pair("fields", "fullName,id,username");
    let header = Signing::new(provider, token_credentials(tokens)).header("GET", &url);
    let response = http
        .get(url)
        .header(AUTHORIZATION, header)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| tracing::warn!(error = %e.without_url(), "identity request failed"))
        .ok()?;
    if response.status() != reqwest::StatusCode::OK {
        tracing::warn!(status = %response.status(), "identity request refused");
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    let (id, name) = read_identity(Identity::TrelloMember, &body)?;
    Some(Account {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        scopes: None,
    })
}

/// Trello's `DELETE /1/tokens/{token}`, signed with that token. Trello's API names the token
/// in the path (unavoidable, and it is useless without the consumer and token secrets); the
/// token secret never leaves the signature.
pub async fn revoke(
    http: &reqwest::Client,
    provider: &Provider,
    mut url: Url,
    tokens: &TokenSet,
) -> Revoked {
    let token = tokens.access_token.secret();
    let Some(credentials) = token_credentials(tokens) else {
        return Revoked::Failed;
    };
    let path = url.path().replace("%7Btoken%7D", "{token}");
    if !path.contains("{token}") || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Revoked::Failed;
    }
    url.set_path(&path.replace("{token}", token));
    let header = Signing::new(provider, Some(credentials)).header("DELETE", &url);
    match http.delete(url).header(AUTHORIZATION, header).send().await {
        Ok(r) if r.status().is_success() => Revoked::Yes,
        Ok(r) => {
            tracing::warn!(status = %r.status(), "revocation refused");
            Revoked::Failed
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "revocation request failed");
            Revoked::Failed
        }
    }
}

//! Starting a connect flow: fresh state and PKCE verifier, stored server-side, then the URL.

use crate::audit::{Event, Kind, Origin};
use crate::providers::Provider;
use crate::state::AppState;
use crate::store::{self, flows::NewFlow};
use crate::vault::Binding;
use app::model::CurrentUser;
use oauth2::{CsrfToken, PkceCodeChallenge};
use sea_orm::TransactionTrait;
use url::Url;

/// A flow left unfinished for this long cannot be completed.
pub const FLOW_LIFETIME_MINUTES: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the provider's endpoints could not be found")]
    Provider(#[from] crate::providers::ProviderError),
    #[error("storage failed")]
    Db(#[from] sea_orm::DbErr),
    #[error("this provider's protocol is not supported yet")]
    Unsupported,
    #[error("the provider refused a request token")]
    RequestToken,
    #[error("an administrator turned this provider off")]
    Disabled,
}

#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn start(
    state: &AppState,
    user: &CurrentUser,
    session_binding: &str,
    provider: &Provider,
    return_to: &str,
    origin: &Origin,
) -> Result<Url, StartError> {
    if !store::provider_settings::is_enabled(&state.db, &provider.service).await? {
        return Err(StartError::Disabled);
    }
    if provider.protocol == crate::providers::Protocol::OAuth1 {
        return super::oauth1::start(state, user, session_binding, provider, return_to, origin)
            .await;
    }
    let endpoints = provider.endpoints(&state.http).await?;
    let csrf = CsrfToken::new_random_len(32);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
    let flow_id = store::new_id();
    let binding = Binding {
        table: "pending_flows",
        row_id: &flow_id,
        user_id: &user.id,
        provider: &provider.service,
        field: "pkce_verifier",
    };
    let redirect_uri = state.config.redirect_uri(&provider.service);
    let flow = NewFlow {
        id: flow_id.clone(),
        state_hash: store::digest(csrf.secret()),
        user_id: user.id.clone(),
        session_binding: session_binding.to_string(),
        provider: provider.service.clone(),
        verifier_sealed: state.vault.seal(verifier.secret().as_bytes(), &binding),
        expected_issuer: endpoints.issuer.clone(),
        redirect_uri: redirect_uri.clone(),
        return_to: return_to.to_string(),
        lifetime: chrono::Duration::minutes(FLOW_LIFETIME_MINUTES),
    };
    save_pending(state, flow, origin).await?;

    let mut url = endpoints.authorize_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", csrf.secret());
        if !provider.scopes.is_empty() {
            query.append_pair(
                &provider.scope_param,
                &provider.scopes.join(&provider.scope_separator),
            );
        }
        for (key, value) in &provider.authorize_params {
            query.append_pair(key, value);
        }
        if provider.pkce {
            query
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", challenge.method().as_str());
        }
        // OpenID Connect grants offline_access only with an explicit consent prompt.
        if endpoints.issuer.is_some() && provider.scopes.iter().any(|s| s == "offline_access") {
            query.append_pair("prompt", "consent");
        }
    }
    Ok(url)
}

/// Stores a pending flow with its `connection.connect_started` audit event, in one transaction
/// (OAuth 2 and OAuth 1.0a flows alike).
pub(crate) async fn save_pending(
    state: &AppState,
    flow: NewFlow,
    origin: &Origin,
) -> Result<(), sea_orm::DbErr> {
    crate::metrics::flow(&flow.provider, "started", "none");
    let event = Event::new(Kind::ConnectStarted, origin)
        .by(&flow.user_id)
        .provider(&flow.provider);
    let txn = state.db.begin().await?;
    store::flow_stats::started(&txn, &flow.id, &flow.provider).await?;
    store::flows::insert(&txn, flow).await?;
    store::audit::append(&txn, event).await?;
    txn.commit().await
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

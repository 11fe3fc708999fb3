//! Completing a connect flow. Order (SECURITY.md 6): consume the state (this session's, this
//! provider's, unexpired, unused), check `iss`, honour a provider error, and only then exchange
//! the code, read the identity, seal the tokens and save the connection with its audit event.

use super::callback::CallbackParams;
use super::identity::Account;
use super::{exchange, identity, TokenSet};
use crate::audit::{Event, Kind, Origin};
use crate::providers::{Protocol, Provider};
use crate::state::AppState;
use crate::store::flow_stats::Step;
use crate::store::{self, connections};
use crate::vault::Binding;
use app::model::CurrentUser;
use oauth2::PkceCodeVerifier;
use sea_orm::TransactionTrait;
use secrecy::ExposeSecret;

#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    #[error("unknown, expired, reused or foreign state")]
    InvalidState,
    #[error("the authorization response came from an unexpected issuer")]
    IssuerMismatch,
    #[error("the provider reported an error")]
    Denied(&'static str),
    #[error("the code exchange failed")]
    Exchange,
    #[error("the identity call failed")]
    Identity,
    #[error("internal error")]
    Internal,
}

impl CompleteError {
    /// The fixed code the Connections page turns into a human message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidState => "invalid_state",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::Denied(code) => code,
            Self::Exchange => "exchange_failed",
            Self::Identity => "identity_failed",
            Self::Internal => "internal",
        }
    }
}

impl From<sea_orm::DbErr> for CompleteError {
    fn from(e: sea_orm::DbErr) -> Self {
        tracing::error!(error = %e, "database error while completing a flow");
        Self::Internal
    }
}

/// Returns the path to send the browser back to.
#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn complete(
    state: &AppState,
    user: &CurrentUser,
    session_binding: &str,
    provider: &Provider,
    params: CallbackParams,
    origin: &Origin,
) -> Result<String, CompleteError> {
    let mut flow_id = None;
    let result = run(
        state,
        user,
        session_binding,
        provider,
        params,
        origin,
        &mut flow_id,
    )
    .await;
    if let Some(id) = flow_id {
        let reason = result.as_ref().err().map(CompleteError::code);
        record(store::flow_stats::finished(&state.db, &id, reason).await);
    }
    match &result {
        Ok(_) => crate::metrics::flow(&provider.service, "completed", "none"),
        Err(error) => crate::metrics::flow(&provider.service, "failed", error.code()),
    }
    if let Err(error) = &result {
        let kind = match error {
            CompleteError::InvalidState | CompleteError::IssuerMismatch => Kind::StateRejected,
            _ => Kind::ConnectFailed,
        };
        let event = Event::new(kind, origin)
            .by(&user.id)
            .provider(&provider.service);
        if let Err(e) = store::audit::append(&state.db, event.failed(error.code())).await {
            tracing::error!(error = %e, "could not write the audit event");
        }
    }
    result
}

async fn run(
    state: &AppState,
    user: &CurrentUser,
    session_binding: &str,
    provider: &Provider,
    params: CallbackParams,
    origin: &Origin,
    flow_id: &mut Option<String>,
) -> Result<String, CompleteError> {
    if provider.protocol == Protocol::OAuth1 {
        return super::oauth1::complete(
            state,
            user,
            session_binding,
            provider,
            params,
            origin,
            flow_id,
        )
        .await;
    }
    if params.oauth1 {
        return Err(CompleteError::InvalidState);
    }
    let flow = consume_flow(state, user, session_binding, provider, &params, flow_id).await?;

    if let Some(expected) = &flow.expected_issuer {
        if params.iss.as_deref() != Some(expected.as_str()) {
            return Err(CompleteError::IssuerMismatch);
        }
    }
    if let Some(error) = &params.error {
        return Err(CompleteError::Denied(match error.as_str() {
            "access_denied" => "access_denied",
            _ => "provider_error",
        }));
    }
    let code = params.code.ok_or(CompleteError::Exchange)?;

    let verifier = PkceCodeVerifier::new(open_flow_secret(state, &flow, "pkce_verifier")?);

    let endpoints = provider
        .endpoints(&state.http)
        .await
        .map_err(|_| CompleteError::Exchange)?;
    let grant = exchange::exchange_code(
        &state.http,
        provider,
        endpoints,
        &code,
        &flow.redirect_uri,
        provider.pkce.then_some(&verifier),
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "code exchange failed");
        CompleteError::Exchange
    })?;
    exchanged(state, &flow).await;
    let account = identity::who_am_i(&state.http, provider, endpoints, &grant.tokens.access_token)
        .await
        .map_err(|_| CompleteError::Identity)?;

    let outcome = Outcome {
        tokens: &grant.tokens,
        expires_in: grant.expires_in,
        granted_scopes: grant.scope.clone().or(account.scopes.clone()),
        account,
    };
    save_connection(state, user, provider, outcome, origin).await?;
    crate::metrics::flow_duration(&provider.service, flow.created_at);
    Ok(flow.return_to)
}

/// What a completed flow yields, ready to be saved.
pub struct Outcome<'a> {
    pub tokens: &'a TokenSet,
    pub expires_in: Option<i64>,
    /// As the provider reported them (any separator); the requested scopes when absent.
    pub granted_scopes: Option<String>,
    pub account: Account,
}

/// Seals the tokens and saves (or replaces) the connection with its audit event, atomically.
pub async fn save_connection(
    state: &AppState,
    user: &CurrentUser,
    provider: &Provider,
    outcome: Outcome<'_>,
    origin: &Origin,
) -> Result<(), CompleteError> {
    let Outcome {
        tokens,
        expires_in,
        granted_scopes,
        account,
    } = outcome;
    let now = chrono::Utc::now();
    let existing = connections::find(&state.db, &user.id, &provider.service).await?;
    let id = existing
        .as_ref()
        .map(|c| c.id.clone())
        .unwrap_or_else(store::new_id);
    let granted = granted_scopes.map(|s| normalise_scopes(&s));
    let row = connections::Model {
        tokens_sealed: seal_tokens(state, &id, &user.id, &provider.service, tokens)?,
        id,
        user_id: user.id.clone(),
        provider: provider.service.clone(),
        status: connections::CONNECTED.to_string(),
        requested_scopes: provider.scopes.join(" "),
        granted_scopes: granted.unwrap_or_else(|| provider.scopes.join(" ")),
        expires_at: expires_in.map(|s| now + chrono::Duration::seconds(s)),
        account_id: account.id,
        account_name: account.name,
        created_at: existing.as_ref().map(|c| c.created_at).unwrap_or(now),
        updated_at: now,
        last_refreshed_at: None,
    };
    let txn = state.db.begin().await?;
    connections::upsert(&txn, row).await?;
    let event = Event::new(Kind::ConnectSucceeded, origin)
        .by(&user.id)
        .provider(&provider.service);
    store::audit::append(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Consumes the pending flow the callback's state names: this user's, this session's, this
/// provider's, unexpired and unused; anything else is an invalid state.
pub(crate) async fn consume_flow(
    state: &AppState,
    user: &CurrentUser,
    session_binding: &str,
    provider: &Provider,
    params: &CallbackParams,
    flow_id: &mut Option<String>,
) -> Result<store::flows::Model, CompleteError> {
    let state_hash = store::digest(&params.state);
    let flow = store::flows::consume(
        &state.db,
        &state_hash,
        &user.id,
        session_binding,
        &provider.service,
    )
    .await?
    .ok_or(CompleteError::InvalidState)?;
    let returned = store::flow_stats::step(&state.db, &flow.id, Step::Returned).await;
    record(returned);
    *flow_id = Some(flow.id.clone());
    Ok(flow)
}

/// The provider answered the exchange: a step of the flow's analytics.
pub(crate) async fn exchanged(state: &AppState, flow: &store::flows::Model) {
    let result = store::flow_stats::step(&state.db, &flow.id, Step::Exchanged).await;
    record(result);
}

/// Analytics never fail a flow: a failed write is logged and the flow goes on.
fn record(result: Result<(), sea_orm::DbErr>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record flow analytics");
    }
}

/// Opens a secret a pending flow holds (PKCE verifier, OAuth 1 request-token secret).
pub(crate) fn open_flow_secret(
    state: &AppState,
    flow: &store::flows::Model,
    field: &str,
) -> Result<String, CompleteError> {
    let binding = Binding {
        table: "pending_flows",
        row_id: &flow.id,
        user_id: &flow.user_id,
        provider: &flow.provider,
        field,
    };
    let plain = state
        .vault
        .open(&flow.verifier_sealed, &binding)
        .map_err(|e| {
            tracing::error!(error = %e, field, "a pending flow's secret did not open");
            CompleteError::Internal
        })?;
    String::from_utf8(plain.expose_secret().clone()).map_err(|_| CompleteError::Internal)
}

pub fn seal_tokens(
    state: &AppState,
    connection_id: &str,
    user_id: &str,
    provider: &str,
    tokens: &TokenSet,
) -> Result<Vec<u8>, CompleteError> {
    let plain = serde_json::to_vec(tokens).map_err(|_| CompleteError::Internal)?;
    let binding = token_binding(connection_id, user_id, provider);
    Ok(state.vault.seal(&plain, &binding))
}

pub fn token_binding<'a>(
    connection_id: &'a str,
    user_id: &'a str,
    provider: &'a str,
) -> Binding<'a> {
    Binding {
        table: "connections",
        row_id: connection_id,
        user_id,
        provider,
        field: "tokens",
    }
}

/// Scopes stored space-separated whatever the provider's separator (GitHub uses commas).
fn normalise_scopes(raw: &str) -> String {
    raw.split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

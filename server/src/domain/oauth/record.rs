//! The flow recorder: the one place a flow's analytics, metrics and audit events are written.
//! A start is its pending flow and its audit event (through the group commit); its analytics
//! row is written once, at its end, with the connection (when there is one) in one
//! transaction. Until then the pending flow is what the overview counts. The events that
//! belong to no transaction (a start, a failure, a replaced grant's revocation) go through
//! the group commit (`ctx.audit`), which answers once they are committed.

use super::flow::{CompleteError, Completed, Grant, Who};
use super::identity::Account;
use crate::base::audit::{Event, Kind, Origin};
use crate::base::metrics;
use crate::base::providers::Provider;
use crate::base::store::{self, flow_stats, flows};
use crate::domain::connections::{self, NewConnection};
use crate::domain::Ctx;
use app::model::ConnectFailure;
use chrono::{DateTime, Utc};

/// When each step of a flow that came back happened.
#[derive(Default)]
pub(super) struct Steps {
    /// The pending flow the callback consumed (its id, when it started), and when.
    returned: Option<(String, DateTime<Utc>, DateTime<Utc>)>,
    exchanged_at: Option<DateTime<Utc>>,
    /// Time spent waiting for the provider's answers (the exchange, the identity).
    pub at_provider: std::time::Duration,
}

impl Steps {
    /// The browser came back and consumed the flow.
    pub fn returned(&mut self, flow: &flows::Model, at: DateTime<Utc>) {
        self.returned = Some((flow.id.clone(), flow.created_at, at));
    }

    /// The provider answered the exchange.
    pub fn exchanged(&mut self, at: DateTime<Utc>) {
        self.exchanged_at = Some(at);
    }

    fn end(
        &self,
        at: DateTime<Utc>,
        failure: Option<ConnectFailure>,
    ) -> Option<(&str, flow_stats::Ended<'static>)> {
        let (id, started_at, returned_at) = self.returned.as_ref()?;
        Some((
            id,
            flow_stats::Ended {
                started_at: *started_at,
                returned_at: *returned_at,
                exchanged_at: self.exchanged_at,
                finished_at: at,
                reason: failure.map(ConnectFailure::code),
            },
        ))
    }
}

/// A flow started: the pending flow (one statement), and its audit event through the group
/// commit; the authorize URL is given only once both are written. Its analytics row waits
/// for its end (issue 19: a start was a transaction of three inserts).
pub(super) async fn started(
    ctx: &Ctx,
    flow: flows::NewFlow,
    origin: &Origin,
) -> Result<(), sea_orm::DbErr> {
    metrics::flow(&flow.provider, "started", "none");
    let event = Event::new(Kind::ConnectStarted, origin)
        .by(&flow.user_id)
        .provider(&flow.provider);
    let (stored, audited) = tokio::join!(
        flows::insert(&ctx.db, flow, ctx.clock.now()),
        ctx.audit.append(event)
    );
    stored.and(audited)
}

/// A flow ended. Completed: the connection, its audit event and webhook, and the flow's
/// analytics commit together. Failed: the analytics and the failure's audit event.
pub(super) async fn ended(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    steps: Steps,
    result: Result<(flows::Model, Grant, Account), ConnectFailure>,
) -> Result<Completed, CompleteError> {
    let ended = record_end(ctx, who, provider, steps, result).await;
    // This flow (recorded by now) is one more in the provider's day of flows: a rejected
    // state is audited as such, not as a failed flow, and is not counted.
    let failure = match &ended {
        Ok(_) => None,
        Err(CompleteError(ConnectFailure::InvalidState | ConnectFailure::IssuerMismatch)) => {
            return ended
        }
        Err(CompleteError(failure)) => Some(failure.code()),
    };
    ctx.probes
        .flow_ended(&provider.service, ctx.clock.now(), failure);
    ended
}

async fn record_end(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    steps: Steps,
    result: Result<(flows::Model, Grant, Account), ConnectFailure>,
) -> Result<Completed, CompleteError> {
    let failure = match result {
        Ok((flow, grant, account)) => {
            let issued = grant.tokens.clone();
            let account_id = account.id.clone();
            match save(ctx, who, provider, &steps, grant, account).await {
                Ok(()) => {
                    metrics::flow(&provider.service, "completed", "none");
                    metrics::flow_duration(&provider.service, ctx.clock.now() - flow.created_at);
                    return Ok(Completed {
                        return_to: flow.return_to,
                        account_id,
                    });
                }
                Err(e) => {
                    revoke_unsaved(ctx, who, provider, &issued, &account_id).await;
                    CompleteError::from(e).0
                }
            }
        }
        Err(failure) => failure,
    };
    metrics::flow(&provider.service, "failed", failure.code());
    if let Some((id, end)) = steps.end(ctx.clock.now(), Some(failure)) {
        if let Err(e) = flow_stats::ended(&ctx.db, id, &provider.service, end).await {
            // Analytics never fail a flow that has failed already.
            tracing::warn!(error = %e, "could not record flow analytics");
        }
    }
    let kind = match failure {
        ConnectFailure::InvalidState | ConnectFailure::IssuerMismatch => Kind::StateRejected,
        _ => Kind::ConnectFailed,
    };
    let event = Event::new(kind, who.origin)
        .by(&who.user.id)
        .provider(&provider.service)
        .failed(failure.code());
    if let Err(e) = ctx.audit.append(event).await {
        tracing::error!(error = %e, "could not write the audit event");
    }
    Err(CompleteError(failure))
}

async fn save(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    steps: &Steps,
    grant: Grant,
    account: Account,
) -> Result<(), sea_orm::DbErr> {
    let account_id = account.id.clone();
    let connection = NewConnection {
        user_id: &who.user.id,
        provider,
        tokens: &grant.tokens,
        expires_in: grant.expires_in,
        granted_scopes: grant.granted_scopes.or(account.scopes.clone()),
        account,
    };
    let event = Event::new(Kind::ConnectSucceeded, who.origin)
        .by(&who.user.id)
        .provider(&provider.service);
    let txn = crate::base::store::begin(&ctx.db).await?;
    let replaced = connections::save(ctx, &txn, connection, event).await?;
    if let Some((id, end)) = steps.end(ctx.clock.now(), None) {
        flow_stats::ended(&txn, id, &provider.service, end).await?;
    }
    txn.commit().await?;
    ctx.hot.forget_connections(&who.user.id, &provider.service);
    // A reconnect of the same account replaces its grant: what it held is revoked once the
    // new one is stored (another account is another connection).
    let replaced = replaced.and_then(|row| {
        let tokens = crate::domain::tokens::open_tokens(ctx, &row).ok()?;
        Some((row, tokens))
    });
    if let Some((old_row, old)) = replaced {
        let same_grant = !account_id.is_empty()
            && old_row.account_id == account_id
            && !crate::domain::disconnect::revokes_only_the_token(provider);
        let reused = old.access_token.secret() == grant.tokens.access_token.secret();
        // Google ends everything the user granted to the client: not while another of the
        // user's services (Drive beside Gmail) uses that client.
        if !same_grant
            && !reused
            && !crate::domain::disconnect::shares_the_grant(ctx, provider, &old_row)
                .await
                .unwrap_or(true)
        {
            revoke_replaced(ctx, who, provider, &old).await;
        }
    }
    Ok(())
}

/// The provider issued tokens the hub could not store: best effort, they are revoked rather
/// than left live and unknown. Not where that could end a connection still stored for the
/// same account (GitHub's and Google's revocations end the whole grant), and when the
/// database cannot say, only where revocation ends just these tokens.
async fn revoke_unsaved(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    issued: &crate::domain::oauth::TokenSet,
    account_id: &str,
) {
    let per_token = crate::domain::disconnect::revokes_only_the_token(provider);
    // An unknown account (no id) may be a stored one: not safe.
    let safe = per_token
        || (!account_id.is_empty()
            && matches!(
                store::connections::of_account(
                    &ctx.db,
                    &who.user.id,
                    &provider.service,
                    account_id
                )
                .await,
                Ok(None)
            ));
    if safe {
        let outcome = crate::domain::disconnect::revoke_with(ctx, provider, issued).await;
        tracing::warn!(
            revocation = outcome.code(),
            "a connection that could not be stored was revoked at the provider"
        );
    }
}

/// Best effort, after the new connection is stored: the replaced tokens are revoked at the
/// provider (before, every reconnect left the old grant live), and the audit log says how
/// it went. Not where revoking them would end the new grant too (the same account at a
/// provider that revokes whole grants: GitHub's grant, Google's client).
async fn revoke_replaced(
    ctx: &Ctx,
    who: &Who<'_>,
    provider: &Provider,
    old: &crate::domain::oauth::TokenSet,
) {
    let outcome = crate::domain::disconnect::revoke_with(ctx, provider, old).await;
    let event = Event::new(Kind::Revocation, who.origin)
        .by(&who.user.id)
        .provider(&provider.service);
    let event = match outcome {
        app::model::Revocation::Revoked => event.reason("replaced_grant_revoked"),
        other => event.failed(&format!("replaced_grant_{}", other.code())),
    };
    if let Err(e) = ctx.audit.append(event).await {
        tracing::error!(error = %e, "could not write the audit event");
    }
}

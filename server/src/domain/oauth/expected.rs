//! The provider account a connect link expects: a `login_hint` (an email, login or account
//! id) and/or an `email_domain`. Passed on to the providers that take a hint, and always
//! checked against the who-am-I answer at the callback, because no provider enforces its
//! hint (Google: "the user can change it"; the hints below are documented as hints only).

use super::identity::Account;
use super::TokenSet;
use crate::base::providers::{Identity, Provider};
use crate::base::store;
use crate::domain::Ctx;
use app::model::Revocation;
use serde::{Deserialize, Serialize};

/// What a link expects of the provider account; empty when it expects nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// An email, login or provider account id, compared without regard to case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The domain of the account's email, e.g. `example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domain: Option<String>,
    /// A stored expectation that did not read: no account matches it.
    #[serde(skip)]
    unreadable: bool,
}

/// Why an expectation cannot be used for a service.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Not 1 to 254 visible ASCII characters.
    #[error("login_hint and email_domain have 1 to 254 visible ASCII characters")]
    Malformed,
    /// The provider's who-am-I answer carries no reliable email to check a domain against.
    #[error(
        "this service does not tell the hub the account's email, so email_domain cannot be checked"
    )]
    NoEmail,
}

/// Whether the provider's who-am-I answer carries the account's email (read by
/// `identity::read_email`): OpenID userinfo (with `email_verified`), Microsoft Graph,
/// Dropbox (verified) and Asana. GitHub's public email is optional, Slack's `auth.test`,
/// Notion's bot owner (without a capability) and Trello (without the `account` scope) have
/// none.
pub fn gives_email(identity: Identity) -> bool {
    matches!(
        identity,
        Identity::OidcUserinfo
            | Identity::MicrosoftGraph
            | Identity::DropboxAccount
            | Identity::AsanaMe
    )
}

impl Expected {
    /// An expectation of these values (None for what is not expected).
    pub fn new(login_hint: Option<String>, email_domain: Option<String>) -> Self {
        Self {
            login_hint,
            email_domain,
            unreadable: false,
        }
    }

    /// An expectation as a link or a flow stores it (JSON, or None for none). One that does
    /// not read expects an account nothing matches, never none.
    pub fn from_stored(json: Option<&str>) -> Self {
        json.map(|json| {
            serde_json::from_str(json).unwrap_or(Self {
                unreadable: true,
                ..Self::default()
            })
        })
        .unwrap_or_default()
    }

    /// The expectation as stored; None for none.
    pub fn to_stored(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    /// True when the link expects nothing.
    pub fn is_empty(&self) -> bool {
        self.login_hint.is_none() && self.email_domain.is_none() && !self.unreadable
    }

    /// The expectation, normalised, or why it cannot be used for this provider.
    pub fn checked(self, provider: &Provider) -> Result<Self, Unusable> {
        let clean = |value: Option<String>| -> Result<Option<String>, Unusable> {
            match value {
                None => Ok(None),
                Some(v) if v.is_empty() || v.len() > 254 => Err(Unusable::Malformed),
                Some(v) if !v.bytes().all(|b| b.is_ascii_graphic()) => Err(Unusable::Malformed),
                Some(v) => Ok(Some(v)),
            }
        };
        let login_hint = clean(self.login_hint)?;
        let email_domain =
            clean(self.email_domain)?.map(|d| d.trim_start_matches('@').to_ascii_lowercase());
        if email_domain.is_some() && !gives_email(provider.identity) {
            return Err(Unusable::NoEmail);
        }
        Ok(Self::new(login_hint, email_domain))
    }

    /// The authorize parameters that pass the expectation on, where the provider takes one:
    /// Google `login_hint` and `hd` (developers.google.com/identity/protocols/oauth2/web-server,
    /// .../openid-connect/openid-connect#hd-param), Microsoft `login_hint` and `domain_hint`
    /// (learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow), GitHub
    /// `login` (docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps),
    /// any other OpenID provider `login_hint` (OpenID Connect Core 1.0 §3.1.2.1). Slack,
    /// Dropbox, Asana, Notion and Trello document no such parameter.
    pub fn authorize_params(&self, provider: &Provider) -> Vec<(&'static str, String)> {
        let (login, domain) = match (provider.identity, provider.family.as_str()) {
            (Identity::OidcUserinfo, "google") => (Some("login_hint"), Some("hd")),
            (Identity::OidcUserinfo, _) => (Some("login_hint"), None),
            (Identity::MicrosoftGraph, _) => (Some("login_hint"), Some("domain_hint")),
            (Identity::GitHubUser, _) => (Some("login"), None),
            _ => (None, None),
        };
        let mut params = Vec::new();
        if let (Some(name), Some(hint)) = (login, &self.login_hint) {
            params.push((name, hint.clone()));
        }
        if let (Some(name), Some(domain)) = (domain, &self.email_domain) {
            params.push((name, domain.clone()));
        }
        params
    }

    /// Whether the account the provider reported is the one expected. An expectation that
    /// cannot be checked (no email) does not match.
    pub fn matches(&self, account: &Account) -> bool {
        if self.unreadable {
            return false;
        }
        let email = account.email.as_deref().map(str::to_ascii_lowercase);
        let login_ok = self.login_hint.as_deref().is_none_or(|hint| {
            let hint = hint.to_ascii_lowercase();
            email.as_deref() == Some(hint.as_str())
                || account.name.to_ascii_lowercase() == hint
                || account.id.to_ascii_lowercase() == hint
        });
        let domain_ok = self.email_domain.as_deref().is_none_or(|domain| {
            email
                .as_deref()
                .and_then(|e| e.rsplit_once('@'))
                .is_some_and(|(_, d)| d == domain)
        });
        login_ok && domain_ok
    }
}

/// What a provider issued for an account the link did not expect, given back: revoked, so
/// nothing of it is kept anywhere. Not where revoking ends the account's whole grant to this
/// client (GitHub, Google) while that account has connections in the hub: those would end too.
pub async fn give_back(
    ctx: &Ctx,
    provider: &Provider,
    tokens: &TokenSet,
    account: &Account,
) -> Result<Revocation, sea_orm::DbErr> {
    if !crate::domain::disconnect::revokes_only_the_token(provider) {
        let family: Vec<String> = ctx
            .catalog
            .names()
            .into_iter()
            .filter(|name| {
                ctx.catalog
                    .get(name)
                    .is_some_and(|p| p.family == provider.family)
            })
            .collect();
        if store::connections::account_connected(&ctx.db, &family, &account.id).await? {
            return Ok(Revocation::KeptForOtherServices);
        }
    }
    let revoked = crate::domain::disconnect::revoke_with(ctx, provider, tokens).await;
    tracing::info!(provider = %provider.service, revocation = revoked.code(), "gave back tokens for an unexpected account");
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, email: Option<&str>) -> Account {
        Account {
            id: "42".into(),
            name: name.into(),
            email: email.map(String::from),
            scopes: None,
        }
    }

    #[test]
    fn an_account_matches_by_email_login_or_id_and_by_its_emails_domain() {
        let hint = |h: &str| Expected::new(Some(h.into()), None);
        let ada = account("Ada", Some("Ada@Example.com"));
        assert!(hint("ada@example.com").matches(&ada));
        assert!(hint("ada").matches(&ada));
        assert!(hint("42").matches(&ada));
        assert!(!hint("eve@example.com").matches(&ada));
        let domain = |d: &str| Expected::new(None, Some(d.into()));
        assert!(domain("example.com").matches(&ada));
        assert!(
            !domain("ample.com").matches(&ada),
            "a suffix is not the domain"
        );
        assert!(
            !domain("example.com").matches(&account("Ada", None)),
            "no email, no match"
        );
        assert!(!domain("example.com").matches(&account("ada@example.com", Some("ada@evil.test"))));
        let garbled = Expected::from_stored(Some("{not json"));
        assert!(!garbled.is_empty());
        assert!(
            !garbled.matches(&account("", None)),
            "an unreadable expectation matches nobody"
        );
        assert!(Expected::from_stored(None).is_empty());
    }
}

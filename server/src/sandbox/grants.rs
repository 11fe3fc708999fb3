//! The sandbox's shared core: authorization codes (single use, ten minutes, bound to the
//! client, the redirect URI and the PKCE S256 challenge), tokens and their revocation.

use super::{random_token, Sandbox};
use axum::http::{header, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// Query or form parameters (the last value wins for a repeated key).
pub type Params = BTreeMap<String, String>;

const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// One emulated provider family: its sandbox client and the hub services it stands in for.
pub struct Family {
    /// The consent page says "Sandbox <title>".
    pub title: &'static str,
    pub client_id: &'static str,
    pub services: &'static [&'static str],
}

/// An authorization code waiting to be exchanged.
#[derive(Clone)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub login: String,
    /// Whether this user consented to this client for the first time (Google re-issues a
    /// refresh token to a returning user only with `prompt=consent`).
    pub first_consent: bool,
    /// The authorization request's parameters (scope, access_type, owner ...).
    pub params: Params,
    pub issued: Instant,
}

impl CodeGrant {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

#[derive(Clone)]
pub struct TokenGrant {
    pub client_id: String,
    /// Tokens issued from one authorization share it; revoking the grant ends them all.
    pub grant_id: String,
    pub login: String,
    pub scope: String,
    pub refresh: bool,
    pub revoked: bool,
}

#[derive(Default)]
pub struct Inner {
    pub codes: HashMap<String, CodeGrant>,
    pub tokens: HashMap<String, TokenGrant>,
    /// (client_id, login) pairs that have consented once.
    pub consented: HashSet<(String, String)>,
    /// Access tokens past their lifetime (`Sandbox::expire_access_tokens`): refused as a
    /// provider refuses an expired token, while their refresh tokens still work.
    pub expired: HashSet<String>,
}

/// Why a code cannot be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, spent, expired or another client's code.
    BadCode,
    RedirectMismatch,
    /// The PKCE verifier is missing or does not match the challenge.
    BadVerifier,
}

/// Spends the code (a second attempt always fails) and checks what it is bound to.
pub fn redeem(
    sandbox: &Sandbox,
    client_id: &str,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<CodeGrant, Refused> {
    let grant = code
        .and_then(|c| sandbox.lock().codes.remove(c))
        .ok_or(Refused::BadCode)?;
    if grant.issued.elapsed() > CODE_LIFETIME || grant.client_id != client_id {
        return Err(Refused::BadCode);
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(Refused::RedirectMismatch);
    }
    if let Some(challenge) = &grant.code_challenge {
        let computed = verifier.map(|v| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
        });
        if computed.as_deref() != Some(challenge.as_str()) {
            return Err(Refused::BadVerifier);
        }
    }
    Ok(grant)
}

/// Tokens issued for one grant.
pub struct Issued {
    pub access: String,
    pub refresh: Option<String>,
}

/// Issues an access token (and a refresh token when `refresh_prefix` is given) for `grant`
/// (from `new_grant`, or a live refresh token's grant to continue it).
pub fn issue(
    sandbox: &Sandbox,
    grant: &TokenGrant,
    access_prefix: &str,
    refresh_prefix: Option<&str>,
) -> Issued {
    let access = random_token(access_prefix);
    let refresh = refresh_prefix.map(random_token);
    let mut inner = sandbox.lock();
    inner.tokens.insert(
        access.clone(),
        TokenGrant {
            refresh: false,
            revoked: false,
            ..grant.clone()
        },
    );
    if let Some(refresh) = &refresh {
        inner.tokens.insert(
            refresh.clone(),
            TokenGrant {
                refresh: true,
                revoked: false,
                ..grant.clone()
            },
        );
    }
    Issued { access, refresh }
}

/// A new grant's description for `issue`.
pub fn new_grant(client_id: &str, login: &str, scope: &str) -> TokenGrant {
    TokenGrant {
        client_id: client_id.to_string(),
        grant_id: random_token("grant-"),
        login: login.to_string(),
        scope: scope.to_string(),
        refresh: false,
        revoked: false,
    }
}

/// A live token of this client, access or refresh as asked.
pub fn live(sandbox: &Sandbox, client_id: &str, token: &str, refresh: bool) -> Option<TokenGrant> {
    let inner = sandbox.lock();
    if inner.expired.contains(token) {
        return None;
    }
    inner
        .tokens
        .get(token)
        .filter(|g| g.client_id == client_id && g.refresh == refresh && !g.revoked)
        .cloned()
}

/// Whether `token` is an access token past its lifetime.
pub fn is_expired(sandbox: &Sandbox, token: &str) -> bool {
    sandbox.lock().expired.contains(token)
}

/// Whether this client issued `token` and it has since been revoked (a provider tells a
/// revoked token from one it never issued).
pub fn was_revoked(sandbox: &Sandbox, client_id: &str, token: &str) -> bool {
    sandbox
        .lock()
        .tokens
        .get(token)
        .is_some_and(|g| g.client_id == client_id && g.revoked)
}

/// The live access token sent as `Authorization: Bearer`.
pub fn bearer_grant(sandbox: &Sandbox, client_id: &str, headers: &HeaderMap) -> Option<TokenGrant> {
    live(sandbox, client_id, bearer(headers)?, false)
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").filter(|t| !t.is_empty())
}

/// Revokes one live token of this client; with `whole_grant`, every token of its grant.
pub fn revoke(sandbox: &Sandbox, client_id: &str, token: &str, whole_grant: bool) -> bool {
    let mut inner = sandbox.lock();
    let Some(grant) = inner
        .tokens
        .get_mut(token)
        .filter(|g| g.client_id == client_id && !g.revoked)
    else {
        return false;
    };
    grant.revoked = true;
    let grant_id = grant.grant_id.clone();
    if whole_grant {
        for g in inner.tokens.values_mut().filter(|g| g.grant_id == grant_id) {
            g.revoked = true;
        }
    }
    true
}

/// Revokes every token this client holds for the user `token` belongs to (Google's rule).
pub fn revoke_client_for_user(sandbox: &Sandbox, client_id: &str, token: &str) {
    let mut inner = sandbox.lock();
    let Some(login) = inner.tokens.get(token).map(|g| g.login.clone()) else {
        return;
    };
    for grant in inner
        .tokens
        .values_mut()
        .filter(|g| g.client_id == client_id && g.login == login)
    {
        grant.revoked = true;
    }
}

/// "sandbox-user" becomes "Sandbox User": the name most providers show.
pub fn display_name(login: &str) -> String {
    login
        .split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stable number per seed, for account ids.
pub fn stable_id(seed: &str) -> u32 {
    let d = Sha256::digest(seed.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) >> 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_come_from_logins() {
        assert_eq!(super::display_name("sandbox-user"), "Sandbox User");
    }
}

//! Revocation at the provider on disconnect. Local tokens are deleted whatever this returns.

use super::{basic_auth, TokenSet};
use crate::providers::{Endpoints, Provider, Revocation};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Yes,
    NotSupported,
    Failed,
}

impl Revoked {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Yes => "revoked",
            Self::NotSupported => "no_revocation_endpoint",
            Self::Failed => "revocation_failed",
        }
    }
}

#[tracing::instrument(skip_all, fields(provider = %provider.service))]
pub async fn revoke(
    http: &reqwest::Client,
    provider: &Provider,
    endpoints: &Endpoints,
    tokens: &TokenSet,
) -> Revoked {
    let Some(url) = endpoints.revoke_url.clone() else {
        return Revoked::NotSupported;
    };
    let request = match provider.revocation {
        Revocation::GitHubGrant => http
            .delete(url)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .json(&serde_json::json!({ "access_token": tokens.access_token.secret() })),
        Revocation::Rfc7009 => {
            let (token, hint) = match &tokens.refresh_token {
                Some(refresh) => (refresh.secret(), "refresh_token"),
                None => (tokens.access_token.secret(), "access_token"),
            };
            http.post(url).form(&[("token", token.as_str()), ("token_type_hint", hint)])
        }
    };
    let request = basic_auth(request, &provider.client_id, &provider.client_secret);
    match request.send().await {
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

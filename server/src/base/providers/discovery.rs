//! OpenID Connect discovery for providers defined only by their issuer.

use super::{Endpoints, ProviderError};
use serde::Deserialize;
use url::Url;

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    userinfo_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

pub(super) async fn discover(
    http: &reqwest::Client,
    issuer: &Url,
) -> Result<Endpoints, ProviderError> {
    let base = issuer.as_str().trim_end_matches('/');
    let url = format!("{base}/.well-known/openid-configuration");
    let response = http.get(&url).send().await.map_err(|e| {
        tracing::warn!(error = %e, issuer = %issuer, "OpenID discovery request failed");
        ProviderError::Discovery
    })?;
    if !response.status().is_success() {
        tracing::warn!(status = %response.status(), issuer = %issuer, "OpenID discovery refused");
        return Err(ProviderError::Discovery);
    }
    let meta: Metadata = response
        .json()
        .await
        .map_err(|_| ProviderError::Discovery)?;
    // The document must name the issuer it was fetched for (OpenID Discovery section 4.3).
    if meta.issuer.trim_end_matches('/') != base {
        tracing::warn!(issuer = %issuer, "OpenID discovery names another issuer");
        return Err(ProviderError::Discovery);
    }
    Ok(Endpoints {
        authorize_url: meta.authorization_endpoint,
        token_url: meta.token_endpoint,
        userinfo_url: meta.userinfo_endpoint,
        revoke_url: meta.revocation_endpoint,
        request_token_url: None,
        issuer: meta
            .authorization_response_iss_parameter_supported
            .then_some(meta.issuer),
    })
}

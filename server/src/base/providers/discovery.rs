//! OpenID Connect discovery for providers defined only by their issuer.

use super::{ClientAuth, Endpoints, ProviderError};
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
    /// RFC 8414 §2; absent means `client_secret_basic` (OpenID Connect Discovery §3).
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// What a discovery document may say.
pub struct Rules {
    /// Production: every endpoint must be https.
    pub require_https: bool,
    /// Hosts besides the issuer's that endpoints may be on (`endpoint_hosts`). A document
    /// pointing elsewhere would send the client secret, the code and the PKCE verifier
    /// there: it is refused.
    pub other_hosts: Vec<String>,
}

impl Rules {
    fn allows(&self, issuer: &Url, endpoint: &Url) -> bool {
        let https = !self.require_https || endpoint.scheme() == "https";
        let host = endpoint.host_str().unwrap_or_default();
        let same_host = endpoint.host_str() == issuer.host_str()
            && endpoint.port_or_known_default() == issuer.port_or_known_default();
        https
            && (same_host
                || self
                    .other_hosts
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(host)))
    }
}

pub(super) async fn discover(
    http: &reqwest::Client,
    issuer: &Url,
    rules: &Rules,
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
    let meta: Metadata = crate::base::bounded::json(response)
        .await
        .map_err(|_| ProviderError::Discovery)?;
    // The document must name the issuer it was fetched for (OpenID Discovery section 4.3).
    if meta.issuer.trim_end_matches('/') != base {
        tracing::warn!(issuer = %issuer, "OpenID discovery names another issuer");
        return Err(ProviderError::Discovery);
    }
    let endpoints = [
        Some(&meta.authorization_endpoint),
        Some(&meta.token_endpoint),
        meta.userinfo_endpoint.as_ref(),
        meta.revocation_endpoint.as_ref(),
    ];
    if let Some(foreign) = endpoints
        .into_iter()
        .flatten()
        .find(|url| !rules.allows(issuer, url))
    {
        tracing::error!(
            issuer = %issuer,
            endpoint_host = foreign.host_str().unwrap_or_default(),
            "OpenID discovery names an endpoint on a host (or scheme) it may not use: refused; \
             list the host in the provider's endpoint_hosts if it is the provider's own"
        );
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
        client_auth: meta
            .token_endpoint_auth_methods_supported
            .as_deref()
            .map(client_auth_offered),
    })
}

/// Basic where it is offered (the default of OpenID Connect and RFC 8414), else the form
/// body where that is; Basic when neither is (the token endpoint will say).
fn client_auth_offered(methods: &[String]) -> ClientAuth {
    let offered = |name: &str| methods.iter().any(|m| m == name);
    if !offered("client_secret_basic") && offered("client_secret_post") {
        ClientAuth::Body
    } else {
        ClientAuth::Basic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8414 §2: `token_endpoint_auth_methods_supported`, `client_secret_basic` when
    /// absent (OpenID Connect Discovery 1.0 §3).
    #[test]
    fn basic_where_offered_else_the_form_body() {
        let methods = |list: &[&str]| list.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        assert_eq!(
            client_auth_offered(&methods(&["client_secret_post"])),
            ClientAuth::Body
        );
        assert_eq!(
            client_auth_offered(&methods(&["client_secret_post", "client_secret_basic"])),
            ClientAuth::Basic
        );
        assert_eq!(
            client_auth_offered(&methods(&["private_key_jwt"])),
            ClientAuth::Basic,
            "nothing the hub speaks: the token endpoint will say"
        );
    }
}

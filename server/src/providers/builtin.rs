//! The built-in provider definitions, with their real endpoints (../shared/PROVIDERS.md).
//! More providers join here as data; only what data cannot say becomes a quirk hook.

use super::{ClientAuth, Definition, Identity, Revocation};

pub const BUILTIN: &[Definition] = &[Definition {
    service: "github",
    display_name: "GitHub",
    authorize_url: "https://github.com/login/oauth/authorize",
    token_url: "https://github.com/login/oauth/access_token",
    userinfo_url: "https://api.github.com/user",
    revoke_url: "https://api.github.com/applications/{client_id}/grant",
    scopes: &["read:user", "user:email"],
    scope_separator: " ",
    pkce: true,
    client_auth: ClientAuth::Body,
    identity: Identity::GitHubUser,
    revocation: Revocation::GitHubGrant,
}];

//! The ten built-in provider definitions, with their real endpoints (docs/providers/ says what each does and why).
//! A provider that follows the standard is only data; what data cannot say is a named hook
//! (ClientAuth, TokenFormat, Identity, RevokeStyle, Protocol).

use super::{ClientAuth, Definition, Identity, Protocol, RevokeStyle, TokenFormat};

const OAUTH2: Definition = Definition {
    service: "",
    display_name: "",
    family: "",
    protocol: Protocol::OAuth2,
    authorize_url: "",
    token_url: "",
    userinfo_url: "",
    api_base_url: "",
    revoke_url: "",
    request_token_url: "",
    scopes: &[],
    scope_separator: " ",
    scope_param: "scope",
    authorize_params: &[],
    pkce: true,
    client_auth: ClientAuth::Body,
    token_format: TokenFormat::Standard,
    identity: Identity::OidcUserinfo,
    revocation: RevokeStyle::Rfc7009,
    refresh_with_scopes: false,
    version_header: None,
    assumes_lifetime: true,
    revoke_ends_client_grant: false,
    account_picker: false,
    default_tenant: "common",
    logo: "generic.svg",
};

const GOOGLE: Definition = Definition {
    family: "google",
    authorize_url: "https://accounts.google.com/o/oauth2/v2/auth",
    token_url: "https://oauth2.googleapis.com/token",
    userinfo_url: "https://openidconnect.googleapis.com/v1/userinfo",
    revoke_url: "https://oauth2.googleapis.com/revoke",
    // A refresh token only with offline access; a returning user gets one only with consent.
    authorize_params: &[
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("include_granted_scopes", "true"),
    ],
    // Google's revoke ends every scope the user granted to the client (Gmail's and Drive's
    // when they share one).
    revoke_ends_client_grant: true,
    // `prompt` takes a space-delimited list: `select_account consent` (Google Identity,
    // "OAuth 2.0 for Web Server Applications", the prompt parameter).
    account_picker: true,
    ..OAUTH2
};

const MICROSOFT: Definition = Definition {
    family: "microsoft",
    authorize_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
    token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    userinfo_url: "https://graph.microsoft.com/v1.0/me",
    api_base_url: "https://graph.microsoft.com/v1.0",
    identity: Identity::MicrosoftGraph,
    revocation: RevokeStyle::None,
    // Microsoft wants the scopes again on refresh.
    refresh_with_scopes: true,
    // Microsoft identity platform, authorization request: `prompt=select_account`.
    account_picker: true,
    ..OAUTH2
};

/// Trello through its OAuth 2.0 (3LO), chosen with `protocol = "oauth2"` (Trello Developers,
/// "Getting Started with OAuth 2.0" and "Using OAuth 2.0 with a Confidential Client"):
/// Atlassian's authorization server, PKCE, `prompt=consent`, `offline_access` for a refresh
/// token, a JSON token request with the client's credentials, hour-long access tokens and
/// rotating refresh tokens; the REST API with a Bearer token. Atlassian offers no revocation
/// endpoint: the user removes the app in their Atlassian account.
pub const TRELLO_OAUTH2: Definition = Definition {
    service: "trello",
    logo: "trello.svg",
    display_name: "Trello",
    family: "trello",
    authorize_url: "https://auth.atlassian.com/authorize",
    token_url: "https://auth.atlassian.com/oauth/token",
    userinfo_url: "https://api.trello.com/1/members/me",
    api_base_url: "https://api.trello.com/1",
    scopes: &[
        "read:member:trello",
        "read:board:trello",
        "write:board:trello",
        "offline_access",
    ],
    authorize_params: &[("prompt", "consent")],
    client_auth: ClientAuth::BodyJson,
    identity: Identity::TrelloMember,
    revocation: RevokeStyle::None,
    ..OAUTH2
};

pub const BUILTIN: &[Definition] = &[
    Definition {
        service: "gmail",
        // The Gmail API: `/gmail/v1/users/me/...`.
        api_base_url: "https://gmail.googleapis.com",
        logo: "gmail.svg",
        display_name: "Gmail",
        scopes: &[
            "openid",
            "email",
            "profile",
            "https://www.googleapis.com/auth/gmail.readonly",
        ],
        ..GOOGLE
    },
    Definition {
        service: "gdrive",
        // The Drive API: `/drive/v3/...`.
        api_base_url: "https://www.googleapis.com",
        logo: "gdrive.svg",
        display_name: "Google Drive",
        scopes: &[
            "openid",
            "email",
            "profile",
            "https://www.googleapis.com/auth/drive.file",
        ],
        ..GOOGLE
    },
    Definition {
        service: "slack",
        logo: "slack.svg",
        display_name: "Slack",
        family: "slack",
        authorize_url: "https://slack.com/oauth/v2/authorize",
        token_url: "https://slack.com/api/oauth.v2.access",
        userinfo_url: "https://slack.com/api/auth.test",
        api_base_url: "https://slack.com/api",
        revoke_url: "https://slack.com/api/auth.revoke",
        scopes: &["users:read", "channels:read", "chat:write"],
        scope_separator: ",",
        scope_param: "user_scope",
        // PKCE would turn the Slack app into a public client irreversibly.
        pkce: false,
        client_auth: ClientAuth::Basic,
        token_format: TokenFormat::SlackV2,
        identity: Identity::SlackAuthTest,
        revocation: RevokeStyle::SlackAuthRevoke,
        ..OAUTH2
    },
    Definition {
        service: "trello",
        logo: "trello.svg",
        display_name: "Trello",
        family: "trello",
        protocol: Protocol::OAuth1,
        request_token_url: "https://trello.com/1/OAuthGetRequestToken",
        authorize_url: "https://trello.com/1/OAuthAuthorizeToken",
        token_url: "https://trello.com/1/OAuthGetAccessToken",
        userinfo_url: "https://api.trello.com/1/members/me",
        api_base_url: "https://api.trello.com/1",
        revoke_url: "https://api.trello.com/1/tokens/{token}",
        scopes: &["read", "write", "account"],
        scope_separator: ",",
        authorize_params: &[("expiration", "never"), ("name", "ATOM Connect")],
        pkce: false,
        identity: Identity::TrelloMember,
        revocation: RevokeStyle::TrelloDelete,
        ..OAUTH2
    },
    Definition {
        service: "asana",
        logo: "asana.svg",
        display_name: "Asana",
        family: "asana",
        authorize_url: "https://app.asana.com/-/oauth_authorize",
        token_url: "https://app.asana.com/-/oauth_token",
        userinfo_url: "https://app.asana.com/api/1.0/users/me",
        api_base_url: "https://app.asana.com/api/1.0",
        revoke_url: "https://app.asana.com/-/oauth_revoke",
        // Granular scopes (Asana, "OAuth scopes", 2025): new apps are registered for them,
        // and such an app is refused `default`. users:read gives the identity; the rest is
        // the documented read/write use. docs/providers/asana.md says how to use full
        // permissions (`default`) instead.
        scopes: &[
            "users:read",
            "workspaces:read",
            "projects:read",
            "tasks:read",
            "tasks:write",
        ],
        identity: Identity::AsanaMe,
        ..OAUTH2
    },
    Definition {
        service: "notion",
        logo: "notion.svg",
        display_name: "Notion",
        family: "notion",
        authorize_url: "https://api.notion.com/v1/oauth/authorize",
        token_url: "https://api.notion.com/v1/oauth/token",
        userinfo_url: "https://api.notion.com/v1/users/me",
        api_base_url: "https://api.notion.com/v1",
        revoke_url: "https://api.notion.com/v1/oauth/revoke",
        // Capabilities are set on the integration; the user picks pages at consent.
        scopes: &[],
        authorize_params: &[("owner", "user")],
        pkce: false,
        client_auth: ClientAuth::BasicJson,
        identity: Identity::NotionMe,
        revocation: RevokeStyle::NotionRevoke,
        // Notion's API reference lists the header on every endpoint, the token and revoke
        // endpoints included (Notion API, "Versioning"; "Refresh a token").
        version_header: Some(("Notion-Version", "2025-09-03")),
        // No expires_in, and a rotating refresh token: refreshed when Notion refuses the
        // access token (the liveness check), not every assumed hour.
        assumes_lifetime: false,
        ..OAUTH2
    },
    Definition {
        service: "dropbox",
        logo: "dropbox.svg",
        display_name: "Dropbox",
        family: "dropbox",
        authorize_url: "https://www.dropbox.com/oauth2/authorize",
        token_url: "https://api.dropboxapi.com/oauth2/token",
        userinfo_url: "https://api.dropboxapi.com/2/users/get_current_account",
        api_base_url: "https://api.dropboxapi.com/2",
        revoke_url: "https://api.dropboxapi.com/2/auth/token/revoke",
        scopes: &["account_info.read", "files.metadata.read"],
        authorize_params: &[("token_access_type", "offline")],
        identity: Identity::DropboxAccount,
        revocation: RevokeStyle::DropboxRevoke,
        ..OAUTH2
    },
    Definition {
        service: "outlook",
        logo: "outlook.svg",
        display_name: "Outlook",
        scopes: &[
            "offline_access",
            "openid",
            "profile",
            "email",
            "User.Read",
            "Mail.Read",
        ],
        ..MICROSOFT
    },
    Definition {
        service: "teams",
        logo: "teams.svg",
        display_name: "Microsoft Teams",
        // Teams' chat APIs serve work and school accounts only (Microsoft Graph, "chat"
        // resource: personal Microsoft accounts are not supported).
        default_tenant: "organizations",
        scopes: &[
            "offline_access",
            "User.Read",
            "Chat.Read",
            "Team.ReadBasic.All",
        ],
        ..MICROSOFT
    },
    Definition {
        service: "github",
        logo: "github.svg",
        display_name: "GitHub",
        family: "github",
        authorize_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        userinfo_url: "https://api.github.com/user",
        api_base_url: "https://api.github.com",
        revoke_url: "https://api.github.com/applications/{client_id}/grant",
        scopes: &["read:user", "user:email"],
        identity: Identity::GitHubUser,
        revocation: RevokeStyle::GitHubGrant,
        // GitHub changelog 2024-06-07, "Account picker updates for OAuth and GitHub App
        // sign-in": `prompt=select_account` forces the account picker.
        account_picker: true,
        ..OAUTH2
    },
];

//! What the admin pages show. Never a secret: no password hash, no API key (a new key is
//! shown once by the server's own answer to the form, never through this crate).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub role: super::Role,
    pub disabled: bool,
    pub created_at: String,
    /// The signed-in administrator's own row (they cannot demote or disable themselves here).
    pub is_me: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    /// The key's first characters, enough to recognise it, not to use it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// What an API key may do: the one list, shown on the admin page and checked by the API,
/// the admin form and `atom apikey create`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiScope {
    /// Read fresh access tokens and list connections.
    TokensRead,
    /// Delete connections and create connect links.
    ConnectionsWrite,
    /// Read the platform's users.
    UsersRead,
    /// Create, update and delete the platform's users.
    UsersWrite,
    /// Bring tokens over from another system.
    ConnectionsImport,
    /// Call every provider's API through the hub (`proxy:<service>` names one).
    ProxyAll,
}

impl ApiScope {
    pub const ALL: [ApiScope; 6] = [
        ApiScope::TokensRead,
        ApiScope::ConnectionsWrite,
        ApiScope::UsersRead,
        ApiScope::UsersWrite,
        ApiScope::ConnectionsImport,
        ApiScope::ProxyAll,
    ];

    /// The scope's name on keys, in the API's documentation and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokensRead => "tokens:read",
            Self::ConnectionsWrite => "connections:write",
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::ConnectionsImport => "connections:import",
            Self::ProxyAll => "proxy:*",
        }
    }

    /// What the scope allows, in plain words.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::TokensRead => "Read fresh access tokens and list connections",
            Self::ConnectionsWrite => "Delete connections and create connect links",
            Self::UsersRead => "Read the platform's users",
            Self::UsersWrite => {
                "Create, update and delete users (deleting revokes their connections); \
                 connect links for new user ids"
            }
            Self::ConnectionsImport => "Import tokens from another system (each is checked first)",
            Self::ProxyAll => {
                "Call any connected provider's API through the hub, for any user \
                 (`proxy:<service>` on the command line allows one service)"
            }
        }
    }

    /// The admin form's checkbox for it (`tokens_read`, `proxy_all`).
    pub fn form_name(self) -> String {
        self.as_str().replace(':', "_").replace('*', "all")
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }
}

/// What the audit viewer asks for; every field optional. `before` pages back by sequence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub provider: Option<String>,
    pub kind: Option<String>,
    pub outcome: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
}

impl AuditFilter {
    /// The filter as a query string (for the next page and the export link).
    pub fn query(&self, before: Option<i64>) -> String {
        let pairs = [
            ("user", self.user.clone()),
            ("provider", self.provider.clone()),
            ("kind", self.kind.clone()),
            ("outcome", self.outcome.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("before", before.map(|b| b.to_string())),
        ];
        pairs
            .into_iter()
            .filter_map(|(k, v)| {
                v.filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(&v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub provider: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Older events exist: ask again with `before` set to this.
    pub older: Option<i64>,
}

/// The event kinds the viewer offers as a filter.
pub const AUDIT_KINDS: &[&str] = &[
    "auth.sign_in",
    "auth.sign_out",
    "auth.password_changed",
    "connection.connect_started",
    "connection.created",
    "connection.connect_failed",
    "connection.refreshed",
    "connection.needs_reauth",
    "connection.deleted",
    "connection.revocation",
    "oauth.state_rejected",
    "api.token_issued",
    "api.connect_link_created",
    "connect_link.opened",
    "connect_link.rejected",
    "api.portal_link_created",
    "portal_link.opened",
    "admin.user_created",
    "admin.user_disabled",
    "admin.user_enabled",
    "admin.role_changed",
    "admin.api_key_created",
    "admin.api_key_revoked",
    "admin.provider_enabled",
    "admin.provider_disabled",
    "admin.backup_made",
    "admin.user_updated",
    "admin.user_deleted",
    "security.cross_origin_rejected",
    "security.decrypt_failed",
];

#[cfg(test)]
mod tests {
    #[test]
    fn filters_become_escaped_query_strings() {
        let filter = super::AuditFilter {
            user: Some("a b&c".into()),
            kind: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(filter.query(Some(7)), "user=a%20b%26c&before=7");
    }
}

/// One provider on the admin Providers page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderRow {
    pub service: String,
    pub display_name: String,
    pub configured: bool,
    pub sandbox: bool,
    /// What to register at the provider.
    pub redirect_uri: String,
    /// not_configured, ok, degraded, unreachable or client_rejected.
    pub status: String,
    pub latency_ms: Option<u64>,
    /// Our own code for the last failed probe (timeout, connect, discovery, other).
    pub probe_error: Option<String>,
    pub flows_succeeded_24h: u64,
    pub flows_failed_24h: u64,
    pub last_failure_reason: Option<String>,
    /// False when an administrator turned off new connections to it.
    pub enabled: bool,
    pub logo: String,
}

//! Data shapes shared by the browser and the server. Never a secret in them.

pub mod admin;
pub mod error;
pub mod notice;
pub mod outcomes;
pub mod overview;
pub mod scopes;

pub use outcomes::{ConnectFailure, Revocation};

use serde::{Deserialize, Serialize};

/// How the sign-in page offers to sign in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// Single sign-on's name ("Sign in with …"), when it is configured.
    pub sso: Option<String>,
    /// Whether username and password sign in.
    pub password: bool,
}

/// The signed-in user, as the server's session middleware puts it in the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Where a user's connection to one provider stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    NotConnected,
    Connected,
    Expired,
    NeedsReauth,
}

impl ConnectionState {
    /// The stable name (API answers, the `status` column for the stored states).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConnected => "not_connected",
            Self::Connected => "connected",
            Self::Expired => "expired",
            Self::NeedsReauth => "needs_reauth",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::NotConnected,
            Self::Connected,
            Self::Expired,
            Self::NeedsReauth,
        ]
        .into_iter()
        .find(|state| state.as_str() == name)
    }
}

/// What a user may do on the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Connects their own services.
    User,
    /// Also manages users, keys and providers, and sees the audit log.
    Admin,
}

impl Role {
    /// The stable name (the `role` column, the admin form).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    /// Unknown names are the least privilege.
    pub fn parse(name: &str) -> Self {
        if name == Self::Admin.as_str() {
            Self::Admin
        } else {
            Self::User
        }
    }
}

/// One card on the Connections page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionCard {
    pub service: String,
    pub display_name: String,
    /// Served by the local sandbox instead of the real provider (development only).
    pub sandbox: bool,
    pub state: ConnectionState,
    pub account: Option<String>,
    /// What Connect asks the provider for.
    pub requested_scopes: Vec<String>,
    /// What the provider granted (empty when not connected).
    pub scopes: Vec<String>,
    /// Requested but not granted: the user unticked them at the provider.
    pub missing_scopes: Vec<String>,
    /// When the connection was made and last refreshed, `YYYY-MM-DD HH:MM` UTC.
    pub connected_at: Option<String>,
    pub refreshed_at: Option<String>,
    /// The provider's logo, served by the hub itself.
    pub logo: String,
    /// False when an administrator turned the provider off: the card is shown only to users
    /// with a connection, so they can still disconnect.
    pub enabled: bool,
    /// The connection the card describes (the oldest account), when there is one.
    pub connection_id: Option<String>,
    /// The name its user gave that account ("Work").
    pub label: Option<String>,
    /// The service's other accounts of this user, oldest first.
    pub others: Vec<OtherAccount>,
}

/// Another account of the same service (a second Gmail), listed under the first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OtherAccount {
    pub connection_id: String,
    pub label: Option<String>,
    pub state: ConnectionState,
    pub account: Option<String>,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub connected_at: String,
}

/// The page the Connections screen shows: who is signed in and their cards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsView {
    pub user: CurrentUser,
    pub cards: Vec<ConnectionCard>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_never_echo_unknown_codes() {
        let text = ConnectFailure::parse("<script>alert(1)</script>").map_or_else(
            || ConnectFailure::fallback_message("GitHub"),
            |f| f.message("GitHub"),
        );
        assert!(!text.contains("script"));
        assert!(text.contains("GitHub"));
    }
}

//! Data shapes shared by the browser and the server. Never a secret in them.

pub mod admin;
pub mod overview;
pub mod scopes;

use serde::{Deserialize, Serialize};

/// The signed-in user, as the server's session middleware puts it in the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub admin: bool,
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
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConnected => "not_connected",
            Self::Connected => "connected",
            Self::Expired => "expired",
            Self::NeedsReauth => "needs_reauth",
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
}

/// The page the Connections screen shows: who is signed in and their cards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsView {
    pub user: CurrentUser,
    pub cards: Vec<ConnectionCard>,
}

/// The fixed, human message for a failed connect flow. Provider text is never shown.
pub fn failure_message(code: &str, provider: &str) -> String {
    match code {
        "access_denied" => {
            format!("You cancelled the connection to {provider}. Nothing was stored.")
        }
        "exchange_failed" => format!(
            "{provider} did not accept the sign-in. Nothing was stored; try again in a minute."
        ),
        "identity_failed" => format!(
            "{provider} signed you in but would not tell us who you are. Nothing was stored."
        ),
        "provider_disabled" => {
            format!("Connections to {provider} are turned off on this hub. Ask your administrator.")
        }
        "invalid_state" => {
            "That sign-in link has expired or was already used. Start again with Connect."
                .to_string()
        }
        _ => format!("Connecting {provider} failed. Nothing was stored; please try again."),
    }
}

/// The fixed message after a disconnect, by how revocation at the provider went.
pub fn disconnect_message(revocation: &str, provider: &str) -> String {
    match revocation {
        "revoked" | "not_connected" => format!("{provider} disconnected."),
        "no_revocation_endpoint" => format!(
            "{provider} disconnected here. {provider} offers no way to revoke access from \
             outside: remove ATOM Connect from the apps in your {provider} account settings."
        ),
        _ => format!(
            "{provider} disconnected here, but {provider} did not confirm the revocation: \
             remove ATOM Connect from the apps in your {provider} account settings to be sure."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_never_echo_unknown_codes() {
        let text = failure_message("<script>alert(1)</script>", "GitHub");
        assert!(!text.contains("script"));
        assert!(text.contains("GitHub"));
    }
}

//! How a connect flow or a disconnect ended, as one typed value on both sides: the server
//! puts the code in the redirect's query, the Connections page turns it back into the value
//! and shows its fixed message. Provider text never reaches a page.

use serde::{Deserialize, Serialize};

/// Why a connect flow did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectFailure {
    /// The callback's state is unknown, expired, reused or another session's.
    InvalidState,
    /// The authorization response came from an unexpected issuer.
    IssuerMismatch,
    /// The user cancelled at the provider.
    AccessDenied,
    /// The provider reported another error.
    ProviderError,
    /// The code exchange failed.
    ExchangeFailed,
    /// The identity call failed.
    IdentityFailed,
    /// An administrator turned the provider off.
    ProviderDisabled,
    /// A connect link expected another provider account than the one approved.
    WrongAccount,
    /// Something failed on our side.
    Internal,
}

impl ConnectFailure {
    const ALL: [Self; 9] = [
        Self::InvalidState,
        Self::IssuerMismatch,
        Self::AccessDenied,
        Self::ProviderError,
        Self::ExchangeFailed,
        Self::IdentityFailed,
        Self::ProviderDisabled,
        Self::WrongAccount,
        Self::Internal,
    ];

    /// The stable code (URLs, audit reasons, metrics labels).
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidState => "invalid_state",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::AccessDenied => "access_denied",
            Self::ProviderError => "provider_error",
            Self::ExchangeFailed => "exchange_failed",
            Self::IdentityFailed => "identity_failed",
            Self::ProviderDisabled => "provider_disabled",
            Self::WrongAccount => "wrong_account",
            Self::Internal => "internal",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The fixed, human message.
    pub fn message(self, provider: &str) -> String {
        match self {
            Self::AccessDenied => {
                format!("You cancelled the connection to {provider}. Nothing was stored.")
            }
            Self::ExchangeFailed => format!(
                "{provider} did not accept the sign-in. Nothing was stored; try again in a minute."
            ),
            Self::IdentityFailed => format!(
                "{provider} signed you in but would not tell us who you are. Nothing was stored."
            ),
            Self::ProviderDisabled => format!(
                "Connections to {provider} are turned off on this hub. Ask your administrator."
            ),
            Self::WrongAccount => format!(
                "That is not the {provider} account this link was made for. Nothing was \
                 stored and what {provider} issued was given back; sign in to {provider} with \
                 the expected account and ask for a new link."
            ),
            Self::InvalidState => {
                "That sign-in link has expired or was already used. Start again with Connect."
                    .to_string()
            }
            Self::IssuerMismatch | Self::ProviderError | Self::Internal => {
                Self::fallback_message(provider)
            }
        }
    }

    /// The message for a code that names no failure we know.
    pub fn fallback_message(provider: &str) -> String {
        format!("Connecting {provider} failed. Nothing was stored; please try again.")
    }
}

/// How revocation at the provider went when a connection was disconnected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// The provider confirmed it.
    Revoked,
    /// The provider offers no way to revoke from outside.
    NoRevocationEndpoint,
    /// The provider did not confirm (it is retried in the background).
    RevocationFailed,
    /// There was nothing to disconnect.
    NotConnected,
    /// The provider is no longer configured on this hub: deleted here, not asked to revoke.
    ProviderNotConfigured,
    /// Deleted here, not revoked: another of the user's connections shares the grant at the
    /// provider (Gmail and Drive through one Google client), and revoking would end it too.
    KeptForOtherServices,
}

impl Revocation {
    const ALL: [Self; 6] = [
        Self::Revoked,
        Self::NoRevocationEndpoint,
        Self::RevocationFailed,
        Self::NotConnected,
        Self::ProviderNotConfigured,
        Self::KeptForOtherServices,
    ];

    /// The stable code (API answers, URLs, audit reasons).
    pub fn code(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::NoRevocationEndpoint => "no_revocation_endpoint",
            Self::RevocationFailed => "revocation_failed",
            Self::NotConnected => "not_connected",
            Self::ProviderNotConfigured => "provider_not_configured",
            Self::KeptForOtherServices => "kept_for_other_services",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Nothing of the grant is left at the provider (or there was none).
    pub fn confirmed(self) -> bool {
        matches!(self, Self::Revoked | Self::NotConnected)
    }

    /// The fixed message after a disconnect.
    pub fn message(self, provider: &str) -> String {
        match self {
            Self::Revoked | Self::NotConnected => format!("{provider} disconnected."),
            Self::NoRevocationEndpoint => format!(
                "{provider} disconnected here. {provider} offers no way to revoke access from \
                 outside: remove ATOM Connect from the apps in your {provider} account settings."
            ),
            Self::RevocationFailed => format!(
                "{provider} disconnected here, but {provider} did not confirm the revocation: \
                 remove ATOM Connect from the apps in your {provider} account settings to be sure."
            ),
            Self::ProviderNotConfigured => format!(
                "{provider} disconnected here. {provider} is no longer set up on this hub, so it \
                 was not asked to revoke access: remove ATOM Connect from the apps in your \
                 {provider} account settings."
            ),
            Self::KeptForOtherServices => format!(
                "{provider} disconnected here. Another service you connected signs in through                  the same app at the provider and still uses that access, so it was not revoked                  there: it is revoked when you disconnect the last of them."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_name_nothing() {
        for failure in ConnectFailure::ALL {
            assert_eq!(ConnectFailure::parse(failure.code()), Some(failure));
        }
        for revocation in Revocation::ALL {
            assert_eq!(Revocation::parse(revocation.code()), Some(revocation));
        }
        assert_eq!(ConnectFailure::parse("<script>alert(1)</script>"), None);
        assert_eq!(Revocation::parse("revoked "), None);
    }
}

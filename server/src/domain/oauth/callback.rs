//! The callback's query, parsed strictly: no duplicates, no oversized or malformed values.
//! OAuth 1.0a callbacks carry `oauth_token` (playing the state's role) and `oauth_verifier`
//! (playing the code's) instead; a `denied` marker is taken as the user's refusal.

use oauth2::AuthorizationCode;
use std::collections::HashSet;

const MAX_VALUE: usize = 2048;

/// A callback's query, checked.
#[derive(Debug)]
pub struct CallbackParams {
    /// The state, or OAuth 1.0a's `oauth_token`.
    pub state: String,
    /// The code, or OAuth 1.0a's `oauth_verifier` (kept in a secret type as well).
    pub code: Option<AuthorizationCode>,
    /// The issuer the authorization server says it is (RFC 9207).
    pub iss: Option<String>,
    /// The provider's error code, never shown as it is.
    pub error: Option<String>,
    /// An OAuth 1.0a callback (`oauth_token` and `oauth_verifier`).
    pub oauth1: bool,
}

/// Why a callback's query was refused (400).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A parameter appears twice.
    #[error("a parameter appears more than once")]
    Duplicate,
    /// A name or value is too long.
    #[error("a parameter is too long")]
    Oversized,
    /// The state is missing, malformed, or mixed with OAuth 1.0a's.
    #[error("the state parameter is missing or malformed")]
    BadState,
    /// Neither a code nor an error.
    #[error("the callback carries neither a code nor an error")]
    NoCode,
    /// OAuth 1.0a without a verifier.
    #[error("the callback carries no oauth_verifier")]
    NoVerifier,
}

impl CallbackParams {
    /// Parses a raw query strictly.
    pub fn parse(query: Option<&str>) -> Result<Self, ParamError> {
        let mut seen = HashSet::new();
        let (mut state, mut code, mut iss, mut error) = (None, None, None, None);
        let (mut token, mut verifier, mut denied) = (None, None, false);
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if !seen.insert(key.to_string()) {
                return Err(ParamError::Duplicate);
            }
            if value.len() > MAX_VALUE || key.len() > 64 {
                return Err(ParamError::Oversized);
            }
            let value = value.into_owned();
            match key.as_ref() {
                "state" => state = Some(value),
                "code" => code = Some(AuthorizationCode::new(value)),
                "iss" => iss = Some(value),
                "error" => error = Some(value),
                "oauth_token" => token = Some(value),
                "oauth_verifier" => verifier = Some(AuthorizationCode::new(value)),
                "denied" => denied = true,
                _ => {}
            }
        }
        if let Some(token) = token {
            return Self::oauth1(token, verifier, denied, state.is_some() || code.is_some());
        }
        let state = state
            .filter(|s| well_formed_state(s))
            .ok_or(ParamError::BadState)?;
        if code.is_none() && error.is_none() {
            return Err(ParamError::NoCode);
        }
        Ok(Self {
            state,
            code,
            iss,
            error,
            oauth1: false,
        })
    }

    fn oauth1(
        token: String,
        verifier: Option<AuthorizationCode>,
        denied: bool,
        mixed: bool,
    ) -> Result<Self, ParamError> {
        if mixed || !well_formed_state(&token) {
            return Err(ParamError::BadState);
        }
        if verifier.is_none() && !denied {
            return Err(ParamError::NoVerifier);
        }
        Ok(Self {
            state: token,
            code: verifier,
            iss: None,
            error: denied.then(|| "access_denied".to_string()),
            oauth1: true,
        })
    }
}

/// Our states are 43 base64url characters; accept only that alphabet and a sane length.
fn well_formed_state(state: &str) -> bool {
    (22..=128).contains(&state.len())
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456";

    #[test]
    fn accepts_a_normal_callback() {
        let q = format!("code=xyz&state={STATE}&iss=https%3A%2F%2Fas.test");
        let p = CallbackParams::parse(Some(&q)).expect("parses");
        assert_eq!(p.state, STATE);
        assert_eq!(p.iss.as_deref(), Some("https://as.test"));
        assert_eq!(p.code.map(|c| c.secret().clone()).as_deref(), Some("xyz"));
    }

    #[test]
    fn rejects_duplicates_oversize_and_malformed_state() {
        let dup = format!("code=a&code=b&state={STATE}");
        assert_eq!(
            CallbackParams::parse(Some(&dup)).unwrap_err(),
            ParamError::Duplicate
        );
        let long = format!("code={}&state={STATE}", "a".repeat(3000));
        assert_eq!(
            CallbackParams::parse(Some(&long)).unwrap_err(),
            ParamError::Oversized
        );
        for bad in [
            "state=%00abcdefghijklmnopqrstuvwxyz&code=a",
            "code=a",
            "state=short&code=a",
        ] {
            assert_eq!(
                CallbackParams::parse(Some(bad)).unwrap_err(),
                ParamError::BadState
            );
        }
        assert_eq!(
            CallbackParams::parse(Some(&format!("state={STATE}"))).unwrap_err(),
            ParamError::NoCode
        );
    }

    #[test]
    fn oauth1_callbacks_carry_token_and_verifier() {
        let p = CallbackParams::parse(Some(&format!("oauth_token={STATE}&oauth_verifier=v1")))
            .expect("parses");
        assert!(p.oauth1 && p.error.is_none());
        assert_eq!(p.state, STATE);
        assert_eq!(p.code.map(|c| c.secret().clone()).as_deref(), Some("v1"));
        let denied =
            CallbackParams::parse(Some(&format!("oauth_token={STATE}&denied=1"))).expect("parses");
        assert_eq!(denied.error.as_deref(), Some("access_denied"));
        let cases = [
            (format!("oauth_token={STATE}"), ParamError::NoVerifier),
            (
                format!("oauth_token={STATE}&oauth_verifier=a&oauth_verifier=b"),
                ParamError::Duplicate,
            ),
            (
                format!("oauth_token={STATE}&oauth_verifier=v&state={STATE}"),
                ParamError::BadState,
            ),
            (
                "oauth_token=bad%20token&oauth_verifier=v".into(),
                ParamError::BadState,
            ),
            (
                format!("oauth_token={STATE}&oauth_verifier={}", "v".repeat(3000)),
                ParamError::Oversized,
            ),
        ];
        for (query, error) in cases {
            assert_eq!(
                CallbackParams::parse(Some(&query)).unwrap_err(),
                error,
                "{query}"
            );
        }
    }
}

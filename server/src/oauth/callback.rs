//! The callback's query, parsed strictly: no duplicates, no oversized or malformed values.

use oauth2::AuthorizationCode;
use std::collections::HashSet;

const MAX_VALUE: usize = 2048;

#[derive(Debug)]
pub struct CallbackParams {
    pub state: String,
    pub code: Option<AuthorizationCode>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("a parameter appears more than once")]
    Duplicate,
    #[error("a parameter is too long")]
    Oversized,
    #[error("the state parameter is missing or malformed")]
    BadState,
    #[error("the callback carries neither a code nor an error")]
    NoCode,
}

impl CallbackParams {
    pub fn parse(query: Option<&str>) -> Result<Self, ParamError> {
        let mut seen = HashSet::new();
        let (mut state, mut code, mut iss, mut error) = (None, None, None, None);
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
                _ => {}
            }
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
}

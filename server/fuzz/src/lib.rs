//! What each fuzz target checks. A target takes arbitrary bytes, feeds them to one of the
//! hub's parsers and asserts what must hold for any input (beyond "does not panic"). The
//! binaries in fuzz_targets/ call these under libFuzzer; tests/corpus.rs replays the
//! committed corpus and every regression through the same functions in `make test`.

use oauth2::TokenResponse as _;
use secrecy::ExposeSecret;
use server::base::config::Config;
use server::base::providers::{Catalog, Identity, TokenFormat};
use server::base::vault::{Binding, Keyring};
use server::domain::oauth::callback::CallbackParams;
use server::domain::oauth::exchange::{parse_token_response, ExchangeError, MAX_LIFETIME_SECONDS};
use server::domain::oauth::flow::safe_return_to;
use server::domain::oauth::identity::read_identity;
use server::domain::oauth::oauth1_sign::read_answer;

/// Every target, by name (the corpus directories are named the same).
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("callback_query", callback_query),
    ("token_response", token_response),
    ("identity", identity),
    ("oauth1_answer", oauth1_answer),
    ("vault_envelope", vault_envelope),
    ("config", config),
    ("return_to", return_to),
];

/// The callback's query (`/api/auth/{service}/callback?...`), as any client may send it.
pub fn callback_query(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = CallbackParams::parse(Some(query)) else {
        return;
    };
    // A state is ours only if it could be: base64url, of a sane length.
    assert!((22..=128).contains(&params.state.len()), "state length");
    assert!(params
        .state
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(params.code.is_some() || params.error.is_some());
    if let Some(code) = &params.code {
        assert!(
            code.secret().len() <= 2048,
            "an oversized code went through"
        );
    }
    if params.oauth1 {
        assert!(params.iss.is_none(), "OAuth 1.0a has no issuer");
    }
}

/// The token endpoint's answer (code exchange and refresh) for both token formats. Layout:
/// byte 0 picks the format (bit 0) and the HTTP status (bits 1..3); up to the first newline
/// is a Retry-After header; the rest is the body.
pub fn token_response(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let format = if first & 1 == 0 {
        TokenFormat::Standard
    } else {
        TokenFormat::SlackV2
    };
    let status = [200, 200, 200, 400, 401, 429, 500, 302][usize::from(first >> 1 & 7)];
    let (retry_after, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let mut answer = http::Response::builder().status(status);
    if let Some(value) = retry_after.and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
        answer = answer.header("retry-after", value);
    }
    let Ok(answer) = answer.body(body.to_vec()) else {
        return;
    };
    match block_on(parse_token_response(
        format,
        reqwest::Response::from(answer),
    )) {
        Ok(grant) => {
            assert_eq!(status, 200, "a token taken from an HTTP {status} answer");
            assert!(!grant.tokens.access_token.secret().is_empty());
            if let Some(refresh) = &grant.tokens.refresh_token {
                assert!(!refresh.secret().is_empty());
            }
            if let Some(seconds) = grant.expires_in {
                assert!((1..=MAX_LIFETIME_SECONDS).contains(&seconds), "{seconds}");
            }
        }
        Err(ExchangeError::Rejected(code)) => {
            // Never free text from a provider: a code-shaped word or "unrecognised".
            assert!(code.len() <= 64);
            assert!(code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
        }
        Err(ExchangeError::RateLimited(Some(seconds))) => assert!(seconds <= 3600),
        Err(_) => {}
    }
    // The oauth2 crate's own reading of the same body must not panic either (it is the type
    // the refresh path hands to callers).
    let _ = serde_json::from_slice::<oauth2::basic::BasicTokenResponse>(body)
        .map(|t| t.access_token().secret().len());
}

/// Every provider's who-am-I answer. Byte 0 picks the provider's shape; the rest is JSON.
pub fn identity(data: &[u8]) {
    const SHAPES: [Identity; 8] = [
        Identity::GitHubUser,
        Identity::OidcUserinfo,
        Identity::SlackAuthTest,
        Identity::AsanaMe,
        Identity::NotionMe,
        Identity::DropboxAccount,
        Identity::MicrosoftGraph,
        Identity::TrelloMember,
    ];
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    if let Some((id, name)) = read_identity(SHAPES[usize::from(first % 8)], &body) {
        assert!(!id.is_empty(), "an account without an id");
        if let Some(name) = name {
            assert!(!name.is_empty());
        }
    }
}

/// OAuth 1.0a's form-encoded token answers (request token and access token).
pub fn oauth1_answer(data: &[u8]) {
    let Ok(answer) = http::Response::builder().status(200).body(data.to_vec()) else {
        return;
    };
    if let Some(answer) = block_on(read_answer(reqwest::Response::from(answer))) {
        assert!(data.len() <= 8 * 1024, "an oversized answer was read");
        assert!(!answer.token.secret().is_empty());
        assert!(!answer.secret.expose_secret().is_empty());
    }
}

/// The vault's envelope opener. Arbitrary bytes never open; a sealed envelope opens only
/// whole, unaltered and under its own binding.
pub fn vault_envelope(data: &[u8]) {
    let keyring = Keyring::from_key(&[7; 32]);
    let binding = Binding {
        table: "connections",
        row_id: "row",
        user_id: "user",
        provider: "github",
        field: "tokens",
    };
    assert!(
        keyring.open(data, &binding).is_err(),
        "forged bytes opened as an envelope"
    );
    let sealed = keyring.seal(data, &binding);
    let plain = keyring
        .open(&sealed, &binding)
        .expect("a sealed envelope opens");
    assert_eq!(plain.expose_secret().as_slice(), data);
    let other = Binding {
        user_id: "someone else",
        ..binding
    };
    assert!(
        keyring.open(&sealed, &other).is_err(),
        "opened under another binding"
    );
    // Any one byte changed, or the envelope cut short: refused.
    let at = data.first().map_or(0, |&b| usize::from(b)) % sealed.len();
    let mut altered = sealed.clone();
    altered[at] ^= 0x01;
    assert!(
        keyring.open(&altered, &binding).is_err(),
        "an altered envelope opened"
    );
    assert!(
        keyring.open(&sealed[..at], &binding).is_err(),
        "a truncated envelope opened"
    );
}

/// The configuration file (TOML), through to the provider catalogue built from it.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::parse(text) else {
        return;
    };
    assert!(matches!(
        config.server.public_url.scheme(),
        "http" | "https"
    ));
    let _ = config.insecure_urls();
    let _ = Catalog::from_config(&config);
}

/// `return_to` (connect links and the authorize route): a relative path on the hub, or the
/// default page.
pub fn return_to(data: &[u8]) {
    let candidate = std::str::from_utf8(data).ok();
    let target = safe_return_to(candidate);
    if candidate != Some(target.as_str()) {
        assert_eq!(target, "/connections");
        return;
    }
    // Whatever is kept must stay on the hub however a browser reads it (WHATWG URL: `\` is
    // `/`, tabs and newlines are dropped, so `/\t/evil` is `//evil`).
    let base = url::Url::parse("https://hub.example/").expect("base");
    let resolved = base.join(&target).expect("a relative path resolves");
    assert_eq!(
        resolved.host_str(),
        Some("hub.example"),
        "{target:?} leaves the hub"
    );
    assert_eq!(resolved.scheme(), "https");
}

/// Runs a future to completion on a small runtime of this thread (the parsers read bodies
/// that are already in memory).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
    }
    RUNTIME.with(|runtime| runtime.block_on(future))
}

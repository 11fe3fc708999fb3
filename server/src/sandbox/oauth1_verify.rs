//! OAuth 1.0a signature checking for the sandbox (RFC 5849 section 3), written independently
//! of the hub's signing crate so that the sandbox really verifies what the hub sends.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

/// RFC 5849 section 3.6: everything but the unreserved characters is percent-encoded.
pub fn encode(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        out
    })
}

/// Strict percent-decoding: a `%` must introduce two hex digits; the result must be UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The protocol parameters of an `Authorization: OAuth ...` header (RFC 5849 section 3.5.1),
/// `realm` excluded. `None` when malformed or when a parameter repeats.
pub fn parse_header(value: &str) -> Option<BTreeMap<String, String>> {
    let rest = value.strip_prefix("OAuth ")?;
    let mut params = BTreeMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, quoted) = part.split_once('=')?;
        let raw = quoted.strip_prefix('"')?.strip_suffix('"')?;
        let (key, value) = (decode(key.trim())?, decode(raw)?);
        if key == "realm" {
            continue;
        }
        if !key.starts_with("oauth_") || params.insert(key, value).is_some() {
            return None;
        }
    }
    Some(params)
}

/// The signature base string (RFC 5849 section 3.4.1). `params` holds every protocol and
/// request parameter except `oauth_signature`, decoded.
pub fn base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    let normalized = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalized)
    )
}

/// HMAC-SHA1 of the base string (RFC 5849 section 3.4.2), base64.
pub fn hmac_sha1(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares in constant time.
pub fn signature_matches(
    sent: &str,
    base: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> bool {
    let expected = hmac_sha1(base, consumer_secret, token_secret);
    bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5849 section 1.2, the protected-resource request (the RFC's own known answer).
    #[test]
    fn verifies_the_rfc_5849_example() {
        let header = "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
            oauth_token=\"nnch734d00sl2jdk\", oauth_signature_method=\"HMAC-SHA1\", \
            oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", \
            oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\"";
        let mut params = parse_header(header).expect("parses");
        let sent = params.remove("oauth_signature").expect("signature");
        assert_eq!(sent, "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
        let mut all: Vec<(String, String)> = params.into_iter().collect();
        all.push(("file".into(), "vacation.jpg".into()));
        all.push(("size".into(), "original".into()));
        let base = base_string("GET", "http://photos.example.net/photos", &all);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26\
             oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26\
             oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26\
             oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
        );
        assert!(signature_matches(
            &sent,
            &base,
            "kd94hf93k423kf44",
            "pfkkdhi9sl3r4s00"
        ));
        assert!(!signature_matches(
            &sent,
            &base,
            "kd94hf93k423kf44",
            "wrong"
        ));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "Bearer x",
            "OAuth oauth_nonce=\"a\", oauth_nonce=\"b\"",
            "OAuth oauth_nonce=a",
            "OAuth other=\"x\"",
            "OAuth oauth_nonce=\"%zz\"",
        ] {
            assert!(parse_header(bad).is_none(), "{bad}");
        }
        assert_eq!(encode("a b&~*"), "a%20b%26~%2A");
    }
}

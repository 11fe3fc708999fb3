//! A connect that another site started: `GET /api/auth/{service}/authorize` stays the
//! platform's contract, but a navigation from another origin must not start a flow by itself
//! (the provider may approve again without a click, replacing the user's connection, and each
//! such visit spent the user's connect quota). It gets this page of the hub instead, whose
//! Continue button posts to the same route from the hub's own origin.

use axum::http::{header, HeaderMap, Method};
use axum::response::{Html, IntoResponse, Response};

/// Whether this request to start a flow may go straight on: any POST (the origin guard has
/// already refused cross-site ones), a GET the browser marks same-origin or user-initiated
/// (`Sec-Fetch-Site: same-origin` or `none`: typed, bookmarked), or, from a browser that
/// sends no `Sec-Fetch-Site`, a GET whose `Referer` is the hub or that asks for JSON only (a
/// program; a page on another origin cannot read the answer).
pub fn goes_straight_on(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return true;
    }
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    if let Some(referer) = text(header::REFERER) {
        return url::Url::parse(referer)
            .is_ok_and(|r| r.origin().ascii_serialization() == public_origin);
    }
    text(header::ACCEPT).is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// The page: what is about to happen, Continue (a POST from the hub's origin) or go back.
pub fn page(service: &str, display_name: &str, return_to: &str) -> Response {
    let return_to = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>();
    confirm(
        &format!("Connect {display_name}?"),
        &format!(
            "Another page asked ATOM Connect to connect your {display_name} account. Continue \
             only if you started this yourself: {display_name} may approve it without asking \
             again, and it replaces the {display_name} account connected now."
        ),
        &format!("/api/auth/{service}/authorize?return_to={return_to}"),
        &format!("Continue to {display_name}"),
        Some(("/connections", "No, back to my connections")),
    )
}

/// A page of the hub that asks before going on: a title, what will happen, a button that
/// POSTs to `action` (so the origin guard applies) and, where there is one, a way back. Every
/// text is escaped; the page is never cached nor sent on as a Referer.
pub fn confirm(
    title: &str,
    text: &str,
    action: &str,
    button: &str,
    back: Option<(&str, &str)>,
) -> Response {
    let form = format!(
        "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
        escape(action),
        escape(button)
    );
    shell(title, text, &form, back)
}

/// A page of the hub that only tells: a title, a text and, where there is one, a way on.
pub fn notice(title: &str, text: &str, back: Option<(&str, &str)>) -> Response {
    shell(title, text, "", back)
}

fn shell(title: &str, text: &str, form: &str, back: Option<(&str, &str)>) -> Response {
    let back = back
        .map(|(href, label)| format!("<p><a href=\"{}\">{}</a></p>", escape(href), escape(label)))
        .unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · ATOM Connect</title></head><body><main>\
         <h1>{title}</h1><p>{text}</p>{form}{back}\
         </main></body></html>",
        title = escape(title),
        text = escape(text),
    );
    let mut response = Html(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        map
    }

    #[test]
    fn only_the_hubs_own_or_the_users_own_navigations_go_straight_on() {
        let hub = "https://hub.example.com";
        let get = |pairs: &[(&str, &str)]| goes_straight_on(&Method::GET, &headers(pairs), hub);
        assert!(get(&[("sec-fetch-site", "same-origin")]));
        assert!(get(&[("sec-fetch-site", "none")]), "typed or bookmarked");
        assert!(!get(&[("sec-fetch-site", "cross-site")]));
        assert!(
            !get(&[("sec-fetch-site", "same-site")]),
            "a sibling subdomain is another site"
        );
        assert!(get(&[("referer", "https://hub.example.com/connections")]));
        assert!(!get(&[("referer", "https://evil.example/x")]));
        assert!(
            !get(&[("accept", "text/html")]),
            "a navigation without a referer"
        );
        assert!(get(&[("accept", "application/json")]), "a program");
        assert!(goes_straight_on(&Method::POST, &HeaderMap::new(), hub));
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let page = page("x\"<", "<script>", "/connections?a=\"b");
        let bytes = futures::executor::block_on(axum::body::to_bytes(page.into_body(), 1 << 16))
            .expect("body");
        let text = String::from_utf8(bytes.to_vec()).expect("utf8");
        assert!(!text.contains("<script>") && text.contains("&lt;script&gt;"));
        assert!(!text.contains("a=\"b"));
    }
}

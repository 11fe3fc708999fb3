//! The sandbox's few HTML pages, escaped by hand (there is no user content beyond echoes).

use axum::response::Html;

pub async fn index() -> Html<String> {
    layout(
        "ATOM Connect sandbox",
        "<p>Local emulations of OAuth providers for development and tests. Not for production.</p>\
         <ul><li>GitHub: <code>/github/login/oauth/authorize</code></li>\
         <li>Google (Gmail, Drive): <code>/google/o/oauth2/v2/auth</code></li>\
         <li>Microsoft (Outlook, Teams): <code>/microsoft/common/oauth2/v2.0/authorize</code></li>\
         <li>Slack: <code>/slack/oauth/v2/authorize</code></li>\
         <li>Notion: <code>/notion/v1/oauth/authorize</code></li>\
         <li>Dropbox: <code>/dropbox/oauth2/authorize</code></li>\
         <li>Asana: <code>/asana/-/oauth_authorize</code></li>\
         <li>A hostile provider (tests): <code>/hostile/authorize</code></li></ul>\
         <p><a href=\"/apps\">Authorized apps</a>: revoke access as a user would at the \
         provider.</p>",
    )
}

pub fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
         margin:3rem auto;padding:0 1rem}}label,input,button{{display:block;margin:.4rem 0}}\
         button{{padding:.5rem 1rem}}</style></head><body>{body}</body></html>",
        title = escape(title)
    ))
}

pub fn escape(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                _ => out.push(c),
            }
            out
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}

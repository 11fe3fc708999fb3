//! Scopes in plain words for the Connections page. An unknown scope is shown as it is.

/// What a scope lets ATOM Connect's services do, in words a user reads at a glance; None for
/// scopes that grant nothing to describe (a refresh-token request).
pub fn scope_words(scope: &str) -> Option<String> {
    let words = match scope {
        "offline_access" => return None,
        "openid" => "sign you in",
        "email" | "user:email" | "https://www.googleapis.com/auth/userinfo.email" => {
            "see your email address"
        }
        "profile" | "https://www.googleapis.com/auth/userinfo.profile" => "see your basic profile",
        "https://www.googleapis.com/auth/gmail.readonly" | "Mail.Read" => "read your email",
        "https://www.googleapis.com/auth/drive.file" => {
            "see and change the Drive files you open with it"
        }
        "users:read" => "see the people in your workspace",
        "channels:read" => "see your workspace's public channels",
        "chat:write" => "post messages",
        "read" => "read your boards",
        "write" => "change your boards",
        "account" => "read your account details",
        "default" => "read and change your tasks and projects",
        "account_info.read" => "read your account details",
        "files.metadata.read" => "see your files' names and details",
        "User.Read" | "read:user" => "read your profile",
        "Chat.Read" => "read your chats",
        "Team.ReadBasic.All" => "see your teams' names",
        other => return Some(other.to_string()),
    };
    Some(words.to_string())
}

/// A list of scopes as one phrase, duplicates removed: "sign you in, read your email".
pub fn describe(scopes: &[String]) -> String {
    let mut phrases: Vec<String> = Vec::new();
    for words in scopes.iter().filter_map(|s| scope_words(s)) {
        if !phrases.contains(&words) {
            phrases.push(words);
        }
    }
    phrases.join(", ")
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn scopes_read_as_plain_words_without_repeats() {
        let scopes = [
            "offline_access",
            "openid",
            "email",
            "Mail.Read",
            "email",
            "x:y",
        ];
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            describe(&scopes),
            "sign you in, see your email address, read your email, x:y"
        );
    }
}

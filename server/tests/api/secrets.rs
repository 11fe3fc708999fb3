//! The provider's access token must appear nowhere but in the vault's ciphertext.

use crate::helpers::*;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn the_access_token_is_nowhere_in_storage_pages_or_logs() {
    let app = spawn_app().await;
    app.signed_in("grace").await;
    app.connect_github("grace-gh").await;
    let token = app
        .sandbox
        .issued_access_tokens()
        .pop()
        .expect("token issued");

    let page = app.get("/connections").await.text().await.expect("html");
    assert!(page.contains("Connected as grace-gh"));
    assert!(!page.contains(&token), "the page never carries the token");
    let (_, status) = app.get_json("/api/auth/github/status").await;
    assert!(!status.to_string().contains(&token));

    // Every table, every column, as text.
    for table in [
        "users",
        "sessions",
        "pending_flows",
        "connections",
        "audit_events",
        "vault_check",
    ] {
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT * FROM {table}"),
            ))
            .await
            .expect("select");
        let dump = format!("{rows:?}");
        assert!(
            !dump.contains(&token),
            "{table} holds the token in plaintext"
        );
    }
    if let Some(file) = &app.sqlite_file {
        for path in [file.clone(), file.with_extension("db-wal")] {
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                    "{path:?}"
                );
            }
        }
    }
    assert!(!logs().contains(&token), "the logs never carry the token");
}

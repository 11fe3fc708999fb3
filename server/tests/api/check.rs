//! `atom check` on broken and good production configurations: each problem has its own
//! message, and the exit code says whether the hub is ready.

use std::process::Command;

struct Run {
    ok: bool,
    output: String,
}

fn atom(dir: &std::path::Path, args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atom"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("ATOM_LOG", "error");
    command.env(
        "ATOM_DATABASE__URL",
        format!("sqlite://{}?mode=rwc", dir.join("atom.db").display()),
    );
    // A compiled site, as `cargo leptos build` leaves it.
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).expect("site");
    std::fs::write(site.join("pkg/atom.wasm"), b"\0asm").expect("wasm");
    command.env("ATOM_SERVER__SITE_ROOT", &site);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("atom runs");
    Run {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn production(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ATOM_MODE", "production".into()),
        ("ATOM_SERVER__PUBLIC_URL", "https://hub.example.com".into()),
        ("ATOM_VAULT__KEY", key.repeat(32)),
        ("ATOM_PROVIDERS__GITHUB__CLIENT_ID", "Iv1.abc".into()),
        (
            "ATOM_PROVIDERS__GITHUB__CLIENT_SECRET",
            "not-a-real-secret".into(),
        ),
    ]
}

#[test]
fn a_development_setup_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().expect("dir");
    let no_site = vec![(
        "ATOM_SERVER__SITE_ROOT",
        dir.path().join("nothing").display().to_string(),
    )];
    let run = atom(dir.path(), &["check"], &no_site);
    assert!(!run.ok);
    for expected in [
        "FAIL site",
        "FAIL mode",
        "FAIL public URL",
        "FAIL master key",
        "`atom migrate` creates it",
        "0 of 10 configured",
    ] {
        assert!(
            run.output.contains(expected),
            "{expected} in\n{}",
            run.output
        );
    }
    assert!(
        !dir.path().join(".atom/master.key").exists(),
        "check generates no key"
    );
}

#[test]
fn a_complete_production_setup_passes_and_prints_the_redirect_uri() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(atom(dir.path(), &["migrate"], &production("44")).ok);
    let run = atom(dir.path(), &["check"], &production("44"));
    assert!(run.ok, "{}", run.output);
    assert!(run
        .output
        .contains("https://hub.example.com/api/auth/github/callback"));
    assert!(run.output.contains("ready for production"));
}

#[test]
fn webhooks_need_https_and_a_long_secret() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(atom(dir.path(), &["migrate"], &production("44")).ok);
    let mut weak = production("44");
    weak.push((
        "ATOM_WEBHOOKS__PLATFORM__URL",
        "http://platform.internal/hooks".into(),
    ));
    weak.push(("ATOM_WEBHOOKS__PLATFORM__SECRET", "short".into()));
    let run = atom(dir.path(), &["check"], &weak);
    assert!(
        !run.ok && run.output.contains("FAIL webhook"),
        "{}",
        run.output
    );
    assert!(run
        .output
        .contains("platform: http://platform.internal/hooks (must be https)"));
    let mut good = production("44");
    good.push((
        "ATOM_WEBHOOKS__PLATFORM__URL",
        "https://platform.internal/hooks".into(),
    ));
    good.push(("ATOM_WEBHOOKS__PLATFORM__SECRET", "s".repeat(40)));
    let run = atom(dir.path(), &["check"], &good);
    assert!(run.ok, "{}", run.output);
    assert!(
        !run.output.contains(&"s".repeat(40)),
        "the secret is never printed"
    );
}

#[test]
fn production_refuses_plain_http_a_wrong_key_and_a_development_key() {
    let dir = tempfile::tempdir().expect("dir");
    let mut http = production("44");
    http[1].1 = "http://hub.example.com".into();
    let run = atom(dir.path(), &["check"], &http);
    assert!(
        !run.ok && run.output.contains("public_url must be https"),
        "{}",
        run.output
    );

    let dev = tempfile::tempdir().expect("dir");
    let key_file = dev.path().join("master.key");
    std::fs::write(
        &key_file,
        format!(
            "{}\n{}\n",
            server::base::vault::DEVELOPMENT_MARK,
            "55".repeat(32)
        ),
    )
    .expect("write");
    let mut with_dev_key = production("44");
    with_dev_key.retain(|(k, _)| *k != "ATOM_VAULT__KEY");
    with_dev_key.push(("ATOM_VAULT__KEY_FILE", key_file.display().to_string()));
    let run = atom(dev.path(), &["check"], &with_dev_key);
    assert!(
        !run.ok && run.output.contains("development key"),
        "{}",
        run.output
    );
}

#[tokio::test]
async fn check_notices_a_key_that_does_not_open_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("atom.db").display());
    let db = server::base::store::open(&url).await.expect("db");
    let ring =
        server::base::vault::Keyring::from_hex(&secrecy::SecretString::from("66".repeat(32)))
            .expect("key");
    server::base::store::vault_check::verify(&db, &ring)
        .await
        .expect("known answer written");
    let run = atom(dir.path(), &["check"], &production("44"));
    assert!(
        !run.ok && run.output.contains("wrong key"),
        "{}",
        run.output
    );
}

/// `atom check` prints every provider's endpoints as the hub will call them, `{tenant}` and
/// `{client_id}` filled in whether the URL is built in or configured (a sovereign cloud, a
/// GitHub Enterprise host): an operator sees the URLs before a user does.
#[test]
fn check_prints_the_resolved_provider_urls() {
    let dir = tempfile::tempdir().expect("dir");
    let mut env = production("44");
    env.extend([
        (
            "ATOM_PROVIDERS__OUTLOOK__CLIENT_ID",
            "outlook-client".into(),
        ),
        (
            "ATOM_PROVIDERS__OUTLOOK__CLIENT_SECRET",
            "not-a-real-secret".into(),
        ),
        ("ATOM_PROVIDERS__OUTLOOK__TENANT", "contoso".into()),
        (
            "ATOM_PROVIDERS__OUTLOOK__TOKEN_URL",
            "https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token".into(),
        ),
    ]);
    assert!(atom(dir.path(), &["migrate"], &env).ok);
    let run = atom(dir.path(), &["check"], &env);
    assert!(run.ok, "{}", run.output);
    assert!(
        run.output.contains(
            "outlook: authorize https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize, \
             token https://login.microsoftonline.us/contoso/oauth2/v2.0/token"
        ),
        "{}",
        run.output
    );
    assert!(run
        .output
        .contains("revoke https://api.github.com/applications/Iv1.abc/grant"));
    assert!(!run.output.contains("{tenant}") && !run.output.contains("%7B"));
}

/// Only `atom migrate` (and `serve`) change the schema: an administrator's command run with a
/// newer binary against an older database says what to do instead of migrating it by the way
/// (issue 18: any command that opened the database migrated it, stranding older instances).
/// `atom migrate --status` lists every migration and changes nothing.
#[test]
fn only_migrate_changes_the_schema_and_status_says_where_it_stands() {
    let dir = tempfile::tempdir().expect("dir");
    let env = production("44");
    let refused = atom(dir.path(), &["apikey", "list"], &env);
    assert!(!refused.ok);
    assert!(
        refused.output.contains("run `atom migrate` first"),
        "{}",
        refused.output
    );
    assert!(
        !dir.path().join("atom.db").exists(),
        "not even an empty file"
    );
    // An empty database (a new PostgreSQL one, say): behind, and said so.
    std::fs::write(dir.path().join("atom.db"), b"").expect("an empty file");
    let refused = atom(dir.path(), &["apikey", "list"], &env);
    assert!(
        refused.output.contains("migration(s) behind"),
        "{}",
        refused.output
    );
    let before = atom(dir.path(), &["migrate", "--status"], &env);
    assert!(before.ok, "{}", before.output);
    assert!(
        before.output.contains("pending m0001_initial"),
        "{}",
        before.output
    );
    assert!(!before.output.contains("applied "), "{}", before.output);
    let total = before
        .output
        .lines()
        .filter(|l| l.starts_with("pending "))
        .count();
    assert!(before
        .output
        .contains(&format!("{total} pending of {total}")));
    // --status wrote nothing: still every migration pending, still refused.
    assert!(!atom(dir.path(), &["apikey", "list"], &env).ok);
    assert!(atom(dir.path(), &["migrate"], &env).ok);
    let after = atom(dir.path(), &["migrate", "--status"], &env);
    assert!(
        after.output.contains("applied m0001_initial"),
        "{}",
        after.output
    );
    assert!(
        after.output.contains(&format!("0 pending of {total}")),
        "{}",
        after.output
    );
    assert!(atom(dir.path(), &["apikey", "list"], &env).ok);
}

/// `atom check` is strict about what it is given (issue 18): a configuration file that is not
/// there, a variable naming a section that does not exist, a public URL with a path; and it
/// writes nothing, not even an empty SQLite file.
#[test]
fn check_refuses_a_missing_file_a_misspelled_section_and_a_url_with_a_path() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = atom(
        dir.path(),
        &["check", "--config", "nowhere.toml"],
        &production("44"),
    );
    assert!(!missing.ok);
    assert!(
        missing
            .output
            .contains("no configuration file at nowhere.toml"),
        "{}",
        missing.output
    );
    let mut typo = production("44");
    typo.push(("ATOM_SEVER__LISTEN", "127.0.0.1:1".into()));
    let typo = atom(dir.path(), &["check"], &typo);
    assert!(
        typo.output.contains("ATOM_SEVER__LISTEN: no such section"),
        "{}",
        typo.output
    );
    let mut path = production("44");
    path[1].1 = "https://hub.example.com/atom".into();
    let path = atom(dir.path(), &["check"], &path);
    assert!(
        path.output.contains("server.public_url is an origin only"),
        "{}",
        path.output
    );
    // [audit] is a section like the others: its variables are read (an invalid one fails).
    let mut audit = production("44");
    audit.push(("ATOM_AUDIT__RETENTION_DAYS", "forever".into()));
    let audit = atom(dir.path(), &["check"], &audit);
    assert!(!audit.ok);
    assert!(
        audit.output.to_lowercase().contains("audit.retention_days"),
        "{}",
        audit.output
    );
    // A real check on a database that is not there yet: reported, and nothing created.
    let run = atom(dir.path(), &["check"], &production("44"));
    assert!(!run.ok);
    assert!(run.output.contains("no database file at"), "{}", run.output);
    assert!(!dir.path().join("atom.db").exists(), "check wrote nothing");
}

/// `atom keys add` (issue 18: the guide's manual steps left the new key unreadable by the hub
/// and dropped the key older backups need): a new key goes first, the old ones stay after it,
/// the file stays private, and the hub loads the result with the new key sealing.
#[test]
fn keys_add_puts_a_new_key_first_and_keeps_the_old_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("keys/master.key");
    let path = file.display().to_string();
    let first = atom(dir.path(), &["keys", "add", "--to", &path], &[]);
    assert!(first.ok, "{}", first.output);
    assert!(first.output.contains("0 older kept"), "{}", first.output);
    let one = std::fs::read_to_string(&file).expect("key file");
    let second = atom(dir.path(), &["keys", "add", "--to", &path], &[]);
    assert!(second.output.contains("1 older kept"), "{}", second.output);
    let two = std::fs::read_to_string(&file).expect("key file");
    let lines: Vec<&str> = two.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1],
        one.trim(),
        "the old key is kept, after the new one"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let leftovers = std::fs::read_dir(dir.path().join("keys"))
        .expect("dir")
        .count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
    let id = second
        .output
        .split_whitespace()
        .nth(2)
        .expect("the new key's id")
        .to_string();
    let mut env = production("44");
    env.retain(|(k, _)| *k != "ATOM_VAULT__KEY");
    env.push(("ATOM_VAULT__KEY_FILE", path.clone()));
    let check = atom(dir.path(), &["check"], &env);
    assert!(
        check.output.contains(&format!("loaded, key id {id}")),
        "{}",
        check.output
    );
    std::fs::write(&file, "not a key\n").expect("break it");
    let broken = atom(dir.path(), &["keys", "add", "--to", &path], &[]);
    assert!(!broken.ok, "a file it cannot read as keys is left alone");
    assert_eq!(std::fs::read_to_string(&file).expect("file"), "not a key\n");
}

//! `atom check`: is this configuration ready for production? Every problem is listed with a
//! specific message; nothing is written (no key generated, no migration applied).

use crate::base::config::{Config, Mode};
use crate::base::providers::Catalog;
use crate::base::store;

pub struct Finding {
    pub ok: bool,
    pub subject: &'static str,
    pub detail: String,
}

fn finding(ok: bool, subject: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        ok,
        subject,
        detail: detail.into(),
    }
}

/// Where the hub will send each request for this provider, as resolved (`{tenant}` and
/// `{client_id}` filled in), so an operator sees the URLs before a user does.
fn endpoints(provider: &crate::base::providers::Provider) -> String {
    let Some(e) = provider.fixed_endpoints() else {
        return format!(
            "{}: discovered from its issuer at first use",
            provider.service
        );
    };
    let mut parts = vec![
        format!("authorize {}", e.authorize_url),
        format!("token {}", e.token_url),
    ];
    let optional = [
        ("request token", &e.request_token_url),
        ("identity", &e.userinfo_url),
        ("revoke", &e.revoke_url),
    ];
    for (name, url) in optional {
        if let Some(url) = url {
            parts.push(format!("{name} {url}"));
        }
    }
    format!("{}: {}", provider.service, parts.join(", "))
}

pub async fn check(config: &Config) -> Vec<Finding> {
    // Judge the configuration as production would run it.
    let mut production = config.clone();
    production.mode = Mode::Production;
    let mut findings = vec![
        finding(
            config.mode == Mode::Production,
            "mode",
            match config.mode {
                Mode::Production => "production".to_string(),
                Mode::Development => "development: set ATOM_MODE=production".to_string(),
            },
        ),
        finding(
            config.server.public_url.scheme() == "https",
            "public URL",
            format!("{} (must be https)", config.server.public_url),
        ),
    ];
    let pkg = config.server.site_root.join("pkg");
    let built = std::fs::read_dir(&pkg).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
    });
    findings.push(finding(
        built,
        "site",
        if built {
            format!("{} holds the compiled app", pkg.display())
        } else {
            format!(
                "no compiled app in {}: build with cargo leptos build --release and point \
                 server.site_root at its site directory",
                pkg.display()
            )
        },
    ));
    let vault = crate::load_vault(&production);
    findings.push(match &vault {
        Ok(ring) => finding(
            true,
            "master key",
            format!("loaded, key id {:08x}", ring.current_key_id()),
        ),
        Err(e) => finding(false, "master key", format!("{e:#}")),
    });
    match store::connect_read_only(&config.database.url).await {
        Err(e) => findings.push(finding(false, "database", format!("unreachable: {e}"))),
        Ok(db) => {
            findings.push(match store::pending_migrations(&db).await {
                Ok(0) => finding(true, "database", "reachable, migrations applied"),
                Ok(n) => finding(
                    false,
                    "database",
                    format!("{n} migrations pending: run atom migrate"),
                ),
                Err(e) => finding(false, "database", format!("cannot read migrations: {e}")),
            });
            if let Ok(ring) = &vault {
                findings.push(match store::vault_check::matches(&db, ring).await {
                    Ok(Some(true)) => finding(
                        true,
                        "known answer",
                        "the master key opens this database's data",
                    ),
                    Ok(Some(false)) => finding(
                        false,
                        "known answer",
                        "the master key does NOT open this database's data: wrong key",
                    ),
                    Ok(None) => finding(
                        true,
                        "known answer",
                        "not written yet (the first start writes it)",
                    ),
                    Err(e) => finding(false, "known answer", format!("cannot be read: {e}")),
                });
            }
        }
    }
    for problem in config
        .insecure_urls()
        .into_iter()
        .filter(|p| p.starts_with("providers."))
    {
        findings.push(finding(false, "provider URL", problem));
    }
    for (name, hook) in &config.webhooks {
        use secrecy::ExposeSecret;
        let https = hook.url.scheme() == "https";
        let strong = hook.secret.expose_secret().chars().count() >= 32;
        findings.push(finding(
            https && strong,
            "webhook",
            format!(
                "{name}: {} ({})",
                hook.url,
                match (https, strong) {
                    (true, true) => "https, secret of 32+ characters",
                    (false, _) => "must be https",
                    (true, false) => "the secret needs at least 32 characters",
                }
            ),
        ));
    }
    match Catalog::from_config(&production) {
        Err(e) => findings.push(finding(false, "providers", e.to_string())),
        Ok(catalog) => {
            let names = catalog.names();
            let usable: Vec<_> = catalog.all().collect();
            findings.push(finding(
                !usable.is_empty(),
                "providers",
                format!("{} of {} configured", usable.len(), names.len()),
            ));
            for provider in usable {
                findings.push(finding(
                    true,
                    "provider",
                    format!(
                        "{}: register the redirect URI {}",
                        provider.service,
                        config.redirect_uri(&provider.service)
                    ),
                ));
                findings.push(finding(true, "endpoints", endpoints(provider)));
            }
        }
    }
    findings
}

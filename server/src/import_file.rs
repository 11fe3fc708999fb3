//! `atom import --file tokens.jsonl`: the old system's grants, one JSON object per line
//! (`user_id`, `service`, `access_token`, and optionally `refresh_token`, `token_secret`,
//! `expires_at`, `scopes`). Each line is checked with its provider and stored, or refused,
//! on its own (domain::import); every line gets a report on stdout naming its line number,
//! never its content (it holds secrets). A user id the hub does not know is provisioned.

use crate::base::audit::{Event, Kind, Origin};
use crate::base::store;
use crate::domain::import::{check, store as store_grant, OldGrant};
use crate::domain::platform_users::provision;
use crate::domain::users::Actor;
use crate::domain::Ctx;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    user_id: String,
    service: String,
    access_token: String,
    refresh_token: Option<String>,
    token_secret: Option<String>,
    expires_at: Option<String>,
    scopes: Option<Vec<String>>,
}

/// How a file went.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub imported: u64,
    pub refused: u64,
}

/// Imports every line of `file`, reporting each on stdout and progress on stderr.
pub async fn run(ctx: &Ctx, file: &std::path::Path) -> anyhow::Result<Summary> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let numbered: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .collect();
    let bar = indicatif::ProgressBar::new(numbered.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} grants checked")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    for (index, line) in numbered {
        let number = index + 1;
        let report = one(ctx, line).await;
        match &report {
            Ok(done) => {
                summary.imported += 1;
                bar.suspend(|| println!("line {number}: imported {done}"));
            }
            Err(why) => {
                summary.refused += 1;
                bar.suspend(|| println!("line {number}: refused, nothing stored: {why}"));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// One line: `service for user as account`, or why not.
async fn one(ctx: &Ctx, line: &str) -> Result<String, String> {
    let line: Line = serde_json::from_str(line).map_err(|_| {
        "not a JSON object of user_id, service, access_token and optionally refresh_token, \
         token_secret, expires_at, scopes"
            .to_string()
    })?;
    let provider = ctx
        .catalog
        .get(&line.service)
        .ok_or_else(|| format!("no configured service {:?}", line.service))?;
    let expires_at = match line.expires_at.as_deref() {
        None => None,
        Some(at) => Some(
            chrono::DateTime::parse_from_rfc3339(at)
                .map_err(|_| "expires_at is not an RFC 3339 time".to_string())?
                .with_timezone(&chrono::Utc),
        ),
    };
    let grant = OldGrant {
        access_token: line.access_token,
        refresh_token: line.refresh_token,
        token_secret: line.token_secret,
        expires_at,
        scopes: line.scopes,
    };
    let known = store::users::by_platform_id(&ctx.db, &line.user_id)
        .await
        .map_err(|e| format!("the database failed: {e}"))?;
    if known.as_ref().is_some_and(|u| u.disabled) {
        return Err("the user is disabled".into());
    }
    // Nothing is made before the provider honours the grant: not even a new user.
    let checked = check(ctx, &provider, grant)
        .await
        .map_err(|e| format!("{}: {e}", e.code()))?;
    let account = checked.account.name.clone();
    let user = match known {
        Some(user) => user,
        None => {
            provision(
                &ctx.db,
                &line.user_id,
                Default::default(),
                None,
                &Actor::cli(),
            )
            .await
            .map_err(|e| format!("the user could not be made: {e}"))?
            .0
        }
    };
    let event = Event::new(Kind::ConnectSucceeded, &Origin::internal(&ctx.clock));
    store_grant(ctx, &user.id, &provider, checked, event)
        .await
        .map_err(|e| format!("{}: {e}", e.code()))?;
    Ok(format!(
        "{} for {} as {account}",
        line.service, line.user_id
    ))
}

//! Key rotation (`atom keys rotate`): re-seals every ciphertext that an older key sealed under
//! the keyring's current (first) key, while hubs keep running.
//!
//! The order that loses nothing: (1) give every instance the keyring `NEW,OLD` (they seal with
//! NEW and open both); (2) run the rotation; (3) when it reports zero left, drop OLD. Each row
//! is rewritten with a compare-and-swap on the old ciphertext, so a refresh that wrote the row
//! meanwhile wins and is never overwritten. An interrupted rotation is resumed by running it
//! again: rows already under the current key are skipped.

use crate::base::clock::Clock;
use crate::base::store::{connections, flows, revocations, vault_check};
use crate::base::vault::{Binding, Keyring};
use crate::domain::connections::token_binding;
use crate::domain::disconnect::retry_binding;
use crate::domain::oauth::flow::SECRET_FIELDS;
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::ExposeSecret;
use std::ops::ControlFlow;

const BATCH: u64 = 200;

/// Every sealed column of the schema, each re-sealed below (a test compares this list with the
/// database's binary columns, so a new sealed column cannot be forgotten here).
pub const SEALED_COLUMNS: [(&str, &str); 4] = [
    ("vault_check", "sealed"),
    ("connections", "tokens_sealed"),
    ("pending_flows", "verifier_sealed"),
    ("revocation_retries", "tokens_sealed"),
];

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Ciphertexts found under an older key.
    pub old: u64,
    /// Of those, re-sealed under the current key.
    pub rotated: u64,
    /// Written by someone else meanwhile (already re-sealed by them): nothing to do.
    pub raced: u64,
    /// Did not open with any key of the keyring (left untouched, reported).
    pub unreadable: u64,
}

/// Ciphertexts not yet under the current key (what a rotation still has to do).
pub async fn remaining(db: &DatabaseConnection, vault: &Keyring) -> Result<u64, DbErr> {
    let mut report = Report::default();
    walk(db, vault, false, &mut report, &mut |_| {
        ControlFlow::Continue(())
    })
    .await?;
    Ok(report.old)
}

/// Rotates; `progress` hears after each row (rows done so far) and may stop the run.
pub async fn rotate(
    db: &DatabaseConnection,
    vault: &Keyring,
    progress: &mut dyn FnMut(u64) -> ControlFlow<()>,
) -> Result<Report, DbErr> {
    let mut report = Report::default();
    walk(db, vault, true, &mut report, progress).await?;
    Ok(report)
}

fn is_old(vault: &Keyring, envelope: &[u8]) -> bool {
    Keyring::key_id_of(envelope) != Some(vault.current_key_id())
}

async fn walk(
    db: &DatabaseConnection,
    vault: &Keyring,
    write: bool,
    report: &mut Report,
    progress: &mut dyn FnMut(u64) -> ControlFlow<()>,
) -> Result<(), DbErr> {
    let mut done = 0u64;
    let mut step = |report: &mut Report| {
        done += 1;
        report.rotated += 1;
        progress(done)
    };
    // The known-answer row first: it decides which keys a hub accepts at start.
    if let Some(row) = vault_check::find(db).await? {
        if is_old(vault, &row.sealed) {
            report.old += 1;
            if write {
                let known = vault_check::known_binding();
                let Some(sealed) = reseal(vault, &row.sealed, &[known], report) else {
                    return Ok(());
                };
                let swapped = vault_check::swap_sealed(db, &row.sealed, sealed).await?;
                if swapped && step(report).is_break() {
                    return Ok(());
                }
            }
        }
    }
    let mut after = String::new();
    loop {
        let rows = connections::page_after(db, &after, BATCH).await?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        for row in rows.into_iter().filter(|r| is_old(vault, &r.tokens_sealed)) {
            report.old += 1;
            if !write {
                continue;
            }
            let binding = token_binding(&row.id, &row.user_id, &row.provider);
            let Some(sealed) = reseal(vault, &row.tokens_sealed, &[binding], report) else {
                continue;
            };
            let swapped = connections::swap_sealed(db, &row.id, &row.tokens_sealed, sealed).await?;
            if !swapped {
                report.raced += 1;
            } else if step(report).is_break() {
                return Ok(());
            }
        }
    }
    // Flows in progress (ten minutes at most) keep working; used or expired ones are never
    // opened again and are left to the cleanup.
    // A command-line run: the system clock.
    let pending = flows::open_at(db, Clock::system().now()).await?;
    for row in pending
        .into_iter()
        .filter(|r| is_old(vault, &r.verifier_sealed))
    {
        report.old += 1;
        if !write {
            continue;
        }
        let bindings = SECRET_FIELDS.map(|field| Binding {
            table: "pending_flows",
            row_id: &row.id,
            user_id: &row.user_id,
            provider: &row.provider,
            field,
        });
        let Some(sealed) = reseal(vault, &row.verifier_sealed, &bindings, report) else {
            continue;
        };
        let swapped = flows::swap_sealed(db, &row.id, &row.verifier_sealed, sealed).await?;
        if !swapped {
            report.raced += 1;
        } else if step(report).is_break() {
            return Ok(());
        }
    }
    // Revocations still to retry: their tokens must open after the old key is gone.
    let retries = revocations::all(db).await?;
    for row in retries
        .into_iter()
        .filter(|r| is_old(vault, &r.tokens_sealed))
    {
        report.old += 1;
        if !write {
            continue;
        }
        let binding = retry_binding(&row.id, &row.user_id, &row.provider);
        let Some(sealed) = reseal(vault, &row.tokens_sealed, &[binding], report) else {
            continue;
        };
        let swapped = revocations::swap_sealed(db, &row.id, &row.tokens_sealed, sealed).await?;
        if !swapped {
            report.raced += 1;
        } else if step(report).is_break() {
            return Ok(());
        }
    }
    Ok(())
}

/// Opens with whichever binding fits and seals again, under the current key, to the same one.
fn reseal(
    vault: &Keyring,
    envelope: &[u8],
    bindings: &[Binding],
    report: &mut Report,
) -> Option<Vec<u8>> {
    for binding in bindings {
        if let Ok(plain) = vault.open(envelope, binding) {
            return Some(vault.seal(plain.expose_secret(), binding));
        }
    }
    report.unreadable += 1;
    tracing::error!("a ciphertext opens with no key of the keyring: left as it is");
    None
}

/// `atom keys rotate`: a progress bar on the terminal, a summary, an error if work is left.
pub async fn rotate_with_progress(db: &DatabaseConnection, vault: &Keyring) -> anyhow::Result<()> {
    if vault.len() < 2 {
        anyhow::bail!(
            "the keyring holds one key: configure NEW,OLD (ATOM_VAULT__KEY or one key per line in \
             the key file, the new key first) on every instance, then rotate"
        );
    }
    let todo = remaining(db, vault).await?;
    let bar = indicatif::ProgressBar::new(todo);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} ciphertexts re-sealed ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = rotate(db, vault, &mut |done| {
        bar.set_position(done);
        ControlFlow::Continue(())
    })
    .await?;
    bar.finish();
    let left = remaining(db, vault).await?;
    println!(
        "re-sealed {} of {} ciphertexts ({} rewritten by the hub meanwhile, {} unreadable); {} left under old keys",
        report.rotated, report.old, report.raced, report.unreadable, left
    );
    if left > 0 {
        anyhow::bail!("{left} ciphertexts are still under old keys: run `atom keys rotate` again");
    }
    println!("done: the old key can now be removed from the keyring");
    Ok(())
}

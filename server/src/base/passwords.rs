//! Password hashing in bounded memory: argon2id in OWASP's 7 MiB configuration (m=7168 KiB,
//! five passes, one lane), as PHC strings. OWASP lists it beside 19 MiB with two passes as
//! giving "an equal level of defense, and the only difference is a trade off between CPU and
//! RAM usage" (Password Storage Cheat Sheet, Argon2id); the same work in a third of the memory
//! is what a hub that must stay under 64 MiB wants (issue 19). Hashes with other parameters
//! (the 19 MiB ones the hub wrote before, password-auth's) still verify, and a sign-in moves
//! them to these ([`is_current`]).
//!
//! Each hash needs a working area of `m` KiB. Allocated afresh for every hash, the freed
//! areas stayed in glibc's per-thread arenas: a burst of sign-ins (wrong passwords are hashed
//! too, so anyone can cause one) took a hub from 24 MiB to 492 MiB and it kept it (issue 19).
//! Here at most [`AT_ONCE`] hashes run together, each in one of at most [`AT_ONCE`] areas
//! allocated on first use and then reused: hashing never holds more than `AT_ONCE` areas,
//! however many sign-ins arrive. One at a time: it leaves the other core to everything else
//! during a flood of guesses, at the cost of queueing sign-ins (about 20 ms of one core each).
//! An area no sign-in used for [`IDLE`] is given back ([`release_idle`], run by a job), so a
//! hub holds it only while people are signing in.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The parameters of new hashes: OWASP's m=7168 (7 MiB), t=5, p=1.
pub const M_COST: u32 = 7168;
const T_COST: u32 = 5;

fn params() -> Result<Params, HashError> {
    Params::new(M_COST, T_COST, 1, None).map_err(|e| HashError(e.to_string()))
}

/// Whether `phc` was made with the current parameters (a sign-in rehashes one that was not).
pub fn is_current(phc: &str) -> bool {
    PasswordHash::new(phc)
        .ok()
        .and_then(|stored| Params::try_from(&stored).ok())
        .is_some_and(|stored| {
            stored.m_cost() == M_COST && stored.t_cost() == T_COST && stored.p_cost() == 1
        })
}

/// Hashes that may run at once (each on a blocking thread, one core's work for ~20 ms).
pub const AT_ONCE: usize = 1;

/// How long a working area is kept after its last hash.
pub const IDLE: Duration = Duration::from_secs(10);

static SLOTS: Semaphore = Semaphore::const_new(AT_ONCE);
/// Working areas not in use right now (never more than `AT_ONCE`), each with when it was last
/// used.
static AREAS: Mutex<Vec<(Instant, Vec<Block>)>> = Mutex::new(Vec::new());

/// Why a hash could not be made (never expected with the fixed parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A new PHC string for `password` (a fresh random salt).
pub async fn hash(password: String) -> Result<String, HashError> {
    in_an_area(move |area| hash_in(&password, area)).await?
}

/// Whether `password` matches the PHC string `phc` (constant-time comparison).
pub async fn verify(password: String, phc: String) -> bool {
    in_an_area(move |area| verify_in(&password, &phc, area))
        .await
        .unwrap_or(false)
}

/// A hash of a password nobody has, to verify unknown users against (the same work as a
/// real check). Made once, in an area of its own.
pub fn dummy_hash() -> String {
    hash_in("not a real password", &mut Vec::new()).unwrap_or_default()
}

/// Runs `work` on a blocking thread with a working area, waiting for a free slot first. The
/// slot goes with the work: a caller that gives up does not free it early.
async fn in_an_area<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, HashError> {
    let slot = SLOTS
        .acquire()
        .await
        .map_err(|e| HashError(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let taken = AREAS.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut area = taken.map(|(_, area)| area).unwrap_or_default();
        let done = work(&mut area);
        // What the hash left behind is derived from the password: cleared before reuse (or
        // before it goes back to the allocator).
        area.iter_mut().for_each(|block| *block = Block::new());
        AREAS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((Instant::now(), area));
        done
    })
    .await
    .map_err(|e| HashError(e.to_string()))
}

/// Gives back the working areas no hash used for `idle`; returns how many.
pub fn release_idle(idle: Duration) -> usize {
    let mut areas = AREAS.lock().unwrap_or_else(|p| p.into_inner());
    let before = areas.len();
    areas.retain(|(used, _)| used.elapsed() < idle);
    before - areas.len()
}

/// Fits `area` to what `params` need: a stored hash with bigger parameters (an older one)
/// grows it, and the next hash gives the extra memory back.
fn argon2_in(params: Params, area: &mut Vec<Block>) -> Argon2<'static> {
    if area.len() != params.block_count() {
        area.resize(params.block_count(), Block::new());
        area.shrink_to_fit();
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_in(password: &str, area: &mut Vec<Block>) -> Result<String, HashError> {
    let fail = |e: argon2::password_hash::Error| HashError(e.to_string());
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(fail)?;
    let params = params()?;
    let argon2 = argon2_in(params.clone(), area);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, &mut *area)
        .map_err(|e| HashError(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(fail)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(fail)?),
    };
    Ok(phc.to_string())
}

fn verify_in(password: &str, phc: &str, area: &mut Vec<Block>) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    if Algorithm::try_from(stored.algorithm) != Ok(Algorithm::Argon2id)
        || stored
            .version
            .is_some_and(|v| v != u32::from(Version::V0x13))
    {
        return false;
    }
    let Ok(params) = Params::try_from(&stored) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = argon2_in(params, area);
    let mut out = vec![0u8; expected.len()];
    if argon2
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, &mut *area)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests share the process's working areas: one at a time.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// Hashes written by password-auth (the hub's earlier hasher) still verify, and ours are
    /// the same PHC format (with OWASP's 7 MiB parameters).
    #[tokio::test]
    async fn hashes_are_compatible_with_password_auth_both_ways() {
        let _serial = SERIAL.lock().await;
        let old = password_auth::generate_hash("correct horse");
        assert!(verify("correct horse".into(), old.clone()).await);
        assert!(!verify("wrong horse".into(), old).await);
        let new = hash("correct horse".into()).await.expect("hash");
        assert!(new.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{new}");
        assert!(is_current(&new));
        let old = password_auth::generate_hash("correct horse");
        assert!(
            !is_current(&old),
            "password-auth's 19 MiB hashes are moved on sign-in"
        );
        assert!(password_auth::verify_password("correct horse", &new).is_ok());
        assert!(password_auth::verify_password("wrong horse", &new).is_err());
        assert!(!verify("x".into(), "not a hash".into()).await);
    }

    /// Twenty hashes at once: never more than `AT_ONCE` working areas exist.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_hashes_reuses_one_working_area() {
        let _serial = SERIAL.lock().await;
        // A 19 MiB hash verified first grows the area; the hashes below fit it back.
        let old = password_auth::generate_hash("p");
        assert!(verify("p".into(), old).await);
        let phc = hash("p".into()).await.expect("hash");
        let checks = (0..20).map(|i| tokio::spawn(verify(format!("guess {i}"), phc.clone())));
        for check in checks {
            assert!(!check.await.expect("task"));
        }
        let areas = AREAS.lock().expect("lock");
        assert!(areas.len() <= AT_ONCE, "{} areas", areas.len());
        assert!(areas.iter().all(|(_, a)| a.len() == M_COST as usize));
    }

    /// An area is kept while sign-ins come, and given back once none came for a while.
    #[tokio::test]
    async fn an_idle_working_area_is_given_back() {
        let _serial = SERIAL.lock().await;
        hash("p".into()).await.expect("hash");
        assert_eq!(release_idle(IDLE), 0, "just used: kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            release_idle(Duration::from_millis(10)) >= 1,
            "idle: given back"
        );
        assert!(AREAS.lock().expect("lock").is_empty());
    }
}

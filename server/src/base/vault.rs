//! The vault: XChaCha20-Poly1305 envelopes `[version][key_id][nonce][ciphertext]` whose
//! associated data binds each ciphertext to its row and field.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the ciphertext does not open with this key and binding")]
    Open,
    #[error("no key with id {0:08x} in the keyring")]
    UnknownKey(u32),
    #[error("the master key must be 64 hex characters (32 bytes)")]
    BadKey,
    #[error("master key file {0}: {1}")]
    KeyFile(String, std::io::Error),
}

/// What a ciphertext is bound to: opening it anywhere else fails.
pub struct Binding<'a> {
    pub table: &'a str,
    pub row_id: &'a str,
    pub user_id: &'a str,
    pub provider: &'a str,
    pub field: &'a str,
}

impl Binding<'_> {
    fn associated_data(&self) -> Vec<u8> {
        [
            self.table,
            self.row_id,
            self.user_id,
            self.provider,
            self.field,
        ]
        .iter()
        .fold(b"atom/v1".to_vec(), |mut out, part| {
            out.push(0);
            out.extend_from_slice(part.as_bytes());
            out
        })
    }
}

/// The first line of a generated development key file: production refuses such a key.
pub const DEVELOPMENT_MARK: &str = "# ATOM Connect development key: for development only";

pub struct LoadedKey {
    pub keyring: Keyring,
    /// Generated just now.
    pub created: bool,
    /// A generated development key (marked in its file).
    pub development: bool,
}

/// The keys the hub can open with; new ciphertexts use the current one.
pub struct Keyring {
    current: u32,
    keys: BTreeMap<u32, XChaCha20Poly1305>,
}

impl Keyring {
    pub fn from_key(key: &[u8; 32]) -> Self {
        let id = key_id(key);
        let mut keys = BTreeMap::new();
        keys.insert(id, XChaCha20Poly1305::new(key.into()));
        Self { current: id, keys }
    }

    /// One key, or several separated by commas or new lines: the first seals, every one
    /// opens (the old keys during a rotation).
    pub fn from_hex(hex_keys: &SecretString) -> Result<Self, VaultError> {
        let mut ring: Option<Self> = None;
        for part in hex_keys
            .expose_secret()
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let bytes = hex::decode(part).map_err(|_| VaultError::BadKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| VaultError::BadKey)?;
            match ring.as_mut() {
                None => ring = Some(Self::from_key(&key)),
                Some(ring) => {
                    ring.keys
                        .entry(key_id(&key))
                        .or_insert_with(|| XChaCha20Poly1305::new(&key.into()));
                }
            }
        }
        ring.ok_or(VaultError::BadKey)
    }

    /// A new random key, hex-encoded (`atom keys generate`).
    pub fn generate_hex() -> SecretString {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretString::from(hex::encode(key))
    }

    /// Which key sealed this envelope (None if it is not one of ours).
    pub fn key_id_of(envelope: &[u8]) -> Option<u32> {
        (envelope.len() >= HEADER_LEN && envelope[0] == VERSION)
            .then(|| u32::from_be_bytes([envelope[1], envelope[2], envelope[3], envelope[4]]))
    }

    /// How many keys open (the current one and any old ones).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Reads the key file (hex; `#` lines are comments); in development a missing file is
    /// created (mode 0600) and marked as a development key.
    pub fn load_or_create(path: &Path, create: bool) -> Result<LoadedKey, VaultError> {
        let err = |e| VaultError::KeyFile(path.display().to_string(), e);
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let hex_key: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
                let hex_key = hex_key.join("\n");
                Ok(LoadedKey {
                    keyring: Self::from_hex(&SecretString::from(hex_key))?,
                    created: false,
                    development: text.starts_with(DEVELOPMENT_MARK),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let contents = format!("{DEVELOPMENT_MARK}\n{}", hex::encode(key));
                write_private(path, contents.as_bytes()).map_err(err)?;
                Ok(LoadedKey {
                    keyring: Self::from_key(&key),
                    created: true,
                    development: true,
                })
            }
            Err(e) => Err(err(e)),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    pub fn seal(&self, plaintext: &[u8], binding: &Binding) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = binding.associated_data();
        let cipher = &self.keys[&self.current];
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(
        &self,
        envelope: &[u8],
        binding: &Binding,
    ) -> Result<SecretBox<Vec<u8>>, VaultError> {
        if envelope.len() < HEADER_LEN || envelope[0] != VERSION {
            return Err(VaultError::Open);
        }
        let id = u32::from_be_bytes([envelope[1], envelope[2], envelope[3], envelope[4]]);
        let cipher = self.keys.get(&id).ok_or(VaultError::UnknownKey(id))?;
        let nonce = XNonce::from_slice(&envelope[5..HEADER_LEN]);
        let aad = binding.associated_data();
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &envelope[HEADER_LEN..],
                    aad: &aad,
                },
            )
            .map(|plain| SecretBox::new(Box::new(plain)))
            .map_err(|_| VaultError::Open)
    }
}

/// A key's public name: the first 4 bytes of a hash of it (identifies, never reveals, the key).
/// `atom keys add`: a new random key goes first in the key file at `path` (created if missing)
/// and every key already in it stays after it, so hubs restarted on the file seal with the new
/// key and still open everything sealed before (and backups made under the old keys). The
/// file is written beside the old one (mode 0600, owned by whoever runs this), read back as a
/// keyring with the new key first and every old one in it, and only then renamed over it.
/// Returns the new key's id and how many keys the file now holds.
pub fn add_key(path: &Path) -> Result<(u32, usize), VaultError> {
    let err = |e| VaultError::KeyFile(path.display().to_string(), e);
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(err(e)),
    };
    let old_keys: Vec<&str> = old
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let previous = if old_keys.is_empty() {
        None
    } else {
        Some(Keyring::from_hex(&SecretString::from(old_keys.join("\n")))?)
    };
    let new = Keyring::generate_hex();
    let mut lines = vec![new.expose_secret()];
    lines.extend(&old_keys);
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".new-{}", std::process::id()));
    let temporary = std::path::PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    write_private(&temporary, lines.join("\n").as_bytes()).map_err(err)?;
    let check = Keyring::load_or_create(&temporary, false).and_then(|loaded| {
        let fresh = Keyring::from_hex(&new)?;
        let whole = loaded.keyring.current == fresh.current
            && previous
                .as_ref()
                .is_none_or(|p| p.keys.keys().all(|id| loaded.keyring.keys.contains_key(id)));
        if whole {
            Ok((loaded.keyring.current, loaded.keyring.len()))
        } else {
            Err(VaultError::BadKey)
        }
    });
    match check {
        Ok(found) => {
            std::fs::rename(&temporary, path).map_err(err)?;
            Ok(found)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

fn key_id(key: &[u8; 32]) -> u32 {
    let digest = Sha256::new_with_prefix(b"atom key id\0")
        .chain_update(key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding<'a>(row: &'a str, field: &'a str) -> Binding<'a> {
        Binding {
            table: "connections",
            row_id: row,
            user_id: "u1",
            provider: "github",
            field,
        }
    }

    fn ring() -> Keyring {
        Keyring::from_key(&[7u8; 32])
    }

    #[test]
    fn seal_then_open_round_trips() {
        let ring = ring();
        let sealed = ring.seal(b"gho_secret", &binding("row1", "tokens"));
        let opened = ring
            .open(&sealed, &binding("row1", "tokens"))
            .expect("opens");
        assert_eq!(opened.expose_secret().as_slice(), b"gho_secret");
        assert!(!sealed.windows(10).any(|w| w == b"gho_secret"));
    }

    #[test]
    fn ciphertext_copied_to_another_row_or_field_fails() {
        let ring = ring();
        let sealed = ring.seal(b"gho_secret", &binding("row1", "tokens"));
        assert!(ring.open(&sealed, &binding("row2", "tokens")).is_err());
        assert!(ring.open(&sealed, &binding("row1", "verifier")).is_err());
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let ring = ring();
        let a = ring.seal(b"same", &binding("r", "f"));
        let b = ring.seal(b"same", &binding("r", "f"));
        assert_ne!(a[5..HEADER_LEN], b[5..HEADER_LEN]);
    }

    #[test]
    fn tampering_and_wrong_keys_are_refused() {
        let ring = ring();
        let mut sealed = ring.seal(b"data", &binding("r", "f"));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(ring.open(&sealed, &binding("r", "f")).is_err());
        let sealed = ring.seal(b"data", &binding("r", "f"));
        let other = Keyring::from_key(&[8u8; 32]);
        assert!(matches!(
            other.open(&sealed, &binding("r", "f")),
            Err(VaultError::UnknownKey(_))
        ));
    }

    #[test]
    fn a_keyring_in_rotation_opens_old_envelopes_and_seals_with_the_first_key() {
        let old = hex::encode([1u8; 32]);
        let new = hex::encode([2u8; 32]);
        let before = Keyring::from_hex(&SecretString::from(old.clone())).expect("old");
        let sealed = before.seal(b"data", &binding("r", "f"));
        let both = Keyring::from_hex(&SecretString::from(format!("{new},\n{old}"))).expect("both");
        assert_eq!(both.len(), 2);
        let opened = both
            .open(&sealed, &binding("r", "f"))
            .expect("old envelope opens");
        assert_eq!(opened.expose_secret().as_slice(), b"data");
        let resealed = both.seal(b"data", &binding("r", "f"));
        assert_eq!(Keyring::key_id_of(&resealed), Some(both.current_key_id()));
        assert_ne!(Keyring::key_id_of(&sealed), Keyring::key_id_of(&resealed));
        assert!(before.open(&resealed, &binding("r", "f")).is_err());
        assert!(Keyring::from_hex(&SecretString::from(format!("{new},zz"))).is_err());
    }

    #[test]
    fn development_key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/master.key");
        let first = Keyring::load_or_create(&path, true).expect("creates");
        assert!(first.created && first.development);
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = Keyring::load_or_create(&path, true).expect("reads");
        assert!(
            !second.created && second.development,
            "still marked as development"
        );
        assert_eq!(
            first.keyring.current_key_id(),
            second.keyring.current_key_id()
        );
        assert!(Keyring::load_or_create(&dir.path().join("none"), false).is_err());
    }
}

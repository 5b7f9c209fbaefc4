//! Sealing the few secrets we must read back later (an OIDC client secret): AES-256-GCM under the
//! server's secret key, a random 96-bit nonce per seal, and the owning row's id as associated data
//! so a sealed value copied onto another row does not open. Passwords and API keys are hashed
//! instead; they never need to be read back.

use std::{fmt, path::Path, sync::Arc};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use rand::{RngCore, rngs::OsRng};

const VERSION: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Why a key could not be loaded or a sealed value not opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("the secret key must be 32 bytes in base64 (generate one with `openssl rand -base64 32`)")]
    BadKey,
    #[error("cannot read or create the secret key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("the sealed value was not made with this server's secret key, or it was altered")]
    CannotOpen,
}

/// Seals and opens secrets with one AES-256-GCM key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<Aes256Gcm>,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box for the base64 key `encoded` (32 bytes).
    pub fn from_base64(encoded: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| SecretBoxError::BadKey)?;
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self { cipher: Arc::new(cipher) })
    }

    /// A box for the key in `path`, creating the file (owner-only) with a fresh random key when it
    /// does not exist yet: the zero-setup default for a single embedded-SQLite server.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretBoxError> {
        let name = path.display().to_string();
        if !path.exists() {
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| SecretBoxError::KeyFile(name.clone(), e))?;
            }
            write_private(path, &STANDARD.encode(key))
                .map_err(|e| SecretBoxError::KeyFile(name.clone(), e))?;
        }
        let encoded = std::fs::read_to_string(path).map_err(|e| SecretBoxError::KeyFile(name, e))?;
        Self::from_base64(&encoded)
    }

    /// Seals `plaintext`, bound to `context` (the owning row's id).
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    /// Opens a value made by [`SecretBox::seal`] with the same key and `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SecretBoxError> {
        let body = sealed.strip_prefix(VERSION).ok_or(SecretBoxError::CannotOpen)?;
        let bytes = STANDARD.decode(body).map_err(|_| SecretBoxError::CannotOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretBoxError::CannotOpen);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let clear = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| SecretBoxError::CannotOpen)?;
        String::from_utf8(clear).map_err(|_| SecretBoxError::CannotOpen)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SecretBox {
        SecretBox::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn seals_and_opens_with_the_same_context_only() {
        let b = sample();
        let sealed = b.seal("client-secret", "row-1");
        assert!(!sealed.contains("client-secret"));
        assert_eq!(b.open(&sealed, "row-1").unwrap(), "client-secret");
        assert!(matches!(b.open(&sealed, "row-2"), Err(SecretBoxError::CannotOpen)));
        assert_ne!(sealed, b.seal("client-secret", "row-1"), "a fresh nonce per seal");
    }

    #[test]
    fn another_key_or_a_tampered_value_does_not_open() {
        let sealed = sample().seal("s", "row");
        let other = SecretBox::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.open(&sealed, "row").is_err());
        let mut bytes = STANDARD.decode(&sealed[VERSION.len()..]).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        let tampered = format!("{VERSION}{}", STANDARD.encode(bytes));
        assert!(sample().open(&tampered, "row").is_err());
        assert!(sample().open("garbage", "row").is_err());
    }

    #[test]
    fn rejects_short_keys_and_creates_a_private_key_file() {
        assert!(matches!(SecretBox::from_base64("c2hvcnQ="), Err(SecretBoxError::BadKey)));
        let dir = std::env::temp_dir().join(format!("scimpad-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secret.key");
        let first = SecretBox::load_or_create(&path).unwrap();
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open(&first.seal("x", "c"), "c").unwrap(), "x", "the file keeps the key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

//! Encryption of secrets at rest (origin credentials, account private keys) with
//! XChaCha20-Poly1305. The key comes from `storage.secrets_key` or from a key file that is
//! generated once with 0600 permissions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::path::Path;

/// Why a key or ciphertext was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("storage.secrets_key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("secrets key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored secret could not be decrypted (wrong storage.secrets_key?)")]
    Decrypt,
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// A box from a base64 key (the config value).
    pub fn from_base64(key: &str) -> Result<Self, SecretsError> {
        let bytes = B64.decode(key.trim()).map_err(|_| SecretsError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, SecretsError> {
        let cipher = XChaCha20Poly1305::new_from_slice(bytes).map_err(|_| SecretsError::BadKey)?;
        Ok(Self { cipher })
    }

    /// Reads the key file at `path`, generating it (mode 0600) when missing.
    pub fn from_key_file(path: &Path) -> Result<Self, SecretsError> {
        let io_err = |source| SecretsError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                write_private_file(path, B64.encode(key).as_bytes()).map_err(io_err)?;
                Self::from_bytes(&key)
            }
            Err(e) => Err(io_err(e)),
        }
    }

    /// Encrypts `plain` into base64(nonce ‖ ciphertext).
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory input");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }

    /// Decrypts what [`SecretBox::seal`] produced.
    pub fn open(&self, sealed: &str) -> Result<String, SecretsError> {
        let bytes = B64.decode(sealed).map_err(|_| SecretsError::Decrypt)?;
        if bytes.len() < 24 {
            return Err(SecretsError::Decrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretsError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretsError::Decrypt)
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let sealed = SecretBox::from_key_file(&path).unwrap().seal("s3cret");
        assert!(!sealed.contains("s3cret"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // The same file gives the same key.
        assert_eq!(
            SecretBox::from_key_file(&path)
                .unwrap()
                .open(&sealed)
                .unwrap(),
            "s3cret"
        );
        let other = SecretBox::from_base64(&B64.encode([7u8; 32])).unwrap();
        assert!(matches!(other.open(&sealed), Err(SecretsError::Decrypt)));
        assert!(matches!(
            SecretBox::from_base64("short"),
            Err(SecretsError::BadKey)
        ));
    }
}

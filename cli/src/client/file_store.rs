//! The desktop client's secure store: a file readable only by the user, like an SSH
//! key. Desktops have no Secure Enclave or StrongBox to offer a command-line tool that
//! runs in containers and over SSH, so the client keeps its session, device key and
//! tickets in `secrets.json` (mode 0600, written atomically) and nowhere else.
//! The mobile shells use the Keychain and the Android Keystore instead.

use super::home::write_private;
use base64::Engine as _;
use keyway_core::secure_store::{SecureStore, SecureStoreError};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Secrets in one private file.
pub struct FileStore {
    path: PathBuf,
    write: Mutex<()>,
}

/// Name → base64 of the secret, wiped from memory when dropped.
type Secrets = BTreeMap<String, Zeroizing<String>>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

impl FileStore {
    /// The store in `path` (created on first write).
    pub fn new(path: PathBuf) -> Self {
        Self { path, write: Mutex::new(()) }
    }

    fn read_all(&self) -> Result<Secrets, SecureStoreError> {
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Secrets::new()),
            Err(e) => {
                return Err(SecureStoreError::Failed { detail: format!("reading the secrets file: {}", e.kind()) });
            }
        };
        let map: BTreeMap<String, String> = serde_json::from_slice(&text)
            .map_err(|_| SecureStoreError::Failed { detail: "the secrets file is damaged".into() })?;
        Ok(map.into_iter().map(|(name, value)| (name, Zeroizing::new(value))).collect())
    }

    fn write_all(&self, map: &Secrets) -> Result<(), SecureStoreError> {
        let plain: BTreeMap<&str, &str> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let text = Zeroizing::new(
            serde_json::to_vec(&plain).map_err(|_| SecureStoreError::Failed { detail: "encoding".into() })?,
        );
        write_private(&self.path, &text)
            .map_err(|_| SecureStoreError::Failed { detail: "writing the secrets file".into() })
    }

    fn update(&self, change: impl FnOnce(&mut Secrets)) -> Result<(), SecureStoreError> {
        let _one_writer = self.write.lock().map_err(|_| SecureStoreError::Failed { detail: "poisoned".into() })?;
        let mut map = self.read_all()?;
        change(&mut map);
        self.write_all(&map)
    }
}

impl SecureStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError> {
        let map = self.read_all()?;
        let Some(encoded) = map.get(name) else { return Ok(None) };
        B64.decode(encoded.as_bytes())
            .map(|bytes| Some(Zeroizing::new(bytes)))
            .map_err(|_| SecureStoreError::Failed { detail: "a secret in the secrets file is damaged".into() })
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError> {
        self.update(|map| {
            map.insert(name.to_owned(), Zeroizing::new(B64.encode(secret)));
        })
    }

    fn delete(&self, name: &str) -> Result<(), SecureStoreError> {
        self.update(|map| {
            map.remove(name);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn secrets_survive_a_restart_and_only_the_user_can_read_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secrets.json");
        FileStore::new(path.clone()).set("session", b"refresh-token-bytes").expect("stored");
        let reopened = FileStore::new(path.clone());
        assert_eq!(
            reopened.get("session").expect("read").as_deref().map(Vec::as_slice),
            Some(&b"refresh-token-bytes"[..])
        );
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        reopened.delete("session").expect("deleted");
        assert_eq!(FileStore::new(path).get("session").expect("read"), None);
    }

    #[test]
    fn a_damaged_secrets_file_is_an_error_without_its_contents() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "not json: hunter2").expect("write");
        let err = FileStore::new(path).get("session").expect_err("damaged");
        assert!(!err.to_string().contains("hunter2"));
    }
}

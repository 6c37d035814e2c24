//! A secure store on disk, for the crash-safety suite only: it stands in for the
//! platform keychain, which survives the app being killed. A real app uses the Keychain
//! or the Android keystore ([`keyway_core::secure_store::KeyringStore`]); this file
//! store exists because those cannot run here and the suite needs secrets that outlive
//! a killed process. It is not protected like a keychain and must never ship.
//!
//! Each secret is one file named by the hex of its name. A write goes to a temporary
//! file, is synced, renamed over the old one and the directory synced, as a keychain's
//! write is atomic: after a kill the old secret or the new one is there, never a part.

use keyway_core::secure_store::{SecureStore, SecureStoreError};
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Secrets as files in one directory (test stand-in for the platform keychain).
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir` (created if missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SecureStoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|_| failed("create"))?;
        Ok(Self { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(hex::encode(name.as_bytes()))
    }

    fn sync_dir(&self) -> Result<(), SecureStoreError> {
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|_| failed("sync"))
    }
}

fn failed(op: &str) -> SecureStoreError {
    SecureStoreError::Failed { detail: format!("file store: {op}") }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl SecureStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError> {
        match fs::read(self.path(name)) {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(_) => Err(failed("read")),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError> {
        let path = self.path(name);
        let temporary = path.with_extension("new");
        write_synced(&temporary, secret).map_err(|_| failed("write"))?;
        fs::rename(&temporary, &path).map_err(|_| failed("rename"))?;
        self.sync_dir()
    }

    fn delete(&self, name: &str) -> Result<(), SecureStoreError> {
        match fs::remove_file(self.path(name)) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(_) => Err(failed("delete")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_store_keeps_secrets_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        assert_eq!(store.get("ticket/0102").unwrap(), None);
        store.set("ticket/0102", b"first").unwrap();
        store.set("ticket/0102", b"second").unwrap();
        let reopened = FileStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("ticket/0102").unwrap().unwrap().as_slice(), b"second");
        reopened.delete("ticket/0102").unwrap();
        reopened.delete("ticket/0102").unwrap();
        assert_eq!(store.get("ticket/0102").unwrap(), None);
    }
}

//! Secrets in private files: for desktops with no keyring service (containers, SSH
//! sessions), and for tests whose secrets must outlive a killed process. The phones use
//! the Keychain and the Android Keystore instead; this store is only as safe as the
//! user's account, like an SSH key.
//!
//! Each secret is one file in one directory, named by the hex of the secret's name. The
//! directory is created `0700` and every file `0600` (on Unix). A write goes to a
//! temporary file, is synced, renamed over the old file and the directory synced, so
//! after a crash or a kill the old secret or the new one is there, never a part of one.

use super::secure_store::{SecureStore, SecureStoreError};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Secrets as private files in one directory.
pub struct FileStore {
    dir: PathBuf,
    /// One writer at a time, so two writes of one name never share a temporary file.
    write: Mutex<()>,
}

impl FileStore {
    /// The store in `dir`, created (private to the user) if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SecureStoreError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| failed("create the folder", &e))?;
        Ok(Self { dir, write: Mutex::new(()) })
    }

    /// The folder the secrets are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        let file: String = name.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(file)
    }

    fn sync_dir(&self) -> Result<(), SecureStoreError> {
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| failed("sync the folder", &e))
    }
}

/// The operation and the kind of I/O failure; never a path's secret-derived name or a value.
fn failed(op: &str, e: &std::io::Error) -> SecureStoreError {
    SecureStoreError::Failed { detail: format!("file store: {op}: {}", e.kind()) }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // A folder that already existed keeps its mode: make it private too.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl SecureStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError> {
        match fs::read(self.path(name)) {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failed("read", &e)),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError> {
        let _one_writer = self.write.lock().map_err(|_| SecureStoreError::Failed { detail: "poisoned".into() })?;
        let path = self.path(name);
        let temporary = path.with_extension("new");
        write_synced(&temporary, secret).map_err(|e| failed("write", &e))?;
        fs::rename(&temporary, &path).map_err(|e| failed("replace", &e))?;
        self.sync_dir()
    }

    fn delete(&self, name: &str) -> Result<(), SecureStoreError> {
        let _one_writer = self.write.lock().map_err(|_| SecureStoreError::Failed { detail: "poisoned".into() })?;
        match fs::remove_file(self.path(name)) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed("delete", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_store_keeps_replaces_and_forgets_secrets() {
        let dir = tempfile::tempdir().unwrap();
        crate::platform::secure_store::tests::exercise(&FileStore::open(dir.path().join("secrets")).unwrap());
    }

    #[test]
    fn secrets_survive_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        FileStore::open(dir.path()).unwrap().set("ticket/0102", b"second").unwrap();
        let reopened = FileStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("ticket/0102").unwrap().unwrap().as_slice(), b"second");
    }

    #[cfg(unix)]
    #[test]
    fn only_the_user_can_read_the_secrets() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path().join("secrets")).unwrap();
        store.set("session", b"refresh-token-bytes").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.dir()), 0o700);
        let files: Vec<_> = fs::read_dir(store.dir()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");
        assert_eq!(mode(&files[0]), 0o600);
    }

    #[test]
    fn names_with_slashes_become_flat_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        store.set("ticket/door", b"x").unwrap();
        let names: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["7469636b65742f646f6f72".to_owned()]);
    }
}

//! The desktop client's folder: which backend it talks to (`settings.json`), the key
//! cache (`cache.sqlite`), where its secrets are (`secret-store`) and, without an OS
//! keyring, the secret files (`secrets/`). One command at a time holds it, through an
//! advisory lock on `.lock`.

use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Where the client keeps its things, and the lock that keeps two commands apart.
pub struct Home {
    dir: PathBuf,
    _lock: File,
}

/// The backend this home talks to and the hosts whose links it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The backend's base URL.
    pub backend_url: String,
    /// Hosts of accepted invitation and share links.
    pub link_hosts: Vec<String>,
    /// A PEM file of extra CA certificates to trust for the backend (`--ca-file`).
    pub ca_file: Option<PathBuf>,
}

/// Why the folder cannot be used.
#[derive(Debug)]
pub enum HomeError {
    /// Creating, locking, reading or writing a file failed.
    Io(PathBuf, std::io::Error),
    /// `settings.json` is not what this client writes.
    CorruptSettings(PathBuf),
}

impl std::fmt::Display for HomeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(path, e) => write!(f, "cannot use {}: {e}", path.display()),
            Self::CorruptSettings(path) => write!(f, "{} is damaged; remove it and sign in again", path.display()),
        }
    }
}

/// The default folder: `$KEYWAY_HOME` is handled by the argument parser; otherwise
/// `$XDG_DATA_HOME/keyway` or `~/.local/share/keyway`.
pub fn default_dir() -> PathBuf {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(data).join("keyway");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/keyway")
}

impl Home {
    /// Opens (creating, private to this user) the folder and takes its lock, waiting for
    /// another command that holds it.
    pub fn open(dir: &Path) -> Result<Self, HomeError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| HomeError::Io(dir.to_owned(), e))?;
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| HomeError::Io(lock_path.clone(), e))?;
        lock.lock().map_err(|e| HomeError::Io(lock_path, e))?;
        Ok(Self { dir: dir.to_owned(), _lock: lock })
    }

    /// The key cache file.
    pub fn cache_path(&self) -> PathBuf {
        self.dir.join("cache.sqlite")
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of secret files, when secrets are not in the OS keyring.
    pub fn secrets_dir(&self) -> PathBuf {
        self.dir.join("secrets")
    }

    /// Where the folder records which store keeps its secrets.
    pub fn secret_store_path(&self) -> PathBuf {
        self.dir.join("secret-store")
    }

    fn settings_path(&self) -> PathBuf {
        self.dir.join("settings.json")
    }

    /// The saved settings, if a sign-in saved some.
    pub fn settings(&self) -> Result<Option<Settings>, HomeError> {
        let path = self.settings_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(HomeError::Io(path, e)),
        };
        let corrupt = || HomeError::CorruptSettings(path.clone());
        let value: Value = serde_json::from_str(&text).map_err(|_| corrupt())?;
        let backend_url = value["backend_url"].as_str().ok_or_else(corrupt)?.to_owned();
        let link_hosts = value["link_hosts"]
            .as_array()
            .ok_or_else(corrupt)?
            .iter()
            .map(|h| h.as_str().map(str::to_owned).ok_or_else(corrupt))
            .collect::<Result<_, _>>()?;
        let ca_file = match &value["ca_file"] {
            Value::Null => None,
            v => Some(PathBuf::from(v.as_str().ok_or_else(corrupt)?)),
        };
        Ok(Some(Settings { backend_url, link_hosts, ca_file }))
    }

    /// Saves the settings (atomically: a half-written file is never read).
    pub fn save_settings(&self, settings: &Settings) -> Result<(), HomeError> {
        let text = json!({
            "backend_url": settings.backend_url,
            "link_hosts": settings.link_hosts,
            "ca_file": settings.ca_file.as_ref().map(|p| p.display().to_string()),
        })
        .to_string();
        write_private(&self.settings_path(), text.as_bytes())
    }
}

/// Writes a file readable only by this user: a temporary file, flushed to disk, then
/// renamed over the old one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), HomeError> {
    let io = |e| HomeError::Io(path.to_owned(), e);
    let tmp = path.with_extension("tmp");
    let mut file = OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

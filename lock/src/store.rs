//! Where the state file lives. [`Storage`] saves the whole state at once and atomically:
//! after a crash or a failed save, loading returns either the old bytes or the new ones,
//! never a mixture.
//!
//! [`FileStorage`] writes a temporary file beside the real one (mode 0600), fsyncs it,
//! renames it over the real one and fsyncs the directory. [`MemoryStorage`] keeps the
//! bytes in memory (clones share them, so a test can "restart" a lock from them). Both
//! take injected faults, so tests can show that a failed write changes nothing.

use crate::error::LockError;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Durable storage for the state file.
pub trait Storage: Send {
    /// The last bytes saved, or `None` if nothing was ever saved.
    fn load(&self) -> Result<Option<Vec<u8>>, LockError>;
    /// Replaces the stored bytes, atomically. On error the previous bytes remain.
    fn save(&mut self, bytes: &[u8]) -> Result<(), LockError>;
}

/// A fault to inject into the next save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFault {
    /// Fail before writing anything.
    BeforeWrite,
    /// Write only this many bytes of the temporary file, then fail (power lost mid-write).
    TornWrite {
        /// Bytes that reach the temporary file.
        bytes: usize,
    },
    /// Write and sync the temporary file completely, then fail before the rename.
    BeforeRename,
}

/// The state file on disk. Clones share the fault queue, so a test can keep one and
/// inject faults into the one the lock owns.
#[derive(Debug, Clone)]
pub struct FileStorage {
    path: PathBuf,
    faults: Arc<Mutex<VecDeque<WriteFault>>>,
}

impl FileStorage {
    /// Storage at `path` (the directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), faults: Arc::default() }
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the next save fail with `fault` (faults queue up, one per save).
    pub fn inject_fault(&self, fault: WriteFault) {
        self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push_back(fault);
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "lock-state".into());
        name.push(".tmp");
        self.path.with_file_name(name)
    }

    fn open_private(path: &Path) -> std::io::Result<File> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        // `mode` applies only when the file is created; a leftover temp file gets 0600 too.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
}

impl Storage for FileStorage {
    fn load(&self) -> Result<Option<Vec<u8>>, LockError> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn save(&mut self, bytes: &[u8]) -> Result<(), LockError> {
        let fault = self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop_front();
        if fault == Some(WriteFault::BeforeWrite) {
            return Err(LockError::InjectedFault("before write"));
        }
        let temp = self.temp_path();
        let mut file = Self::open_private(&temp)?;
        if let Some(WriteFault::TornWrite { bytes: written }) = fault {
            file.write_all(&bytes[..written.min(bytes.len())])?;
            file.sync_all()?;
            return Err(LockError::InjectedFault("torn write"));
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if fault == Some(WriteFault::BeforeRename) {
            return Err(LockError::InjectedFault("before rename"));
        }
        fs::rename(&temp, &self.path)?;
        // The rename is durable only once the directory entry is.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Shared {
    bytes: Option<Vec<u8>>,
    failing_saves: u32,
    /// Saves that still succeed before `failing_saves` start to fail.
    saves_before_failing: u32,
    saves: u64,
}

/// Storage in memory. Clones share the same bytes, so a test keeps a clone, drops the
/// lock and opens a new one from it as if the lock had restarted.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    shared: Arc<Mutex<Shared>>,
}

impl MemoryStorage {
    /// Empty storage (an unprovisioned lock).
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `count` saves fail, leaving the stored bytes as they are.
    pub fn fail_next_saves(&self, count: u32) {
        self.with(|shared| shared.failing_saves = count);
    }

    /// Lets the next `successes` saves through, then makes the `failures` after them fail.
    pub fn fail_saves_after(&self, successes: u32, failures: u32) {
        self.with(|shared| {
            shared.saves_before_failing = successes;
            shared.failing_saves = failures;
        });
    }

    /// The bytes stored now.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        self.with(|shared| shared.bytes.clone())
    }

    /// Overwrites the stored bytes (to simulate damage).
    pub fn set_bytes(&self, bytes: Option<Vec<u8>>) {
        self.with(|shared| shared.bytes = bytes);
    }

    /// How many saves succeeded.
    pub fn save_count(&self) -> u64 {
        self.with(|shared| shared.saves)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        // A panic while holding the lock cannot leave `Shared` half-updated: recover it.
        let mut guard = self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

impl Storage for MemoryStorage {
    fn load(&self) -> Result<Option<Vec<u8>>, LockError> {
        Ok(self.bytes())
    }

    fn save(&mut self, bytes: &[u8]) -> Result<(), LockError> {
        self.with(|shared| {
            if shared.saves_before_failing > 0 {
                shared.saves_before_failing -= 1;
            } else if shared.failing_saves > 0 {
                shared.failing_saves -= 1;
                return Err(LockError::InjectedFault("memory save"));
            }
            shared.bytes = Some(bytes.to_vec());
            shared.saves += 1;
            Ok(())
        })
    }
}

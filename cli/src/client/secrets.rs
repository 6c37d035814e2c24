//! Where the desktop client keeps its secrets (session tokens, the device key,
//! fast-unlock tickets): in the operating system's keyring when the computer has one —
//! the Secret Service (GNOME Keyring, KWallet) on Linux, the login Keychain on macOS —
//! and otherwise in private files in the client's folder, said once in a one-line notice.
//!
//! The choice is made when a folder is first used and written beside it
//! (`secret-store`), so a later command never looks in the other place and finds the
//! person signed out: if the keyring that holds a folder's secrets is gone, the command
//! fails and says so. `--secrets keyring` or `--secrets files` (`KEYWAY_SECRETS`)
//! decides for a new folder, or moves an old one (signing in again).

use super::failure::{Exit, Failure};
use super::home::{Home, write_private};
use keyway_core::platform::{FileStore, KeyringStore, SecureStore};
use std::sync::Arc;

/// Which store keeps the secrets (`--secrets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SecretsChoice {
    /// The folder's recorded store; for a new folder the OS keyring when there is one,
    /// else private files.
    #[default]
    Auto,
    /// The operating system's keyring; fail if there is none.
    Keyring,
    /// Private files (`secrets/` in the client's folder, readable only by you).
    Files,
}

/// Where a folder's secrets are, as recorded in its `secret-store` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsIn {
    /// The OS keyring.
    Keyring,
    /// Private files in the folder.
    Files,
}

impl SecretsIn {
    fn record(self) -> &'static str {
        match self {
            Self::Keyring => "os-keyring",
            Self::Files => "files",
        }
    }
}

/// The opened store, and a notice for the person when the choice was just made for them.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn SecureStore>,
    /// One line to print on standard error (e.g. no keyring: files are used).
    pub notice: Option<String>,
}

/// Opens the store for `home`, as `choice` says (see the module docs).
pub fn open(home: &Home, choice: SecretsChoice) -> Result<Opened, Failure> {
    let recorded = recorded(home)?;
    let wanted = match choice {
        SecretsChoice::Keyring => Some(SecretsIn::Keyring),
        SecretsChoice::Files => Some(SecretsIn::Files),
        SecretsChoice::Auto => recorded,
    };
    let (secrets_in, notice) = match wanted {
        Some(SecretsIn::Keyring) => {
            os_keyring().map_err(|reason| unavailable(&reason, recorded == Some(SecretsIn::Keyring)))?;
            (SecretsIn::Keyring, None)
        }
        Some(SecretsIn::Files) => (SecretsIn::Files, None),
        None => match os_keyring() {
            Ok(()) => (SecretsIn::Keyring, None),
            Err(reason) => (
                SecretsIn::Files,
                Some(format!(
                    "keyway: no OS keyring here ({reason}); secrets are kept in {}, readable only by you",
                    home.secrets_dir().display()
                )),
            ),
        },
    };
    if recorded != Some(secrets_in) {
        write_private(&home.secret_store_path(), secrets_in.record().as_bytes())?;
    }
    let store: Arc<dyn SecureStore> = match secrets_in {
        SecretsIn::Keyring => Arc::new(KeyringStore::new(service_name(home))),
        SecretsIn::Files => Arc::new(FileStore::open(home.secrets_dir()).map_err(keyway_core::Error::from)?),
    };
    Ok(Opened { store, notice })
}

/// The keyring service the folder's secrets are filed under: one per folder, so two
/// folders (two people, two backends) never share a secret.
pub fn service_name(home: &Home) -> String {
    format!("keyway {}", home.dir().display())
}

fn recorded(home: &Home) -> Result<Option<SecretsIn>, Failure> {
    let path = home.secret_store_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => match [SecretsIn::Keyring, SecretsIn::Files].into_iter().find(|w| w.record() == text.trim()) {
            Some(secrets_in) => Ok(Some(secrets_in)),
            None => Err(Failure::new(
                "local_files",
                Exit::Failed,
                format!("{} is damaged", path.display()),
                Some("remove it and sign in again"),
            )),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::new("local_files", Exit::Failed, format!("cannot read {}: {e}", path.display()), None)),
    }
}

fn unavailable(reason: &str, holds_secrets: bool) -> Failure {
    let hint = if holds_secrets {
        "start the keyring service (e.g. log in to the desktop), or sign in again with --secrets files"
    } else {
        "use --secrets files to keep secrets in private files instead"
    };
    Failure::new("keyring_unavailable", Exit::Failed, format!("the OS keyring cannot be used: {reason}"), Some(hint))
}

/// Registers the platform's keyring as keyring-core's store for this process.
#[cfg(target_os = "linux")]
fn os_keyring() -> Result<(), String> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|a| a.is_empty()) {
        return Err("no desktop session bus".into());
    }
    let store = dbus_secret_service_keyring_store::Store::new()
        .map_err(|e| format!("the Secret Service did not answer: {}", kind(&e)))?;
    keyring_core::set_default_store(store);
    Ok(())
}

/// Registers the platform's keyring as keyring-core's store for this process.
#[cfg(target_os = "macos")]
fn os_keyring() -> Result<(), String> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| format!("the Keychain did not open: {}", kind(&e)))?;
    keyring_core::set_default_store(store);
    Ok(())
}

/// Registers the platform's keyring as keyring-core's store for this process.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn os_keyring() -> Result<(), String> {
    Err("this client supports the keyrings of Linux and macOS".into())
}

/// The failure's kind in words; the store's own text may quote platform detail.
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn kind(e: &keyring_core::Error) -> &'static str {
    match e {
        keyring_core::Error::NoStorageAccess(_) => "no access",
        keyring_core::Error::PlatformFailure(_) => "platform failure",
        _ => "refused",
    }
}

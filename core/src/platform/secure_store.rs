//! Where secrets live: session tokens, the software device key, fast-unlock tickets.
//! Only ever the platform's secure store — never SQLite, logs or error strings.
//!
//! A shell may implement [`SecureStore`] itself (Keychain, Android Keystore-wrapped
//! storage), or use [`KeyringStore`](super::KeyringStore), which goes through
//! `keyring-core` and whatever platform store the app registered with it.
//! [`FileStore`](super::FileStore) keeps secrets in private files (desktops without a
//! keyring service); [`MemoryStore`] is for tests.

use std::collections::HashMap;
use std::sync::Mutex;
use thiserror::Error;
use zeroize::Zeroizing;

/// Why the secure store failed. Never carries the secret or its value.
/// (Kotlin: `SecureStoreException.*`; Swift: `SecureStoreError.*`.)
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi::export(Display))]
pub enum SecureStoreError {
    /// The store is locked (e.g. the device has not been unlocked since boot).
    #[error("the secure store is locked")]
    Locked,
    /// The store refused or failed; the text names the operation, never the secret.
    #[error("secure store failure: {detail}")]
    Failed {
        /// For logs: names the operation, never the secret.
        detail: String,
    },
}

/// A small key–value store for secrets, provided by the platform.
pub trait SecureStore: Send + Sync {
    /// The secret stored under `name`, if any.
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError>;
    /// Stores (or replaces) the secret under `name`. Durable when it returns.
    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError>;
    /// Removes the secret under `name`; removing a missing one succeeds.
    fn delete(&self, name: &str) -> Result<(), SecureStoreError>;
}

/// Secrets held in memory: for tests, and for shells that must not persist anything.
#[derive(Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The names currently stored (for tests).
    pub fn names(&self) -> Vec<String> {
        self.secrets.lock().map(|s| s.keys().cloned().collect()).unwrap_or_default()
    }
}

impl SecureStore for MemoryStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError> {
        let secrets = self.secrets.lock().map_err(|_| SecureStoreError::Failed { detail: "poisoned".into() })?;
        Ok(secrets.get(name).cloned())
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError> {
        let mut secrets = self.secrets.lock().map_err(|_| SecureStoreError::Failed { detail: "poisoned".into() })?;
        secrets.insert(name.to_owned(), Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecureStoreError> {
        let mut secrets = self.secrets.lock().map_err(|_| SecureStoreError::Failed { detail: "poisoned".into() })?;
        secrets.remove(name);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What every store must do: keep, replace and forget a secret; forgetting twice is fine.
    pub(crate) fn exercise(store: &dyn SecureStore) {
        assert_eq!(store.get("session").unwrap(), None);
        store.set("session", b"first").unwrap();
        store.set("session", b"second").unwrap();
        assert_eq!(store.get("session").unwrap().unwrap().as_slice(), b"second");
        store.delete("session").unwrap();
        store.delete("session").unwrap();
        assert_eq!(store.get("session").unwrap(), None);
    }

    #[test]
    fn memory_store_keeps_replaces_and_forgets_secrets() {
        exercise(&MemoryStore::new());
    }
}

//! Secrets in the operating system's keyring through `keyring-core`: the Keychain, the
//! Secret Service, the Windows Credential Manager — whichever store the program
//! registered with `keyring_core::set_default_store` before opening the core.

use super::secure_store::{SecureStore, SecureStoreError};
use zeroize::Zeroizing;

/// Secrets in the platform store registered with `keyring-core`
/// (`keyring_core::set_default_store`): Keychain on Apple platforms, the Android
/// keystore-backed store, kernel keyutils on Linux.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// Secrets under one service name (e.g. the app's bundle id), so two apps on one
    /// device never share them.
    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, name: &str) -> Result<keyring_core::Entry, SecureStoreError> {
        keyring_core::Entry::new(&self.service, name).map_err(|e| failed("open", &e))
    }
}

fn failed(op: &str, e: &keyring_core::Error) -> SecureStoreError {
    // The error's Display names the store's failure, not the secret; keep only its kind.
    let kind = match e {
        keyring_core::Error::NoStorageAccess(_) => "no storage access",
        keyring_core::Error::PlatformFailure(_) => "platform failure",
        keyring_core::Error::NoDefaultStore => "no default store registered",
        _ => "refused",
    };
    SecureStoreError::Failed { detail: format!("{op}: {kind}") }
}

impl SecureStore for KeyringStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError> {
        match self.entry(name)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(failed("read", &e)),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError> {
        self.entry(name)?.set_secret(secret).map_err(|e| failed("write", &e))
    }

    fn delete(&self, name: &str) -> Result<(), SecureStoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(failed("delete", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keyring_store_keeps_replaces_and_forgets_secrets() {
        keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
        crate::platform::secure_store::tests::exercise(&KeyringStore::new("app.keyway.test"));
    }
}

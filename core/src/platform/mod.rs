//! The ports: what each shell (Swift, Kotlin, the desktop client, the tests) plugs into
//! the core. [`BleTransport`] is the radio, [`SecureStore`] is where every secret lives
//! (under the names in [`secret_names`]), [`DeviceSigner`] holds the device key, and
//! [`Clock`] tells the time. The core ships ready-made adapters for the cases it can
//! serve itself: [`KeyringStore`] (the OS keyring through `keyring-core`), [`FileStore`]
//! (private files), [`MemoryStore`], [`SoftwareSigner`], [`SystemClock`] and
//! [`ManualClock`].

mod clock;
mod file_store;
mod keyring_store;
pub mod secret_names;
mod secure_store;
mod signer;
mod transport;

pub use clock::{Clock, ManualClock, SystemClock};
pub use file_store::FileStore;
pub use keyring_store::KeyringStore;
pub use secure_store::{MemoryStore, SecureStore, SecureStoreError};
pub use signer::{DeviceSigner, SignerError, SoftwareSigner};
pub use transport::{AdapterState, Advertisement, BleError, BleTransport, PeripheralId};

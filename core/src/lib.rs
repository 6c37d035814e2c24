//! keyway-core: the member's engine behind the iOS and Android apps.
//!
//! Built so far: [`ble`] — the radio trait and the unlock (fast or standard handshake,
//! stale-advertisement retry, ticket fallback, door sync carried on the way) — and
//! [`signer`], the device key trait a shell can back with the Secure Enclave or StrongBox,
//! and [`secure_store`], where every secret lives.
#![forbid(unsafe_code)]

pub mod api;
pub mod ble;
pub mod cache;
pub mod secure_store;
pub mod signer;

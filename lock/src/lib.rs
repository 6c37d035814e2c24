//! The Keyway reference lock.
//!
//! A lock that speaks the Keyway protocol (its lock role, [`keyway_protocol::lock_role`])
//! over persisted state: its identity, trust anchors, revocations and bundle version, a
//! clock floor that never goes down, a bounded fast-unlock ticket table and an audit log.
//! [`sim`] is an in-process BLE radio for tests and benchmarks. `docs/lock.md` describes
//! the state, its persistence and the radio model.
//!
//! - [`lock`]: the [`Lock`] and its connections;
//! - [`state`], [`persist`], [`store`]: what is kept, in which bytes, and where;
//! - [`clock`], [`nonce`], [`random`]: time, freshness and randomness;
//! - [`revocations`], [`tickets`], [`audit`], [`identity`]: the parts of the state;
//! - `online` (feature `online`, on by default): the lock's own link to the backend, for a
//!   lock with internet (`keyway-lock serve --online`);
//! - [`keypad`]: daily doorcodes typed on the keypad, with guess limits;
//! - `anchors`: the state after a signed trust-anchor update (issuer key rotation);
//! - [`sim`]: the simulated radio; [`serve`]: locks on it, served over TCP (`keyway-lock serve`);
//! - [`bluez`] (feature `bluez`): the same locks as devices of a virtual BlueZ on a D-Bus;
//! - `testkit` (feature `testkit`, tests only): the lock in memory, as a door for the
//!   protocol's test kit.
#![forbid(unsafe_code)]

mod anchors;
pub mod audit;
#[cfg(feature = "bluez")]
pub mod bluez;
pub mod clock;
mod environment;
pub mod error;
pub mod identity;
pub mod keypad;
pub mod lock;
pub mod nonce;
#[cfg(feature = "online")]
pub mod online;
pub mod persist;
pub mod random;
pub mod revocations;
pub mod serve;
pub mod sim;
pub mod state;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tickets;

pub use clock::{ManualRtc, Rtc, SystemRtc};
pub use environment::ACTUATION_MS;
pub use error::LockError;
pub use lock::{ConnectionId, FrameReply, Lock, LockOptions, Provisioning};
pub use random::{OsRandom, RandomSource, SeededRandom};
pub use store::{FileStorage, MemoryStorage, Storage, WriteFault};

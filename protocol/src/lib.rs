//! The Keyway protocol: the shared language of phone, lock and backend.
//!
//! - [`credential`]: the issuer-signed key a phone presents (≤ 200 bytes for one door);
//! - [`phone`] and [`lock_role`]: the unlock handshake for both roles, as sans-IO state
//!   machines (standard: HPKE to the lock's static key, one round trip; fast: a ticket
//!   from an earlier unlock, symmetric crypto only, one write and one notification);
//! - [`advert`]: what a lock broadcasts; [`framing`]: ATT-sized frames;
//! - [`bundle`] and [`receipt`]: door sync for locks without internet;
//! - [`doorcode`]: daily keypad codes an offline lock checks from a secret it shares with the backend;
//! - [`lock_link`]: what a lock with internet signs when it asks the backend for changes;
//! - [`clock_reset`]: the signed reset of one lock's clock that ran ahead;
//! - [`anchor_update`]: the signed change of one lock's trust anchors (issuer key rotation);
//! - [`issuer`]: the backend's signing and verification;
//! - [`refusal`]: every reason a lock refuses, with its wire code;
//! - [`share_proof`]: the member's device signature on a share request;
//! - `testkit` (feature `testkit`, for tests only): a site, a test phone and an in-memory lock.
//!
//! The specification is `docs/protocol.md`; the test vectors are in `protocol/vectors/`.
//! The phone side and the backend use ring; the lock side (feature `lock`) uses
//! RustCrypto, so the two meet only through the specification.
#![forbid(unsafe_code)]

pub mod advert;
pub mod anchor_update;
pub mod bundle;
mod bundle_v3;
mod channel;
pub mod clock_reset;
mod codec;
pub mod credential;
pub mod doorcode;
pub mod framing;
mod hpke;
pub mod ids;
pub mod issuer;
#[cfg(feature = "lock")]
mod lock_anchors;
pub mod lock_link;
#[cfg(feature = "lock")]
pub mod lock_role;
mod messages;
pub mod phone;
mod primitives;
pub mod receipt;
pub mod refusal;
pub mod share_proof;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod varint;
#[cfg(test)]
mod wycheproof_tests;

pub use channel::ChannelError;
pub use codec::DecodeError;
pub use messages::{Command, PROTOCOL_VERSION};
pub use refusal::Refusal;

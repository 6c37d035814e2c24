//! The test kit (feature `testkit`): the fixtures every crate's tests share, so that a
//! test phone, a site or an in-memory lock is written once.
//!
//! - [`site`]: a site's issuer, minting member and guest keys and signing door-sync
//!   bundles as the backend would;
//! - [`phone`]: a test phone, a ring device key as the core uses, that builds standard
//!   and fast requests and runs whole handshakes against any [`TestDoor`];
//! - [`door`]: [`TestDoor`], what a test phone needs of a lock (the in-memory one here,
//!   or `keyway_lock::Lock` with keyway-lock's own `testkit` feature);
//! - [`issuance`]: a site's recent credentials minted from serials, a share revoked, for
//!   sizing bundles;
//! - [`forge`]: the fast path's keys and the channel's sealing, written independently
//!   of the crate, to seal what its roles would refuse to;
//! - [`memory_lock`]: [`MemoryLock`], a small in-memory [`crate::lock_role::LockEnvironment`]
//!   that applies the reference lock's rules (the real lock, with persistence, is
//!   keyway-lock).
//!
//! Everything here is deterministic where a test needs it (keys derived from labels,
//! seeded phone randomness) and panics on failures of its own making: it is test code,
//! never compiled into a shipped build (the feature is off by default).

pub mod door;
pub mod forge;
pub mod issuance;
pub mod memory_lock;
pub mod phone;
pub mod site;

pub use door::{TestDoor, granted, refusal};
pub use memory_lock::MemoryLock;
pub use phone::{Presentable, SignedRequest, SyncSession, TestPhone};
pub use site::{BundleSpec, KeySpec, Site};

/// The tests' clock reading: 2027-01-15, roughly. Keys minted by the kit are valid around it.
pub const NOW: u32 = 1_800_000_000;
/// One hour, in seconds.
pub const HOUR: u32 = 3_600;
/// One day, in seconds.
pub const DAY: u32 = 24 * HOUR;

/// Deterministic bytes from a label and a counter (SHA-256 of `label/n/block`, block after
/// block), for keys and random values a test must be able to reproduce.
pub fn det_bytes(label: &str, n: u64, out: &mut [u8]) {
    for (block, chunk) in out.chunks_mut(32).enumerate() {
        let digest = ring::digest::digest(&ring::digest::SHA256, format!("{label}/{n}/{block}").as_bytes());
        chunk.copy_from_slice(&digest.as_ref()[..chunk.len()]);
    }
}

/// A phone's randomness that is one byte repeated, so that a request can be rebuilt
/// identically (ring's own fixed source: ring seals its random trait).
#[allow(deprecated)]
pub fn fixed_rng(byte: u8) -> ring::test::rand::FixedByteRandom {
    ring::test::rand::FixedByteRandom { byte }
}

//! Test fixtures: the test kit's site and phones (`keyway_protocol::testkit`), and
//! reference locks over in-memory storage with a hand-set RTC and a seeded random source
//! (`keyway_lock::testkit`), so a session can be replayed byte for byte against a fork of
//! the lock.
#![allow(dead_code, unused_imports, missing_docs, clippy::unwrap_used)]

use keyway_lock::testkit::memory_lock;
use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, SeededRandom};
pub use keyway_protocol::Command;
use keyway_protocol::ids::DoorId;
pub use keyway_protocol::testkit::{
    BundleSpec, KeySpec, SignedRequest, Site, SyncSession, TestDoor, TestPhone, fixed_rng, granted, refusal,
};
use std::sync::Arc;

/// 2027-01-15, roughly: the RTC reading every test starts from.
pub const T0: u32 = keyway_protocol::testkit::NOW;
pub const DOOR: DoorId = DoorId([0x1d, 0, 0, 0, 0, 0, 0, 0x01]);
pub const OTHER_DOOR: DoorId = DoorId([0x1d, 0, 0, 0, 0, 0, 0, 0x02]);
pub const DAY: u32 = keyway_protocol::testkit::DAY;

/// A reference lock on in-memory storage, with its RTC and storage kept for the test.
pub struct TestLock {
    pub lock: Lock,
    pub storage: MemoryStorage,
    pub rtc: ManualRtc,
}

impl TestLock {
    pub fn new(site: &Site) -> Self {
        Self::for_door(site, DOOR)
    }

    pub fn for_door(site: &Site, door: DoorId) -> Self {
        let storage = MemoryStorage::new();
        let rtc = ManualRtc::new(T0);
        let lock = memory_lock(storage.clone(), door, &site.anchor(), &rtc, 7);
        Self { lock, storage, rtc }
    }

    /// The lock as it comes back after a restart from its storage.
    pub fn restart(self) -> Self {
        let TestLock { lock, storage, rtc } = self;
        drop(lock);
        let options = LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(8)) };
        let lock = Lock::open(Box::new(storage.clone()), options).unwrap();
        Self { lock, storage, rtc }
    }

    /// A twin of the lock (same state, nonces and random source) on its own storage.
    pub fn fork(&self) -> Lock {
        self.lock.fork(Box::new(MemoryStorage::new())).unwrap()
    }

    pub fn target(&mut self) -> keyway_protocol::phone::LockTarget {
        self.lock.target()
    }

    pub fn rtc_reading(&self) -> u32 {
        use keyway_lock::Rtc;
        self.rtc.now()
    }
}

//! The reference lock in the test kit (feature `testkit`, for tests only): a lock on
//! in-memory storage with a hand-set clock and a seeded random source, and the
//! [`TestDoor`] through which `keyway_protocol::testkit`'s test phone talks to it.

use crate::{Lock, LockOptions, ManualRtc, MemoryStorage, Provisioning, SeededRandom};
use keyway_protocol::ids::DoorId;
use keyway_protocol::lock_role::LockOutput;
use keyway_protocol::phone::LockTarget;
use keyway_protocol::testkit::TestDoor;
use std::sync::Arc;

/// The ATT MTU of a test phone's connections (what iOS reports).
pub const TEST_ATT_MTU: u16 = 185;

/// A reference lock for `door` trusting `trust_anchor` (an issuer public key), its state
/// in `storage` (or, if `storage` already holds a lock, that lock), its clock `rtc`, its
/// randomness seeded with `seed` so that a session can be replayed byte for byte.
///
/// # Panics
/// If the lock cannot be provisioned (e.g. `trust_anchor` is not a P-256 point).
pub fn memory_lock(storage: MemoryStorage, door: DoorId, trust_anchor: &[u8], rtc: &ManualRtc, seed: u64) -> Lock {
    let options = LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(seed)) };
    let provisioning = Provisioning { door, trust_anchors: vec![trust_anchor.to_vec()] };
    Lock::open_or_provision(Box::new(storage), &provisioning, options).expect("the reference lock provisions")
}

impl TestDoor for Lock {
    type Connection = crate::ConnectionId;

    fn target(&mut self) -> LockTarget {
        LockTarget { door: self.door(), lock_public_key: self.public_key(), nonce: self.advertisement().nonce }
    }

    fn connect(&mut self) -> crate::ConnectionId {
        Lock::connect(self, TEST_ATT_MTU).expect("the lock accepts a connection")
    }

    fn exchange(&mut self, connection: &mut crate::ConnectionId, message: &[u8]) -> LockOutput {
        self.on_message(*connection, message).expect("the connection is open")
    }

    fn disconnect(&mut self, connection: crate::ConnectionId) {
        Lock::disconnect(self, connection);
    }
}

//! A phone and a reference lock face to face, with no radio between them: the issuer,
//! a provisioned `keyway_lock::Lock`, a device key and its credential. The benches time
//! or count one side of each exchange.

use keyway_lock::testkit::memory_lock;
use keyway_lock::{Lock, ManualRtc, MemoryStorage};
use keyway_protocol::Command;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::credential::{Credential, UnixSeconds};
use keyway_protocol::ids::DoorId;
use keyway_protocol::lock_role::LockOutput;
use keyway_protocol::phone::{AwaitingResponse, FastTicket, LockTarget};
use keyway_protocol::testkit::issuance::revoked_prefixes;
use keyway_protocol::testkit::{BundleSpec, KeySpec, Site, TestDoor as _, TestPhone};

/// The scene's clock: 2027-01-15 (the test kit's `NOW`).
pub const NOW: UnixSeconds = keyway_protocol::testkit::NOW;
const DOOR: DoorId = DoorId(*b"benchdor");

/// The phone's side, from the protocol's test kit: the site (to sign bundles as the
/// backend would), the test phone (its device key signs in process with ring, not through
/// the product's signer) and its credential.
pub struct Phone {
    site: Site,
    phone: TestPhone,
    /// The phone's credential for the door: three days from an hour ago, shareable.
    pub credential: Credential,
}

/// A fresh site, lock (the reference lock, state in memory), test phone and credential.
pub fn scene() -> Result<(Phone, Lock), String> {
    let site = Site::new();
    let phone = TestPhone::new();
    let credential = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(NOW - 3600, NOW + 72 * 3600));
    let lock = memory_lock(MemoryStorage::new(), DOOR, &site.anchor(), &ManualRtc::new(NOW), 7);
    Ok((Phone { site, phone, credential }, lock))
}

/// What the phone learns from the lock's advertisement and the door record.
pub fn target(lock: &mut Lock) -> LockTarget {
    lock.target()
}

impl Phone {
    /// The phone's whole part of building a standard request, device signature included.
    pub fn standard_request(&self, target: &LockTarget) -> Result<(AwaitingResponse, Vec<u8>), String> {
        Ok(self.phone.standard_request(target, &self.credential, Command::Unlock))
    }

    /// The phone's part of building a fast request.
    pub fn fast_request(
        &self,
        target: &LockTarget,
        ticket: &FastTicket,
    ) -> Result<(AwaitingResponse, Vec<u8>), String> {
        Ok(self.phone.fast_request(target.door, target.nonce, ticket, Command::Unlock))
    }

    /// A full bundle revoking `count` credentials as the backend signs it (format 3): a
    /// site's last 72 hours of issuance, `3 × count` consecutive serials, `count` revoked
    /// at random ([`revoked_prefixes`]).
    pub fn bundle(&self, version: u32, count: usize) -> Result<Bundle, String> {
        let spec = BundleSpec { signed_time: NOW, ..BundleSpec::new(DOOR, version, 0) };
        Ok(self.site.bundle(spec.revoking_prefixes(revoked_prefixes(count))))
    }
}

/// The lock's part of one message on a new connection: the function callgrind counts.
#[inline(never)]
pub fn lock_side(
    lock: &mut Lock,
    connection: Option<keyway_lock::ConnectionId>,
    message: &[u8],
) -> Result<(keyway_lock::ConnectionId, LockOutput), String> {
    let id = match connection {
        Some(id) => id,
        None => lock.connect(185).map_err(|e| format!("connect: {e}"))?,
    };
    let output = lock.on_message(id, message).map_err(|e| format!("lock: {e}"))?;
    Ok((id, output))
}

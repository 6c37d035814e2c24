//! A door-sync delivery on arbitrary bytes, as a lock receives it: an optional signed
//! trust-anchor update in front of a bundle (`DoorSyncDelivery::split`), then the lock's
//! whole delivery path (`lock_role::deliver`) on the test kit's in-memory lock. Checks the
//! rules that must hold whatever the bytes: the lock never ends with no anchor, never
//! lowers its anchor-set version, and changes its set only for an update the site's issuer
//! signed for this door (the seeds carry such updates, so the path past the signature is
//! reached).
#![no_main]

use keyway_fuzz::{DOOR, KEYS, fuzz_lock};
use keyway_protocol::anchor_update::{AnchorUpdate, DoorSyncDelivery, MAX_TRUST_ANCHORS};
use keyway_protocol::issuer::verify_anchor_update;
use keyway_protocol::lock_role::deliver;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(update) = AnchorUpdate::from_bytes(data) {
        let n = update.body.anchors.len();
        assert!((1..=MAX_TRUST_ANCHORS).contains(&n), "decoded an update with {n} anchors");
        assert_eq!(AnchorUpdate::from_bytes(&update.to_bytes()).as_ref(), Ok(&update), "round trip");
    }
    let split = DoorSyncDelivery::split(data);
    let mut lock = fuzz_lock();
    let before = lock.anchors.len();
    let _ = deliver(Some(data), &mut lock);
    assert!(!lock.anchors.is_empty(), "a delivery left the lock with no trust anchor");
    if lock.anchor_version == 0 {
        assert_eq!(lock.anchors.len(), before, "the set changed without an update");
    } else {
        let update = split.ok().and_then(|d| d.anchor_update).expect("the version moved without an update");
        assert_eq!(update.body.door, DOOR, "the set changed on another door's update");
        assert!(verify_anchor_update(KEYS.issuer.public_key(), &update).is_ok(), "the set changed on a bad signature");
        assert_eq!(lock.anchor_version, update.body.version);
        assert_eq!(lock.anchors.len(), update.body.anchors.len());
    }
});

//! Everything a stranger in radio range can send: arbitrary frames on a connection at an
//! arbitrary MTU. The lock must never panic, and with no credential from its issuer it
//! must never open.
//!
//! Input: byte 0 picks the MTU; then frames as `length u8 ‖ bytes`.
#![no_main]

use keyway_lock::identity::Identity;
use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, Provisioning, SeededRandom};
use keyway_protocol::ids::DoorId;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const DOOR: DoorId = DoorId([0x1d, 0, 0, 0, 0, 0, 0, 1]);

/// A provisioned lock's state file, made once.
fn template() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let issuer = Identity::generate(DOOR, &mut SeededRandom::new(1)).expect("issuer key");
        let storage = MemoryStorage::new();
        let provisioning = Provisioning { door: DOOR, trust_anchors: vec![issuer.signing_public_key().to_vec()] };
        Lock::open_or_provision(Box::new(storage.clone()), &provisioning, options()).expect("provision");
        storage.bytes().expect("saved")
    })
}

fn options() -> LockOptions {
    LockOptions { rtc: Arc::new(ManualRtc::new(1_800_000_000)), random: Box::new(SeededRandom::new(2)) }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mtu, mut rest)) = data.split_first() else { return };
    let storage = MemoryStorage::new();
    storage.set_bytes(Some(template().to_vec()));
    let mut lock = Lock::open(Box::new(storage), options()).expect("open");
    let mtu = 23 + u16::from(mtu) * 2;
    let Ok(mut connection) = lock.connect(mtu) else { return };
    while let Some((&len, tail)) = rest.split_first() {
        let (frame, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        if lock.on_frame(connection, frame).is_err() {
            match lock.connect(mtu) {
                Ok(next) => connection = next,
                Err(_) => return,
            }
        }
    }
    assert_eq!(lock.actuations(), 0, "a stranger opened the door");
    lock.tick().expect("tick");
});

//! The trust-anchor update vectors in `protocol/vectors/anchor_update.json` (issue 16
//! item 6, `future_bundle`): a rotation in two deliveries (add the new key, then drop the
//! old one), each an update in front of a bundle, and the deliveries a lock refuses.
//! Signatures are RFC 6979, keys derive from labels, so the file is reproducible:
//! `KEYWAY_WRITE_VECTORS=1 cargo test -p keyway-protocol --test anchor_update_vectors`;
//! without the variable the file is checked against the generator, and every case is
//! replayed on the test kit's in-memory lock from the recorded bytes.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_protocol::Refusal;
use keyway_protocol::anchor_update::{AnchorUpdate, AnchorUpdateBody, DoorSyncDelivery};
use keyway_protocol::bundle::{Bundle, BundleBody, LockConfig, RevocationList};
use keyway_protocol::ids::{DoorId, KeyId};
use keyway_protocol::lock_role::deliver;
use keyway_protocol::testkit::MemoryLock;
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};
use std::path::PathBuf;

const FILE: &str = "anchor_update.json";
const DOOR: DoorId = DoorId(*b"anchor01");
const NOW: u32 = 1_798_761_600;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors").join(FILE)
}

fn key(label: &str) -> SigningKey {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("keyway vectors/anchor-update/{label}").as_bytes());
    SigningKey::from_slice(d.as_ref()).unwrap()
}

fn public(key: &SigningKey) -> [u8; 65] {
    key.verifying_key().to_sec1_point(false).as_bytes().try_into().unwrap()
}

fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use p256::ecdsa::signature::Signer;
    let signature: p256::ecdsa::Signature = key.sign(message);
    signature.to_bytes().as_slice().try_into().unwrap()
}

fn update(signer: &SigningKey, version: u32, anchors: &[&SigningKey]) -> AnchorUpdate {
    let body = AnchorUpdateBody {
        door: DOOR,
        signer: KeyId::of_public_key(&public(signer)),
        version,
        anchors: anchors.iter().map(|k| public(k)).collect(),
    };
    let signature = sign(signer, &body.signed_message());
    AnchorUpdate { body, signature }
}

fn bundle(signer: &SigningKey, version: u32, base_version: u32) -> Bundle {
    let body = BundleBody {
        door: DOOR,
        issuer: KeyId::of_public_key(&public(signer)),
        version,
        base_version,
        signed_time: NOW,
        audit_acknowledged: 0,
        config: LockConfig::default(),
        revocations: RevocationList::Ids(vec![]),
        doorcodes: None,
    };
    let signature = sign(signer, &body.signed_message());
    Bundle { body, signature }
}

fn status(s: Result<(), Refusal>) -> String {
    match s {
        Ok(()) => "applied".into(),
        Err(r) => format!("{r:?}"),
    }
}

fn anchors_of(lock: &MemoryLock) -> Vec<String> {
    let mut ids: Vec<String> = lock.anchors.keys().map(KeyId::to_hex).collect();
    ids.sort();
    ids
}

/// The cases, each delivered in order to one lock that trusts only the old key at first.
fn generate() -> Value {
    let (old, new, stranger) = (key("old issuer"), key("new issuer"), key("stranger"));
    let add = update(&old, 2, &[&old, &new]);
    let drop_old = update(&new, 3, &[&new]);
    let steps: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "add_the_new_key",
            "Version 2, signed by the old key (the lock's only anchor), sets {old, new}; the bundle behind it (version 1) is signed by the new key and is checked against the new set: applied.",
            DoorSyncDelivery::join(Some(&add), &bundle(&new, 1, 0).to_bytes()),
        ),
        (
            "older_version",
            "Version 1 (an older set, {old}), signed by the old key, which the lock still trusts: BundleNotNewer, nothing changes and bundle 2 behind it is not applied.",
            DoorSyncDelivery::join(Some(&update(&old, 1, &[&old])), &bundle(&new, 2, 1).to_bytes()),
        ),
        (
            "same_update_again",
            "The current update (version 2) again in front of bundle 2: no change to the set, the bundle applies.",
            DoorSyncDelivery::join(Some(&add), &bundle(&new, 2, 1).to_bytes()),
        ),
        (
            "drop_the_old_key",
            "Version 3, signed by the new key, sets {new}: the old key is no longer trusted; bundle 3 applies.",
            DoorSyncDelivery::join(Some(&drop_old), &bundle(&new, 3, 2).to_bytes()),
        ),
        (
            "update_of_the_dropped_key_replayed",
            "Version 2 replayed (it would bring the old key back): its signer is no longer an anchor, BundleBadSignature, nothing changes.",
            DoorSyncDelivery::join(Some(&add), &bundle(&new, 4, 3).to_bytes()),
        ),
        (
            "signed_by_an_unknown_key",
            "Version 4 signed by a key the lock does not trust: BundleBadSignature, nothing changes.",
            DoorSyncDelivery::join(Some(&update(&stranger, 4, &[&stranger])), &bundle(&new, 4, 3).to_bytes()),
        ),
        (
            "bundle_of_the_dropped_key",
            "No update; bundle 4 signed by the dropped old key: BundleBadSignature.",
            bundle(&old, 4, 3).to_bytes(),
        ),
    ];
    let mut lock = MemoryLock::trusting(DOOR, &public(&old));
    lock.now = NOW;
    let cases: Vec<Value> = steps
        .into_iter()
        .map(|(name, description, bytes)| {
            let delivery = deliver(Some(&bytes), &mut lock);
            json!({
                "name": name,
                "description": description,
                "delivery": hex::encode(&bytes),
                "result": status(delivery.status),
                "anchor_version_after": lock.anchor_version,
                "anchor_key_ids_after": anchors_of(&lock),
                "bundle_version_after": lock.version,
            })
        })
        .collect();
    let mut empty = update(&old, 1, &[]).to_bytes();
    empty.extend_from_slice(&bundle(&old, 1, 0).to_bytes());
    json!({
        "description": "Trust-anchor updates (format 0xA1) carried in front of a bundle in one door-sync delivery: update = format | door [8] | signer key id [8] | version u32 | count u8 | anchors [65] × count | signature [64]; the signature (RFC 6979) covers \"keyway/anchor-update/v1\\0\" ‖ body. The cases are delivered in order to one lock for `door` that trusts only `old_issuer_public_key` at first.",
        "door": DOOR.to_hex(),
        "old_issuer_public_key": hex::encode(public(&old)),
        "new_issuer_public_key": hex::encode(public(&new)),
        "unknown_key_public_key": hex::encode(public(&stranger)),
        "cases": cases,
        "empty_set_delivery": hex::encode(&empty),
        "empty_set_result": "Malformed (the decoder refuses an anchor count of 0)",
    })
}

#[test]
fn future_bundle_anchor_rotation_vectors_reproduce_and_replay() {
    let generated = generate();
    if std::env::var_os("KEYWAY_WRITE_VECTORS").is_some() {
        std::fs::write(path(), serde_json::to_string_pretty(&generated).unwrap() + "\n").unwrap();
    }
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    assert_eq!(generated, recorded, "{FILE} differs from the generator's");

    // Replay from the recorded bytes alone.
    let old = hex::decode(recorded["old_issuer_public_key"].as_str().unwrap()).unwrap();
    let mut lock = MemoryLock::trusting(DOOR, &old);
    lock.now = NOW;
    for case in recorded["cases"].as_array().unwrap() {
        let bytes = hex::decode(case["delivery"].as_str().unwrap()).unwrap();
        let delivery = deliver(Some(&bytes), &mut lock);
        assert_eq!(json!(status(delivery.status)), case["result"], "{}", case["name"]);
        assert_eq!(json!(lock.anchor_version), case["anchor_version_after"], "{}", case["name"]);
        assert_eq!(json!(anchors_of(&lock)), case["anchor_key_ids_after"], "{}", case["name"]);
    }
    let empty = hex::decode(recorded["empty_set_delivery"].as_str().unwrap()).unwrap();
    let mut fresh = MemoryLock::trusting(DOOR, &old);
    fresh.now = NOW;
    assert_eq!(deliver(Some(&empty), &mut fresh).status, Err(Refusal::Malformed));
    assert_eq!(fresh.anchor_version, 0);
}

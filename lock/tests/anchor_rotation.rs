//! Trust-anchor rotation at the reference lock (issue 16 item 6, `future_bundle`): a
//! signed anchor update travels in front of a bundle, is saved before it takes effect,
//! only goes forwards, must be signed by a key the lock trusts now, and a key it removes
//! loses its credentials, bundles and fast-unlock tickets at once.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::identity::Identity;
use keyway_lock::state::{LockState, TrustAnchor};
use keyway_lock::{SeededRandom, persist};
use keyway_protocol::Refusal;
use keyway_protocol::anchor_update::{AnchorUpdate, AnchorUpdateBody, DoorSyncDelivery};
use keyway_protocol::bundle::Bundle;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::{DoorId, KeyId};
use keyway_protocol::phone::SyncReply;

/// `signer`'s update of `door`'s anchors to `sites`' keys at set version `version`.
fn update(signer: &Site, door: DoorId, version: u32, sites: &[&Site]) -> AnchorUpdate {
    let anchors = sites.iter().map(|s| s.anchor().try_into().unwrap()).collect();
    signer.issuer.sign_anchor_update(AnchorUpdateBody { door, signer: KeyId([0; 8]), version, anchors }).unwrap()
}

/// A phone carries `update` in front of `bundle` through a sync-only handshake with `key`.
fn carry(
    door: &mut TestLock,
    phone: &TestPhone,
    key: &Credential,
    update: &AnchorUpdate,
    bundle: &Bundle,
) -> SyncReply {
    let bytes = DoorSyncDelivery::join(Some(update), &bundle.to_bytes());
    let mut session = SyncSession::open(phone, &mut door.lock, key);
    let reply = session.send_bytes(&mut door.lock, &bytes);
    session.close(&mut door.lock);
    reply
}

/// A door whose lock trusts the old site's key, a new site's key it does not trust yet,
/// and one phone holding a member key from each.
struct Rotation {
    old: Site,
    new: Site,
    phone: TestPhone,
    door: TestLock,
    old_key: Credential,
    new_key: Credential,
}

impl Rotation {
    fn new() -> Self {
        let (old, new) = (Site::new(), Site::new());
        let phone = TestPhone::new();
        let door = TestLock::new(&old);
        let old_key = old.member_key(&phone, 1, &[DOOR]);
        let new_key = new.member_key(&phone, 2, &[DOOR]);
        Self { old, new, phone, door, old_key, new_key }
    }
}

fn id(site: &Site) -> KeyId {
    KeyId::of_public_key(&site.anchor())
}

#[test]
fn future_bundle_anchor_rotation_adds_an_anchor_whose_bundle_and_credentials_are_then_accepted() {
    let Rotation { old, new, phone, mut door, old_key, new_key } = Rotation::new();
    assert_eq!(phone.unlock(&mut door.lock, &new_key).outcome, Err(Refusal::UnknownIssuer));

    // The new key signs the bundle behind the update the old key signed: one delivery.
    let reply = carry(
        &mut door,
        &phone,
        &old_key,
        &update(&old, DOOR, 1, &[&old, &new]),
        &new.bundle(BundleSpec::new(DOOR, 1, 0)),
    );

    assert_eq!(reply.applied, Ok(()));
    assert_eq!((door.lock.anchor_set_version(), door.lock.bundle_version()), (1, 1));
    assert!(door.lock.trusts(&id(&old)) && door.lock.trusts(&id(&new)));
    assert_eq!(phone.unlock(&mut door.lock, &new_key).outcome, Ok(()));
    assert_eq!(phone.unlock(&mut door.lock, &old_key).outcome, Ok(()), "the old key stays until it is removed");
    let door = door.restart();
    assert_eq!(door.lock.anchor_set_version(), 1, "the update was saved");
    assert!(door.lock.trusts(&id(&new)));
}

#[test]
fn future_bundle_anchor_rotation_removes_an_anchor_and_refuses_its_credentials_tickets_and_bundles() {
    let Rotation { old, new, phone, mut door, old_key, new_key } = Rotation::new();
    let reply = carry(
        &mut door,
        &phone,
        &old_key,
        &update(&old, DOOR, 1, &[&old, &new]),
        &new.bundle(BundleSpec::new(DOOR, 1, 0)),
    );
    assert_eq!(reply.applied, Ok(()));
    let old_ticket = phone.unlock(&mut door.lock, &old_key).ticket.unwrap();

    // The old key retired: the new key signs the set without it.
    let reply =
        carry(&mut door, &phone, &new_key, &update(&new, DOOR, 2, &[&new]), &new.bundle(BundleSpec::new(DOOR, 2, 1)));
    assert_eq!(reply.applied, Ok(()));
    assert_eq!(door.lock.anchor_set_version(), 2);
    assert!(!door.lock.trusts(&id(&old)));

    assert_eq!(phone.unlock(&mut door.lock, &old_key).outcome, Err(Refusal::UnknownIssuer));
    let (_, request) =
        phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &old_ticket, Command::Unlock, 1);
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::UnknownTicket), "its ticket went with it");
    assert_eq!(
        phone.sync(&mut door.lock, &new_key, Some(&old.bundle(BundleSpec::new(DOOR, 3, 2)))).applied,
        Err(Refusal::BundleBadSignature)
    );
    assert_eq!(phone.unlock(&mut door.lock, &new_key).outcome, Ok(()));
    let mut door = door.restart();
    assert_eq!(phone.unlock(&mut door.lock, &old_key).outcome, Err(Refusal::UnknownIssuer), "after a restart too");
}

#[test]
fn future_bundle_anchor_rotation_an_older_or_replayed_update_changes_nothing() {
    let Rotation { old, new, phone, mut door, old_key, new_key } = Rotation::new();
    let current = update(&old, DOOR, 2, &[&old, &new]);
    assert_eq!(carry(&mut door, &phone, &old_key, &current, &new.bundle(BundleSpec::new(DOOR, 1, 0))).applied, Ok(()));

    // An older set (version 1, without the new key), signed by a key still trusted: refused,
    // bundle and all.
    let older = update(&old, DOOR, 1, &[&old]);
    let reply = carry(&mut door, &phone, &old_key, &older, &new.bundle(BundleSpec::new(DOOR, 2, 1)));
    assert_eq!(reply.applied, Err(Refusal::BundleNotNewer));
    assert_eq!((door.lock.anchor_set_version(), door.lock.bundle_version()), (2, 1));
    assert!(door.lock.trusts(&id(&new)));

    // The current update again, in front of a later bundle, is no change: the bundle applies.
    let reply = carry(&mut door, &phone, &new_key, &current, &new.bundle(BundleSpec::new(DOOR, 2, 1)));
    assert_eq!(reply.applied, Ok(()));
    assert_eq!((door.lock.anchor_set_version(), door.lock.bundle_version()), (2, 2));

    // Once the old key is dropped, its update cannot bring it back.
    let drop_old = update(&new, DOOR, 3, &[&new]);
    assert_eq!(carry(&mut door, &phone, &new_key, &drop_old, &new.bundle(BundleSpec::new(DOOR, 3, 2))).applied, Ok(()));
    let reply = carry(&mut door, &phone, &new_key, &current, &new.bundle(BundleSpec::new(DOOR, 4, 3)));
    assert_eq!(reply.applied, Err(Refusal::BundleBadSignature));
    assert_eq!((door.lock.anchor_set_version(), door.lock.bundle_version()), (3, 3));
    assert!(!door.lock.trusts(&id(&old)));
}

#[test]
fn future_bundle_anchor_rotation_an_update_signed_by_an_unknown_key_or_for_another_door_is_refused() {
    let (site, rogue) = (Site::new(), Site::new());
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0));

    let forged = update(&rogue, DOOR, 1, &[&rogue]);
    assert_eq!(carry(&mut door, &phone, &key, &forged, &bundle).applied, Err(Refusal::BundleBadSignature));
    let mut tampered = update(&site, DOOR, 1, &[&site]);
    tampered.body.anchors = vec![rogue.anchor().try_into().unwrap()];
    assert_eq!(carry(&mut door, &phone, &key, &tampered, &bundle).applied, Err(Refusal::BundleBadSignature));
    let elsewhere = update(&site, OTHER_DOOR, 1, &[&site, &rogue]);
    assert_eq!(carry(&mut door, &phone, &key, &elsewhere, &bundle).applied, Err(Refusal::BundleWrongDoor));

    assert_eq!((door.lock.anchor_set_version(), door.lock.bundle_version()), (0, 0));
    assert!(!door.lock.trusts(&id(&rogue)));
    assert_eq!(
        phone.unlock(&mut door.lock, &rogue.member_key(&phone, 2, &[DOOR])).outcome,
        Err(Refusal::UnknownIssuer)
    );
}

#[test]
fn future_bundle_anchor_rotation_an_update_to_an_empty_set_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let empty = update(&site, DOOR, 1, &[]);
    assert_eq!(
        carry(&mut door, &phone, &key, &empty, &site.bundle(BundleSpec::new(DOOR, 1, 0))).applied,
        Err(Refusal::Malformed)
    );
    assert_eq!(door.lock.anchor_set_version(), 0);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
}

#[test]
fn future_bundle_anchor_rotation_is_not_applied_when_it_cannot_be_saved() {
    let Rotation { old, new, phone, mut door, old_key, .. } = Rotation::new();
    let mut session = SyncSession::open(&phone, &mut door.lock, &old_key);
    door.storage.fail_next_saves(1);
    let bytes = DoorSyncDelivery::join(
        Some(&update(&old, DOOR, 1, &[&new])),
        &new.bundle(BundleSpec::new(DOOR, 1, 0)).to_bytes(),
    );
    let reply = session.send_bytes(&mut door.lock, &bytes);
    session.close(&mut door.lock);

    assert_eq!(reply.applied, Err(Refusal::StorageFailed));
    assert_eq!(door.lock.anchor_set_version(), 0);
    assert!(door.lock.trusts(&id(&old)) && !door.lock.trusts(&id(&new)));
    assert_eq!(phone.unlock(&mut door.lock, &old_key).outcome, Ok(()));
}

#[test]
fn future_bundle_anchor_rotation_a_format_3_state_file_opens_with_the_provisioned_set() {
    use sha2::{Digest, Sha256};
    let identity = Identity::generate(DOOR, &mut SeededRandom::new(3)).unwrap();
    let anchor = TrustAnchor::new(&Site::new().anchor()).unwrap();
    let state = LockState::provisioned(identity, &[anchor], T0);
    // A format-3 file is a format-4 file without the anchor set version at its end.
    let v4 = persist::encode(&state);
    let mut v3 = v4[..v4.len() - 32 - 4].to_vec();
    v3[6] = 3;
    let checksum = Sha256::digest(&v3);
    v3.extend_from_slice(&checksum);
    let read = persist::decode(&v3).unwrap();
    assert_eq!(read, state);
    assert_eq!(read.anchor_set_version, 0);
}

//! Issuer key rotation over real HTTP (issue 16 item 6, `future_bundle`): rotating makes a
//! new key sign, every door's bundle carries the anchor update the old key signed, a lock
//! (the test kit's, with the protocol's own lock rules) applies it, and once every door
//! has confirmed, retiring removes the old key everywhere; a retired key signs nothing.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_backend::error::Error;
use keyway_backend::signing::{self, BundleSpec, CredentialSpec, KeyLifecycle, SigningIssuer};
use keyway_protocol::anchor_update::DoorSyncDelivery;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::KeyId;
use keyway_protocol::issuer;
use keyway_protocol::lock_role::deliver;
use serde_json::{Value, json};

fn key_with_state(keys: &Value, state: &str) -> Vec<u8> {
    let key = keys["keys"].as_array().unwrap().iter().find(|k| k["state"] == state).unwrap();
    URL_SAFE_NO_PAD.decode(key["public_key"].as_str().unwrap()).unwrap()
}

fn pending(keys: &Value) -> Vec<i64> {
    keys["doors_pending"].as_array().unwrap().iter().map(|d| d.as_i64().unwrap()).collect()
}

/// A courier fetches the door's delivery, `lock` applies it, and the receipt goes back.
async fn sync(s: &Server, t: &Value, door: i64, lock: &mut MemoryLock) -> Vec<u8> {
    let since = i64::from(keyway_protocol::lock_role::LockEnvironment::bundle_version(lock));
    let b = s.send("GET", &format!("/v1/doors/{door}/bundle?since={since}"), Some(&bearer(t)), None).await.ok();
    let bytes = URL_SAFE_NO_PAD.decode(b["bundle"].as_str().unwrap()).unwrap();
    lock.now = u32::try_from(s.now()).unwrap();
    let delivery = deliver(Some(&bytes), lock);
    assert_eq!(delivery.status, Ok(()), "the lock applies what the backend serves");
    let receipt = URL_SAFE_NO_PAD.encode(delivery.receipt.to_bytes());
    s.send("POST", &format!("/v1/doors/{door}/receipts"), Some(&bearer(t)), Some(json!({ "receipt": receipt })))
        .await
        .ok();
    bytes
}

fn credential_issuer(c: &Value) -> KeyId {
    let bytes = URL_SAFE_NO_PAD.decode(c["credential"].as_str().unwrap()).unwrap();
    Credential::from_bytes(&bytes).unwrap().body.issuer
}

#[tokio::test]
async fn future_bundle_anchor_rotation_bundles_carry_the_update_and_retirement_waits_for_every_door() {
    let s = Server::start().await;
    let mut f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let old = f.issuer_public_key.clone();
    assert_eq!(credential_issuer(&credentials(&s, &ada).await[0]), KeyId::of_public_key(&old));
    let keys_path = format!("/v1/admin/sites/{}/issuer-keys", f.site);
    s.admin("POST", &format!("{keys_path}/retire"), Some(json!({}))).await.err(409, "conflict");

    let keys = s.admin("POST", &format!("{keys_path}/rotate"), None).await.ok();
    let new = key_with_state(&keys, "active");
    assert_eq!(key_with_state(&keys, "outgoing"), old);
    assert_eq!(keys["anchor_version"], 1);
    assert_eq!(pending(&keys), [f.offline_door, f.online_door]);
    s.admin("POST", &format!("{keys_path}/rotate"), None).await.err(409, "conflict");

    // Until its doors have learnt the new key, a credential for them still comes from the
    // old one: its holder must still get in, and carry the update.
    assert_eq!(credential_issuer(&credentials(&s, &ada).await[0]), KeyId::of_public_key(&old));

    // The delivery: the update signed by the old key, then a bundle signed by the new one.
    let bytes = sync(&s, &ada, f.offline_door, &mut f.offline_lock).await;
    let (update, bundle) = DoorSyncDelivery::parse(&bytes).unwrap();
    let update = update.unwrap();
    issuer::verify_anchor_update(&old, &update).unwrap();
    assert_eq!(update.body.version, 1);
    assert_eq!(update.body.door, f.offline_lock.door);
    assert_eq!(update.body.anchors.iter().map(|a| a.to_vec()).collect::<Vec<_>>(), [old.clone(), new.clone()]);
    issuer::verify_bundle(&new, &bundle).unwrap();
    assert_eq!(f.offline_lock.anchor_version, 1);
    assert!(f.offline_lock.anchors.contains_key(&KeyId::of_public_key(&new)));

    // One door has not synced: retiring now would strand it.
    let keys = s.admin("GET", &keys_path, None).await.ok();
    assert_eq!(pending(&keys), [f.online_door]);
    s.admin("POST", &format!("{keys_path}/retire"), Some(json!({}))).await.err(409, "conflict");
    sync(&s, &ada, f.online_door, &mut f.online_lock).await;
    // Every door has the new key: credentials come from it now, replacing the old key's.
    assert_eq!(credential_issuer(&credentials(&s, &ada).await[0]), KeyId::of_public_key(&new));

    let keys = s.admin("POST", &format!("{keys_path}/retire"), Some(json!({}))).await.ok();
    assert_eq!(key_with_state(&keys, "retired"), old);
    assert_eq!(keys["anchor_version"], 2);
    let bytes = sync(&s, &ada, f.offline_door, &mut f.offline_lock).await;
    let (update, _) = DoorSyncDelivery::parse(&bytes).unwrap();
    let update = update.unwrap();
    issuer::verify_anchor_update(&new, &update).unwrap();
    assert_eq!(update.body.anchors.iter().map(|a| a.to_vec()).collect::<Vec<_>>(), std::slice::from_ref(&new));
    assert_eq!(f.offline_lock.anchor_version, 2);
    assert!(!f.offline_lock.anchors.contains_key(&KeyId::of_public_key(&old)), "the lock dropped the retired key");
    let keys = s.admin("GET", &keys_path, None).await.ok();
    assert_eq!(pending(&keys), [f.online_door]);
}

#[test]
fn future_bundle_anchor_rotation_a_retired_key_signs_nothing_and_an_outgoing_key_no_bundle() {
    let key = signing::generate_key().unwrap();
    let device = signing::generate_key().unwrap();
    let credential = CredentialSpec {
        id: [1; 16],
        device_public_key: device.public_key.clone(),
        doors: vec![[2; 8]],
        not_before: 10,
        not_after: 20,
        shareable: false,
        parent: None,
    };
    let bundle = BundleSpec {
        door: [2; 8],
        version: 1,
        base_version: 0,
        revoked: vec![],
        unlock_ms: 5000,
        fast_unlock: true,
        signed_time: 10,
        audit_acknowledged: 0,
        doorcodes: None,
    };
    let anchors = [key.public_key.clone()];
    let each = |lifecycle| {
        let signer = SigningIssuer::new(key.pkcs8.clone(), lifecycle);
        [
            signing::issue_credential(&signer, &credential).map(|_| ()),
            signing::sign_bundle(&signer, &bundle).map(|_| ()),
            signing::sign_clock_reset(&signer, [2; 8], [3; 8], 10).map(|_| ()),
            signing::sign_anchor_update(&signer, [2; 8], 1, &anchors).map(|_| ()),
        ]
    };
    let retired = |r: &Result<(), Error>| matches!(r, Err(Error::IssuerKeyRetired));
    assert!(each(KeyLifecycle::Active).iter().all(Result::is_ok));
    assert!(each(KeyLifecycle::Retired).iter().all(retired), "a retired key signs nothing");
    let outgoing = each(KeyLifecycle::Outgoing);
    assert!(outgoing[1..3].iter().all(retired), "an outgoing key signs no bundle or clock reset");
    assert!(outgoing[0].is_ok() && outgoing[3].is_ok(), "an outgoing key still serves doors that have not synced");
}

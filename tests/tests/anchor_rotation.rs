//! Issuer key rotation end to end (issue 16 item 6, `future_bundle`): the operator rotates
//! a site's key, a member's phone carries the signed anchor update to an offline door on
//! an ordinary unlock, the backend sees the door confirm it, the old key is retired, and
//! the next courier visit makes the lock drop it: a phone still holding a credential of
//! the retired key is refused, while the member's renewed key opens.
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyway_core::{Error, LockRefusal};
use keyway_sandbox::world::{DAY, Org, T0, World};
use serde_json::{Value, json};

/// An organisation with one site and facility, keeping the site id (for its issuer keys).
async fn org_and_site(world: &World) -> (Org, i64) {
    let id = world.admin("POST", "v1/admin/orgs", Some(json!({ "name": "Harbour Gym" }))).await["id"].as_i64().unwrap();
    let site = world.admin("POST", &format!("v1/admin/orgs/{id}/sites"), Some(json!({ "name": "Main site" }))).await;
    let site_id = site["id"].as_i64().unwrap();
    let issuer_public_key = URL_SAFE_NO_PAD.decode(site["issuer_public_key"].as_str().unwrap()).unwrap();
    let facility = world
        .admin("POST", &format!("v1/admin/sites/{site_id}/facilities"), Some(json!({ "name": "Harbour Gym" })))
        .await["id"]
        .as_i64()
        .unwrap();
    (Org { id, facility, issuer_public_key }, site_id)
}

fn pending(keys: &Value) -> usize {
    keys["doors_pending"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchor_rotation_a_courier_carries_the_new_issuer_key_to_an_offline_door_and_the_retired_key_is_refused() {
    let world = World::start().await;
    let (org, site) = org_and_site(&world).await;
    let gate = world.door(&org, "Back gate", false).await;
    let key = world.key(&org, "Members", &[gate]).await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    world.invite(&org, "bob@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let bob = world.phone();
    bob.accept_invitation(&world, "bob@example.com").await;
    ana.keyway.unlock(&gate.lock_id).await.unwrap();
    bob.keyway.unlock(&gate.lock_id).await.unwrap();

    // The operator rotates: the update (old and new key, signed by the old) waits for a courier.
    let keys_path = format!("v1/admin/sites/{site}/issuer-keys");
    let keys = world.admin("POST", &format!("{keys_path}/rotate"), None).await;
    assert_eq!(pending(&keys), 1);
    let (status, _) = world.admin_call("POST", &format!("{keys_path}/retire"), Some(json!({}))).await;
    assert_eq!(status, 409, "the door has not learnt the new key yet");

    // Ana's phone fetches the door's update and carries it on her next unlock.
    ana.keyway.refresh().await.unwrap();
    let visit = ana.keyway.unlock(&gate.lock_id).await.unwrap();
    assert_eq!(visit.sync.expect("the update went over").applied, Ok(()));
    ana.keyway.upload_receipts().await.unwrap();
    assert_eq!(pending(&world.admin("GET", &keys_path, None).await), 0, "the door confirmed the new key");

    // Two days on, Ana's phone renews her key: it now comes from the new issuer key. Bob's
    // phone stays offline with the old key's credential, so retiring needs `force`.
    world.advance(49 * 3600);
    ana.keyway.refresh().await.unwrap();
    let (status, _) = world.admin_call("POST", &format!("{keys_path}/retire"), Some(json!({}))).await;
    assert_eq!(status, 409, "Bob's credential of the old key is still live");
    world.admin("POST", &format!("{keys_path}/retire"), Some(json!({ "force": true }))).await;
    ana.keyway.refresh().await.unwrap();
    let visit = ana.keyway.unlock(&gate.lock_id).await.unwrap();
    assert_eq!(visit.sync.expect("the retirement went over").applied, Ok(()));
    ana.keyway.upload_receipts().await.unwrap();
    let keys = world.admin("GET", &keys_path, None).await;
    assert_eq!(pending(&keys), 0);
    assert!(keys["keys"].as_array().unwrap().iter().any(|k| k["state"] == "retired"));

    // Ana's renewed key opens; Bob's phone, offline since the rotation, still holds a key
    // of the retired issuer: refused.
    ana.keyway.unlock(&gate.lock_id).await.unwrap();
    match bob.keyway.unlock(&gate.lock_id).await {
        Err(Error::LockRefused { reason: LockRefusal::UnknownIssuer }) => {}
        other => panic!("a key of the retired issuer must be refused, got {other:?}"),
    }
}

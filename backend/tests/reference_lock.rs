//! What this service issues works at the reference lock (`keyway-lock`): credentials open
//! the door, bundles apply, a revoked member is refused offline, and the lock's receipts
//! are accepted back (their audit events stored once).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, Provisioning, SeededRandom};
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::DoorId;
use keyway_protocol::phone::{LockTarget, StandardUnlock, SyncReply, UnlockReply};
use keyway_protocol::{Command, Refusal};
use serde_json::{Value, json};

fn target(lock: &mut Lock) -> LockTarget {
    LockTarget { door: lock.door(), lock_public_key: lock.public_key(), nonce: lock.advertisement().nonce }
}

fn request(
    phone: &Phone,
    lock: &mut Lock,
    credential: &[u8],
    command: Command,
) -> (keyway_protocol::phone::AwaitingResponse, Vec<u8>) {
    let unlock =
        StandardUnlock::begin(&target(lock), credential, command, true, &ring::rand::SystemRandom::new()).unwrap();
    let sig = phone.pair.sign(&ring::rand::SystemRandom::new(), &unlock.signing_message()).unwrap();
    unlock.finish(sig.as_ref().try_into().unwrap())
}

fn unlock(phone: &Phone, lock: &mut Lock, credential: &[u8]) -> UnlockReply {
    let (awaiting, req) = request(phone, lock, credential, Command::Unlock);
    let conn = lock.connect(247).unwrap();
    let out = lock.on_message(conn, &req).unwrap();
    lock.disconnect(conn);
    awaiting.on_response(&out.reply.unwrap()).unwrap().0
}

fn sync(phone: &Phone, lock: &mut Lock, credential: &[u8], bundle: &[u8]) -> SyncReply {
    let (awaiting, req) = request(phone, lock, credential, Command::SyncOnly);
    let conn = lock.connect(247).unwrap();
    let out = lock.on_message(conn, &req).unwrap();
    let (reply, mut channel) = awaiting.on_response(&out.reply.unwrap()).unwrap();
    assert_eq!(reply.outcome, Ok(()));
    let msg = channel.deliver_bundle(bundle).unwrap();
    let out = lock.on_message(conn, &msg).unwrap();
    lock.disconnect(conn);
    channel.on_sync_reply(&out.reply.unwrap()).unwrap()
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(v[field].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn credentials_and_bundles_from_the_backend_work_at_the_reference_lock() {
    let s = Server::start().await;
    // The operator sets up a site and an offline door fitted with a reference lock.
    let org = s.admin("POST", "/v1/admin/orgs", Some(json!({ "name": "Acme" }))).await.ok()["id"].as_i64().unwrap();
    let site = s.admin("POST", &format!("/v1/admin/orgs/{org}/sites"), Some(json!({ "name": "Main" }))).await.ok();
    let anchor = bytes(&site, "issuer_public_key");
    let facility = s
        .admin("POST", &format!("/v1/admin/sites/{}/facilities", site["id"]), Some(json!({ "name": "Gym" })))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let door_id = DoorId([0x42, 0, 0, 0, 0, 0, 0, 1]);
    let rtc = ManualRtc::new(u32::try_from(s.now()).unwrap());
    let options = LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(7)) };
    let provisioning = Provisioning { door: door_id, trust_anchors: vec![anchor] };
    let mut lock = Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, options).unwrap();
    let door = s
        .admin(
            "POST",
            &format!("/v1/admin/facilities/{facility}/doors"),
            Some(json!({
                "name": "Back gate",
                "lock_id": door_id.to_hex(),
                "lock_public_key": URL_SAFE_NO_PAD.encode(lock.public_key()),
                "lock_signing_public_key": URL_SAFE_NO_PAD.encode(lock.signing_public_key()),
                "online": false,
            })),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let key = s
        .admin(
            "POST",
            &format!("/v1/admin/facilities/{facility}/keys"),
            Some(json!({ "name": "Gate", "door_ids": [door] })),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let fx = Fixture {
        org,
        site: site["id"].as_i64().unwrap(),
        issuer_public_key: Vec::new(),
        facility,
        offline_door: door,
        online_door: door,
        offline_lock: common::Lock::new([0; 8]),
        online_lock: common::Lock::new([0; 8]),
        key,
    };

    // Two members; each gets a credential for their phone; both open the door.
    let (ada_phone, bob_phone) = (Phone::new(), Phone::new());
    let ada = member(&s, &fx, "ada@example.com", &ada_phone).await;
    let bob = member(&s, &fx, "bob@example.com", &bob_phone).await;
    let cred = |t: &Value| {
        let s = &s;
        let t = bearer(t);
        async move {
            let c = s.send("POST", "/v1/credentials", Some(&t), Some(json!({}))).await.ok();
            bytes(&c["credentials"][0], "credential")
        }
    };
    let ada_cred = cred(&ada).await;
    let bob_cred = cred(&bob).await;
    assert_eq!(unlock(&ada_phone, &mut lock, &ada_cred).outcome, Ok(()));
    assert_eq!(unlock(&bob_phone, &mut lock, &bob_cred).outcome, Ok(()));

    // Bob carries the first bundle; the lock's receipt goes back to the backend.
    let b1 = s.send("GET", &format!("/v1/doors/{door}/bundle"), Some(&bearer(&bob)), None).await.ok();
    let reply = sync(&bob_phone, &mut lock, &bob_cred, &bytes(&b1, "bundle"));
    assert_eq!(reply.applied, Ok(()));
    let upload = json!({ "receipt": URL_SAFE_NO_PAD.encode(&reply.receipt_bytes) });
    let outcome =
        s.send("POST", &format!("/v1/doors/{door}/receipts"), Some(&bearer(&bob)), Some(upload.clone())).await.ok();
    assert_eq!(outcome["sync_pending"], false);
    let stored = outcome["events_stored"].as_i64().unwrap();
    assert!(stored >= 3, "two unlocks and a bundle applied: {outcome}");
    let again = s.send("POST", &format!("/v1/doors/{door}/receipts"), Some(&bearer(&ada)), Some(upload)).await.ok();
    assert_eq!(again["events_stored"], 0);

    // Ada is revoked; the door has no internet, so her credential still works until Bob syncs.
    let r = s.admin("POST", &format!("/v1/admin/orgs/{org}/people/{}/revoke-all", ada["person_id"]), None).await.ok();
    assert_eq!(r["revoked"], 1);
    assert_eq!(unlock(&ada_phone, &mut lock, &ada_cred).outcome, Ok(()));
    let v1 = b1["version"].as_i64().unwrap();
    let b2 = s.send("GET", &format!("/v1/doors/{door}/bundle?since={v1}"), Some(&bearer(&bob)), None).await.ok();
    let reply = sync(&bob_phone, &mut lock, &bob_cred, &bytes(&b2, "bundle"));
    assert_eq!(reply.applied, Ok(()));
    let ada_id = Credential::from_bytes(&ada_cred).unwrap().body.id;
    assert!(lock.is_revoked(&ada_id));
    assert_eq!(unlock(&ada_phone, &mut lock, &ada_cred).outcome, Err(Refusal::Revoked));
    assert_eq!(unlock(&bob_phone, &mut lock, &bob_cred).outcome, Ok(()));
    let upload = json!({ "receipt": URL_SAFE_NO_PAD.encode(&reply.receipt_bytes) });
    let outcome = s.send("POST", &format!("/v1/doors/{door}/receipts"), Some(&bearer(&bob)), Some(upload)).await.ok();
    assert_eq!(outcome["version_applied"], b2["version"]);
    assert_eq!(outcome["sync_pending"], false);
    let history = s.admin("GET", &format!("/v1/admin/doors/{door}/events"), None).await.ok();
    assert!(history.as_array().unwrap().iter().any(|e| e["kind"] == "bundle_applied"));
}

//! What this service issues works at the reference lock (`keyway-lock`): credentials open
//! the door, bundles apply, a revoked member is refused offline, and the lock's receipts
//! are accepted back (their audit events stored once).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_lock::testkit::memory_lock;
use keyway_lock::{Lock, ManualRtc, MemoryStorage};
use keyway_protocol::Refusal;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::DoorId;
use keyway_protocol::phone::SyncReply;
use keyway_protocol::testkit::SyncSession;
use serde_json::{Value, json};

/// A door sync of bundle bytes exactly as the backend served them.
fn sync(phone: &TestPhone, lock: &mut Lock, credential: &[u8], bundle: &[u8]) -> SyncReply {
    let mut session = SyncSession::open(phone, lock, credential);
    let reply = session.send_bytes(lock, bundle);
    session.close(lock);
    reply
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
    let mut lock = memory_lock(MemoryStorage::new(), door_id, &anchor, &rtc, 7);
    let door = add_door(
        &s,
        facility,
        json!({
            "name": "Back gate",
            "lock_id": door_id.to_hex(),
            "lock_public_key": URL_SAFE_NO_PAD.encode(lock.public_key()),
            "lock_signing_public_key": URL_SAFE_NO_PAD.encode(lock.signing_public_key()),
            "online": false,
        }),
    )
    .await;
    let key = add_key(&s, facility, "Gate", &[door]).await;
    let fx = Fixture {
        org,
        site: site["id"].as_i64().unwrap(),
        issuer_public_key: anchor.clone(),
        facility,
        offline_door: door,
        online_door: door,
        offline_lock: MemoryLock::trusting(DoorId([0; 8]), &anchor),
        online_lock: MemoryLock::trusting(DoorId([0; 8]), &anchor),
        key,
    };

    // Two members; each gets a credential for their phone; both open the door.
    let (ada_phone, bob_phone) = (TestPhone::new(), TestPhone::new());
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
    assert_eq!(ada_phone.unlock(&mut lock, &ada_cred).outcome, Ok(()));
    assert_eq!(bob_phone.unlock(&mut lock, &bob_cred).outcome, Ok(()));

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
    assert_eq!(ada_phone.unlock(&mut lock, &ada_cred).outcome, Ok(()));
    let v1 = b1["version"].as_i64().unwrap();
    let b2 = s.send("GET", &format!("/v1/doors/{door}/bundle?since={v1}"), Some(&bearer(&bob)), None).await.ok();
    let reply = sync(&bob_phone, &mut lock, &bob_cred, &bytes(&b2, "bundle"));
    assert_eq!(reply.applied, Ok(()));
    let ada_id = Credential::from_bytes(&ada_cred).unwrap().body.id;
    assert!(lock.is_revoked(&ada_id));
    assert_eq!(ada_phone.unlock(&mut lock, &ada_cred).outcome, Err(Refusal::Revoked));
    assert_eq!(bob_phone.unlock(&mut lock, &bob_cred).outcome, Ok(()));
    let upload = json!({ "receipt": URL_SAFE_NO_PAD.encode(&reply.receipt_bytes) });
    let outcome = s.send("POST", &format!("/v1/doors/{door}/receipts"), Some(&bearer(&bob)), Some(upload)).await.ok();
    assert_eq!(outcome["version_applied"], b2["version"]);
    assert_eq!(outcome["sync_pending"], false);
    let history = s.admin("GET", &format!("/v1/admin/doors/{door}/events"), None).await.ok();
    assert!(history.as_array().unwrap().iter().any(|e| e["kind"] == "bundle_applied"));
}

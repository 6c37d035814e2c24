//! Daily doorcodes at the backend: a lock's doorcode secret is registered once and sealed,
//! a member whose key carries a doorcode gets today's code, the code opens the reference
//! lock once a bundle has carried the member's slot, and a revoked member's code stops
//! showing at once and stops opening after the door's next sync.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_lock::keypad::KeypadOutcome;
use keyway_lock::testkit::memory_lock;
use keyway_lock::{Lock, ManualRtc, MemoryStorage};
use keyway_protocol::ids::DoorId;
use keyway_protocol::testkit::SyncSession;
use serde_json::{Value, json};

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(v[field].as_str().unwrap()).unwrap()
}

struct Door {
    fx: Fixture,
    door: i64,
    lock: Lock,
}

/// An organisation with an offline door fitted with a reference lock whose doorcode
/// secret is registered, and a key opening it.
async fn fitted_door(s: &Server) -> Door {
    let fx = fixture(s, "Acme", 9).await;
    let door_id = DoorId([0x42, 0, 0, 0, 0, 0, 0, 9]);
    let rtc = ManualRtc::new(u32::try_from(s.now()).unwrap());
    let lock = memory_lock(MemoryStorage::new(), door_id, &fx.issuer_public_key, &rtc, 11);
    let door = add_door(
        s,
        fx.facility,
        json!({
            "name": "Side gate",
            "lock_id": door_id.to_hex(),
            "lock_public_key": URL_SAFE_NO_PAD.encode(lock.public_key()),
            "lock_signing_public_key": URL_SAFE_NO_PAD.encode(lock.signing_public_key()),
            "online": false,
        }),
    )
    .await;
    let secret = URL_SAFE_NO_PAD.encode(lock.doorcode_secret().unwrap().0);
    s.admin("POST", &format!("/v1/admin/doors/{door}/doorcode-secret"), Some(json!({ "secret": secret }))).await.ok();
    let key = add_key(s, fx.facility, "Side", &[door]).await;
    Door { fx: Fixture { key, ..fx }, door, lock }
}

async fn credential(s: &Server, tokens: &Value) -> Vec<u8> {
    let c = s.send("POST", "/v1/credentials", Some(&bearer(tokens)), Some(json!({}))).await.ok();
    bytes(&c["credentials"][0], "credential")
}

async fn grant_id(s: &Server, tokens: &Value) -> i64 {
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(tokens)), None).await.ok();
    keys["keys"][0]["grant_id"].as_i64().unwrap()
}

async fn doorcodes(s: &Server, tokens: &Value) -> Vec<Value> {
    s.send("GET", "/v1/me/doorcodes", Some(&bearer(tokens)), None).await.ok()["doorcodes"].as_array().unwrap().clone()
}

/// Carries the door's current bundle (a delta from `since`) with `courier`'s credential;
/// returns the bundle's version and the lock's receipt.
async fn carry(s: &Server, d: &mut Door, courier: &Value, phone: &TestPhone, since: i64) -> (i64, Vec<u8>) {
    let cred = credential(s, courier).await;
    let b =
        s.send("GET", &format!("/v1/doors/{}/bundle?since={since}", d.door), Some(&bearer(courier)), None).await.ok();
    let mut session = SyncSession::open(phone, &mut d.lock, &cred);
    let reply = session.send_bytes(&mut d.lock, &bytes(&b, "bundle"));
    session.close(&mut d.lock);
    assert_eq!(reply.applied, Ok(()));
    (b["version"].as_i64().unwrap(), reply.receipt_bytes)
}

fn type_code(lock: &mut Lock, code: &str) -> KeypadOutcome {
    lock.keypad(format!("{code}#").as_bytes()).unwrap()
}

#[tokio::test]
async fn doorcode_from_the_backend_opens_the_reference_lock_until_a_sync_carries_the_revocation() {
    let s = Server::start().await;
    let mut d = fitted_door(&s).await;
    let (ada_phone, bob_phone) = (TestPhone::new(), TestPhone::new());
    let ada = member(&s, &d.fx, "ada@example.com", &ada_phone).await;
    let bob = member(&s, &d.fx, "bob@example.com", &bob_phone).await;
    assert!(doorcodes(&s, &ada).await.is_empty(), "no key carries a doorcode yet");

    let enabled = s
        .admin(
            "POST",
            &format!("/v1/admin/grants/{}/doorcode", grant_id(&s, &ada).await),
            Some(json!({ "enabled": true })),
        )
        .await
        .ok();
    assert_eq!(enabled["enabled"], true);
    let codes = doorcodes(&s, &ada).await;
    assert_eq!(codes.len(), 1);
    let code = codes[0]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert_eq!(codes[0]["door_id"], d.door);
    assert!(codes[0]["valid_from"].as_i64().unwrap() <= s.now() && s.now() < codes[0]["valid_until"].as_i64().unwrap());
    assert!(doorcodes(&s, &bob).await.is_empty(), "Bob's key carries none");

    // The lock learns Ada's slot from the bundle Bob carries.
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::WrongCode { .. }));
    let (v1, _) = carry(&s, &mut d, &bob, &bob_phone, 0).await;
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::Opened { .. }));

    // Ada is revoked: her code is gone from the app at once, from the lock at the next sync.
    let person = ada["person_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{person}/revoke-all", d.fx.org), None).await.ok();
    assert!(doorcodes(&s, &ada).await.is_empty());
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::Opened { .. }));
    let (_, receipt) = carry(&s, &mut d, &bob, &bob_phone, v1).await;
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::WrongCode { .. }));

    // The keypad's events reach the door's history with the receipt.
    let upload = json!({ "receipt": URL_SAFE_NO_PAD.encode(&receipt) });
    s.send("POST", &format!("/v1/doors/{}/receipts", d.door), Some(&bearer(&bob)), Some(upload)).await.ok();
    let history = s.admin("GET", &format!("/v1/admin/doors/{}/events", d.door), None).await.ok();
    let kinds: Vec<&str> = history.as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "doorcode_granted").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"doorcode_wrong"), "{kinds:?}");
}

#[tokio::test]
async fn a_doorcode_secret_is_sealed_at_rest_registered_once_and_never_returned() {
    let s = Server::start().await;
    let d = fitted_door(&s).await;
    let secret = d.lock.doorcode_secret().unwrap().0;
    let ada_phone = TestPhone::new();
    let ada = member(&s, &d.fx, "ada@example.com", &ada_phone).await;
    s.admin(
        "POST",
        &format!("/v1/admin/grants/{}/doorcode", grant_id(&s, &ada).await),
        Some(json!({ "enabled": true })),
    )
    .await
    .ok();
    let code = doorcodes(&s, &ada).await[0]["code"].as_str().unwrap().to_owned();

    let dump = s.running.state.db().with_conn(keyway_backend::db::dump_all).await.unwrap();
    assert!(dump.contains("Side gate"), "the dump is real");
    assert!(!dump.contains(&hex::encode(secret)), "the doorcode secret is stored in the clear");
    assert!(!dump.contains(&URL_SAFE_NO_PAD.encode(secret)), "the doorcode secret is stored in the clear");
    assert!(!dump.split(['\t', '\n', '|']).any(|field| field == code), "a doorcode is stored");
    let doors = s.admin("GET", &format!("/v1/admin/orgs/{}/doors", d.fx.org), None).await.ok();
    assert!(!doors.to_string().contains(&URL_SAFE_NO_PAD.encode(secret)));

    let again = json!({ "secret": URL_SAFE_NO_PAD.encode([7u8; 32]) });
    s.admin("POST", &format!("/v1/admin/doors/{}/doorcode-secret", d.door), Some(again)).await.err(409, "conflict");
    let short = json!({ "secret": URL_SAFE_NO_PAD.encode([7u8; 16]) });
    s.admin("POST", &format!("/v1/admin/doors/{}/doorcode-secret", d.fx.online_door), Some(short))
        .await
        .err(422, "invalid_field");
}

#[tokio::test]
async fn a_revoked_or_unknown_grant_cannot_get_a_doorcode() {
    let s = Server::start().await;
    let d = fitted_door(&s).await;
    let ada = member(&s, &d.fx, "ada@example.com", &TestPhone::new()).await;
    let grant = grant_id(&s, &ada).await;
    s.admin("POST", &format!("/v1/admin/grants/{grant}/revoke"), None).await.ok();
    s.admin("POST", &format!("/v1/admin/grants/{grant}/doorcode"), Some(json!({ "enabled": true })))
        .await
        .err(403, "key_revoked");
    s.admin("POST", "/v1/admin/grants/424242/doorcode", Some(json!({ "enabled": true }))).await.err(404, "not_found");
}

#[tokio::test]
async fn access_suspended_a_suspended_persons_doorcode_is_refused_after_the_next_sync_and_comes_back() {
    let s = Server::start().await;
    let mut d = fitted_door(&s).await;
    let (ada_phone, bob_phone) = (TestPhone::new(), TestPhone::new());
    let ada = member(&s, &d.fx, "ada@example.com", &ada_phone).await;
    let bob = member(&s, &d.fx, "bob@example.com", &bob_phone).await;
    let grant = grant_id(&s, &ada).await;
    s.admin("POST", &format!("/v1/admin/grants/{grant}/doorcode"), Some(json!({ "enabled": true }))).await.ok();
    let code = doorcodes(&s, &ada).await[0]["code"].as_str().unwrap().to_owned();
    let (v1, _) = carry(&s, &mut d, &bob, &bob_phone, 0).await;
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::Opened { .. }));

    let access = format!("/v1/admin/orgs/{}/people/{}/access", d.fx.org, ada["person_id"].as_i64().unwrap());
    s.admin("POST", &access, Some(json!({ "enabled": false }))).await.ok();
    assert!(doorcodes(&s, &ada).await.is_empty(), "a suspended person is shown no doorcode");
    let (v2, _) = carry(&s, &mut d, &bob, &bob_phone, v1).await;
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::WrongCode { .. }));

    s.admin("POST", &access, Some(json!({ "enabled": true }))).await.ok();
    assert_eq!(doorcodes(&s, &ada).await[0]["code"].as_str(), Some(code.as_str()), "the same slot, the same code");
    carry(&s, &mut d, &bob, &bob_phone, v2).await;
    assert!(matches!(type_code(&mut d.lock, &code), KeypadOutcome::Opened { .. }));
}

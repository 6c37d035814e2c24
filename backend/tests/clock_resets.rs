//! Clock resets (issue 16, `rtc_jump`): who may ask the backend to sign one, what it binds,
//! the audit trail and the limits.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_protocol::clock_reset::ClockReset;
use serde_json::{Value, json};

const NONCE: &str = "0102030405060708";

async fn ask(s: &Server, token: Option<&str>, door: i64, nonce: &str) -> Answer {
    s.send("POST", &format!("/v1/doors/{door}/clock-reset"), token, Some(json!({ "nonce": nonce }))).await
}

async fn audit_rows(s: &Server, door: i64) -> Vec<keyway_backend::clock_resets::ResetRecord> {
    s.running.state.db().write(move |tx| keyway_backend::clock_resets::history(tx, door)).await.unwrap()
}

fn reset_of(a: &Value) -> ClockReset {
    ClockReset::from_bytes(&URL_SAFE_NO_PAD.decode(a["reset"].as_str().unwrap()).unwrap()).unwrap()
}

#[tokio::test]
async fn rtc_jump_a_member_with_a_key_gets_a_reset_signed_for_the_door_and_the_nonce_heard() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let a = ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await.ok();
    assert_eq!(a["time"].as_i64().unwrap(), s.now());
    let reset = reset_of(&a);
    assert_eq!(reset.body.door.0, f.offline_lock.door.0);
    assert_eq!(hex::encode(reset.body.nonce.0), NONCE);
    assert_eq!(i64::from(reset.body.time), s.now());
    let issuer =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &f.issuer_public_key);
    issuer.verify(&reset.body.signed_message(), &reset.signature).unwrap();
    // Audited: the door, the person, the time.
    let rows = audit_rows(&s, f.offline_door).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].person_id.is_some() && !rows[0].by_admin);
    assert_eq!(rows[0].signed_time, s.now());
}

#[tokio::test]
async fn rtc_jump_only_key_holders_and_administrators_get_a_reset() {
    let s = Server::start().await;
    let acme = fixture(&s, "Acme", 1).await;
    let other = fixture(&s, "Other", 2).await;
    let stranger = member(&s, &other, "eve@example.com", &TestPhone::new()).await;
    // Someone else's door and no door at all: the same answer.
    ask(&s, Some(&bearer(&stranger)), acme.offline_door, NONCE).await.err(404, "not_found");
    ask(&s, Some(&bearer(&stranger)), 987_654, NONCE).await.err(404, "not_found");
    ask(&s, None, acme.offline_door, NONCE).await.err(401, "unauthenticated");
    ask(&s, Some(&bearer(&stranger)), other.offline_door, "not-hex").await.err(422, "invalid_field");
    ask(&s, Some(&bearer(&stranger)), other.offline_door, "0102").await.err(422, "invalid_field");
    let by_admin = s
        .admin("POST", &format!("/v1/admin/doors/{}/clock-reset", acme.offline_door), Some(json!({ "nonce": NONCE })))
        .await;
    assert_eq!(reset_of(&by_admin.ok()).body.door.0, acme.offline_lock.door.0);
    let rows = audit_rows(&s, acme.offline_door).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].person_id.is_none() && rows[0].by_admin, "signed at an administrator's request");
}

#[tokio::test]
async fn rtc_jump_resets_are_limited_per_door() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    for _ in 0..keyway_backend::clock_resets::PER_DOOR_PER_HOUR {
        ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await.ok();
        s.clock.advance(60);
    }
    let a = ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await;
    a.err(429, "rate_limited");
    assert!(a.body["error"]["retry_at"].as_i64().unwrap() > s.now());
    s.clock.advance(3600);
    let ada = member(&s, &f, "ada2@example.com", &TestPhone::new()).await;
    ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await.ok();
}

#[tokio::test]
async fn rtc_jump_no_reset_is_signed_while_the_backends_clock_jumped() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await.ok();
    // Ten minutes ahead with no time passed (the member's access token still works).
    s.clock.glitch(600);
    ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await.err(503, "signing_clock_unsure");
    s.clock.glitch(-600);
    ask(&s, Some(&bearer(&ada)), f.offline_door, NONCE).await.ok();
}

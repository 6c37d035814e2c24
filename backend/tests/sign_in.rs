//! One-time-code sign-in over real HTTP: guesses, resends, throttling, unknown identifiers.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

async fn known_person(s: &Server, email: &str) {
    let f = fixture(s, "Acme", 1).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": email }))).await.ok();
}

async fn guess(s: &Server, ident: &str, code: &str, phone: &TestPhone) -> Answer {
    s.post("/v1/auth/verify", json!({ "identifier": ident, "code": code, "device_public_key": phone.public_key_b64() }))
        .await
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn sixth_guess_on_a_code_is_refused() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    let phone = TestPhone::new();
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code = s.last_code("ada@example.com").await;
    for left in (0..5).rev() {
        let a = guess(&s, "ada@example.com", &wrong(&code), &phone).await;
        a.err(401, "code_wrong");
        assert_eq!(a.body["error"]["attempts_left"], left);
    }
    // The sixth guess is refused even with the right code.
    let a = guess(&s, "ada@example.com", &code, &phone).await;
    a.err(429, "too_many_attempts");
    assert!(a.body["error"]["retry_at"].as_i64().unwrap() > s.now());
}

#[tokio::test]
async fn resend_does_not_reset_the_failure_count() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    let phone = TestPhone::new();
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code = s.last_code("ada@example.com").await;
    for _ in 0..3 {
        guess(&s, "ada@example.com", &wrong(&code), &phone).await.err(401, "code_wrong");
    }
    s.clock.advance(31);
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code2 = s.last_code("ada@example.com").await;
    let a = guess(&s, "ada@example.com", &wrong(&code2), &phone).await;
    a.err(401, "code_wrong");
    assert_eq!(a.body["error"]["attempts_left"], 1);
    guess(&s, "ada@example.com", &wrong(&code2), &phone).await.err(401, "code_wrong");
    // Locked: a resend is refused too, until the lock runs out.
    s.clock.advance(31);
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.err(429, "too_many_attempts");
    s.clock.advance(15 * 60);
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code3 = s.last_code("ada@example.com").await;
    guess(&s, "ada@example.com", &code3, &phone).await.ok();
}

#[tokio::test]
async fn unknown_identifier_gets_the_same_response() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    let known = s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await;
    let unknown = s.post("/v1/auth/code", json!({ "identifier": "nobody@example.com" })).await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    // Nothing is delivered to the unknown address, and no guess works there.
    assert!(s.outbox("nobody@example.com").await.is_empty());
    let phone = TestPhone::new();
    let code = s.last_code("ada@example.com").await;
    let a = guess(&s, "nobody@example.com", &code, &phone).await;
    let b = guess(&s, "ada@example.com", &wrong(&code), &phone).await;
    a.err(401, "code_wrong");
    b.err(401, "code_wrong");
    assert_eq!(a.body, b.body);
    // Cooldowns look the same too.
    let k = s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await;
    let u = s.post("/v1/auth/code", json!({ "identifier": "nobody@example.com" })).await;
    k.err(429, "resend_too_soon");
    assert_eq!(k.body, u.body);
}

#[tokio::test]
async fn a_code_works_only_once() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    let phone = TestPhone::new();
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code = s.last_code("ada@example.com").await;
    guess(&s, "ada@example.com", &code, &phone).await.ok();
    guess(&s, "ada@example.com", &code, &phone).await.err(401, "code_expired");
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    let phone = TestPhone::new();
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code = s.last_code("ada@example.com").await;
    s.clock.advance(600);
    guess(&s, "ada@example.com", &code, &phone).await.err(401, "code_expired");
}

#[tokio::test]
async fn codes_to_one_identifier_are_throttled() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    for _ in 0..5 {
        s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
        s.clock.advance(31);
    }
    let a = s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await;
    a.err(429, "rate_limited");
    s.clock.set(a.body["error"]["retry_at"].as_i64().unwrap());
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
}

#[tokio::test]
async fn phone_only_person_signs_in_with_their_phone_without_an_invitation() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "phone": "+44 7700 900123" })))
        .await
        .ok();
    let phone = TestPhone::new();
    // Written differently, normalised to the same E.164 number.
    let sent = s.post("/v1/auth/code", json!({ "identifier": "0044 7700-900-123" })).await.ok();
    assert_eq!(sent["channel"], "sms");
    let code = s.last_code("+447700900123").await;
    let tokens = guess(&s, "+447700900123", &code, &phone).await.ok();
    let me = s.send("GET", "/v1/me", Some(&bearer(&tokens)), None).await.ok();
    assert_eq!(me["phone"], "+447700900123");
    assert_eq!(me["memberships"][0]["organisation"], "Acme");
}

#[tokio::test]
async fn emails_are_trimmed_and_lowercased() {
    let s = Server::start().await;
    known_person(&s, "ada@example.com").await;
    s.post("/v1/auth/code", json!({ "identifier": "  Ada@Example.COM " })).await.ok();
    assert_eq!(s.outbox("ada@example.com").await.len(), 1);
}

#[tokio::test]
async fn a_bad_identifier_or_device_key_is_refused() {
    let s = Server::start().await;
    s.post("/v1/auth/code", json!({ "identifier": "not an address" })).await.err(422, "invalid_identifier");
    known_person(&s, "ada@example.com").await;
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await.ok();
    let code = s.last_code("ada@example.com").await;
    s.post("/v1/auth/verify", json!({ "identifier": "ada@example.com", "code": code, "device_public_key": "AAAA" }))
        .await
        .err(422, "invalid_device_key");
    // A 65-byte string that is not a point on the curve.
    let fake = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, [4u8; 65]);
    s.post("/v1/auth/verify", json!({ "identifier": "ada@example.com", "code": code, "device_public_key": fake }))
        .await
        .err(422, "invalid_device_key");
}

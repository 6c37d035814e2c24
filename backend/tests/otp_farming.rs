//! Code farming (issue 16, `otp_farming`): an attacker who asks for code after code and
//! guesses each one runs into a lifetime cap, a growing back-off and per-client limits,
//! while the real member still signs in. Clients are told apart by their loopback address
//! (`127.0.0.1` is the attacker, others are the member or a second client).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";

async fn people(s: &Server) {
    let f = fixture(s, "Acme", 1).await;
    for email in [ADA, BOB] {
        s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": email }))).await.ok();
    }
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

/// Asks for a code from `http`, waiting out (on the test clock) any cooldown or back-off
/// the service names; gives up after `tries` refusals and returns the last answer.
async fn ask_code(s: &Server, http: &reqwest::Client, ident: &str, tries: usize) -> Answer {
    ask_code_noting_locks(s, http, ident, tries, &mut Vec::new()).await
}

/// Like [`ask_code`], noting each `too_many_attempts` back-off (seconds from the refusal).
async fn ask_code_noting_locks(
    s: &Server,
    http: &reqwest::Client,
    ident: &str,
    tries: usize,
    locks: &mut Vec<i64>,
) -> Answer {
    let mut last = None;
    for _ in 0..tries {
        let a = s.post_from(http, "/v1/auth/code", json!({ "identifier": ident })).await;
        if a.status.is_success() {
            return a;
        }
        assert_eq!(a.status.as_u16(), 429, "{}", a.body);
        let retry_at = a.body["error"]["retry_at"].as_i64().unwrap();
        if a.code() == "too_many_attempts" {
            locks.push(retry_at - s.now());
        }
        s.clock.set(retry_at.max(s.now() + 1));
        last = Some(a);
    }
    last.unwrap()
}

async fn verify(s: &Server, http: &reqwest::Client, ident: &str, code: &str, phone: &TestPhone) -> Answer {
    s.post_from(
        http,
        "/v1/auth/verify",
        json!({ "identifier": ident, "code": code, "device_public_key": phone.public_key_b64() }),
    )
    .await
}

#[tokio::test]
async fn otp_farming_a_hundred_cycles_of_code_and_guess_stop_being_evaluated_and_the_member_still_signs_in() {
    let s = Server::start().await;
    people(&s).await;
    // Ada signed in on her phone before the attack (from her own address).
    let ada_net = s.client_at("127.0.0.3");
    let ada_phone = TestPhone::new();
    ask_code(&s, &ada_net, ADA, 1).await.ok();
    let mut tokens = verify(&s, &ada_net, ADA, &s.last_code(ADA).await, &ada_phone).await.ok();

    // The attacker: ask for a code, guess it, a hundred times, waiting out every back-off.
    let attacker = s.client();
    let thief = TestPhone::new();
    let mut locks = Vec::new();
    for cycle in 1..=100 {
        let sent = ask_code_noting_locks(&s, &attacker, ADA, 4, &mut locks).await;
        assert!(sent.status.is_success(), "cycle {cycle}: {}", sent.body);
        let code = s.last_code(ADA).await;
        verify(&s, &attacker, ADA, &wrong(&code), &thief).await.err(401, "code_wrong");
        if cycle % 20 == 0 {
            // Meanwhile Ada's phone refreshes its session now and then, as phones do.
            tokens = s.post("/v1/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await.ok();
        }
    }
    // The back-off grew: 15 minutes after the 5th failure, doubling, capped at a day.
    assert_eq!(locks[0], 15 * 60, "{locks:?}");
    assert_eq!(locks[1], 30 * 60, "{locks:?}");
    assert!(locks.iter().all(|l| *l <= DAY), "{locks:?}");
    assert!(locks.windows(2).all(|w| w[1] >= w[0]), "{locks:?}");

    assert_eq!(locks.len(), 19, "a back-off after every fifth failure: {locks:?}");
    // Eight days later (the attacker's address itself is forgotten after seven), guesses
    // for Ada are still not evaluated: the attacker's address gets no code, and from a
    // fresh address even the right code is refused.
    s.clock.advance(8 * DAY);
    s.post_from(&attacker, "/v1/auth/code", json!({ "identifier": ADA })).await.err(429, "too_many_attempts");
    let fresh = s.client_at("127.0.0.2");
    ask_code(&s, &fresh, ADA, 1).await.ok();
    let right = s.last_code(ADA).await;
    verify(&s, &fresh, ADA, &right, &thief).await.err(429, "too_many_attempts");

    // Ada is not locked out: her signed-in phone keeps working…
    let refreshed = s.post("/v1/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await.ok();
    s.send("GET", "/v1/me", Some(&bearer(&refreshed)), None).await.ok();
    // …and that phone can sign in again with a code, which clears the count.
    ask_code(&s, &ada_net, ADA, 1).await.ok();
    let code = s.last_code(ADA).await;
    verify(&s, &ada_net, ADA, &code, &ada_phone).await.ok();
    s.clock.advance(31);
    ask_code(&s, &fresh, ADA, 1).await.ok();
    verify(&s, &fresh, ADA, &s.last_code(ADA).await, &TestPhone::new()).await.ok();
}

#[tokio::test]
async fn otp_farming_an_administrator_unfreezes_a_member_the_cap_froze_but_not_the_attackers_address() {
    let s = Server::start().await;
    people(&s).await;
    // An attacker spreads a hundred wrong guesses at Ada over many addresses.
    let thief = TestPhone::new();
    for i in 0..100 {
        let net = s.client_at(&format!("127.0.{}.{}", 10 + i / 5, 1 + i % 5));
        ask_code(&s, &net, ADA, 4).await.ok();
        let code = s.last_code(ADA).await;
        verify(&s, &net, ADA, &wrong(&code), &thief).await;
        s.clock.advance(DAY);
    }
    let ada_net = s.client_at("127.0.0.3");
    ask_code(&s, &ada_net, ADA, 1).await.ok();
    let right = s.last_code(ADA).await;
    verify(&s, &ada_net, ADA, &right, &TestPhone::new()).await.err(429, "too_many_attempts");

    // The front desk checks Ada's identity and lifts the freeze: her next code works.
    s.admin("POST", "/v1/admin/sign-in/unfreeze", Some(json!({ "identifier": " Ada@Example.com " }))).await.ok();
    s.clock.advance(31);
    ask_code(&s, &ada_net, ADA, 1).await.ok();
    verify(&s, &ada_net, ADA, &s.last_code(ADA).await, &TestPhone::new()).await.ok();
    // A garbled identifier is a typed error, not a silent success.
    s.admin("POST", "/v1/admin/sign-in/unfreeze", Some(json!({ "identifier": "not an address" })))
        .await
        .err(422, "invalid_identifier");
}

#[tokio::test]
async fn otp_farming_a_second_identifier_from_the_same_client_is_limited() {
    let s = Server::start().await;
    people(&s).await;
    let attacker = s.client();
    let thief = TestPhone::new();
    ask_code(&s, &attacker, ADA, 1).await.ok();
    let code = s.last_code(ADA).await;
    for _ in 0..5 {
        verify(&s, &attacker, ADA, &wrong(&code), &thief).await.err(401, "code_wrong");
    }
    // The same client turns to Bob: it is backed off too, before any guess at Bob.
    let a = s.post_from(&attacker, "/v1/auth/code", json!({ "identifier": BOB })).await;
    a.err(429, "too_many_attempts");
    assert_eq!(a.body["error"]["retry_at"].as_i64().unwrap(), s.now() + 15 * 60);
    // Once that runs out, five wrong guesses at Bob earn the client a longer back-off.
    s.clock.advance(15 * 60);
    ask_code(&s, &attacker, BOB, 1).await.ok();
    let bob_code = s.last_code(BOB).await;
    for _ in 0..5 {
        verify(&s, &attacker, BOB, &wrong(&bob_code), &thief).await.err(401, "code_wrong");
    }
    let a = verify(&s, &attacker, BOB, &bob_code, &thief).await;
    a.err(429, "too_many_attempts");
    assert_eq!(a.body["error"]["retry_at"].as_i64().unwrap(), s.now() + 30 * 60);
    // Bob himself, from his own address, is not held back by the attacker's failures.
    let bob_net = s.client_at("127.0.0.4");
    ask_code(&s, &bob_net, BOB, 1).await.ok();
    verify(&s, &bob_net, BOB, &s.last_code(BOB).await, &TestPhone::new()).await.ok();
}

#[tokio::test]
async fn otp_farming_the_attackers_guesses_do_not_burn_the_members_code() {
    let s = Server::start().await;
    people(&s).await;
    let ada_net = s.client_at("127.0.0.3");
    ask_code(&s, &ada_net, ADA, 1).await.ok();
    let adas_code = s.last_code(ADA).await;
    // The attacker asks for a code of its own and guesses five times.
    let attacker = s.client();
    ask_code(&s, &attacker, ADA, 3).await.ok();
    let thief = TestPhone::new();
    for _ in 0..5 {
        verify(&s, &attacker, ADA, &wrong(&adas_code), &thief).await.err(401, "code_wrong");
    }
    // Ada's code, from her phone, still works.
    verify(&s, &ada_net, ADA, &adas_code, &TestPhone::new()).await.ok();
}

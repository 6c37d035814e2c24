//! Code farming behind a reverse proxy (issue 16, `otp_farming`): the sign-in limits count
//! per client, and behind a proxy the client is the address the proxy forwards — only when
//! the connection comes from a proxy the operator trusts. Here every request comes from
//! `127.0.0.1`, standing for the proxy, and carries the `X-Forwarded-For` it would write.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_backend::client_address::{ForwardingHeader, TrustedProxies};
use serde_json::{Value, json};

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";
const ATTACKER: &str = "198.51.100.1";
const MEMBER: &str = "198.51.100.2";

fn trusting(block: &str) -> TrustedProxies {
    TrustedProxies { blocks: vec![block.parse().unwrap()], header: ForwardingHeader::XForwardedFor }
}

async fn people(s: &Server) {
    let f = fixture(s, "Acme", 1).await;
    for email in [ADA, BOB] {
        s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": email }))).await.ok();
    }
}

/// A POST as the proxy forwards it: `forwarded_for` is the header's value, if any.
async fn post(s: &Server, path: &str, forwarded_for: Option<&str>, body: Value) -> Answer {
    let mut req = s.http.post(format!("{}{}", s.base, path)).json(&body);
    if let Some(v) = forwarded_for {
        req = req.header("x-forwarded-for", v);
    }
    answer(req.send().await.unwrap()).await
}

async fn ask_code(s: &Server, from: Option<&str>, ident: &str) -> Answer {
    post(s, "/v1/auth/code", from, json!({ "identifier": ident })).await
}

async fn verify(s: &Server, from: Option<&str>, ident: &str, code: &str) -> Answer {
    let phone = TestPhone::new();
    post(
        s,
        "/v1/auth/verify",
        from,
        json!({ "identifier": ident, "code": code, "device_public_key": phone.public_key_b64() }),
    )
    .await
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

/// Five wrong guesses at Ada's code from `from`: the client that sent them is backed off.
async fn five_wrong_guesses(s: &Server, from: Option<&str>) {
    ask_code(s, from, ADA).await.ok();
    let code = s.last_code(ADA).await;
    for _ in 0..5 {
        verify(s, from, ADA, &wrong(&code)).await.err(401, "code_wrong");
    }
}

#[tokio::test]
async fn otp_farming_through_a_trusted_proxy_two_clients_are_limited_separately() {
    let s = Server::start_behind(trusting("127.0.0.1/32")).await;
    people(&s).await;
    five_wrong_guesses(&s, Some(ATTACKER)).await;
    // The attacker's address is backed off, also for another identifier...
    ask_code(&s, Some(ATTACKER), BOB).await.err(429, "too_many_attempts");
    // ...a client behind the proxy written to the left of it by the attacker changes nothing...
    ask_code(&s, Some(&format!("203.0.113.9, {ATTACKER}")), BOB).await.err(429, "too_many_attempts");
    // ...and the member behind the same proxy is not: Bob signs in.
    ask_code(&s, Some(MEMBER), BOB).await.ok();
    verify(&s, Some(MEMBER), BOB, &s.last_code(BOB).await).await.ok();
}

#[tokio::test]
async fn otp_farming_a_forged_forwarded_address_from_an_untrusted_peer_changes_nothing() {
    // No proxy trusted, and a proxy trusted elsewhere: the peer 127.0.0.1 is the client.
    for proxies in [TrustedProxies::default(), trusting("10.0.0.0/8")] {
        let s = Server::start_behind(proxies).await;
        people(&s).await;
        five_wrong_guesses(&s, Some(ATTACKER)).await;
        ask_code(&s, Some(MEMBER), BOB).await.err(429, "too_many_attempts");
        ask_code(&s, None, BOB).await.err(429, "too_many_attempts");
        // The connection from another address is another client.
        let other = s.client_at("127.0.0.4");
        s.post_from(&other, "/v1/auth/code", json!({ "identifier": BOB })).await.ok();
    }
}

#[tokio::test]
async fn otp_farming_a_malformed_forwarded_header_falls_back_to_the_proxys_address() {
    let s = Server::start_behind(trusting("127.0.0.1/32")).await;
    people(&s).await;
    five_wrong_guesses(&s, Some("not-an-address")).await;
    // The failures were counted on the proxy's own address...
    ask_code(&s, None, BOB).await.err(429, "too_many_attempts");
    ask_code(&s, Some("198.51.100.7, "), BOB).await.err(429, "too_many_attempts");
    // ...not on a client the proxy forwards properly.
    ask_code(&s, Some(MEMBER), BOB).await.ok();
}

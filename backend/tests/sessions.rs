//! Sessions over real HTTP: access token life, refresh rotation, reuse detection, grace.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

async fn signed_in(s: &Server) -> serde_json::Value {
    let f = fixture(s, "Acme", 1).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": "ada@example.com" })))
        .await
        .ok();
    s.sign_in("ada@example.com", &TestPhone::new()).await
}

async fn refresh(s: &Server, token: &serde_json::Value) -> Answer {
    s.post("/v1/auth/refresh", json!({ "refresh_token": token })).await
}

#[tokio::test]
async fn reuse_of_a_rotated_refresh_token_revokes_the_family() {
    let s = Server::start().await;
    let t0 = signed_in(&s).await;
    let t1 = refresh(&s, &t0["refresh_token"]).await.ok();
    let t2 = refresh(&s, &t1["refresh_token"]).await.ok();
    s.clock.advance(60);
    // t0 is two rotations old: reuse.
    refresh(&s, &t0["refresh_token"]).await.err(401, "refresh_token_reused");
    // The whole family is gone: the newest refresh token and the access token too.
    refresh(&s, &t2["refresh_token"]).await.err(401, "invalid_refresh_token");
    s.send("GET", "/v1/me", Some(&bearer(&t2)), None).await.err(401, "unauthenticated");
}

#[tokio::test]
async fn the_previous_refresh_token_within_the_grace_returns_the_same_successor() {
    let s = Server::start().await;
    let t0 = signed_in(&s).await;
    let t1 = refresh(&s, &t0["refresh_token"]).await.ok();
    s.clock.advance(10);
    // The client lost the answer and retries with the old token.
    let again = refresh(&s, &t0["refresh_token"]).await.ok();
    assert_eq!(again["refresh_token"], t1["refresh_token"]);
    // And the successor still works.
    refresh(&s, &t1["refresh_token"]).await.ok();
}

#[tokio::test]
async fn the_previous_refresh_token_after_the_grace_revokes_the_family() {
    let s = Server::start().await;
    let t0 = signed_in(&s).await;
    let t1 = refresh(&s, &t0["refresh_token"]).await.ok();
    s.clock.advance(31);
    refresh(&s, &t0["refresh_token"]).await.err(401, "refresh_token_reused");
    refresh(&s, &t1["refresh_token"]).await.err(401, "invalid_refresh_token");
}

#[tokio::test]
async fn an_access_token_lasts_fifteen_minutes() {
    let s = Server::start().await;
    let t = signed_in(&s).await;
    s.clock.advance(15 * 60 - 1);
    s.send("GET", "/v1/me", Some(&bearer(&t)), None).await.ok();
    s.clock.advance(1);
    s.send("GET", "/v1/me", Some(&bearer(&t)), None).await.err(401, "access_token_expired");
    let t2 = refresh(&s, &t["refresh_token"]).await.ok();
    s.send("GET", "/v1/me", Some(&bearer(&t2)), None).await.ok();
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let s = Server::start().await;
    let t = signed_in(&s).await;
    let a = s.send("POST", "/v1/auth/logout", Some(&bearer(&t)), None).await;
    assert_eq!(a.status.as_u16(), 204);
    s.send("GET", "/v1/me", Some(&bearer(&t)), None).await.err(401, "unauthenticated");
    refresh(&s, &t["refresh_token"]).await.err(401, "invalid_refresh_token");
}

//! Bad input gets a 4xx with a typed JSON error body, never a 500 or a panic.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

async fn raw(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    token: Option<&str>,
) -> Answer {
    let mut req = s.http.request(method, format!("{}{}", s.base, path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    answer(req.send().await.unwrap()).await
}

fn typed(a: &Answer) {
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    let code = a.code();
    assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", a.body);
    assert!(a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn malformed_json_is_a_typed_400() {
    let s = Server::start().await;
    let a =
        raw(&s, reqwest::Method::POST, "/v1/auth/code", Some("application/json"), b"{\"identifier\":".to_vec(), None)
            .await;
    a.err(400, "malformed_json");
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_typed_422s() {
    let s = Server::start().await;
    let a = s.post("/v1/auth/code", json!({ "identifier": 42 })).await;
    a.err(422, "invalid_field");
    assert_eq!(a.body["error"]["field"], "identifier");
    s.post("/v1/auth/code", json!({})).await.err(422, "invalid_field");
    s.post("/v1/auth/code", json!([1, 2])).await.err(422, "invalid_field");
    s.admin("POST", "/v1/admin/orgs", Some(json!({ "name": null }))).await.err(422, "invalid_field");
    s.admin("POST", "/v1/admin/orgs", Some(json!({ "name": "   " }))).await.err(422, "invalid_field");
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let s = Server::start().await;
    let a = s.post("/v1/auth/code", json!({ "identifier": "a@b.co", "admin": true })).await;
    a.err(422, "invalid_field");
    let b = s
        .admin(
            "POST",
            "/v1/admin/invitations",
            Some(json!({ "facility_id": 1, "email": "a@b.co", "grant_everything": true })),
        )
        .await;
    b.err(422, "invalid_field");
}

#[tokio::test]
async fn an_oversized_body_is_a_typed_413() {
    let s = Server::start().await;
    let big = format!("{{\"identifier\":\"{}\"}}", "a".repeat(200_000));
    let a = raw(&s, reqwest::Method::POST, "/v1/auth/code", Some("application/json"), big.into_bytes(), None).await;
    a.err(413, "body_too_large");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_typed_415() {
    let s = Server::start().await;
    let a = raw(&s, reqwest::Method::POST, "/v1/auth/code", Some("text/plain"), b"identifier=a".to_vec(), None).await;
    a.err(415, "unsupported_media_type");
    let b = raw(&s, reqwest::Method::POST, "/v1/auth/code", None, Vec::new(), None).await;
    b.err(415, "unsupported_media_type");
}

#[tokio::test]
async fn bad_paths_queries_and_methods_are_typed() {
    let s = Server::start().await;
    s.admin("POST", "/v1/admin/orgs/not-a-number/sites", Some(json!({ "name": "x" }))).await.err(422, "invalid_field");
    s.admin("GET", "/v1/admin/door-sync/pending?org_id=abc", None).await.err(422, "invalid_field");
    s.send("GET", "/v1/nothing/here", None, None).await.err(404, "not_found");
    let a = raw(&s, reqwest::Method::PUT, "/v1/auth/code", Some("application/json"), b"{}".to_vec(), None).await;
    a.err(405, "method_not_allowed");
    // Out-of-range and absurd values.
    s.admin("POST", "/v1/admin/orgs/99999999999999999999/sites", Some(json!({ "name": "x" })))
        .await
        .err(422, "invalid_field");
    s.admin("POST", "/v1/admin/orgs/12345/sites", Some(json!({ "name": "x" }))).await.err(404, "not_found");
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_typed_401s() {
    let s = Server::start().await;
    s.send("GET", "/v1/me", None, None).await.err(401, "unauthenticated");
    s.send("GET", "/v1/me", Some("garbage"), None).await.err(401, "unauthenticated");
    s.send("POST", "/v1/admin/orgs", Some("wrong"), Some(json!({ "name": "x" }))).await.err(401, "admin_unauthorized");
    s.send("POST", "/v1/admin/orgs", None, Some(json!({ "name": "x" }))).await.err(401, "admin_unauthorized");
    s.post("/v1/auth/refresh", json!({ "refresh_token": "nope" })).await.err(401, "invalid_refresh_token");
}

#[tokio::test]
async fn a_barrage_of_junk_never_gets_a_5xx() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": "junk@example.com" })))
        .await
        .ok();
    let t = bearer(&s.sign_in("junk@example.com", &TestPhone::new()).await);
    let paths = [
        "/v1/auth/code",
        "/v1/auth/verify",
        "/v1/auth/refresh",
        "/v1/invitations/x/accept",
        "/v1/invitations/x/code",
        "/v1/credentials",
        "/v1/shares",
        "/v1/share-links/x/redeem",
        "/v1/admin/orgs",
        "/v1/admin/invitations",
        "/v1/doors/1/receipts",
        "/v1/admin/facilities/1/doors",
        "/v1/admin/people/1/grants",
    ];
    let bodies: [&[u8]; 8] = [
        b"",
        b"null",
        b"[]",
        b"{}",
        b"{\"a\":",
        b"\xff\xfe",
        b"{\"identifier\":[],\"code\":{},\"grant_id\":\"x\"}",
        b"{\"door_ids\":[1e99],\"ends_at\":-1,\"grant_id\":-5,\"guest\":\"\",\"receipt\":\"!!\"}",
    ];
    for p in paths {
        for b in bodies {
            for tok in [None, Some(ADMIN_TOKEN), Some(t.as_str())] {
                let a = raw(&s, reqwest::Method::POST, p, Some("application/json"), b.to_vec(), tok).await;
                // A few junk bodies are valid requests (`{}` asks for all credentials); the rest are typed 4xx.
                if !a.status.is_success() {
                    typed(&a);
                }
            }
        }
    }
}

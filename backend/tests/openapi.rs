//! The checked-in OpenAPI document matches the one the code generates.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

#[test]
fn the_checked_in_openapi_document_matches_the_code() {
    let generated = keyway_backend::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap();
    assert!(
        generated == checked_in,
        "backend/openapi.json is stale: run `cargo run -p keyway-backend -- openapi > backend/openapi.json`"
    );
}

#[tokio::test]
async fn the_served_document_is_the_same() {
    let s = common::Server::start().await;
    let served = s.http.get(format!("{}/v1/openapi.json", s.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(served, keyway_backend::openapi::document_json());
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    for path in ["/v1/auth/code", "/v1/invitations/{token}/accept", "/v1/me/keys", "/v1/doors/{door_id}/bundle"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}

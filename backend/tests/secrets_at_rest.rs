//! No raw secret (code, access or refresh token, invitation or share token, issuer key)
//! appears anywhere in a dump of the database.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn no_raw_token_in_a_dump_of_the_database() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let phone = TestPhone::new();
    let mut secrets: Vec<String> = Vec::new();
    // Invitation link and its code, accept, refresh.
    invite(&s, &f, "ada@example.com").await;
    let link = s.last_link("ada@example.com", "invitation").await;
    let token = token_of(&link);
    secrets.push(token.clone());
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let code = s.last_code("ada@example.com").await;
    secrets.push(code.clone());
    let t = s
        .post(
            &format!("/v1/invitations/{token}/accept"),
            json!({ "code": code, "device_public_key": phone.public_key_b64() }),
        )
        .await
        .ok();
    secrets.push(t["access_token"].as_str().unwrap().to_owned());
    secrets.push(t["refresh_token"].as_str().unwrap().to_owned());
    let t2 = s.post("/v1/auth/refresh", json!({ "refresh_token": t["refresh_token"] })).await.ok();
    secrets.push(t2["access_token"].as_str().unwrap().to_owned());
    secrets.push(t2["refresh_token"].as_str().unwrap().to_owned());
    // A share link and a guest's code.
    s.send("POST", "/v1/credentials", Some(&bearer(&t2)), Some(json!({}))).await.ok();
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&t2)), None).await.ok();
    s.send(
        "POST",
        "/v1/shares",
        Some(&bearer(&t2)),
        Some(phone.signed_share(
            json!({ "grant_id": keys["keys"][0]["grant_id"], "ends_at": s.now() + DAY, "guest": "gus@example.com" }),
        )),
    )
    .await
    .ok();
    secrets.push(token_of(&s.last_link("gus@example.com", "share").await));
    let gus = s.sign_in("gus@example.com", &TestPhone::new()).await;
    secrets.push(s.last_code("gus@example.com").await);
    secrets.push(gus["refresh_token"].as_str().unwrap().to_owned());
    // A code sent to an unknown identifier is generated too (never delivered).
    s.post("/v1/auth/code", json!({ "identifier": "nobody@example.com" })).await.ok();

    let dump = s.running.state.db().with_conn(keyway_backend::db::dump_all).await.unwrap();
    assert!(dump.contains("ada@example.com"), "the dump is real");
    for secret in &secrets {
        assert!(secret.len() >= 6);
        assert!(!dump.contains(secret.as_str()), "a raw secret is stored: {}…", &secret[..4]);
    }
    // 6-digit codes are short; make sure none appears as a stored column value either.
    for code in secrets.iter().filter(|c| c.len() == 6) {
        assert!(!dump.split(['\t', '\n', '|']).any(|field| field == code));
    }
    // The issuer private key is sealed: no PKCS#8 header in the clear.
    assert!(!dump.contains("308187020100301306072a8648ce3d0201"), "an unsealed PKCS#8 key");
}

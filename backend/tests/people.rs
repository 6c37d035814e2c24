//! Issue 17 over real HTTP: an invitation that gives no key says so (preview and email),
//! the member's profile (names given at acceptance, card ids typed in hex or decimal,
//! card-only people invited later, memberships with "invited by" and access), and a
//! member deleting their own account with their device's signature.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use serde_json::{Value, json};

async fn invite_without_keys(s: &Server, f: &Fixture, email: &str, extra: Value) -> Value {
    let mut body = json!({ "facility_id": f.facility, "email": email, "role": "member" });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    s.admin("POST", "/v1/admin/invitations", Some(body)).await.ok()
}

async fn accept_with(s: &Server, email: &str, phone: &TestPhone, extra: Value) -> Answer {
    let token = token_of(&s.last_link(email, "invitation").await);
    // A minute apart, as a person retries: a second code moments later is refused.
    s.clock.advance(60);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let mut body = json!({ "code": s.last_code(email).await, "device_public_key": phone.public_key_b64() });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    s.post(&format!("/v1/invitations/{token}/accept"), body).await
}

fn last_invitation_email(outbox: &[Value]) -> Value {
    outbox.iter().rev().find(|m| m["kind"] == "invitation").cloned().unwrap()
}

#[tokio::test]
async fn invitation_without_keys_says_no_access_yet_in_the_preview_the_email_and_the_profile() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite_without_keys(&s, &f, "ada@example.com", json!({ "invited_by": "Maria at the front desk" })).await;
    let mail = last_invitation_email(&s.outbox("ada@example.com").await);
    let text = format!("{} {}", mail["subject"], mail["body"]);
    assert!(!text.contains("gave you door access"), "{text}");
    assert!(text.contains("does not give you door access yet"), "{text}");
    assert!(text.contains("Maria at the front desk"), "{text}");
    let token = token_of(mail["link"].as_str().unwrap());
    let preview = s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok();
    assert_eq!(preview["keys"], json!([]));

    let tokens = accept_with(&s, "ada@example.com", &TestPhone::new(), json!({})).await.ok();
    let me = s.send("GET", "/v1/me", Some(&bearer(&tokens)), None).await.ok();
    assert_eq!(me["memberships"][0]["access"], "no_access_yet");
    assert_eq!(me["memberships"][0]["invited_by"], "Maria at the front desk");

    // The administrator grants a key: the membership has keys.
    let person = tokens["person_id"].as_i64().unwrap();
    let grant = s
        .admin(
            "POST",
            &format!("/v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": f.key, "expires_at": s.now() + DAY })),
        )
        .await
        .ok();
    let me = s.send("GET", "/v1/me", Some(&bearer(&tokens)), None).await.ok();
    assert_eq!(me["memberships"][0]["access"], "has_keys");
    // Revoked, it is access that ended, not "no access yet".
    s.admin("POST", &format!("/v1/admin/grants/{}/revoke", grant["id"]), None).await.ok();
    let me = s.send("GET", "/v1/me", Some(&bearer(&tokens)), None).await.ok();
    assert_eq!(me["memberships"][0]["access"], "access_ended");
}

#[tokio::test]
async fn invitation_without_keys_is_not_what_an_invitation_with_keys_says() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite(&s, &f, "ada@example.com").await;
    let mail = last_invitation_email(&s.outbox("ada@example.com").await);
    assert!(mail["body"].as_str().unwrap().contains("gave you door access"), "{mail}");
    assert!(mail["body"].as_str().unwrap().contains("All doors"), "{mail}");
    let token = token_of(mail["link"].as_str().unwrap());
    let preview = s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok();
    assert_eq!(preview["keys"][0]["name"], "All doors");
    assert_eq!(preview["keys"][0]["doors"], json!(["Back gate", "Front door"]));
    // A resent link still comes with the key, and its email says so.
    let id = s.admin("GET", &format!("/v1/admin/orgs/{}/invitations", f.org), None).await.ok()[0]["invitation_id"]
        .as_i64()
        .unwrap();
    s.admin("POST", &format!("/v1/admin/invitations/{id}/resend"), None).await.ok();
    let mail = last_invitation_email(&s.outbox("ada@example.com").await);
    assert!(mail["body"].as_str().unwrap().contains("gave you door access"), "{mail}");
}

#[tokio::test]
async fn profile_names_are_asked_at_acceptance_when_the_invitation_did_not_carry_them() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite_without_keys(&s, &f, "ada@example.com", json!({})).await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    let preview = s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok();
    assert_eq!(preview["name_required"], true);
    // A half name or a blank one is refused before the code is looked at.
    let refused = accept_with(&s, "ada@example.com", &TestPhone::new(), json!({ "first_name": "Ada" })).await;
    refused.err(422, "invalid_field");
    assert_eq!(refused.body["error"]["field"], "last_name");
    let tokens = accept_with(
        &s,
        "ada@example.com",
        &TestPhone::new(),
        json!({ "first_name": " Ada ", "last_name": "Lovelace" }),
    )
    .await
    .ok();
    let me = s.send("GET", "/v1/me", Some(&bearer(&tokens)), None).await.ok();
    assert_eq!((me["first_name"].as_str(), me["last_name"].as_str()), (Some("Ada"), Some("Lovelace")));

    // An invitation that carries the names does not ask for them.
    invite_without_keys(&s, &f, "bob@example.com", json!({ "first_name": "Bob", "last_name": "Marley" })).await;
    let token = token_of(&s.last_link("bob@example.com", "invitation").await);
    let preview = s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok();
    assert_eq!(preview["name_required"], false);
    assert_eq!(preview["first_name"], "Bob");

    // The member changes their name; a control character is refused.
    let changed = s
        .send(
            "POST",
            "/v1/me/name",
            Some(&bearer(&tokens)),
            Some(json!({ "first_name": "Augusta", "last_name": "King" })),
        )
        .await
        .ok();
    assert_eq!(changed["first_name"], "Augusta");
    s.send("POST", "/v1/me/name", Some(&bearer(&tokens)), Some(json!({ "first_name": "A\nB", "last_name": "King" })))
        .await
        .err(422, "invalid_field");
}

#[tokio::test]
async fn profile_card_ids_in_hex_or_decimal_are_one_card_and_a_card_only_person_can_be_invited_later() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    // Seed 001, "Without email": name, role and card only.
    let added = s
        .admin(
            "POST",
            &format!("/v1/admin/orgs/{}/people", f.org),
            Some(json!({ "first_name": "Cora", "last_name": "Diaz", "role": "member",
                         "card": { "card_id": "04:a2:2b:b2", "format": "hex", "surface_id": "HG-0042" } })),
        )
        .await
        .ok();
    let cora = added["person_id"].as_i64().unwrap();
    // The same card typed in decimal for someone else is the same card: refused.
    s.admin(
        "POST",
        &format!("/v1/admin/orgs/{}/people", f.org),
        Some(json!({ "first_name": "Dan", "last_name": "Eve",
                     "card": { "card_id": "77736882", "format": "decimal" } })),
    )
    .await
    .err(409, "conflict");
    // Each mistake is refused under its field.
    for (card, field) in [
        (json!({ "card_id": "04A22BZ2", "format": "hex" }), "card_id"),
        (json!({ "card_id": "04A22B", "format": "hex" }), "card_id"),
        (json!({ "card_id": "12ab", "format": "decimal" }), "card_id"),
        (json!({ "card_id": "04A22BB3", "format": "hex", "surface_id": "no\u{7}bell" }), "surface_id"),
    ] {
        let a = s.admin("POST", &format!("/v1/admin/people/{cora}/card"), Some(card)).await;
        a.err(422, "invalid_field");
        assert_eq!(a.body["error"]["field"], field);
    }
    // No email, no phone, no name: nothing to record.
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "role": "member" })))
        .await
        .err(422, "invalid_field");

    // Later she is invited by email, with the key, and sees her card.
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({ "facility_id": f.facility, "email": "cora@example.com", "person_id": cora,
                     "keys": [{ "key_id": f.key, "expires_at": s.now() + DAY }] })),
    )
    .await
    .ok();
    let token = token_of(&s.last_link("cora@example.com", "invitation").await);
    let preview = s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok();
    assert_eq!(preview["name_required"], false);
    let tokens = accept_with(&s, "cora@example.com", &TestPhone::new(), json!({})).await.ok();
    assert_eq!(tokens["person_id"].as_i64(), Some(cora));
    let me = s.send("GET", "/v1/me", Some(&bearer(&tokens)), None).await.ok();
    assert_eq!(me["card"], json!({ "hex": "04A22BB2", "decimal": "77736882", "surface_id": "HG-0042" }));
    assert_eq!(me["memberships"][0]["organisation"], "Acme");
    assert_eq!(me["memberships"][0]["role"], "member");
    assert_eq!(me["memberships"][0]["access"], "has_keys");
    // An email that is someone else's cannot be given to her record.
    invite(&s, &f, "ada@example.com").await;
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({ "facility_id": f.facility, "email": "ada@example.com", "person_id": cora })),
    )
    .await
    .err(409, "conflict");
}

fn deletion_request(phone: &TestPhone, person_id: i64) -> Value {
    let nonce = [7u8; 16];
    let signature = phone.sign(&keyway_api::delete_account_message(person_id, &nonce));
    json!({ "device_proof": { "nonce": URL_SAFE_NO_PAD.encode(nonce), "signature": URL_SAFE_NO_PAD.encode(signature) } })
}

async fn count(s: &Server, sql: &'static str) -> i64 {
    s.running.state.db().with_conn(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?)).await.unwrap()
}

/// Every text value in the database, table by table (to look for personal data).
async fn every_text(s: &Server) -> String {
    s.running
        .state
        .db()
        .with_conn(|c| {
            let tables: Vec<String> = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut all = String::new();
            for t in tables {
                let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\""))?;
                let n = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    for i in 0..n {
                        if let Ok(Some(text)) = row.get::<_, Option<String>>(i) {
                            all.push_str(&text);
                            all.push('\n');
                        }
                    }
                }
            }
            Ok(all)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn delete_account_ends_sessions_and_keys_forgets_personal_data_and_keeps_the_door_history() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let phone = TestPhone::new();
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({ "facility_id": f.facility, "email": "ada@example.com", "first_name": "Ada",
                     "last_name": "Lovelace", "keys": [{ "key_id": f.key, "expires_at": s.now() + 30 * DAY }] })),
    )
    .await
    .ok();
    let ada = accept_with(&s, "ada@example.com", &phone, json!({})).await.ok();
    let person = ada["person_id"].as_i64().unwrap();
    s.admin(
        "POST",
        &format!("/v1/admin/people/{person}/card"),
        Some(json!({ "card_id": "A1B2C3D4", "format": "hex" })),
    )
    .await
    .ok();
    // A second device, and a door's history naming her credential.
    s.clock.advance(60);
    let laptop = s.sign_in("ada@example.com", &TestPhone::new()).await;
    let cred =
        s.send("POST", "/v1/credentials", Some(&bearer(&ada)), Some(json!({}))).await.ok()["credentials"][0].clone();
    let b = s.send("GET", &format!("/v1/doors/{}/bundle", f.offline_door), Some(&bearer(&ada)), None).await.ok();
    let cred_id: [u8; 16] = hex::decode(cred["credential_id"].as_str().unwrap()).unwrap().try_into().unwrap();
    let version = u32::try_from(b["version"].as_i64().unwrap()).unwrap();
    let receipt = f.offline_lock.receipt(version, u32::try_from(s.now()).unwrap(), &[(1, Some(cred_id))]);
    s.send(
        "POST",
        &format!("/v1/doors/{}/receipts", f.offline_door),
        Some(&bearer(&ada)),
        Some(json!({ "receipt": receipt })),
    )
    .await
    .ok();

    // A stolen access token alone cannot delete the account: no proof, another device's
    // proof, or her proof for another person are refused.
    let path = "/v1/me/delete-account";
    s.send("POST", path, Some(&bearer(&ada)), Some(json!({}))).await.err(422, "invalid_field");
    s.send("POST", path, Some(&bearer(&ada)), Some(deletion_request(&TestPhone::new(), person)))
        .await
        .err(403, "device_proof_invalid");
    s.send("POST", path, Some(&bearer(&ada)), Some(deletion_request(&phone, person + 1)))
        .await
        .err(403, "device_proof_invalid");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM people WHERE deleted_at IS NOT NULL").await, 0);

    let done = s.send("POST", path, Some(&bearer(&ada)), Some(deletion_request(&phone, person))).await;
    assert_eq!(done.status.as_u16(), 204, "{}", done.body);

    // Every session is over: the access tokens and the refresh tokens of both devices.
    s.send("GET", "/v1/me", Some(&bearer(&ada)), None).await.err(401, "unauthenticated");
    s.send("GET", "/v1/me", Some(&bearer(&laptop)), None).await.err(401, "unauthenticated");
    for t in [&ada, &laptop] {
        let r = s.post("/v1/auth/refresh", json!({ "refresh_token": t["refresh_token"] })).await;
        assert_eq!(r.status.as_u16(), 401, "{}", r.body);
    }
    // Every key is revoked, and she is no one in the organisation's list.
    assert_eq!(count(&s, "SELECT COUNT(*) FROM grants WHERE revoked_at IS NULL").await, 0);
    let people = s.admin("GET", &format!("/v1/admin/orgs/{}/people", f.org), None).await.ok();
    assert_eq!(people, json!([]));
    // Nothing personal is left anywhere in the database.
    let text = every_text(&s).await;
    for personal in ["ada@example.com", "Ada", "Lovelace", "A1B2C3D4"] {
        assert!(!text.contains(personal), "{personal} is still stored");
    }
    // Her address no longer signs in to anything: no code is sent.
    s.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await;
    assert!(s.outbox("ada@example.com").await.is_empty());
    // The door's history stays, pointing at her credential (a pseudonymous id).
    assert_eq!(count(&s, "SELECT COUNT(*) FROM audit_events WHERE credential_id IS NOT NULL").await, 1);
    let events = s.admin("GET", &format!("/v1/admin/doors/{}/events", f.offline_door), None).await.ok();
    assert_eq!(events[0]["credential_id"], cred["credential_id"]);
    // She can be invited again as a new person.
    invite(&s, &f, "ada@example.com").await;
    let again = accept_with(&s, "ada@example.com", &TestPhone::new(), json!({})).await.ok();
    assert_ne!(again["person_id"].as_i64(), Some(person));
}

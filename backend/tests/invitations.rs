//! Invitations over real HTTP: preview, accept, expiry at 24 h, resend, cancel, reuse,
//! concurrency, statuses and several accounts.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::{Value, json};

async fn accept(s: &Server, token: &str, email: &str, phone: &TestPhone) -> Answer {
    let code = s.last_code(email).await;
    s.post(
        &format!("/v1/invitations/{token}/accept"),
        json!({ "code": code, "device_public_key": phone.public_key_b64() }),
    )
    .await
}

async fn people(s: &Server, org: i64) -> Vec<Value> {
    s.admin("GET", &format!("/v1/admin/orgs/{org}/people"), None).await.ok().as_array().unwrap().clone()
}

#[tokio::test]
async fn the_preview_shows_organisation_facility_role_address_and_start() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme Fitness", 1).await;
    let start = s.now() + 7 * DAY;
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(
            json!({ "facility_id": f.facility, "email": " Ada@Example.com", "role": "manager", "access_start": start }),
        ),
    )
    .await
    .ok();
    let link = s.last_link("ada@example.com", "invitation").await;
    assert!(link.starts_with("https://keyway.test/invite/"), "{link}");
    let token = token_of(&link);
    assert!(token.len() >= 22, "at least 128 bits");
    let p = s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok();
    assert_eq!(p["organisation"], "Acme Fitness");
    assert_eq!(p["facility"], "Riverside Gym");
    assert_eq!(p["role"], "manager");
    assert_eq!(p["email"], "ada@example.com");
    assert_eq!(p["access_start"], start);
}

#[tokio::test]
async fn invitation_accepted_at_24h_minus_1s() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite(&s, &f, "ada@example.com").await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.clock.advance(DAY - 60);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    s.clock.advance(59);
    let tokens = accept(&s, &token, "ada@example.com", &TestPhone::new()).await.ok();
    assert!(tokens["access_token"].as_str().is_some());
}

#[tokio::test]
async fn invitation_refused_at_24h_plus_1s() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite(&s, &f, "ada@example.com").await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.clock.advance(DAY - 60);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    s.clock.advance(61);
    accept(&s, &token, "ada@example.com", &TestPhone::new()).await.err(410, "invitation_expired");
    s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.err(410, "invitation_expired");
    assert_eq!(people(&s, f.org).await[0]["invitation_status"], "expired");
}

#[tokio::test]
async fn hundred_concurrent_accepts_of_one_invitation_give_exactly_one_success() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite(&s, &f, "ada@example.com").await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let code = s.last_code("ada@example.com").await;
    let key = TestPhone::new().public_key_b64();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let http = s.http.clone();
        let url = format!("{}/v1/invitations/{token}/accept", s.base);
        let body = json!({ "code": code, "device_public_key": key });
        tasks.push(tokio::spawn(async move { answer(http.post(url).json(&body).send().await.unwrap()).await }));
    }
    let mut ok = 0;
    for t in tasks {
        let a = t.await.unwrap();
        if a.status.is_success() {
            ok += 1;
        } else {
            a.err(409, "invitation_already_used");
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn resent_invitation_kills_the_old_link() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let sent = invite(&s, &f, "ada@example.com").await;
    let old = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.clock.advance(20 * HOUR);
    let resent = s.admin("POST", &format!("/v1/admin/invitations/{}/resend", sent["invitation_id"]), None).await.ok();
    let new = token_of(&s.last_link("ada@example.com", "invitation").await);
    assert_ne!(old, new);
    s.send("GET", &format!("/v1/invitations/{old}"), None, None).await.err(410, "invitation_superseded");
    s.post(&format!("/v1/invitations/{old}/code"), json!({})).await.err(410, "invitation_superseded");
    // The new link has a fresh 24 hours.
    assert_eq!(resent["expires_at"], s.now() + DAY);
    s.clock.advance(10 * HOUR);
    s.post(&format!("/v1/invitations/{new}/code"), json!({})).await.ok();
    accept(&s, &new, "ada@example.com", &TestPhone::new()).await.ok();
}

#[tokio::test]
async fn a_cancelled_invitation_is_refused() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let sent = invite(&s, &f, "ada@example.com").await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let a = s.admin("POST", &format!("/v1/admin/invitations/{}/cancel", sent["invitation_id"]), None).await;
    assert_eq!(a.status.as_u16(), 204);
    accept(&s, &token, "ada@example.com", &TestPhone::new()).await.err(410, "invitation_cancelled");
    s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.err(410, "invitation_cancelled");
    assert_eq!(people(&s, f.org).await[0]["invitation_status"], "not_invited");
}

#[tokio::test]
async fn an_accepted_invitation_link_is_already_used() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.err(409, "invitation_already_used");
    s.send("GET", "/v1/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", None, None).await.err(404, "invitation_not_found");
}

#[tokio::test]
async fn accepting_needs_the_code_sent_to_the_invited_address() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    invite(&s, &f, "ada@example.com").await;
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let a = s
        .post(
            &format!("/v1/invitations/{token}/accept"),
            json!({ "code": "000000x", "device_public_key": TestPhone::new().public_key_b64() }),
        )
        .await;
    a.err(401, "code_wrong");
    assert_eq!(a.body["error"]["attempts_left"], 4);
}

#[tokio::test]
async fn statuses_follow_the_invitation_and_accepting_marks_the_app_active() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": "bea@example.com" })))
        .await
        .ok();
    invite(&s, &f, "ada@example.com").await;
    // The .invalid domain never takes mail: Send failed.
    invite(&s, &f, "cy@bounce.invalid").await;
    let list = people(&s, f.org).await;
    let status = |email: &str| {
        list.iter().find(|p| p["email"] == email).map(|p| p["invitation_status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("bea@example.com").unwrap(), "not_invited");
    assert_eq!(status("ada@example.com").unwrap(), "invited");
    assert_eq!(status("cy@bounce.invalid").unwrap(), "send_failed");
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    accept(&s, &token, "ada@example.com", &TestPhone::new()).await.ok();
    let list = people(&s, f.org).await;
    let ada = list.iter().find(|p| p["email"] == "ada@example.com").unwrap();
    assert_eq!(ada["invitation_status"], "accepted");
    assert_eq!(ada["app_adoption"], "active");
}

#[tokio::test]
async fn an_invitation_does_not_grant_access_by_itself() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    s.admin("POST", "/v1/admin/invitations", Some(json!({ "facility_id": f.facility, "email": "ada@example.com" })))
        .await
        .ok();
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let t = accept(&s, &token, "ada@example.com", &TestPhone::new()).await.ok();
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&t)), None).await.ok();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 0);
    let creds = s.send("POST", "/v1/credentials", Some(&bearer(&t)), Some(json!({}))).await.ok();
    assert_eq!(creds["credentials"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_second_account_inviting_the_same_email_adds_a_membership() {
    let s = Server::start().await;
    let gym = fixture(&s, "Acme Gym", 1).await;
    let flats = fixture(&s, "Harbour Flats", 2).await;
    let first = invite(&s, &gym, "ada@example.com").await;
    let second = invite(&s, &flats, "ada@example.com").await;
    assert_eq!(first["person_id"], second["person_id"]);
    assert_ne!(first["membership_id"], second["membership_id"]);
    // Accepting the second invitation signs in the same person, whose keys aggregate.
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let t = accept(&s, &token, "ada@example.com", &TestPhone::new()).await.ok();
    let me = s.send("GET", "/v1/me", Some(&bearer(&t)), None).await.ok();
    assert_eq!(me["memberships"].as_array().unwrap().len(), 2);
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&t)), None).await.ok();
    let orgs: Vec<&str> =
        keys["keys"].as_array().unwrap().iter().map(|k| k["organisation"].as_str().unwrap()).collect();
    assert_eq!(orgs, ["Acme Gym", "Harbour Flats"]);
}

#[tokio::test]
async fn the_invitations_list_shows_the_latest_link_per_person_with_its_state() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let a = invite(&s, &f, "ada@example.com").await;
    let b = invite(&s, &f, "bea@example.com").await;
    let resent = s.admin("POST", &format!("/v1/admin/invitations/{}/resend", a["invitation_id"]), None).await.ok();
    s.admin("POST", &format!("/v1/admin/invitations/{}/cancel", b["invitation_id"]), None).await;
    let list = s.admin("GET", &format!("/v1/admin/orgs/{}/invitations", f.org), None).await.ok();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let ada = list.iter().find(|i| i["email"] == "ada@example.com").unwrap();
    assert_eq!(ada["invitation_id"], resent["invitation_id"]);
    assert_eq!(ada["state"], "pending");
    assert_eq!(list.iter().find(|i| i["email"] == "bea@example.com").unwrap()["state"], "cancelled");
    s.clock.advance(DAY);
    let list = s.admin("GET", &format!("/v1/admin/orgs/{}/invitations", f.org), None).await.ok();
    assert_eq!(list.as_array().unwrap().iter().find(|i| i["email"] == "ada@example.com").unwrap()["state"], "expired");
    // The people list points at the latest invitation for resend/cancel.
    let people = s.admin("GET", &format!("/v1/admin/orgs/{}/people", f.org), None).await.ok();
    let p = people.as_array().unwrap().iter().find(|p| p["email"] == "ada@example.com").unwrap().clone();
    assert_eq!(p["invitation_id"], resent["invitation_id"]);
    assert_eq!(p["invitation_status"], "expired");
}

#[tokio::test]
async fn an_invitation_with_a_future_start_can_be_accepted_today_but_opens_doors_only_from_the_start() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let start = s.now() + 5 * DAY;
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({ "facility_id": f.facility, "email": "ada@example.com", "access_start": start,
                     "keys": [{ "key_id": f.key, "expires_at": start + 30 * DAY }] })),
    )
    .await
    .ok();
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    assert_eq!(s.send("GET", &format!("/v1/invitations/{token}"), None, None).await.ok()["access_start"], start);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let t = accept(&s, &token, "ada@example.com", &TestPhone::new()).await.ok();
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&t)), None).await.ok();
    assert_eq!(keys["keys"][0]["access_state"], "not_yet_valid");
    assert_eq!(keys["keys"][0]["starts_at"], start);
    let creds = s.send("POST", "/v1/credentials", Some(&bearer(&t)), Some(json!({}))).await.ok();
    assert_eq!(creds["credentials"].as_array().unwrap().len(), 0);
    // Within one credential life of the start, the credential is issued and starts then.
    s.clock.advance(3 * DAY);
    let t = s.post("/v1/auth/refresh", json!({ "refresh_token": t["refresh_token"] })).await.ok();
    let creds = s.send("POST", "/v1/credentials", Some(&bearer(&t)), Some(json!({}))).await.ok();
    assert_eq!(creds["credentials"][0]["not_before"], start);
}

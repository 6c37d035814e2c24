//! Who may touch what (issue 16, item 12): ex-members carry nothing, door ids cannot be
//! probed, cancelled and expired invitations leave no live keys, members cannot make the
//! service text whomever they like, and ids of another organisation are not found.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::{Value, json};

async fn bundle(s: &Server, t: &Value, door: i64) -> Answer {
    s.send("GET", &format!("/v1/doors/{door}/bundle"), Some(&bearer(t)), None).await
}

async fn upload(s: &Server, f: &Fixture, t: &Value) -> Answer {
    let receipt = f.offline_lock.receipt(1, u32::try_from(s.now()).unwrap(), &[(1, None)]);
    s.send(
        "POST",
        &format!("/v1/doors/{}/receipts", f.offline_door),
        Some(&bearer(t)),
        Some(json!({ "receipt": receipt })),
    )
    .await
}

#[tokio::test]
async fn ex_member_courier_a_revoked_or_expired_member_fetches_no_bundle_and_uploads_no_receipt() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    bundle(&s, &ada, f.offline_door).await.ok();
    let person = ada["person_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{person}/revoke-all", f.org), None).await.ok();
    bundle(&s, &ada, f.offline_door).await.err(404, "not_found");
    upload(&s, &f, &ada).await.err(404, "not_found");

    // A key that simply ran out is no courier's pass either.
    let ben_phone = TestPhone::new();
    let ben = member(&s, &f, "ben@example.com", &ben_phone).await;
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&ben)), None).await.ok();
    let grant = keys["keys"][0]["grant_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/grants/{grant}"), Some(json!({ "expires_at": s.now() + HOUR }))).await;
    upload(&s, &f, &ben).await.ok();
    s.clock.advance(2 * HOUR);
    let ben = s.post("/v1/auth/refresh", json!({ "refresh_token": ben["refresh_token"] })).await.ok();
    bundle(&s, &ben, f.offline_door).await.err(404, "not_found");
    upload(&s, &f, &ben).await.err(404, "not_found");
}

#[tokio::test]
async fn door_id_probe_an_unknown_door_and_someone_elses_door_get_the_same_answer() {
    let s = Server::start().await;
    let acme = fixture(&s, "Acme", 1).await;
    let other = fixture(&s, "Globex", 2).await;
    let stranger = member(&s, &other, "sam@example.com", &TestPhone::new()).await;
    let theirs = bundle(&s, &stranger, acme.offline_door).await;
    let nowhere = bundle(&s, &stranger, 987_654).await;
    theirs.err(404, "not_found");
    assert_eq!(theirs.body, nowhere.body);
    assert_eq!(theirs.status, nowhere.status);
    // Receipts too, and the stranger's own door still works.
    upload(&s, &acme, &stranger).await.err(404, "not_found");
    bundle(&s, &stranger, other.offline_door).await.ok();
}

#[tokio::test]
async fn cancelled_invitation_grants_give_nothing_after_a_cancel_or_an_unused_expiry() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    // Cancelled: the invitee signs in with a code anyway (their address is a person now).
    let sent = invite(&s, &f, "ada@example.com").await;
    s.admin("POST", &format!("/v1/admin/invitations/{}/cancel", sent["invitation_id"]), None).await;
    let ada = s.sign_in("ada@example.com", &TestPhone::new()).await;
    assert!(credentials(&s, &ada).await.is_empty());
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&ada)), None).await.ok();
    assert_eq!(keys["keys"][0]["access_state"], "revoked");
    assert_eq!(keys["keys"][0]["revoke_reason"], "invitation_cancelled");

    // Expired unused: a day and an hour later, signing in with a code gives no credentials.
    let sent = invite(&s, &f, "ben@example.com").await;
    s.clock.advance(25 * HOUR);
    let ben = s.sign_in("ben@example.com", &TestPhone::new()).await;
    assert!(credentials(&s, &ben).await.is_empty());
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&ben)), None).await.ok();
    let grant = keys["keys"][0]["grant_id"].as_i64().unwrap();
    s.send("POST", "/v1/credentials", Some(&bearer(&ben)), Some(json!({ "grant_id": grant })))
        .await
        .err(410, "invitation_expired");
    // A resend brings the keys with the new link; accepting it makes them work.
    let resent = s.admin("POST", &format!("/v1/admin/invitations/{}/resend", sent["invitation_id"]), None).await.ok();
    assert!(resent["invitation_id"].as_i64().is_some());
    let token = token_of(&s.last_link("ben@example.com", "invitation").await);
    s.clock.advance(31);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let code = s.last_code("ben@example.com").await;
    let device = TestPhone::new().public_key_b64();
    let ben = s
        .post(&format!("/v1/invitations/{token}/accept"), json!({ "code": code, "device_public_key": device }))
        .await
        .ok();
    assert_eq!(credentials(&s, &ben).await.len(), 1);
}

#[tokio::test]
async fn sms_to_strangers_a_member_cannot_make_the_service_text_whomever_they_like() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada_phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &ada_phone).await;
    let grant = s.send("GET", "/v1/me/keys", Some(&bearer(&ada)), None).await.ok()["keys"][0]["grant_id"].clone();
    let share = |to: &'static str| {
        let (s, ada, grant) = (&s, &ada, grant.clone());
        let body = ada_phone.signed_share(json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": to }));
        async move { s.send("POST", "/v1/shares", Some(&bearer(ada)), Some(body)).await.ok() }
    };
    // Three numbers nobody in the service has are texted; the fourth is not: the share is
    // made and its link comes back to Ada to pass on herself.
    for to in ["+447700900001", "+447700900002", "+447700900003"] {
        let made = share(to).await;
        assert_eq!(made["delivered"], true);
        assert!(made["link"].is_null());
        assert_eq!(s.outbox(to).await.len(), 1);
    }
    let made = share("+447700900004").await;
    assert_eq!(made["delivered"], false);
    assert!(made["link"].as_str().unwrap().starts_with("https://keyway.test/share/"));
    assert!(s.outbox("+447700900004").await.is_empty());
    // A number that belongs to someone in the service is still texted.
    s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "phone": "+447700900100" }))).await.ok();
    assert_eq!(share("+447700900100").await["delivered"], true);
    // One recipient gets at most three share messages a day, whoever sends them.
    let ben_phone = TestPhone::new();
    let ben = member(&s, &f, "ben@example.com", &ben_phone).await;
    let ben_grant = s.send("GET", "/v1/me/keys", Some(&bearer(&ben)), None).await.ok()["keys"][0]["grant_id"].clone();
    for n in 0..4 {
        let made = s
            .send(
                "POST",
                "/v1/shares",
                Some(&bearer(&ben)),
                Some(ben_phone.signed_share(
                    json!({ "grant_id": ben_grant, "ends_at": s.now() + DAY, "guest": "zed@example.com" }),
                )),
            )
            .await
            .ok();
        assert_eq!(made["delivered"], n < 3, "share {n}");
    }
    assert_eq!(s.outbox("zed@example.com").await.len(), 3);
    // A day later the counts start again.
    s.clock.advance(DAY + 1);
    let ada = s.post("/v1/auth/refresh", json!({ "refresh_token": ada["refresh_token"] })).await.ok();
    let made = s
        .send(
            "POST",
            "/v1/shares",
            Some(&bearer(&ada)),
            Some(
                ada_phone
                    .signed_share(json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": "+447700900005" })),
            ),
        )
        .await
        .ok();
    assert_eq!(made["delivered"], true);
}

#[tokio::test]
async fn cross_org_ids_an_admin_call_naming_another_organisations_person_is_not_found() {
    let s = Server::start().await;
    let acme = fixture(&s, "Acme", 1).await;
    let other = fixture(&s, "Globex", 2).await;
    let ada = member(&s, &acme, "ada@example.com", &TestPhone::new()).await;
    let person = ada["person_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{person}/revoke-all", other.org), None)
        .await
        .err(404, "not_found");
    // Ada's keys at Acme are untouched.
    assert_eq!(credentials(&s, &ada).await.len(), 1);
}

#[tokio::test]
async fn cross_org_ids_a_negative_since_is_refused() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let a = s.send("GET", "/v1/me/keys?since=-1", Some(&bearer(&ada)), None).await;
    a.err(422, "invalid_field");
    assert_eq!(a.body["error"]["field"], "since");
    let b = s.send("GET", &format!("/v1/doors/{}/bundle?since=-5", f.offline_door), Some(&bearer(&ada)), None).await;
    b.err(422, "invalid_field");
    assert_eq!(b.body["error"]["field"], "since");
}

#[tokio::test]
async fn stolen_access_token_alone_cannot_share_a_key() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada_phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &ada_phone).await;
    let grant = s.send("GET", "/v1/me/keys", Some(&bearer(&ada)), None).await.ok()["keys"][0]["grant_id"].clone();
    let request = json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": "thief@example.com" });
    let share = |body: Value| {
        let (s, ada) = (&s, &ada);
        async move { s.send("POST", "/v1/shares", Some(&bearer(ada)), Some(body)).await }
    };
    // The thief holds Ada's access token but not her device key: no proof, a proof by
    // another key, or Ada's proof for another guest are all refused, and nothing is sent.
    share(request.clone()).await.err(422, "invalid_field");
    share(TestPhone::new().signed_share(request.clone())).await.err(403, "device_proof_invalid");
    let mut redirected =
        ada_phone.signed_share(json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": "gus@example.com" }));
    redirected["guest"] = json!("thief@example.com");
    share(redirected).await.err(403, "device_proof_invalid");
    assert!(s.outbox("thief@example.com").await.is_empty());
    // Ada's own signed request works once; the same signed request again is refused.
    let signed =
        ada_phone.signed_share(json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": "gus@example.com" }));
    assert_eq!(share(signed.clone()).await.ok()["delivered"], true);
    share(signed).await.err(403, "device_proof_invalid");
}

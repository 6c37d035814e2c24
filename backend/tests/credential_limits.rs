//! How many credentials a member can hold, and how long revocations of parents live
//! (issue 16: `credential_hoarding`, `guest_cascade_expiry`), checked in the signed bundles
//! a lock would apply.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::issuer;
use serde_json::{Value, json};

/// The offline door's bundle as delta from `since`, verified, with its revocations as
/// (serial prefix hex: the first 8 bytes of the credential id, expires).
async fn revocations(s: &Server, f: &Fixture, t: &Value, since: i64) -> (i64, Vec<(String, i64)>) {
    let b = s.send("GET", &format!("/v1/doors/{}/bundle?since={since}", f.offline_door), Some(&bearer(t)), None).await;
    if b.code() == "door_up_to_date" {
        return (since, Vec::new());
    }
    let b = b.ok();
    let bytes = URL_SAFE_NO_PAD.decode(b["bundle"].as_str().unwrap()).unwrap();
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    issuer::verify_bundle(&f.issuer_public_key, &bundle).unwrap();
    let list = bundle.body.revocations.prefixes().map(|r| (r.prefix.to_hex(), i64::from(r.expires))).collect();
    (b["version"].as_i64().unwrap(), list)
}

fn id(c: &Value) -> String {
    c["credential_id"].as_str().unwrap().to_owned()
}

/// The expiry listed for the credential whose id is `cred` (hex): its prefix is listed.
fn listed(list: &[(String, i64)], cred: &str) -> Option<i64> {
    list.iter().find(|(prefix, _)| cred.starts_with(prefix.as_str())).map(|(_, e)| *e)
}

/// A revocation's expiry as the backend writes it: rounded up to the hour.
fn rounded(expires: Option<i64>) -> Option<i64> {
    expires.map(|e| (e + HOUR - 1) / HOUR * HOUR)
}

async fn refresh(s: &Server, t: &Value) -> Value {
    s.post("/v1/auth/refresh", json!({ "refresh_token": t["refresh_token"] })).await.ok()
}

#[tokio::test]
async fn credential_hoarding_asking_again_gives_the_same_credential_and_a_renewal_revokes_the_old_one() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &phone).await;
    let (v0, _) = revocations(&s, &f, &ada, 0).await;
    let first = credentials(&s, &ada).await.remove(0);
    // Asking five more times mints nothing new: the same credential comes back.
    for _ in 0..5 {
        let again = credentials(&s, &ada).await.remove(0);
        assert_eq!(id(&again), id(&first));
        assert_eq!(again["credential"], first["credential"]);
    }
    let (_, list) = revocations(&s, &f, &ada, v0).await;
    assert!(list.is_empty(), "{list:?}");
    // In the renewal window (the last 24 h) a new one is issued and the old one is revoked
    // at the door: the next bundle lists it.
    s.clock.advance(49 * HOUR);
    let ada = refresh(&s, &ada).await;
    let renewed = credentials(&s, &ada).await.remove(0);
    assert_ne!(id(&renewed), id(&first));
    let (_, list) = revocations(&s, &f, &ada, v0).await;
    assert_eq!(listed(&list, &id(&first)), rounded(first["not_after"].as_i64()));
    assert_eq!(listed(&list, &id(&renewed)), None);
}

#[tokio::test]
async fn credential_hoarding_a_member_holds_at_most_three_live_credentials_per_key() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let first_phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &first_phone).await;
    let (v0, _) = revocations(&s, &f, &ada, 0).await;
    let mut issued = vec![id(&credentials(&s, &ada).await.remove(0))];
    // Three more devices sign in (each a new device key) and ask for credentials.
    for _ in 0..3 {
        s.clock.advance(31);
        let t = s.sign_in("ada@example.com", &TestPhone::new()).await;
        issued.push(id(&credentials(&s, &t).await.remove(0)));
    }
    let (_, list) = revocations(&s, &f, &ada, v0).await;
    // The oldest device's credential is revoked at the door; the three newest are not.
    assert!(listed(&list, &issued[0]).is_some(), "{list:?}");
    for c in &issued[1..] {
        assert!(listed(&list, c).is_none(), "{c} should still be live: {list:?}");
    }
}

/// Ada (member, shareable key) shares the offline door with Gus for `days`; Gus redeems.
async fn shared(s: &Server, f: &Fixture, days: i64) -> (Value, Value, Value, Value) {
    let ada_phone = TestPhone::new();
    let ada = member(s, f, "ada@example.com", &ada_phone).await;
    let ada_cred = credentials(s, &ada).await.remove(0);
    let share = s
        .send(
            "POST",
            "/v1/shares",
            Some(&bearer(&ada)),
            Some(ada_phone.signed_share(json!({ "grant_id": ada_cred["grant_id"], "door_ids": [f.offline_door],
                         "ends_at": s.now() + days * DAY, "guest": "+44 7700 900999" }))),
        )
        .await
        .ok();
    assert_eq!(share["parent_credential_id"], ada_cred["credential_id"]);
    let gus = s.sign_in("+447700900999", &TestPhone::new()).await;
    let link = s.last_link("+447700900999", "share").await;
    let gus_cred =
        s.send("POST", &format!("/v1/share-links/{}/redeem", token_of(&link)), Some(&bearer(&gus)), None).await.ok();
    (ada, ada_cred, gus, gus_cred)
}

#[tokio::test]
async fn guest_cascade_expiry_revoking_a_member_reaches_guests_through_a_parent_that_has_lapsed() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let (ada, ada_cred, gus, _) = shared(&s, &f, 10).await;
    // Cora, another member, will carry the bundle.
    let cora = member(&s, &f, "cora@example.com", &TestPhone::new()).await;
    let (v0, _) = revocations(&s, &f, &cora, 0).await;
    // Ada's phone stays offline; her 72-hour credential lapses. Gus renews: his new guest
    // credential still names that credential as its parent.
    s.clock.advance(73 * HOUR);
    let gus = refresh(&s, &gus).await;
    let gus_cred = credentials(&s, &gus).await.remove(0);
    assert_eq!(gus_cred["parent_credential_id"], ada_cred["credential_id"]);
    // Ada is revoked. The next bundle lists her credential (the parent) until Gus's
    // credential could lapse, so a lock refuses any guest credential naming it.
    let person = ada["person_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{person}/revoke-all", f.org), None).await.ok();
    let cora = refresh(&s, &cora).await;
    let (_, list) = revocations(&s, &f, &cora, v0).await;
    let expires = listed(&list, &id(&ada_cred)).expect("the lapsed parent is listed");
    assert!(expires >= gus_cred["not_after"].as_i64().unwrap(), "{expires} < {}", gus_cred["not_after"]);
    assert!(listed(&list, &id(&gus_cred)).is_some());
}

#[tokio::test]
async fn guest_cascade_expiry_changing_the_members_window_does_not_lock_their_guests_out() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let (ada, ada_cred, gus, gus_cred) = shared(&s, &f, 2).await;
    let (v0, _) = revocations(&s, &f, &gus, 0).await;
    // The administrator shortens Ada's key to 10 hours: her 72-hour credential is revoked.
    let grant = ada_cred["grant_id"].as_i64().unwrap();
    let new_end = s.now() + 10 * HOUR;
    s.admin("POST", &format!("/v1/admin/grants/{grant}"), Some(json!({ "expires_at": new_end }))).await;
    // Gus renews before Ada does: his guest key (cut to the new end) must name a parent
    // that no door lists as revoked, or every lock that applied the bundle refuses him.
    let renewed = credentials(&s, &gus).await.remove(0);
    assert_ne!(id(&renewed), id(&gus_cred));
    assert_eq!(renewed["not_after"], new_end);
    let (_, list) = revocations(&s, &f, &gus, v0).await;
    assert!(listed(&list, &id(&ada_cred)).is_some(), "Ada's old credential is revoked: {list:?}");
    let parent = renewed["parent_credential_id"].as_str().unwrap();
    assert!(listed(&list, parent).is_none(), "the guest's parent {parent} is listed: {list:?}");
    // Ada's phone then renews and gets that same credential (one per device and key).
    let ada_now = credentials(&s, &ada).await.remove(0);
    assert_eq!(id(&ada_now), parent);
}

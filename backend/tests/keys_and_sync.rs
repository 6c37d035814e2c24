//! Keys, credentials, guest shares and door sync over real HTTP, checked with the
//! protocol crate the way a lock would check them.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::credential::{Credential, DeviceKey};
use keyway_protocol::ids::{CredentialId, DoorId};
use keyway_protocol::issuer;
use serde_json::{Value, json};

fn decode_credential(f: &Fixture, c: &Value) -> Credential {
    let bytes = URL_SAFE_NO_PAD.decode(c["credential"].as_str().unwrap()).unwrap();
    let cred = Credential::from_bytes(&bytes).unwrap();
    issuer::verify_credential(&f.issuer_public_key, &cred).unwrap();
    cred
}

fn decode_bundle(f: &Fixture, b: &Value) -> Bundle {
    let bytes = URL_SAFE_NO_PAD.decode(b["bundle"].as_str().unwrap()).unwrap();
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    issuer::verify_bundle(&f.issuer_public_key, &bundle).unwrap();
    bundle
}

async fn bundle(s: &Server, t: &Value, door: i64, since: Option<i64>) -> Answer {
    let q = since.map(|v| format!("?since={v}")).unwrap_or_default();
    s.send("GET", &format!("/v1/doors/{door}/bundle{q}"), Some(&bearer(t)), None).await
}

/// Ada is a member with a shareable key; Gus is her guest (phone) on the offline door.
struct Story {
    f: Fixture,
    ada: Value,
    ada_phone: TestPhone,
    ada_cred: Value,
    gus: Value,
    gus_phone: TestPhone,
    gus_cred: Value,
}

async fn story(s: &Server) -> Story {
    let f = fixture(s, "Acme", 1).await;
    let ada_phone = TestPhone::new();
    let ada = member(s, &f, "ada@example.com", &ada_phone).await;
    let ada_cred = credentials(s, &ada).await.remove(0);
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&ada)), None).await.ok();
    let grant = keys["keys"][0]["grant_id"].as_i64().unwrap();
    let share = s
        .send(
            "POST",
            "/v1/shares",
            Some(&bearer(&ada)),
            Some(ada_phone.signed_share(json!({ "grant_id": grant, "door_ids": [f.offline_door],
                         "ends_at": s.now() + 2 * DAY, "guest": "+44 7700 900999" }))),
        )
        .await;
    assert_eq!(share.status.as_u16(), 201, "{}", share.body);
    assert_eq!(share.body["parent_credential_id"], ada_cred["credential_id"]);
    let link = s.last_link("+447700900999", "share").await;
    assert!(link.starts_with("https://keyway.test/share/"));
    let gus_phone = TestPhone::new();
    let gus = s.sign_in("+447700900999", &gus_phone).await;
    let gus_cred =
        s.send("POST", &format!("/v1/share-links/{}/redeem", token_of(&link)), Some(&bearer(&gus)), None).await.ok();
    Story { f, ada, ada_phone, ada_cred, gus, gus_phone, gus_cred }
}

#[tokio::test]
async fn a_credential_is_signed_for_the_sessions_device_and_lasts_72_hours() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &phone).await;
    let c = credentials(&s, &ada).await.remove(0);
    let cred = decode_credential(&f, &c);
    assert_eq!(cred.body.device_key, DeviceKey::from_uncompressed(phone.public_key()).unwrap());
    assert_eq!(cred.body.doors.len(), 2);
    assert!(cred.body.opens(&f.offline_lock.door));
    assert_eq!(i64::from(cred.body.not_after), s.now() + 72 * HOUR);
    assert!(cred.body.flags.shareable);
    assert!(!cred.body.flags.guest);
    // Renewing gives a new credential with a fresh window.
    s.clock.advance(48 * HOUR);
    let ada = s.post("/v1/auth/refresh", json!({ "refresh_token": ada["refresh_token"] })).await.ok();
    let renewed = credentials(&s, &ada).await.remove(0);
    assert_ne!(renewed["credential_id"], c["credential_id"]);
    assert_eq!(renewed["not_after"], s.now() + 72 * HOUR);
}

#[tokio::test]
async fn a_credential_never_outlives_its_grant_and_follows_the_sites_setting() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &phone).await;
    let person = ada["person_id"].as_i64().unwrap();
    let short = s
        .admin(
            "POST",
            &format!("/v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": f.key, "expires_at": s.now() + 10 * HOUR })),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let c = s.send("POST", "/v1/credentials", Some(&bearer(&ada)), Some(json!({ "grant_id": short }))).await.ok();
    assert_eq!(c["credentials"][0]["not_after"], s.now() + 10 * HOUR);
    // A site with a one-hour credential life.
    let site = s
        .admin(
            "POST",
            &format!("/v1/admin/orgs/{}/sites", f.org),
            Some(json!({ "name": "Annex", "credential_ttl_secs": 3600 })),
        )
        .await
        .ok();
    let fac = s
        .admin("POST", &format!("/v1/admin/sites/{}/facilities", site["id"]), Some(json!({ "name": "Annex" })))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let anchor = URL_SAFE_NO_PAD.decode(site["issuer_public_key"].as_str().unwrap()).unwrap();
    let lock = MemoryLock::trusting(DoorId([9, 9, 9, 9, 9, 9, 9, 9]), &anchor);
    let door = s
        .admin("POST", &format!("/v1/admin/facilities/{fac}/doors"), Some(json!({ "name": "Annex door", "lock_id": lock.id_hex(),
            "lock_public_key": lock.public_key_b64(), "lock_signing_public_key": lock.signing_public_key_b64(), "online": false })))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let key = add_key(&s, fac, "Annex", &[door]).await;
    let g = s
        .admin(
            "POST",
            &format!("/v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": key, "expires_at": s.now() + 30 * DAY })),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let c = s.send("POST", "/v1/credentials", Some(&bearer(&ada)), Some(json!({ "grant_id": g }))).await.ok();
    assert_eq!(c["credentials"][0]["not_after"], s.now() + HOUR);
    // A grant starting far ahead is not yet valid, with its start time.
    let later = s.now() + 10 * DAY;
    let g2 = s
        .admin(
            "POST",
            &format!("/v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": f.key, "starts_at": later, "expires_at": later + DAY })),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let a = s.send("POST", "/v1/credentials", Some(&bearer(&ada)), Some(json!({ "grant_id": g2 }))).await;
    a.err(403, "key_not_yet_valid");
    assert_eq!(a.body["error"]["starts_at"], later);
}

#[tokio::test]
async fn my_keys_list_doors_with_lock_keys_windows_and_state() {
    let s = Server::start().await;
    let st = story(&s).await;
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&st.ada)), None).await.ok();
    let k = &keys["keys"][0];
    assert_eq!(k["access_state"], "active");
    assert_eq!(k["shareable"], true);
    let doors = k["doors"].as_array().unwrap();
    assert_eq!(doors.len(), 2);
    assert_eq!(doors[0]["lock_id"], st.f.offline_lock.id_hex());
    assert_eq!(doors[0]["lock_public_key"], st.f.offline_lock.public_key_b64());
    assert_eq!(doors[0]["online"], false);
    assert_eq!(doors[0]["internet"], false);
    // Fitted with internet, but no lock has connected its online link: not online yet.
    assert_eq!(doors[1]["internet"], true);
    assert_eq!(doors[1]["online"], false);
    // The guest sees one guest key for the shared door only.
    let g = s.send("GET", "/v1/me/keys", Some(&bearer(&st.gus)), None).await.ok();
    assert_eq!(g["keys"][0]["guest"], true);
    assert_eq!(g["keys"][0]["doors"].as_array().unwrap().len(), 1);
    // Incremental refresh: nothing changed since the cursor, then a revocation shows up.
    let cursor = keys["cursor"].as_i64().unwrap();
    let none = s.send("GET", &format!("/v1/me/keys?since={cursor}"), Some(&bearer(&st.ada)), None).await.ok();
    assert_eq!(none["keys"].as_array().unwrap().len(), 0);
    let grant = k["grant_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/grants/{grant}/revoke"), None).await;
    let changed = s.send("GET", &format!("/v1/me/keys?since={cursor}"), Some(&bearer(&st.ada)), None).await.ok();
    assert_eq!(changed["revoked_grant_ids"], json!([grant]));
    assert_eq!(changed["keys"][0]["access_state"], "revoked");
}

#[tokio::test]
async fn a_guest_credential_names_the_members_credential_as_parent() {
    let s = Server::start().await;
    let st = story(&s).await;
    let cred = decode_credential(&st.f, &st.gus_cred);
    assert!(cred.body.flags.guest);
    assert!(!cred.body.flags.shareable);
    let parent = CredentialId::from_hex(st.ada_cred["credential_id"].as_str().unwrap()).unwrap();
    assert_eq!(cred.body.parent, Some(parent));
    assert_eq!(cred.body.doors, vec![st.f.offline_lock.door]);
    assert!(i64::from(cred.body.not_after) <= s.now() + 2 * DAY);
}

#[tokio::test]
async fn share_rules_are_enforced() {
    let s = Server::start().await;
    let st = story(&s).await;
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&st.ada)), None).await.ok();
    let grant = keys["keys"][0]["grant_id"].as_i64().unwrap();
    let share = |body: Value| {
        let s = &s;
        let t = bearer(&st.ada);
        let body = st.ada_phone.signed_share(body);
        async move { s.send("POST", "/v1/shares", Some(&t), Some(body)).await }
    };
    share(json!({ "grant_id": grant, "ends_at": s.now() + 60 * DAY, "guest": "zed@example.com" }))
        .await
        .err(422, "invalid_field");
    share(json!({ "grant_id": grant, "door_ids": [999], "ends_at": s.now() + DAY, "guest": "zed@example.com" }))
        .await
        .err(422, "invalid_field");
    // A guest cannot re-share a guest key.
    let gkeys = s.send("GET", "/v1/me/keys", Some(&bearer(&st.gus)), None).await.ok();
    let ggrant = gkeys["keys"][0]["grant_id"].as_i64().unwrap();
    s.send(
        "POST",
        "/v1/shares",
        Some(&bearer(&st.gus)),
        Some(
            st.gus_phone
                .signed_share(json!({ "grant_id": ggrant, "ends_at": s.now() + DAY, "guest": "zed@example.com" })),
        ),
    )
    .await
    .err(403, "key_not_shareable");
    // A link works once, and only for the person it was sent to.
    share(json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": "zed@example.com" })).await.ok();
    let link = token_of(&s.last_link("zed@example.com", "share").await);
    s.send("POST", &format!("/v1/share-links/{link}/redeem"), Some(&bearer(&st.gus)), None)
        .await
        .err(403, "share_wrong_recipient");
    let zed = s.sign_in("zed@example.com", &TestPhone::new()).await;
    s.send("POST", &format!("/v1/share-links/{link}/redeem"), Some(&bearer(&zed)), None).await.ok();
    s.send("POST", &format!("/v1/share-links/{link}/redeem"), Some(&bearer(&zed)), None)
        .await
        .err(409, "share_already_redeemed");
}

#[tokio::test]
async fn revoking_a_member_revokes_their_guests_keys_and_the_next_bundle_for_each_affected_offline_door_lists_them() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    // The offline door has never been synced: it is on the task list; the courier syncs it.
    let pending = s.send("GET", "/v1/door-sync/pending", Some(&bearer(&st.ada)), None).await.ok();
    assert_eq!(pending["doors"][0]["id"], f.offline_door);
    let b1 = bundle(&s, &st.ada, f.offline_door, None).await.ok();
    let v1 = b1["version"].as_i64().unwrap();
    let receipt = f.offline_lock.receipt(u32::try_from(v1).unwrap(), u32::try_from(s.now()).unwrap(), &[]);
    s.send(
        "POST",
        &format!("/v1/doors/{}/receipts", f.offline_door),
        Some(&bearer(&st.ada)),
        Some(json!({ "receipt": receipt })),
    )
    .await
    .ok();
    // Only the internet-connected door is left on the list: no lock has connected its
    // online link here, so it waits for a courier too.
    let pending = s.admin("GET", "/v1/admin/door-sync/pending", None).await.ok();
    assert_eq!(pending.as_array().unwrap().iter().map(|d| d["id"].clone()).collect::<Vec<_>>(), [json!(f.online_door)]);

    // Cora, another member, will carry the next bundle (ex-members carry nothing).
    let cora = member(&s, f, "cora@example.com", &TestPhone::new()).await;
    // Revoke all of Ada's keys.
    let person = st.ada["person_id"].as_i64().unwrap();
    let r = s.admin("POST", &format!("/v1/admin/orgs/{}/people/{person}/revoke-all", f.org), None).await.ok();
    assert_eq!(r["revoked"], 1);

    // Gus's guest key is revoked too.
    let g = s.send("GET", "/v1/me/keys", Some(&bearer(&st.gus)), None).await.ok();
    assert_eq!(g["keys"][0]["access_state"], "revoked");
    let ggrant = g["keys"][0]["grant_id"].as_i64().unwrap();
    s.send("POST", "/v1/credentials", Some(&bearer(&st.gus)), Some(json!({ "grant_id": ggrant })))
        .await
        .err(403, "key_revoked");

    // The offline door needs a sync again; its next bundle (delta from v1) lists both credentials.
    let pending = s.admin("GET", "/v1/admin/door-sync/pending", None).await.ok();
    assert_eq!(pending[0]["id"], f.offline_door);
    bundle(&s, &st.ada, f.offline_door, Some(v1)).await.err(404, "not_found");
    let b2 = bundle(&s, &cora, f.offline_door, Some(v1)).await.ok();
    let listed: Vec<&str> =
        b2["revoked_credential_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(listed.contains(&st.ada_cred["credential_id"].as_str().unwrap()));
    assert!(listed.contains(&st.gus_cred["credential_id"].as_str().unwrap()));
    let signed = decode_bundle(f, &b2);
    assert_eq!(i64::from(signed.body.base_version), v1);
    assert_eq!(signed.body.revocations.len(), 2);
    assert_eq!(i64::from(signed.body.signed_time), s.now());
    // The internet-connected door's lock has no online link up here, so phones carry its
    // bundle like an offline door's (a connected one answers `door_online`: online_door.rs).
    bundle(&s, &cora, f.online_door, None).await.ok();
}

#[tokio::test]
async fn a_receipt_delivered_twice_stores_its_audit_events_once() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    let b = bundle(&s, &st.gus, f.offline_door, None).await.ok();
    let version = u32::try_from(b["version"].as_i64().unwrap()).unwrap();
    let ada_id: [u8; 16] = hex::decode(st.ada_cred["credential_id"].as_str().unwrap()).unwrap().try_into().unwrap();
    let receipt = f.offline_lock.receipt(version, u32::try_from(s.now()).unwrap(), &[(1, Some(ada_id)), (2, None)]);
    let path = format!("/v1/doors/{}/receipts", f.offline_door);
    let first = s.send("POST", &path, Some(&bearer(&st.gus)), Some(json!({ "receipt": receipt }))).await.ok();
    assert_eq!(first["events_stored"], 2);
    assert_eq!(first["sync_pending"], false);
    let second = s.send("POST", &path, Some(&bearer(&st.ada)), Some(json!({ "receipt": receipt }))).await.ok();
    assert_eq!(second["events_stored"], 0);
    let n: i64 = s
        .running
        .state
        .db()
        .with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM audit_events", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(n, 2);
    // The next bundle acknowledges the stored events so the lock can drop them.
    let cora = member(&s, f, "cora@example.com", &TestPhone::new()).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{}/revoke-all", f.org, st.ada["person_id"]), None).await.ok();
    let b2 = bundle(&s, &cora, f.offline_door, Some(i64::from(version))).await.ok();
    assert_eq!(decode_bundle(f, &b2).body.audit_acknowledged, 2);
}

#[tokio::test]
async fn audit_flood_a_gap_in_a_locks_sequence_numbers_shows_in_the_history_as_missing_events() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    let b = bundle(&s, &st.gus, f.offline_door, None).await.ok();
    let version = u32::try_from(b["version"].as_i64().unwrap()).unwrap();
    let path = format!("/v1/doors/{}/receipts", f.offline_door);
    let clock = u32::try_from(s.now()).unwrap();
    let upload = |events: Vec<(u64, Option<[u8; 16]>)>| {
        let (s, path, gus) = (&s, path.clone(), bearer(&st.gus));
        let receipt = f.offline_lock.receipt(version, clock, &events);
        async move { s.send("POST", &path, Some(&gus), Some(json!({ "receipt": receipt }))).await.ok() }
    };
    upload(vec![(1, None), (2, None)]).await;
    // The lock's log overflowed: events 3 to 5 never reach the backend.
    upload(vec![(6, None), (7, None)]).await;
    // A receipt that continues where the last one ended adds no marker.
    upload(vec![(8, None)]).await;
    let history = s.admin("GET", &format!("/v1/admin/doors/{}/events", f.offline_door), None).await.ok();
    let kinds: Vec<(i64, String, Option<i64>)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["seq"].as_i64().unwrap(), e["kind"].as_str().unwrap().to_owned(), e["detail"].as_i64()))
        .collect();
    let missing: Vec<_> = kinds.iter().filter(|(_, kind, _)| kind == "events_missing").collect();
    assert_eq!(missing, [&(3, "events_missing".to_owned(), Some(3))], "{kinds:?}");
    assert_eq!(kinds.len(), 6, "2 + marker + 3: {kinds:?}");
}

#[tokio::test]
async fn a_receipt_with_a_bad_signature_or_for_another_door_is_refused() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    let path = format!("/v1/doors/{}/receipts", f.offline_door);
    // Signed by the right lock but for another door id.
    let other = MemoryLock::trusting(DoorId([7; 8]), &f.issuer_public_key);
    let forged = other.receipt(1, 0, &[]);
    s.send("POST", &path, Some(&bearer(&st.ada)), Some(json!({ "receipt": forged }))).await.err(422, "receipt_invalid");
    s.send("POST", &path, Some(&bearer(&st.ada)), Some(json!({ "receipt": "bm90IGEgcmVjZWlwdA" })))
        .await
        .err(422, "receipt_invalid");
    // Someone with no key for the door cannot carry for it; to them the door is not there.
    let stranger = {
        s.admin("POST", &format!("/v1/admin/orgs/{}/people", f.org), Some(json!({ "email": "eve@example.com" })))
            .await
            .ok();
        s.sign_in("eve@example.com", &TestPhone::new()).await
    };
    bundle(&s, &stranger, f.offline_door, None).await.err(404, "not_found");
}

#[tokio::test]
async fn deleting_a_person_ends_their_and_their_guests_access_and_keeps_history() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    let b = bundle(&s, &st.ada, f.offline_door, None).await.ok();
    let version = u32::try_from(b["version"].as_i64().unwrap()).unwrap();
    let receipt = f.offline_lock.receipt(version, 1, &[(1, None)]);
    s.send(
        "POST",
        &format!("/v1/doors/{}/receipts", f.offline_door),
        Some(&bearer(&st.ada)),
        Some(json!({ "receipt": receipt })),
    )
    .await
    .ok();
    let person = st.ada["person_id"].as_i64().unwrap();
    let a = s.admin("DELETE", &format!("/v1/admin/orgs/{}/people/{person}", f.org), None).await;
    assert_eq!(a.status.as_u16(), 204);
    let list = s.admin("GET", &format!("/v1/admin/orgs/{}/people", f.org), None).await.ok();
    assert!(list.as_array().unwrap().iter().all(|p| p["person_id"] != person));
    let g = s.send("GET", "/v1/me/keys", Some(&bearer(&st.gus)), None).await.ok();
    assert_eq!(g["keys"][0]["access_state"], "revoked");
    assert_eq!(credentials(&s, &st.ada).await.len(), 0);
    let n: i64 = s
        .running
        .state
        .db()
        .with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM audit_events", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(n, 1, "the activity history stays");
    // They can be invited again later.
    invite(&s, f, "ada@example.com").await;
}

#[tokio::test]
async fn a_share_link_previews_and_the_member_can_list_and_revoke_shares() {
    let s = Server::start().await;
    let st = story(&s).await;
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&st.ada)), None).await.ok();
    let grant = keys["keys"][0]["grant_id"].as_i64().unwrap();
    s.send(
        "POST",
        "/v1/shares",
        Some(&bearer(&st.ada)),
        Some(
            st.ada_phone
                .signed_share(json!({ "grant_id": grant, "ends_at": s.now() + DAY, "guest": "zed@example.com" })),
        ),
    )
    .await
    .ok();
    let link = token_of(&s.last_link("zed@example.com", "share").await);
    let p = s.send("GET", &format!("/v1/share-links/{link}"), None, None).await.ok();
    assert_eq!(p["organisation"], "Acme");
    assert_eq!(p["doors"], json!(["Back gate", "Front door"]));
    assert_eq!(p["sign_in_with"], "zed@example.com");
    assert!(p["link_expires_at"].as_i64().unwrap() > s.now());
    let mine = s.send("GET", "/v1/me/shares", Some(&bearer(&st.ada)), None).await.ok();
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[1]["state"], "redeemed");
    assert!(mine[1]["redeemed_at"].as_i64().is_some());
    assert_eq!(mine[0]["state"], "pending");
    assert_eq!(mine[0]["guest"], "zed@example.com");
    let names: Vec<&str> = mine[0]["doors"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Back gate", "Front door"]);
    assert_eq!(mine[0]["doors"][0]["lock_id"].as_str().unwrap().len(), 16);
    assert!(mine[0]["created_at"].as_i64().unwrap() <= s.now());
    // Revoking the redeemed share ends Gus's key; the pending one's link dies.
    let gus_share = mine[1]["share_id"].as_i64().unwrap();
    let a = s.send("POST", &format!("/v1/shares/{gus_share}/revoke"), Some(&bearer(&st.ada)), None).await;
    assert_eq!(a.status.as_u16(), 204);
    let g = s.send("GET", "/v1/me/keys", Some(&bearer(&st.gus)), None).await.ok();
    assert_eq!(g["keys"][0]["access_state"], "revoked");
    let zed_share = mine[0]["share_id"].as_i64().unwrap();
    s.send("POST", &format!("/v1/shares/{zed_share}/revoke"), Some(&bearer(&st.ada)), None).await;
    s.send("GET", &format!("/v1/share-links/{link}"), None, None).await.err(410, "share_revoked");
    // Only the member who shared can revoke.
    s.send("POST", &format!("/v1/shares/{zed_share}/revoke"), Some(&bearer(&st.gus)), None)
        .await
        .err(404, "share_not_found");
    let mine = s.send("GET", "/v1/me/shares", Some(&bearer(&st.ada)), None).await.ok();
    assert_eq!(mine[0]["state"], "revoked");
    assert_eq!(mine[1]["state"], "revoked");
    // A link that never was one says so.
    s.send("GET", "/v1/share-links/AAAAAAAAAAAAAAAAAAAAAAAAAA", None, None).await.err(404, "share_not_found");
}

#[tokio::test]
async fn a_configuration_change_travels_in_the_next_bundle_and_receipts_fill_the_history() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    let b1 = bundle(&s, &st.ada, f.offline_door, None).await.ok();
    let v1 = b1["version"].as_i64().unwrap();
    let receipt = f.offline_lock.receipt(u32::try_from(v1).unwrap(), 1, &[(1, None), (2, None)]);
    s.send(
        "POST",
        &format!("/v1/doors/{}/receipts", f.offline_door),
        Some(&bearer(&st.ada)),
        Some(json!({ "receipt": receipt })),
    )
    .await
    .ok();
    bundle(&s, &st.ada, f.offline_door, Some(v1)).await.err(409, "door_up_to_date");
    let a = s
        .admin("POST", &format!("/v1/admin/doors/{}/config", f.offline_door), Some(json!({ "unlock_ms": 8000 })))
        .await;
    assert_eq!(a.status.as_u16(), 204);
    s.admin("POST", &format!("/v1/admin/doors/{}/config", f.offline_door), Some(json!({ "unlock_ms": 1 })))
        .await
        .err(422, "invalid_field");
    let pending = s.send("GET", "/v1/door-sync/pending", Some(&bearer(&st.ada)), None).await.ok();
    assert_eq!(pending["doors"][0]["id"], f.offline_door);
    let b2 = bundle(&s, &st.ada, f.offline_door, Some(v1)).await.ok();
    let signed = decode_bundle(f, &b2);
    assert_eq!(signed.body.config.unlock_duration_ms, 8000);
    assert_eq!(signed.body.audit_acknowledged, 2);
    let history = s.admin("GET", &format!("/v1/admin/doors/{}/events", f.offline_door), None).await.ok();
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["seq"], 2);
    assert_eq!(history[0]["kind"], "granted");
}

#[tokio::test]
async fn shortening_a_grant_revokes_credentials_past_the_new_end_and_trims_guests() {
    let s = Server::start().await;
    let st = story(&s).await;
    let f = &st.f;
    let b1 = bundle(&s, &st.ada, f.offline_door, None).await.ok();
    let v1 = b1["version"].as_i64().unwrap();
    let grant = st.ada_cred["grant_id"].as_i64().unwrap();
    let new_end = s.now() + 10 * HOUR;
    let a = s.admin("POST", &format!("/v1/admin/grants/{grant}"), Some(json!({ "expires_at": new_end }))).await;
    assert_eq!(a.status.as_u16(), 204, "{}", a.body);
    // Ada's 72-hour credential and Gus's 2-day guest credential both reached past the new end.
    let b2 = bundle(&s, &st.ada, f.offline_door, Some(v1)).await.ok();
    let listed = b2["revoked_credential_ids"].as_array().unwrap();
    assert!(listed.contains(&st.ada_cred["credential_id"]));
    assert!(listed.contains(&st.gus_cred["credential_id"]));
    // Renewed credentials end with the grant; the guest's key is cut to the member's end.
    let c = credentials(&s, &st.ada).await.remove(0);
    assert_eq!(c["not_after"], new_end);
    let g = credentials(&s, &st.gus).await.remove(0);
    assert_eq!(g["not_after"], new_end);
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&st.gus)), None).await.ok();
    assert_eq!(keys["keys"][0]["expires_at"], new_end);
    // Turning sharing off stops new shares.
    s.admin("POST", &format!("/v1/admin/grants/{grant}"), Some(json!({ "shareable": false }))).await;
    s.send(
        "POST",
        "/v1/shares",
        Some(&bearer(&st.ada)),
        Some(
            st.ada_phone
                .signed_share(json!({ "grant_id": grant, "ends_at": s.now() + HOUR, "guest": "zed@example.com" })),
        ),
    )
    .await
    .err(403, "key_not_shareable");
}

//! What a holder's keys show when an administrator suspends access, edits or deletes a
//! key, or revokes with words for the holder (issue 17: `access_suspended`,
//! `revoke_reason`), over real HTTP, with the doors' signed bundles checked as a lock
//! would read them.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_protocol::bundle::{Bundle, RevocationList};
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::CredentialId;
use keyway_protocol::issuer;
use serde_json::{Value, json};

async fn keys(s: &Server, t: &Value, since: Option<i64>) -> Value {
    let path = match since {
        Some(c) => format!("/v1/me/keys?since={c}"),
        None => "/v1/me/keys".to_owned(),
    };
    s.send("GET", &path, Some(&bearer(t)), None).await.ok()
}

/// What the door's current bundle revokes (verified like a lock).
struct Listed(RevocationList);

impl Listed {
    /// Whether the credential with id `id` (hex) is revoked: its serial prefix is listed.
    fn contains(&self, id: &str) -> bool {
        self.0.names(&CredentialId::from_hex(id).unwrap())
    }
}

/// The revocations of the door's current bundle (verified like a lock).
async fn listed_at(s: &Server, f: &Fixture, door: i64, t: &Value) -> Listed {
    let b = s.send("GET", &format!("/v1/doors/{door}/bundle?since=0"), Some(&bearer(t)), None).await.ok();
    let bytes = URL_SAFE_NO_PAD.decode(b["bundle"].as_str().unwrap()).unwrap();
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    issuer::verify_bundle(&f.issuer_public_key, &bundle).unwrap();
    Listed(bundle.body.revocations)
}

/// Bob, who holds his own "Staff" key to the back gate: a courier for its bundles whatever
/// happens to the fixture's key.
async fn courier(s: &Server, f: &Fixture) -> Value {
    let staff = add_key(s, f.facility, "Staff", &[f.offline_door]).await;
    member_with_key(s, f, "bob@example.com", &TestPhone::new(), staff).await
}

fn id(c: &Value) -> String {
    c["credential_id"].as_str().unwrap().to_owned()
}

fn person(t: &Value) -> i64 {
    t["person_id"].as_i64().unwrap()
}

#[tokio::test]
async fn access_suspended_keys_show_suspended_are_refused_at_the_door_and_come_back_without_a_new_invitation() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &phone).await;
    let before = credentials(&s, &ada).await.remove(0);
    let cursor = keys(&s, &ada, None).await["cursor"].as_i64().unwrap();

    let path = format!("/v1/admin/orgs/{}/people/{}/access", f.org, person(&ada));
    s.admin("POST", &path, Some(json!({ "enabled": false, "message": "Rent overdue: see the front desk" }))).await.ok();

    // The app's next incremental refresh shows the key suspended, with the words.
    let changed = keys(&s, &ada, Some(cursor)).await;
    let k = &changed["keys"][0];
    assert_eq!(k["access_state"], "suspended");
    assert_eq!(k["message"], "Rent overdue: see the front desk");
    assert!(k["revoke_reason"].is_null(), "suspended is not revoked: {k}");
    // No credential while suspended, asked one by one or all at once.
    let grant = k["grant_id"].as_i64().unwrap();
    s.send("POST", "/v1/credentials", Some(&bearer(&ada)), Some(json!({ "grant_id": grant })))
        .await
        .err(403, "access_suspended");
    assert!(credentials(&s, &ada).await.is_empty());
    // The offline door refuses the credential she holds once it syncs.
    assert!(listed_at(&s, &f, f.offline_door, &ada).await.contains(&id(&before)));

    // Access back on: the key is active again and a new credential comes, no invitation needed.
    s.admin("POST", &path, Some(json!({ "enabled": true }))).await.ok();
    let k = &keys(&s, &ada, None).await["keys"][0];
    assert_eq!(k["access_state"], "active");
    assert!(k["message"].is_null());
    let after = credentials(&s, &ada).await.remove(0);
    assert_ne!(id(&after), id(&before));
    assert!(!listed_at(&s, &f, f.offline_door, &ada).await.contains(&id(&after)));
}

#[tokio::test]
async fn access_suspended_reaches_the_guests_a_member_shared_with_and_their_return_too() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada_phone = TestPhone::new();
    let ada = member(&s, &f, "ada@example.com", &ada_phone).await;
    credentials(&s, &ada).await;
    let grant = keys(&s, &ada, None).await["keys"][0]["grant_id"].as_i64().unwrap();
    let share = s
        .send(
            "POST",
            "/v1/shares",
            Some(&bearer(&ada)),
            Some(ada_phone.signed_share(json!({ "grant_id": grant, "door_ids": [f.offline_door],
                         "ends_at": s.now() + 2 * DAY, "guest": "gus@example.com" }))),
        )
        .await;
    assert_eq!(share.status.as_u16(), 201, "{}", share.body);
    let link = s.last_link("gus@example.com", "share").await;
    let gus = s.sign_in("gus@example.com", &TestPhone::new()).await;
    s.send("POST", &format!("/v1/share-links/{}/redeem", token_of(&link)), Some(&bearer(&gus)), None).await.ok();

    let path = format!("/v1/admin/orgs/{}/people/{}/access", f.org, person(&ada));
    s.admin("POST", &path, Some(json!({ "enabled": false }))).await.ok();
    assert_eq!(keys(&s, &gus, None).await["keys"][0]["access_state"], "suspended");
    assert!(credentials(&s, &gus).await.is_empty());

    s.admin("POST", &path, Some(json!({ "enabled": true }))).await.ok();
    assert_eq!(keys(&s, &gus, None).await["keys"][0]["access_state"], "active");
    let renewed = credentials(&s, &gus).await.remove(0);
    // The guest's new credential names a parent the door does not list.
    let parent = renewed["parent_credential_id"].as_str().unwrap().to_owned();
    assert!(!listed_at(&s, &f, f.offline_door, &ada).await.contains(&parent));
}

#[tokio::test]
async fn access_suspended_switch_checks_who_and_what() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let path = format!("/v1/admin/orgs/{}/people/{}/access", f.org, person(&ada));
    s.admin("POST", &path, Some(json!({ "enabled": false, "message": "x".repeat(201) })))
        .await
        .err(422, "invalid_field");
    s.admin("POST", &path, Some(json!({ "enabled": false, "message": "line one\nline two" })))
        .await
        .err(422, "invalid_field");
    let other = fixture(&s, "Other", 2).await;
    s.admin(
        "POST",
        &format!("/v1/admin/orgs/{}/people/{}/access", other.org, person(&ada)),
        Some(json!({ "enabled": false })),
    )
    .await
    .err(404, "not_found");
    // Turning it off twice is one suspension; on twice is harmless.
    s.admin("POST", &path, Some(json!({ "enabled": false }))).await.ok();
    s.admin("POST", &path, Some(json!({ "enabled": false, "message": "Back on Monday" }))).await.ok();
    assert_eq!(keys(&s, &ada, None).await["keys"][0]["message"], "Back on Monday");
    s.admin("POST", &path, Some(json!({ "enabled": true }))).await.ok();
    s.admin("POST", &path, Some(json!({ "enabled": true }))).await.ok();
    assert_eq!(keys(&s, &ada, None).await["keys"][0]["access_state"], "active");
}

#[tokio::test]
async fn revoke_reason_the_administrators_words_and_the_cause_reach_the_key_list() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let grant = keys(&s, &ada, None).await["keys"][0]["grant_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/grants/{grant}/revoke"), Some(json!({ "message": "x".repeat(201) })))
        .await
        .err(422, "invalid_field");
    s.admin(
        "POST",
        &format!("/v1/admin/grants/{grant}/revoke"),
        Some(json!({ "message": "Your lease ended on 30 June" })),
    )
    .await
    .ok();
    let k = &keys(&s, &ada, None).await["keys"][0];
    assert_eq!(k["access_state"], "revoked");
    assert_eq!(k["revoke_reason"], "revoked_by_admin");
    assert_eq!(k["message"], "Your lease ended on 30 June");

    // Revoking all with no body at all still works (operators' scripts), with no words.
    let bob = member(&s, &f, "bob@example.com", &TestPhone::new()).await;
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{}/revoke-all", f.org, person(&bob)), None).await.ok();
    let k = &keys(&s, &bob, None).await["keys"][0];
    assert_eq!(k["revoke_reason"], "revoked_by_admin");
    assert!(k.get("message").is_none_or(Value::is_null));
}

#[tokio::test]
async fn key_edit_a_door_added_reaches_an_incremental_refresh_and_a_door_taken_out_is_listed_there() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let bob = courier(&s, &f).await;
    let old = credentials(&s, &ada).await.remove(0);
    let cursor = keys(&s, &ada, None).await["cursor"].as_i64().unwrap();
    let gym = MemoryLock::trusting(keyway_protocol::ids::DoorId([1, 0, 0, 0, 0, 0, 0, 3]), &f.issuer_public_key);
    let new_door = add_door(
        &s,
        f.facility,
        json!({ "name": "Gym", "lock_id": gym.id_hex(), "lock_public_key": gym.public_key_b64(),
                "lock_signing_public_key": gym.signing_public_key_b64(), "online": false }),
    )
    .await;

    // The back gate leaves the key, the gym joins it.
    s.admin("POST", &format!("/v1/admin/keys/{}", f.key), Some(json!({ "door_ids": [f.online_door, new_door] })))
        .await
        .ok();
    let changed = keys(&s, &ada, Some(cursor)).await;
    let k = &changed["keys"][0];
    let locks: Vec<&str> = k["doors"].as_array().unwrap().iter().map(|d| d["lock_id"].as_str().unwrap()).collect();
    assert_eq!(locks, [f.online_lock.id_hex(), gym.id_hex()]);
    // The back gate refuses her old credential once synced; a new one names the new doors.
    assert!(listed_at(&s, &f, f.offline_door, &bob).await.contains(&id(&old)));
    let new = credentials(&s, &ada).await.remove(0);
    assert_ne!(id(&new), id(&old));
    let bytes = URL_SAFE_NO_PAD.decode(new["credential"].as_str().unwrap()).unwrap();
    let cred = Credential::from_bytes(&bytes).unwrap();
    assert!(cred.body.opens(&gym.door) && cred.body.opens(&f.online_lock.door));
    assert!(!cred.body.opens(&f.offline_lock.door));

    // A key with no doors, or a door of another facility, is refused.
    s.admin("POST", &format!("/v1/admin/keys/{}", f.key), Some(json!({ "door_ids": [] })))
        .await
        .err(422, "invalid_field");
}

#[tokio::test]
async fn key_deleted_shows_as_deleted_and_can_no_longer_be_granted() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, "ada@example.com", &TestPhone::new()).await;
    let bob = courier(&s, &f).await;
    let held = credentials(&s, &ada).await.remove(0);
    s.admin("DELETE", &format!("/v1/admin/keys/{}", f.key), None).await.ok();
    let k = &keys(&s, &ada, None).await["keys"][0];
    assert_eq!(k["access_state"], "revoked");
    assert_eq!(k["revoke_reason"], "key_deleted");
    assert!(listed_at(&s, &f, f.offline_door, &bob).await.contains(&id(&held)));
    s.admin(
        "POST",
        &format!("/v1/admin/people/{}/grants", person(&ada)),
        Some(json!({ "key_id": f.key, "expires_at": s.now() + DAY })),
    )
    .await
    .err(404, "not_found");
    s.admin("DELETE", &format!("/v1/admin/keys/{}", f.key), None).await.err(404, "not_found");
}

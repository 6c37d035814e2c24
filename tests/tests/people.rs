//! Issue 17, the member's own record, end to end: the core through its public API, the
//! real backend over HTTPS, reference locks on the simulated radio.
//!
//! - `invitation_without_keys`: an invitation is not access (seeds 000, 004);
//! - `profile`: names, memberships, "invited by", the NFC card's numbers, offline too;
//! - `delete_account`: the service forgets the person, the phone forgets everything, the
//!   doors' history stays.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::cache::{AccessState, AccountAccess};
use keyway_core::platform::SecureStore as _;
use keyway_core::platform::secret_names::SESSION_SECRET;
use keyway_core::{Error, NameProblem, PersonName};
use keyway_sandbox::secret_scan::sqlite_places;
use keyway_sandbox::world::{DAY, T0, World};
use serde_json::{Value, json};
use std::sync::Arc;

fn name(first: &str, last: &str) -> PersonName {
    PersonName { first_name: first.into(), last_name: last.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_without_keys_shows_no_access_yet_until_the_admin_grants_a_key_and_a_refresh_shows_it() {
    let world = World::start().await;
    let org = world.org("Harbour Gym").await;
    let door = world.door(&org, "Front door", true).await;
    let key = world.key(&org, "Members", std::slice::from_ref(&door)).await;
    world
        .admin(
            "POST",
            "v1/admin/invitations",
            Some(json!({ "facility_id": org.facility, "email": "ana@example.com", "role": "member" })),
        )
        .await;
    // The email does not promise what the invitation does not give.
    let email = world.outbox("ana@example.com", "invitation").await;
    let body = email["body"].as_str().unwrap();
    assert!(!body.contains("gave you door access"), "{body}");
    assert!(body.contains("does not give you door access yet"), "{body}");

    let phone = world.phone();
    let link = phone.keyway.parse_link(email["link"].as_str().unwrap()).unwrap();
    let preview = phone.keyway.preview_invitation(&link).await.unwrap();
    assert!(preview.keys.is_empty());
    assert!(!preview.gives_access, "the screen says: no access yet");
    assert!(preview.name_required, "the invitation carried no name");
    phone.keyway.send_invitation_code(&link).await.unwrap();
    let code = world.code("ana@example.com").await;
    // A blank name is refused on the phone, before anything is sent (the code still works).
    let blank = phone.keyway.accept_invitation_with_name(&link, &code, Some(&name(" ", "Ruiz"))).await;
    assert_eq!(blank, Err(Error::InvalidName { problem: NameProblem::FirstNameMissing }));
    phone.keyway.accept_invitation_with_name(&link, &code, Some(&name("Ana", "Ruiz"))).await.unwrap();

    // What the screens read: the account says "no access yet", there is no key, the door
    // is not one she can open.
    let accounts = phone.keyway.accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].access, AccountAccess::NoAccessYet);
    assert!(phone.keyway.keys().unwrap().is_empty());
    assert_eq!(phone.keyway.access_state(&door.lock_id).unwrap(), AccessState::NoAccess);
    assert_eq!(phone.keyway.unlock(&door.lock_id).await.err(), Some(Error::NoKeyForDoor));

    // The administrator grants a key; a refresh shows it, and the door opens.
    let person = phone.keyway.profile().unwrap().unwrap().person_id;
    world
        .admin(
            "POST",
            &format!("v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": key, "expires_at": T0 + 30 * DAY })),
        )
        .await;
    phone.keyway.refresh().await.unwrap();
    assert_eq!(phone.keyway.accounts().unwrap()[0].access, AccountAccess::HasKeys);
    assert_eq!(phone.keyway.keys().unwrap().len(), 1);
    assert!(matches!(phone.keyway.access_state(&door.lock_id).unwrap(), AccessState::Ready { .. }));
    phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_shows_names_card_numbers_and_memberships_with_invited_by_also_offline_after_a_restart() {
    let world = World::start().await;
    let gym = world.org("Harbour Gym").await;
    let gate = world.door(&gym, "Back gate", false).await;
    let key = world.key(&gym, "Members", &[gate]).await;
    let flats = world.org("Riverside Flats").await;
    // Seed 001, "Without email": the gym records Cora with a card, no email or phone.
    let cora = world
        .admin(
            "POST",
            &format!("v1/admin/orgs/{}/people", gym.id),
            Some(json!({ "first_name": "Cora", "last_name": "Diaz", "role": "member",
                         "card": { "card_id": "77736882", "format": "decimal", "surface_id": "HG-0042" } })),
        )
        .await["person_id"]
        .as_i64()
        .unwrap();
    // Later she is invited by email, with a key; and the flats invite her as a manager.
    world
        .admin(
            "POST",
            "v1/admin/invitations",
            Some(json!({ "facility_id": gym.facility, "email": "cora@example.com", "person_id": cora,
                         "invited_by": "Maria Lopez", "keys": [{ "key_id": key, "expires_at": T0 + 30 * DAY }] })),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keyway.sqlite");
    let store = Arc::new(keyway_core::platform::MemoryStore::new());
    let phone = world.phone_with(Some(cache.clone()), store.clone());
    let link = phone.keyway.parse_link(&world.link("cora@example.com", "invitation").await).unwrap();
    let preview = phone.keyway.preview_invitation(&link).await.unwrap();
    assert!(!preview.name_required, "her record has a name");
    assert_eq!(preview.keys.len(), 1);
    assert_eq!(preview.keys[0].doors, vec!["Back gate".to_owned()]);
    phone.keyway.send_invitation_code(&link).await.unwrap();
    phone.keyway.accept_invitation(&link, &world.code("cora@example.com").await).await.unwrap();
    world
        .admin(
            "POST",
            "v1/admin/invitations",
            Some(json!({ "facility_id": flats.facility, "email": "cora@example.com", "role": "manager" })),
        )
        .await;
    // A minute later (a second code to the same address moments after the first is refused).
    world.advance(60);
    phone.accept_invitation(&world, "cora@example.com").await;

    let p = phone.keyway.profile().unwrap().unwrap();
    assert_eq!(p.person_id, cora);
    assert_eq!((p.first_name.as_deref(), p.last_name.as_deref()), (Some("Cora"), Some("Diaz")));
    assert_eq!(p.email.as_deref(), Some("cora@example.com"));
    let card = p.card.clone().unwrap();
    assert_eq!((card.hex.as_str(), card.decimal.as_str()), ("04A22BB2", "77736882"));
    assert_eq!(card.surface_id.as_deref(), Some("HG-0042"));
    let by_org = |name: &str| p.memberships.iter().find(|m| m.organisation == name).cloned().unwrap();
    let at_gym = by_org("Harbour Gym");
    assert_eq!((at_gym.role.as_str(), at_gym.access), ("member", AccountAccess::HasKeys));
    assert_eq!(at_gym.invited_by.as_deref(), Some("Maria Lopez"));
    let at_flats = by_org("Riverside Flats");
    assert_eq!((at_flats.role.as_str(), at_flats.access), ("manager", AccountAccess::NoAccessYet));
    assert_eq!(at_flats.invited_by, None);

    // She corrects her name; a name with a line break is refused on the phone.
    assert_eq!(
        phone.keyway.update_name(&name("Cora", "Dí\naz")).await.err(),
        Some(Error::InvalidName { problem: NameProblem::ControlCharacters })
    );
    let changed = phone.keyway.update_name(&name("Cora", "Díaz Ortega")).await.unwrap();
    assert_eq!(changed.last_name.as_deref(), Some("Díaz Ortega"));

    // At the front desk, with no network, after the app restarted: the card number shows.
    drop(phone);
    world.stop_backend().await;
    let reopened = world.phone_with(Some(cache), store);
    let offline = reopened.keyway.profile().unwrap().unwrap();
    assert_eq!(offline.card.unwrap().decimal, "77736882");
    assert_eq!(offline.last_name.as_deref(), Some("Díaz Ortega"));
    assert_eq!(offline.memberships.len(), 2);
    assert_eq!(reopened.keyway.refresh().await.err(), Some(Error::Offline));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_account_wipes_the_phone_ends_the_session_and_the_doors_keep_their_history() {
    let world = World::start().await;
    let gym = world.gym().await;
    world
        .admin(
            "POST",
            "v1/admin/invitations",
            Some(json!({ "facility_id": gym.org.facility, "email": "ana@example.com", "first_name": "Ana",
                         "last_name": "Ruiz", "keys": [{ "key_id": gym.key, "expires_at": T0 + 30 * DAY }] })),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keyway.sqlite");
    let store = Arc::new(keyway_core::platform::MemoryStore::new());
    let phone = world.phone_with(Some(cache.clone()), store.clone());
    phone.accept_invitation(&world, "ana@example.com").await;
    // She opens the gate twice (the second time with a fast-unlock ticket), and a door
    // sync hands the lock's log to the service.
    phone.keyway.unlock(&gym.gate.lock_id).await.unwrap();
    assert!(phone.keyway.sync_door(&gym.gate.lock_id).await.unwrap().receipt_delivered);
    phone.keyway.unlock(&gym.gate.lock_id).await.unwrap();
    assert!(store.names().iter().any(|n| n.starts_with("ticket/")), "a ticket is held");
    let session: Value = serde_json::from_slice(&store.get(SESSION_SECRET).unwrap().unwrap()).unwrap();

    // A thief with her tokens but not her device key cannot delete her account.
    let thief_store = Arc::new(keyway_core::platform::MemoryStore::new());
    thief_store.set(SESSION_SECRET, &store.get(SESSION_SECRET).unwrap().unwrap()).unwrap();
    let thief = world.phone_with(None, thief_store);
    assert_eq!(thief.keyway.delete_account().await.err(), Some(Error::DeviceKeyUnavailable));
    phone.keyway.refresh().await.unwrap();
    assert_eq!(phone.keyway.keys().unwrap().len(), 1, "her account is untouched");

    phone.keyway.delete_account().await.unwrap();

    // The phone holds nothing of hers: no secret, no cached row, nothing in the file.
    assert_eq!(store.names(), Vec::<String>::new());
    assert_eq!(phone.keyway.session_state(), keyway_core::listeners::SessionState::SignedOut);
    assert!(phone.keyway.profile().unwrap().is_none());
    assert!(phone.keyway.keys().unwrap().is_empty() && phone.keyway.accounts().unwrap().is_empty());
    for place in sqlite_places(&cache) {
        if place.what.starts_with("table ") {
            assert!(place.bytes.is_empty(), "{} still holds rows", place.what);
        }
        let text = String::from_utf8_lossy(&place.bytes);
        assert!(!text.contains("ana@example.com") && !text.contains("Ruiz"), "{} keeps her data", place.what);
    }
    // The old refresh token is refused; her address signs in to nothing (no code is sent).
    let (status, answer) =
        world.admin_call("POST", "v1/auth/refresh", Some(json!({ "refresh_token": session["refresh_token"] }))).await;
    assert_eq!(status, 401, "{answer}");
    let again = world.phone();
    again.keyway.start_sign_in("ana@example.com").await.unwrap();
    let outbox = world.admin("GET", "v1/admin/outbox?to=ana@example.com", None).await;
    assert_eq!(outbox, json!([]), "no code, and no message to her is kept");
    // The service lists her nowhere; the gate's history is whole, under her credential id.
    let people = world.admin("GET", &format!("v1/admin/orgs/{}/people", gym.org.id), None).await;
    assert_eq!(people, json!([]));
    let events = world.admin("GET", &format!("v1/admin/doors/{}/events?limit=100", gym.gate.backend_id), None).await;
    assert!(events.as_array().unwrap().iter().any(|e| e["credential_id"].is_string()), "{events}");
    assert_eq!(world.audit_check(&gym.gate).await.lost, 0);
}

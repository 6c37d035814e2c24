//! The member journeys, end to end: the core through its public API, the real backend
//! over HTTP on loopback, reference locks on the simulated radio.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::ble::UnlockPath;
use keyway_core::cache::AccessState;
use keyway_core::{Error, Keyway};
use keyway_sandbox::world::{DAY, Gym, HOUR, T0, World};

fn unlock_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    match result {
        Err(e) => e,
        Ok(other) => panic!("expected an unlock error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invited_member_with_a_key_starting_tomorrow_opens_the_door_offline_once_it_starts() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, Some(T0 + DAY), T0 + 30 * DAY).await;

    let phone = world.phone();
    let link = phone.keyway.parse_link(&world.link("ana@example.com", "invitation").await).unwrap();
    let preview = phone.keyway.preview_invitation(&link).await.unwrap();
    assert_eq!(preview.organisation, "Harbour Gym");
    assert_eq!(preview.facility, "Harbour Gym");
    assert_eq!(preview.role, "member");
    assert_eq!(preview.sign_in_address, "ana@example.com");
    assert_eq!(preview.access_start, keyway_core::Timestamp(T0 + DAY));
    phone.keyway.send_invitation_code(&link).await.unwrap();
    phone.keyway.accept_invitation(&link, &world.code("ana@example.com").await).await.unwrap();

    // The key and a credential for tomorrow are on the phone.
    assert_eq!(phone.keyway.keys().unwrap().len(), 1);
    assert_eq!(
        phone.keyway.access_state(&door.lock_id).unwrap(),
        AccessState::StartsAt { starts_at: keyway_core::Timestamp(T0 + DAY) }
    );
    let refused = unlock_error(phone.keyway.unlock(&door.lock_id).await);
    assert_eq!(refused, Error::KeyNotYetValid { starts_at: keyway_core::Timestamp(T0 + DAY) });
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 0);

    // Tomorrow, with no service at all.
    world.stop_backend().await;
    world.set_time(T0 + DAY + HOUR);
    assert!(matches!(phone.keyway.access_state(&door.lock_id).unwrap(), AccessState::Ready { .. }));
    let opened = phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(opened.path, UnlockPath::Standard);
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);
    // The second visit uses the ticket from the first.
    let again = phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(again.path, UnlockPath::Fast);
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_only_member_signs_in_with_an_sms_code_and_unlocks() {
    let world = World::start().await;
    let org = world.org("Riverside Flats").await;
    let door = world.door(&org, "Lobby", true).await;
    let key = world.key(&org, "Residents", &[door]).await;
    world.phone_only_member(&org, "+447700900123", key, T0 + 30 * DAY).await;

    let phone = world.phone();
    let flow = phone.keyway.start_sign_in("+44 7700 900123").await.unwrap();
    assert_eq!(flow.code_sent().channel, keyway_core::CodeChannel::Sms);
    let code = world.code("+447700900123").await;
    flow.verify(&code).await.unwrap();

    let opened = phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(opened.path, UnlockPath::Standard);
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_opens_inside_the_window_not_outside_and_not_after_the_member_is_revoked_and_the_door_synced() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    let ana_invite = world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    world.invite(&org, "cy@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let cy = world.phone();
    cy.accept_invitation(&world, "cy@example.com").await;

    // Ana shares the back gate with Ben from 10:00 to 12:00.
    let grant = ana.keyway.keys().unwrap()[0].grant_id;
    let share = ana
        .keyway
        .share_key(grant, &[door.lock_id], Some(T0 + 2 * HOUR), T0 + 4 * HOUR, "ben@example.com")
        .await
        .unwrap();
    assert!(share.delivered);
    let ben = world.phone();
    let link = ben.keyway.parse_link(&world.link("ben@example.com", "share").await).unwrap();
    ben.sign_in(&world, "ben@example.com").await;
    ben.keyway.redeem_share(&link).await.unwrap();
    let guest_key = ben.keyway.keys().unwrap();
    assert!(guest_key[0].guest);

    // Too early, then inside the window.
    let early = unlock_error(ben.keyway.unlock(&door.lock_id).await);
    assert_eq!(early, Error::KeyNotYetValid { starts_at: keyway_core::Timestamp(T0 + 2 * HOUR) });
    world.set_time(T0 + 2 * HOUR + 60);
    ben.keyway.unlock(&door.lock_id).await.unwrap();

    // Still inside the window, Ana is revoked. Ben's phone is offline and keeps its
    // credential; the lock refuses him once Cy's unlock has carried the revocation to the door.
    world.set_time(T0 + 3 * HOUR);
    world.revoke_all(&org, ana_invite.person_id).await;
    cy.keyway.refresh().await.unwrap();
    let carried = cy.keyway.unlock(&door.lock_id).await.unwrap();
    assert!(carried.sync.is_some(), "Cy's unlock carries the bundle");
    let refused = unlock_error(ben.keyway.unlock(&door.lock_id).await);
    assert_eq!(refused, Error::KeyRevoked);

    // After the window, the phone itself says the key has ended. (Clocks only move
    // forward here: a lock does not follow its clock back, docs/protocol.md §6.4.)
    world.set_time(T0 + 4 * HOUR + 60);
    assert!(matches!(unlock_error(ben.keyway.unlock(&door.lock_id).await), Error::KeyExpired { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sign_in_brings_keys_from_two_accounts_and_opens_doors_of_both() {
    let world = World::start().await;
    let gym = world.org("Harbour Gym").await;
    let office = world.org("Quay Offices").await;
    let gate = world.door(&gym, "Back gate", false).await;
    let suite = world.door(&office, "Suite 4", true).await;
    let gym_key = world.key(&gym, "Members", &[gate]).await;
    let office_key = world.key(&office, "Tenants", &[suite]).await;
    world.invite(&gym, "ana@example.com", gym_key, None, T0 + 30 * DAY).await;
    world.invite(&office, "ana@example.com", office_key, None, T0 + 30 * DAY).await;

    let phone = world.phone();
    phone.accept_invitation(&world, "ana@example.com").await;

    let accounts: Vec<String> = phone.keyway.accounts().unwrap().into_iter().map(|a| a.organisation).collect();
    assert_eq!(accounts, vec!["Harbour Gym".to_owned(), "Quay Offices".to_owned()]);
    assert_eq!(phone.keyway.keys().unwrap().len(), 2);
    phone.keyway.unlock(&gate.lock_id).await.unwrap();
    phone.keyway.unlock(&suite.lock_id).await.unwrap();
    assert_eq!(world.with_lock(&gate, |l| l.actuations()), 1);
    assert_eq!(world.with_lock(&suite, |l| l.actuations()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_courier_carries_a_revocation_to_an_offline_door_and_the_revoked_member_is_refused() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let bob_invite = world.invite(&org, "bob@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let bob = world.phone();
    bob.accept_invitation(&world, "bob@example.com").await;
    bob.keyway.unlock(&door.lock_id).await.unwrap();

    world.revoke_all(&org, bob_invite.person_id).await;
    ana.keyway.refresh().await.unwrap();
    let outcome = ana.keyway.unlock(&door.lock_id).await.unwrap();
    let carried = outcome.sync.expect("the bundle went over");
    assert_eq!(carried.applied, Ok(()));

    // The receipt reaches the backend (uploaded in the background; make sure it went).
    ana.keyway.upload_receipts().await.unwrap();
    let pending = world.admin("GET", &format!("v1/admin/door-sync/pending?org_id={}", org.id), None).await;
    assert!(pending.as_array().unwrap().is_empty(), "the door shows synced: {pending}");
    assert!(ana.keyway.doors().unwrap().iter().all(|d| !d.sync_pending));

    // Bob's phone never heard about it, but the lock has.
    let refused = unlock_error(bob.keyway.unlock(&door.lock_id).await);
    assert_eq!(refused, Error::KeyRevoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dead_invitation_reaches_the_app_as_its_own_error() {
    let world = World::start().await;
    let Gym { org, key, .. } = world.gym().await;
    let phone = world.phone();

    // Superseded: the admin resent it; the first link is dead.
    let invitation = world.invite(&org, "old@example.com", key, None, T0 + 30 * DAY).await;
    let first = phone.keyway.parse_link(&world.link("old@example.com", "invitation").await).unwrap();
    world.admin("POST", &format!("v1/admin/invitations/{}/resend", invitation.id), None).await;
    assert_eq!(phone.keyway.preview_invitation(&first).await, Err(Error::InvitationSuperseded));

    // Cancelled.
    let invitation = world.invite(&org, "cancel@example.com", key, None, T0 + 30 * DAY).await;
    let link = phone.keyway.parse_link(&world.link("cancel@example.com", "invitation").await).unwrap();
    world.admin("POST", &format!("v1/admin/invitations/{}/cancel", invitation.id), None).await;
    assert_eq!(phone.keyway.preview_invitation(&link).await, Err(Error::InvitationCancelled));

    // Already used.
    world.member(&org, "used@example.com", key).await;
    let link = phone.keyway.parse_link(&world.link("used@example.com", "invitation").await).unwrap();
    assert_eq!(phone.keyway.preview_invitation(&link).await, Err(Error::InvitationAlreadyUsed));

    // Expired: 24 hours and a second later.
    world.invite(&org, "late@example.com", key, None, T0 + 30 * DAY).await;
    let link = phone.keyway.parse_link(&world.link("late@example.com", "invitation").await).unwrap();
    world.advance(DAY + 1);
    assert_eq!(phone.keyway.preview_invitation(&link).await, Err(Error::InvitationExpired));

    // And a link from elsewhere never reaches the service.
    assert!(matches!(
        phone.keyway.parse_link("https://evil.example/invite/AAAAAAAAAAAAAAAAAAAAAAAA"),
        Err(Error::InvalidLink { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_with_an_expired_access_token_make_one_refresh() {
    let world = World::start().await;
    let Gym { org, key, .. } = world.gym().await;
    let phone = world.member(&org, "ana@example.com", key).await;
    let before = phone.keyway.refresh_count();

    world.advance(HOUR); // access tokens live 15 minutes
    let calls = (0..50).map(|_| {
        let keyway: Keyway = phone.keyway.clone();
        tokio::spawn(async move { keyway.refresh().await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(phone.keyway.refresh_count() - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_app_still_opens_the_door_offline() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keyway.sqlite");
    let store = std::sync::Arc::new(keyway_core::platform::MemoryStore::new());
    {
        let phone = world.phone_with(Some(cache.clone()), store.clone());
        phone.accept_invitation(&world, "ana@example.com").await;
        phone.keyway.unlock(&door.lock_id).await.unwrap();
    }
    world.stop_backend().await;
    let phone = world.phone_with(Some(cache), store);
    assert_eq!(phone.keyway.session_state(), keyway_core::listeners::SessionState::SignedIn);
    let opened = phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(opened.path, UnlockPath::Fast, "the ticket survived the restart in the secure store");
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_removes_every_secret_and_every_cached_key() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    let phone = world.member(&org, "ana@example.com", key).await;
    phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert!(!phone.store.names().is_empty());

    phone.keyway.sign_out().await.unwrap();

    assert!(phone.store.names().is_empty(), "left behind: {:?}", phone.store.names());
    assert!(phone.keyway.keys().unwrap().is_empty());
    assert!(phone.keyway.doors().unwrap().is_empty());
    assert_eq!(phone.keyway.unlock(&door.lock_id).await.err(), Some(Error::NoKeyForDoor));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_person_signing_in_on_the_same_phone_gets_none_of_the_previous_keys() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let office = world.org("Quay Offices").await;
    let suite = world.door(&office, "Suite 4", true).await;
    let office_key = world.key(&office, "Tenants", &[suite]).await;
    world.invite(&office, "dee@example.com", office_key, None, T0 + 30 * DAY).await;
    let phone = world.phone();
    phone.accept_invitation(&world, "ana@example.com").await;
    phone.keyway.unlock(&door.lock_id).await.unwrap();

    // Ana's session ends without a sign-out (the admin could revoke it); Dee signs in.
    phone.accept_invitation(&world, "dee@example.com").await;

    let doors: Vec<_> = phone.keyway.doors().unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(doors, vec![suite.lock_id]);
    assert_eq!(phone.keyway.unlock(&door.lock_id).await.err(), Some(Error::NoKeyForDoor));
    assert!(!phone.store.names().iter().any(|n| n.starts_with("ticket/")), "Ana's ticket is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_at_the_backend_too() {
    let world = World::start().await;
    let Gym { org, key, .. } = world.gym().await;
    let phone = world.member(&org, "ana@example.com", key).await;
    let session = keyway_core::platform::SecureStore::get(
        phone.store.as_ref(),
        keyway_core::platform::secret_names::SESSION_SECRET,
    )
    .unwrap()
    .unwrap();
    let refresh_token = serde_json::from_slice::<serde_json::Value>(&session).unwrap()["refresh_token"].clone();

    phone.keyway.sign_out().await.unwrap();

    let (status, body) =
        world.admin_call("POST", "v1/auth/refresh", Some(serde_json::json!({ "refresh_token": refresh_token }))).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_whose_clock_runs_an_hour_ahead_does_not_refresh_on_every_call() {
    let world = World::start().await;
    let Gym { org, key, .. } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let phone = world.phone();
    phone.clock.set(world.now() + HOUR);
    phone.accept_invitation(&world, "ana@example.com").await;
    let before = phone.keyway.refresh_count();
    for _ in 0..3 {
        phone.keyway.refresh().await.unwrap();
    }
    assert_eq!(phone.keyway.refresh_count(), before, "the access token is still fresh by the phone's own clock");
    // Twenty minutes later by every clock, one refresh, then none.
    phone.clock.advance(20 * 60);
    world.advance(20 * 60);
    phone.clock.set(world.now() + HOUR);
    phone.keyway.refresh().await.unwrap();
    phone.keyway.refresh().await.unwrap();
    assert_eq!(phone.keyway.refresh_count(), before + 1);
}

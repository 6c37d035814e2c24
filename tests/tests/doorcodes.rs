//! Daily doorcodes, end to end: an administrator lets a member's key carry a doorcode,
//! the member's app shows today's code (computed by the real backend from the secret the
//! reference lock registered when it was fitted), the code opens the offline door on its
//! keypad once the door has been synced, and a revoked person's code is refused after the
//! door's next sync — not before (seed 004's FAQ).
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::Error;
use keyway_lock::keypad::KeypadOutcome;
use keyway_sandbox::world::{DAY, DoorHandle, Gym, HOUR, T0, World};
use serde_json::json;

/// Types `code` and `#` on the door's keypad.
fn type_code(world: &World, door: &DoorHandle, code: &str) -> KeypadOutcome {
    let keys = format!("{code}#");
    world.with_lock(door, |lock| lock.keypad(keys.as_bytes())).unwrap()
}

async fn enable_doorcode(world: &World, grant_id: i64) -> serde_json::Value {
    world.admin("POST", &format!("v1/admin/grants/{grant_id}/doorcode"), Some(json!({ "enabled": true }))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doorcode_opens_the_offline_door_and_a_revoked_persons_code_is_refused_after_the_next_sync() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let cleo_invite = world.invite(&org, "cleo@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let cleo = world.phone();
    cleo.accept_invitation(&world, "cleo@example.com").await;

    // No doorcode until the administrator lets Cleo's key carry one.
    assert_eq!(cleo.keyway.doorcode(&door.lock_id).await.unwrap_err(), Error::NoDoorcode);
    assert!(cleo.keyway.doorcodes().await.unwrap().is_empty());
    let grant_id = cleo.keyway.keys().unwrap()[0].grant_id;
    let enabled = enable_doorcode(&world, grant_id).await;
    assert_eq!(enabled["enabled"], true);
    assert!(enabled["slot"].as_i64().unwrap() >= 1);

    let code = cleo.keyway.doorcode(&door.lock_id).await.unwrap();
    assert_eq!(code.door_name, "Back gate");
    assert_eq!(code.code.len(), 8);
    assert!(code.valid_from.unix() <= world.now() && world.now() < code.valid_until.unix());
    assert!(code.valid_until.unix() - code.valid_from.unix() <= DAY, "a code lives one day at most");
    assert!(code.sync_pending, "the lock has not heard of Cleo's doorcode yet");
    // Before a sync the lock does not know Cleo's slot: her code is a wrong code there.
    assert!(matches!(type_code(&world, &door, &code.code), KeypadOutcome::WrongCode { .. }));

    // Ana's phone picks up the door's newest bundle and her unlock carries it; from then
    // on Cleo's code opens the door offline.
    ana.keyway.refresh().await.unwrap();
    let outcome = ana.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(outcome.sync.expect("the bundle went over").applied, Ok(()));
    let before = world.with_lock(&door, |l| l.actuations());
    assert!(matches!(type_code(&world, &door, &code.code), KeypadOutcome::Opened { .. }));
    assert_eq!(world.with_lock(&door, |l| l.actuations()), before + 1);

    // Cleo is revoked. Her app shows no code any more at once...
    world.revoke_all(&org, cleo_invite.person_id).await;
    assert!(cleo.keyway.doorcodes().await.unwrap().is_empty());
    // ...but the offline lock has not heard yet: the code she wrote down still opens it.
    assert!(matches!(type_code(&world, &door, &code.code), KeypadOutcome::Opened { .. }));

    // Ana's next unlock carries the change; the lock refuses Cleo's code from then on.
    ana.keyway.refresh().await.unwrap();
    let outcome = ana.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(outcome.sync.expect("the revocation went over").applied, Ok(()));
    assert!(matches!(type_code(&world, &door, &code.code), KeypadOutcome::WrongCode { .. }));

    // The lock's record of the keypad reaches the backend's door history.
    ana.keyway.upload_receipts().await.unwrap();
    let events = world.admin("GET", &format!("v1/admin/doors/{}/events?limit=1000", door.backend_id), None).await;
    let kinds: Vec<&str> = events.as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "doorcode_granted").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"doorcode_wrong"), "{kinds:?}");
    assert_eq!(world.audit_check(&door).await.lost, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doorcode_fetched_today_still_shows_offline_until_its_day_ends() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    let ana = world.member(&org, "ana@example.com", key).await;
    enable_doorcode(&world, ana.keyway.keys().unwrap()[0].grant_id).await;
    let online = ana.keyway.doorcode(&door.lock_id).await.unwrap();

    world.stop_backend().await;
    let offline = ana.keyway.doorcode(&door.lock_id).await.unwrap();
    assert_eq!(offline, online);
    // Tomorrow the code kept from yesterday is dead: the app says it needs the network.
    world.set_time(online.valid_until.unix() + HOUR);
    assert_eq!(ana.keyway.doorcodes().await.unwrap_err(), Error::Offline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tomorrows_doorcode_is_another_and_yesterdays_no_longer_opens() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    let ana = world.member(&org, "ana@example.com", key).await;
    enable_doorcode(&world, ana.keyway.keys().unwrap()[0].grant_id).await;
    ana.keyway.sync_door(&door.lock_id).await.unwrap();
    let today = ana.keyway.doorcode(&door.lock_id).await.unwrap();
    assert!(matches!(type_code(&world, &door, &today.code), KeypadOutcome::Opened { .. }));

    world.set_time(today.valid_until.unix() + HOUR);
    let tomorrow = ana.keyway.doorcode(&door.lock_id).await.unwrap();
    assert_ne!(tomorrow.code, today.code);
    assert!(matches!(type_code(&world, &door, &today.code), KeypadOutcome::WrongCode { .. }));
    assert!(matches!(type_code(&world, &door, &tomorrow.code), KeypadOutcome::Opened { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_key_carries_no_doorcode_gets_none() {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    let ana = world.member(&org, "ana@example.com", key).await;
    assert_eq!(ana.keyway.doorcode(&door.lock_id).await.unwrap_err(), Error::NoDoorcode);
    let unknown = world.admin_call("POST", "v1/admin/grants/999999/doorcode", Some(json!({ "enabled": true }))).await;
    assert_eq!(unknown.0, 404);
}

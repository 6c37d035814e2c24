//! Issue 18, `push_` and `background_refresh`, end to end through the core: a phone
//! registers its push token with the real backend; an administrator's change queues a
//! silent push for it; the push, as the device receives it, goes to `handle_push`, which
//! refreshes — the new key is on the phone before the member opens the app. (The backend's
//! own tests deliver the same pushes through APNs and FCM stand-ins: backend/tests/push.rs.)
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::{Error, PushOutcome, PushPlatform};
use keyway_sandbox::world::{DAY, Gym, T0, World};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_a_key_granted_while_the_app_sleeps_is_on_the_phone_after_the_silent_push() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let ana_invite = world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let token = "a1".repeat(32);
    ana.keyway.register_push_token(PushPlatform::Apns, &token).await.unwrap();
    assert!(world.take_pushes().await.is_empty(), "registering alone sends nothing");

    // The administrator gives Ana a second key for the gate.
    let second = world.key(&org, "Night access", std::slice::from_ref(&gate)).await;
    world
        .admin(
            "POST",
            &format!("v1/admin/people/{}/grants", ana_invite.person_id),
            Some(json!({ "key_id": second, "expires_at": T0 + 10 * DAY, "shareable": false })),
        )
        .await;
    let pushes = world.take_pushes().await;
    assert_eq!(pushes.len(), 1, "one silent push for Ana's one device");
    let (to, payload) = &pushes[0];
    assert_eq!(to, &token);

    // The phone wakes with it: the key is there, with its credential, without opening the app.
    assert_eq!(ana.keyway.keys().unwrap().len(), 1);
    let outcome = ana.keyway.handle_push(payload).await.unwrap();
    let PushOutcome::Refreshed { summary } = outcome else { panic!("a Keyway push refreshes: {outcome:?}") };
    assert_eq!(summary.keys_changed, 1);
    let names: Vec<String> = ana.keyway.keys().unwrap().into_iter().map(|k| k.name).collect();
    assert!(names.contains(&"Night access".to_owned()), "{names:?}");
    assert!(summary.credentials_renewed >= 1, "the new key's credential came too: {summary:?}");

    // Other apps' pushes are left alone; what is not a push's JSON is a typed error.
    let other = json!({ "aps": { "alert": "Your parcel is at the front desk" } }).to_string();
    assert_eq!(ana.keyway.handle_push(&other).await.unwrap(), PushOutcome::NotKeyway);
    assert_eq!(ana.keyway.handle_push("{keyway: 1").await, Err(Error::PushNotUnderstood));

    // Turned off: the next change wakes nothing.
    ana.keyway.forget_push_token().await.unwrap();
    world.revoke_all(&org, ana_invite.person_id).await;
    assert!(world.take_pushes().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_a_revocation_reaches_the_revoked_phone_and_asks_another_members_phone_to_carry_the_update() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let ana_invite = world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    world.invite(&org, "cy@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let cy = world.phone();
    cy.accept_invitation(&world, "cy@example.com").await;
    ana.keyway.register_push_token(PushPlatform::Fcm, "fcm-token-of-ana-0123456789").await.unwrap();
    cy.keyway.register_push_token(PushPlatform::Fcm, "fcm-token-of-cy-0123456789").await.unwrap();

    world.revoke_all(&org, ana_invite.person_id).await;
    let mut pushes = world.take_pushes().await;
    pushes.sort();
    assert_eq!(pushes.len(), 2, "{pushes:?}");

    // Ana's phone learns at once that her key is revoked.
    let (_, to_ana) = pushes.iter().find(|(t, _)| t.contains("ana")).unwrap();
    assert!(matches!(ana.keyway.handle_push(to_ana).await.unwrap(), PushOutcome::Refreshed { .. }));
    assert!(ana.keyway.keys().unwrap().iter().all(|k| k.is_revoked()));
    // Cy's phone fetches the gate's update in the background, so Cy's next unlock carries
    // it to the offline gate, which then refuses Ana.
    let (_, to_cy) = pushes.iter().find(|(t, _)| t.contains("cy")).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(to_cy).unwrap()["reason"], "door_sync");
    let PushOutcome::Refreshed { summary } = cy.keyway.handle_push(to_cy).await.unwrap() else { panic!() };
    assert!(summary.updates_fetched >= 1, "{summary:?}");
    world.stop_backend().await;
    assert!(cy.keyway.unlock(&gate.lock_id).await.unwrap().sync.is_some(), "Cy's unlock, offline, carries the update");
    assert!(ana.keyway.unlock(&gate.lock_id).await.is_err());
}

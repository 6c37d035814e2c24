//! What the app shows, and what the door does, when an administrator suspends a person,
//! edits or deletes a key, or revokes with words for the holder (issue 17:
//! `access_suspended`, `revoke_reason`): the core against the real backend and a
//! reference lock on the simulated radio.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::Error;
use keyway_core::cache::{AccessState, AccountAccess, KeyStatus, RevokeReason};
use keyway_sandbox::world::{DAY, Gym, T0, World};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_suspended_the_app_says_suspended_the_synced_door_refuses_and_access_returns_without_an_invitation() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let ana_invite = world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    world.invite(&org, "cy@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let cy = world.phone();
    cy.accept_invitation(&world, "cy@example.com").await;
    ana.keyway.unlock(&gate.lock_id).await.unwrap();

    world.set_access(&org, ana_invite.person_id, false, Some("Rent overdue: see the front desk")).await;

    // Ana's phone has not heard yet; Cy's unlock carries the change to the offline gate,
    // which then refuses the credential Ana still holds.
    cy.keyway.refresh().await.unwrap();
    assert!(cy.keyway.unlock(&gate.lock_id).await.unwrap().sync.is_some(), "Cy's unlock carries the bundle");
    // Her phone does not know why yet, so it reads the lock's refusal as a revocation.
    assert_eq!(ana.keyway.unlock(&gate.lock_id).await.unwrap_err(), Error::KeyRevoked);

    // Once online, Ana's app says suspended, with the administrator's words, not revoked.
    ana.keyway.refresh().await.unwrap();
    let status = ana.keyway.keys().unwrap()[0].status.clone();
    assert_eq!(status, KeyStatus::Suspended { message: Some("Rent overdue: see the front desk".into()) });
    assert_eq!(ana.keyway.access_state(&gate.lock_id).unwrap(), AccessState::Suspended);
    assert_eq!(ana.keyway.unlock(&gate.lock_id).await.unwrap_err(), Error::AccessSuspended);
    // The account screen says so too.
    assert_eq!(ana.keyway.accounts().unwrap()[0].access, AccountAccess::Suspended);

    // Access back on: one refresh and the gate opens again, with no new invitation.
    world.set_access(&org, ana_invite.person_id, true, None).await;
    ana.keyway.refresh().await.unwrap();
    assert_eq!(ana.keyway.keys().unwrap()[0].status, KeyStatus::Active);
    assert_eq!(ana.keyway.accounts().unwrap()[0].access, AccountAccess::HasKeys);
    assert!(matches!(ana.keyway.access_state(&gate.lock_id).unwrap(), AccessState::Ready { .. }));
    ana.keyway.unlock(&gate.lock_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_edit_a_door_added_to_a_key_appears_after_a_refresh_and_opens() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let ana = world.member(&org, "ana@example.com", key).await;
    let studio = world.door(&org, "Studio", false).await;
    assert_eq!(ana.keyway.access_state(&studio.lock_id).unwrap(), AccessState::NoAccess);

    world
        .admin(
            "POST",
            &format!("v1/admin/keys/{key}"),
            Some(json!({ "door_ids": [gate.backend_id, studio.backend_id] })),
        )
        .await;
    let summary = ana.keyway.refresh().await.unwrap();
    assert_eq!(summary.keys_changed, 1);
    assert_eq!(summary.credentials_renewed, 1, "the held credential named only the gate");
    assert!(ana.keyway.keys().unwrap()[0].doors.contains(&studio.lock_id));
    ana.keyway.unlock(&studio.lock_id).await.unwrap();
    ana.keyway.unlock(&gate.lock_id).await.unwrap();

    // The gate taken out again: after a refresh the app no longer offers it.
    world.admin("POST", &format!("v1/admin/keys/{key}"), Some(json!({ "door_ids": [studio.backend_id] }))).await;
    ana.keyway.refresh().await.unwrap();
    assert_eq!(ana.keyway.access_state(&gate.lock_id).unwrap(), AccessState::NoAccess);
    ana.keyway.unlock(&studio.lock_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_reason_the_administrators_words_and_a_deleted_key_read_differently_in_the_app() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let spare = world.key(&org, "Spare", &[gate]).await;
    let ana = world.member(&org, "ana@example.com", key).await;
    let person =
        world.admin("GET", &format!("v1/admin/orgs/{}/people", org.id), None).await[0]["person_id"].as_i64().unwrap();
    world
        .admin(
            "POST",
            &format!("v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": spare, "expires_at": T0 + DAY })),
        )
        .await;
    ana.keyway.refresh().await.unwrap();
    let keys = ana.keyway.keys().unwrap();
    let (member, spare_grant) = (keys[0].grant_id, keys[1].grant_id);

    world
        .admin(
            "POST",
            &format!("v1/admin/grants/{member}/revoke"),
            Some(json!({ "message": "Your lease ended on 30 June" })),
        )
        .await;
    world.admin("DELETE", &format!("v1/admin/keys/{spare}"), None).await;
    ana.keyway.refresh().await.unwrap();
    let keys = ana.keyway.keys().unwrap();
    let status = |grant: i64| keys.iter().find(|k| k.grant_id == grant).unwrap().status.clone();
    assert_eq!(
        status(member),
        KeyStatus::Revoked {
            reason: RevokeReason::ByAdministrator,
            message: Some("Your lease ended on 30 June".into())
        }
    );
    assert_eq!(status(spare_grant), KeyStatus::Revoked { reason: RevokeReason::KeyDeleted, message: None });
    assert_eq!(ana.keyway.access_state(&gate.lock_id).unwrap(), AccessState::Revoked);
}

//! A lock whose clock ran a year ahead (issue 16, `rtc_jump`), end to end: the member's
//! unlock is refused because every key looks expired to the lock; the phone fetches a
//! clock reset the backend signs for that door and the nonce the lock advertises, carries
//! it to the lock, and the door opens — all in one tap. Offline, the member is told that
//! the door's clock is wrong and to go online.
//!
//! A reset back leaves the lock waiting for a full bundle (revocations it dropped while
//! its clock was ahead must come back): the phone that repairs it carries one in the same
//! tap, and a door sync gives one to a lock still waiting, so a member revoked meanwhile
//! stays out.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyway_core::Error;
use keyway_core::error::LockRefusal;
use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, SeededRandom};
use keyway_protocol::clock_reset::ClockReset;
use keyway_protocol::receipt::AuditKind;
use keyway_protocol::testkit::TestDoor as _;
use keyway_sandbox::world::{DAY, DoorHandle, Gym, Org, Phone, T0, World};
use serde_json::json;

const YEAR: u32 = 365 * DAY;

/// A member of Harbour Gym, and its gate, whose lock's clock floor ran a year ahead: its
/// RTC read a year ahead when it started (a start-up reading cannot be checked against
/// anything), the lock saved that time, then the RTC was right again.
async fn member_at_a_door_whose_clock_ran_a_year_ahead() -> (World, DoorHandle, Phone) {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let phone = world.member(&org, "ana@example.com", key).await;
    run_the_locks_clock_a_year_ahead(&world, &gate);
    (world, gate, phone)
}

/// The gate's lock restarts with an RTC reading a year ahead, saves that time as its
/// floor, and restarts again with the RTC right: the floor stays a year ahead.
fn run_the_locks_clock_a_year_ahead(world: &World, gate: &DoorHandle) {
    let now = world.now();
    let rtc = ManualRtc::new(now + YEAR);
    let storage = MemoryStorage::new();
    let options = |seed| LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(seed)) };
    world.with_lock(gate, |lock| {
        // The lock's state, moved to a storage of our own, then started with the bad RTC.
        drop(lock.fork(Box::new(storage.clone())).unwrap());
        let mut ahead = Lock::open(Box::new(storage.clone()), options(11)).unwrap();
        ahead.flush().unwrap();
        drop(ahead);
        rtc.jump(now);
        *lock = Lock::open(Box::new(storage.clone()), options(12)).unwrap();
        assert!(lock.now() >= T0 + YEAR, "the floor stays a year ahead though the RTC is right");
    });
}

/// Harbour Gym with Ana and Bob, whose gate's lock already runs a bundle the backend knows
/// about (Ana carried it and its receipt), so later bundles are deltas from it.
struct TwoMembers {
    world: World,
    org: Org,
    gate: DoorHandle,
    ana: Phone,
    bob: Phone,
    bob_person: i64,
}

async fn two_members_at_a_synced_gate() -> TwoMembers {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let bob_invite = world.invite(&org, "bob@example.com", key, None, T0 + 30 * DAY).await;
    let cleo_invite = world.invite(&org, "cleo@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    let bob = world.phone();
    bob.accept_invitation(&world, "bob@example.com").await;
    let cleo = world.phone();
    cleo.accept_invitation(&world, "cleo@example.com").await;
    world.revoke_all(&org, cleo_invite.person_id).await;
    ana.keyway.refresh().await.unwrap();
    let synced = ana.keyway.sync_door(&gate.lock_id).await.unwrap();
    assert!(synced.receipt_delivered && synced.lock_version >= 1, "{synced:?}");
    TwoMembers { world, org, gate, ana, bob, bob_person: bob_invite.person_id }
}

/// Someone carried an administrator's reset to the gate's lock and went no further: the
/// lock's clock is back and it waits for a full bundle.
async fn reset_back_by_a_phone_that_went_no_further(world: &World, gate: &DoorHandle) {
    let nonce = world.with_lock(gate, |lock| lock.advertisement().nonce);
    let signed = world
        .admin(
            "POST",
            &format!("v1/admin/doors/{}/clock-reset", gate.backend_id),
            Some(json!({ "nonce": nonce.to_hex() })),
        )
        .await;
    let reset = ClockReset::from_bytes(&URL_SAFE_NO_PAD.decode(signed["reset"].as_str().unwrap()).unwrap()).unwrap();
    world.with_lock(gate, |lock| {
        lock.deliver(&reset.to_message());
        assert!(lock.now() < T0 + DAY, "the lock's clock is back");
        assert!(lock.needs_full_bundle(), "a reset back leaves the lock waiting for a full bundle");
    });
}

/// Bob, revoked, taps at the gate from a phone that never heard of it: the lock refuses.
async fn bob_stays_out(bob: &Phone, gate: &DoorHandle) {
    match bob.keyway.unlock(&gate.lock_id).await {
        Err(Error::KeyRevoked) => {}
        other => panic!("Bob was revoked and must stay out, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtc_jump_a_member_revoked_while_the_doors_clock_was_wrong_stays_out_once_it_is_repaired() {
    let TwoMembers { world, org, gate, ana, bob, bob_person } = two_members_at_a_synced_gate().await;
    run_the_locks_clock_a_year_ahead(&world, &gate);
    // Bob is revoked while no key can reach the lock; Ana's phone fetches the update (a
    // delta from the version the lock runs). Bob's phone never hears of it.
    world.revoke_all(&org, bob_person).await;
    ana.keyway.refresh().await.unwrap();

    ana.keyway.unlock(&gate.lock_id).await.unwrap();
    assert!(world.with_lock(&gate, |lock| lock.now()) < T0 + DAY, "the lock's clock is back");
    bob_stays_out(&bob, &gate).await;
    world.with_lock(&gate, |lock| {
        assert_eq!(lock.actuations(), 1, "only Ana's tap opened");
        assert!(!lock.needs_full_bundle(), "Ana's tap carried the full bundle the lock waited for");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtc_jump_a_door_sync_repairs_a_lock_whose_clock_ran_a_year_ahead() {
    let (world, gate, phone) = member_at_a_door_whose_clock_ran_a_year_ahead().await;
    let synced = phone.keyway.sync_door(&gate.lock_id).await;
    assert!(synced.is_ok(), "the sync repairs the clock and syncs: {synced:?}");
    world.with_lock(&gate, |lock| {
        assert!(lock.now() < T0 + DAY, "the lock's clock is back: {}", lock.now());
        assert_eq!(lock.actuations(), 0, "a door sync never opens the door");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtc_jump_a_lock_still_waiting_for_a_full_bundle_gets_one_from_the_next_door_sync() {
    let TwoMembers { world, org, gate, ana, bob, bob_person } = two_members_at_a_synced_gate().await;
    run_the_locks_clock_a_year_ahead(&world, &gate);
    reset_back_by_a_phone_that_went_no_further(&world, &gate).await;
    world.revoke_all(&org, bob_person).await;
    ana.keyway.refresh().await.unwrap();
    let synced = ana.keyway.sync_door(&gate.lock_id).await.unwrap();
    world.with_lock(&gate, |lock| {
        assert!(!lock.needs_full_bundle(), "the door sync carried a full bundle");
        assert_eq!(i64::from(lock.bundle_version()), synced.lock_version);
    });
    bob_stays_out(&bob, &gate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtc_jump_the_phone_repairs_a_lock_whose_clock_ran_a_year_ahead_and_the_door_opens() {
    let (world, gate, phone) = member_at_a_door_whose_clock_ran_a_year_ahead().await;
    let opened = phone.keyway.unlock(&gate.lock_id).await;
    assert!(opened.is_ok(), "one tap repairs the clock and opens: {opened:?}");
    world.with_lock(&gate, |lock| {
        assert!(lock.now() < T0 + DAY, "the lock's clock is back: {}", lock.now());
        assert_eq!(lock.actuations(), 1, "the door opened once");
        let events = lock.audit_events();
        assert!(
            events.iter().any(|e| matches!(e.kind, AuditKind::ClockReset { previous } if previous >= T0 + YEAR)),
            "the reset is in the lock's audit log"
        );
    });
    // The next tap just opens.
    phone.keyway.unlock(&gate.lock_id).await.unwrap();
    assert_eq!(world.with_lock(&gate, |lock| lock.actuations()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtc_jump_offline_the_member_is_told_the_doors_clock_is_wrong_and_nothing_opens() {
    let (world, gate, phone) = member_at_a_door_whose_clock_ran_a_year_ahead().await;
    world.stop_backend().await;
    match phone.keyway.unlock(&gate.lock_id).await {
        Err(Error::LockClockWrong { lock_time }) => assert!(lock_time.0 >= T0 + YEAR),
        other => panic!("expected LockClockWrong, got {other:?}"),
    }
    assert_eq!(
        Error::LockClockWrong { lock_time: keyway_core::timestamp::Timestamp(T0 + YEAR) }.to_string(),
        "this door's clock is wrong; connect to the internet and try again"
    );
    world.with_lock(&gate, |lock| {
        assert_eq!(lock.actuations(), 0);
        assert!(lock.now() >= T0 + YEAR, "nothing reset it");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtc_jump_offline_a_door_sync_the_lock_refuses_says_the_update_was_refused_and_the_door_still_needs_one() {
    let TwoMembers { world, org, gate, ana, bob: _, bob_person } = two_members_at_a_synced_gate().await;
    run_the_locks_clock_a_year_ahead(&world, &gate);
    reset_back_by_a_phone_that_went_no_further(&world, &gate).await;
    world.revoke_all(&org, bob_person).await;
    ana.keyway.refresh().await.unwrap();
    world.stop_backend().await;

    // Ana holds only a delta, and offline she cannot fetch the full bundle the lock waits for.
    match ana.keyway.sync_door(&gate.lock_id).await {
        Err(Error::LockRefused { reason: LockRefusal::UpdateRefused }) => {}
        other => panic!("expected the update to be refused, got {other:?}"),
    }
    assert!(world.with_lock(&gate, |lock| lock.needs_full_bundle()), "the lock still waits");
    let doors = ana.keyway.doors().unwrap();
    assert!(doors.iter().any(|d| d.id == gate.lock_id && d.sync_pending), "the door still shows a sync pending");
}

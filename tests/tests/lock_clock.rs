//! A lock whose clock ran a year ahead (issue 16, `rtc_jump`), end to end: the member's
//! unlock is refused because every key looks expired to the lock; the phone fetches a
//! clock reset the backend signs for that door and the nonce the lock advertises, carries
//! it to the lock, and the door opens — all in one tap. Offline, the member is told that
//! the door's clock is wrong and to go online.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use keyway_core::Error;
use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, SeededRandom};
use keyway_protocol::receipt::AuditKind;
use keyway_sandbox::world::{DAY, DoorHandle, Gym, Phone, T0, World};

const YEAR: u32 = 365 * DAY;

/// A member of Harbour Gym, and its gate, whose lock's clock floor ran a year ahead: its
/// RTC read a year ahead when it started (a start-up reading cannot be checked against
/// anything), the lock saved that time, then the RTC was right again.
async fn member_at_a_door_whose_clock_ran_a_year_ahead() -> (World, DoorHandle, Phone) {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let phone = world.member(&org, "ana@example.com", key).await;
    let now = world.now();
    let rtc = ManualRtc::new(now + YEAR);
    let storage = MemoryStorage::new();
    let options = |seed| LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(seed)) };
    world.with_lock(&gate, |lock| {
        // The lock's state, moved to a storage of our own, then started with the bad RTC.
        drop(lock.fork(Box::new(storage.clone())).unwrap());
        let mut ahead = Lock::open(Box::new(storage.clone()), options(11)).unwrap();
        ahead.flush().unwrap();
        drop(ahead);
        rtc.jump(now);
        *lock = Lock::open(Box::new(storage.clone()), options(12)).unwrap();
        assert!(lock.now() >= T0 + YEAR, "the floor stays a year ahead though the RTC is right");
    });
    (world, gate, phone)
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

//! At the door through real btleplug: the core's btleplug transport talks D-Bus to a
//! virtual BlueZ whose devices are reference locks, on a private `dbus-daemon`. Each test
//! re-runs itself in a child process on its own bus (see `keyway_sandbox::bluez::bus`); a
//! machine without `dbus-daemon` fails these tests rather than skipping them.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::Error;
use keyway_core::ble::{UnlockPath, UnlockPhase};
use keyway_lock::bluez::{AdapterSetup, Misbehaviour};
use keyway_protocol::Refusal;
use keyway_protocol::lock_role::LockEvent;
use keyway_sandbox::bluez::bus::ran_exactly_one_test;
use keyway_sandbox::bluez::{BluezDoor, BluezWorld, BusPolicy, run_test_on_private_bus};
use std::time::{Duration, Instant};

/// A test whose body runs on a private bus with the given policy.
macro_rules! on_private_bus {
    ($($policy:ident fn $name:ident() $body:block)*) => {$(
        #[test]
        fn $name() {
            run_test_on_private_bus(stringify!($name), BusPolicy::$policy, || async move $body);
        }
    )*};
}

const ANA: &str = "ana@example.com";

#[test]
fn a_child_on_the_private_bus_that_ran_no_test_fails_the_test() {
    // A real child on a real bus, with a name no test has: it exits 0 having run nothing.
    let outcome = std::panic::catch_unwind(|| {
        run_test_on_private_bus("no_test_is_called_this", BusPolicy::Open, || async {});
    });
    let payload = outcome.expect_err("a child that ran nothing must fail the test");
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("did not run exactly one passing test"), "{message}");
    assert!(message.contains("0 passed"), "{message}");
    // And the report of a child that did run its test passes.
    let ran = "running 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; \
               40 filtered out; finished in 1.20s\n";
    assert_eq!(ran_exactly_one_test(ran), Ok(()));
}

async fn member_at_a_door() -> (BluezWorld, BluezDoor, keyway_sandbox::bluez::BluezPhone) {
    let (scene, _org, door, phone) = BluezWorld::member_at_a_door(AdapterSetup::default(), ANA).await;
    (scene, door, phone)
}

fn unlock_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    match result {
        Err(e) => e,
        Ok(other) => panic!("expected an unlock error, got {other:?}"),
    }
}

fn actuations(scene: &BluezWorld, door: &BluezDoor) -> u64 {
    scene.with_lock(door, |lock| lock.actuations())
}

on_private_bus! {
    Open fn a_member_opens_the_door_through_btleplug_standard_then_fast() {
        let (scene, door, phone) = member_at_a_door().await;
        let first = phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(first.path, UnlockPath::Standard);
        assert!(first.sync.is_some(), "the first visit carries the door's bundle");
        let second = phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(second.path, UnlockPath::Fast);
        assert_eq!(actuations(&scene, &door), 2);
        assert_eq!(scene.with_lock(&door, |lock| lock.open_connections()), 0, "every link was closed");
    }

    Open fn door_sync_through_btleplug_brings_the_lock_up_to_date_without_opening_it() {
        let (scene, door, phone) = member_at_a_door().await;
        let outcome = phone.keyway.sync_door(&door.lock_id).await.unwrap();
        assert!(outcome.receipt_delivered);
        assert!(outcome.lock_version >= 1);
        assert_eq!(scene.with_lock(&door, |lock| lock.bundle_version()), u32::try_from(outcome.lock_version).unwrap());
        assert_eq!(actuations(&scene, &door), 0, "a door sync does not open the door");
    }

    Open fn a_connection_that_hangs_is_given_up_within_its_bound_and_the_next_try_works() {
        let (scene, door, phone) = member_at_a_door().await;
        scene.misbehave(&door, Misbehaviour { hang_on_connect: true, ..Misbehaviour::default() });
        let started = Instant::now();
        let error = unlock_error(phone.keyway.unlock(&door.lock_id).await);
        assert_eq!(error, Error::LockTimedOut { phase: UnlockPhase::Connect });
        assert!(started.elapsed() < Duration::from_secs(20), "gave up after {:?}", started.elapsed());
        assert_eq!(actuations(&scene, &door), 0);
        scene.misbehave(&door, Misbehaviour::default());
        phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(actuations(&scene, &door), 1);
    }

    Open fn a_lock_refusing_the_connection_is_a_radio_error_and_stays_shut() {
        let (scene, door, phone) = member_at_a_door().await;
        scene.misbehave(&door, Misbehaviour { refuse_connect: true, ..Misbehaviour::default() });
        let error = unlock_error(phone.keyway.unlock(&door.lock_id).await);
        assert!(matches!(error, Error::BluetoothFailed { .. }), "{error:?}");
        assert_eq!(actuations(&scene, &door), 0);
    }

    Open fn a_link_dropped_mid_handshake_is_retried_once_and_the_door_opens_once() {
        let (scene, door, phone) = member_at_a_door().await;
        // The standard request is two frames: the link drops on the second, once.
        let drop_once = Misbehaviour { drop_after_writes: Some(1), drops_left: 1, ..Misbehaviour::default() };
        scene.misbehave(&door, drop_once);
        let outcome = phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(outcome.path, UnlockPath::Standard);
        assert_eq!(actuations(&scene, &door), 1);
    }

    Open fn a_link_that_keeps_dropping_ends_in_connection_lost_and_the_door_stays_shut() {
        let (scene, door, phone) = member_at_a_door().await;
        let drop_twice = Misbehaviour { drop_after_writes: Some(1), drops_left: 2, ..Misbehaviour::default() };
        scene.misbehave(&door, drop_twice);
        let error = unlock_error(phone.keyway.unlock(&door.lock_id).await);
        assert_eq!(error, Error::ConnectionLost { phase: UnlockPhase::Handshake });
        assert_eq!(actuations(&scene, &door), 0);
    }

    Open fn a_link_dropped_while_a_bundle_goes_over_leaves_the_lock_on_the_old_bundle_or_the_new_one() {
        let (scene, door, phone) = member_at_a_door().await;
        // At MTU 23 the standard request takes 17 writes and the bundle many more: the link
        // drops three frames into the bundle.
        let mtu_23_dropping = Misbehaviour {
            att_mtu: 23,
            drop_after_writes: Some(20),
            drops_left: 1,
            ..Misbehaviour::default()
        };
        scene.misbehave(&door, mtu_23_dropping);
        let error = unlock_error(phone.keyway.sync_door(&door.lock_id).await);
        assert_eq!(error, Error::ConnectionLost { phase: UnlockPhase::DoorSync });
        assert_eq!(scene.with_lock(&door, |lock| lock.bundle_version()), 0, "nothing half-applied");
        assert_eq!(actuations(&scene, &door), 0);
        // The next sync carries the whole bundle.
        let outcome = phone.keyway.sync_door(&door.lock_id).await.unwrap();
        assert!(outcome.lock_version >= 1);
        assert_eq!(scene.with_lock(&door, |lock| lock.bundle_version()), u32::try_from(outcome.lock_version).unwrap());
    }

    Open fn a_stale_advertisement_costs_one_more_exchange_not_a_failure() {
        let (scene, door, phone) = member_at_a_door().await;
        // BlueZ keeps handing out the advertisement it heard, while two other attempts
        // have used up the nonce in it.
        scene.misbehave(&door, Misbehaviour { stale_advertisement: true, ..Misbehaviour::default() });
        scene.with_lock(&door, |lock| {
            lock.rotate_nonce().unwrap();
            lock.rotate_nonce().unwrap();
        });
        phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(actuations(&scene, &door), 1);
        let stale_seen = scene.with_lock(&door, |lock| {
            lock.recent_events().any(|e| matches!(e, LockEvent::Refused { reason: Refusal::StaleNonce, .. }))
        });
        assert!(stale_seen, "the first request named a stale nonce");
    }

    Open fn the_right_lock_is_picked_among_several_in_range() {
        let scene = BluezWorld::start(AdapterSetup::default()).await;
        let org = scene.world.org("Harbour Gym").await;
        let doors = [
            scene.door(&org, "Gate 1").await,
            scene.door(&org, "Gate 2").await,
            scene.door(&org, "Gate 3").await,
        ];
        let key = scene.world.key_for(&org, "Members", &[doors[1].backend_id]).await;
        scene.world.invite(&org, ANA, key, None, keyway_sandbox::world::T0 + 30 * keyway_sandbox::world::DAY).await;
        let phone = scene.phone();
        scene.accept(&phone, ANA).await;
        phone.keyway.unlock(&doors[1].lock_id).await.unwrap();
        let opened: Vec<u64> = doors.iter().map(|d| actuations(&scene, d)).collect();
        assert_eq!(opened, vec![0, 1, 0]);
    }

    Open fn an_att_mtu_of_23_still_opens_the_door_both_ways() {
        let (scene, door, phone) = member_at_a_door().await;
        scene.misbehave(&door, Misbehaviour { att_mtu: 23, ..Misbehaviour::default() });
        assert_eq!(phone.keyway.unlock(&door.lock_id).await.unwrap().path, UnlockPath::Standard);
        let writes = scene.bluez.writes(door.device).unwrap();
        assert!(writes > 17, "the request was fragmented into 20-byte frames ({writes} writes)");
        assert_eq!(phone.keyway.unlock(&door.lock_id).await.unwrap().path, UnlockPath::Fast);
        assert_eq!(actuations(&scene, &door), 2);
    }

    Open fn a_slow_lock_within_the_bound_still_opens() {
        let (scene, door, phone) = member_at_a_door().await;
        let slow = Misbehaviour { response_delay: Duration::from_millis(700), ..Misbehaviour::default() };
        scene.misbehave(&door, slow);
        phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(actuations(&scene, &door), 1);
    }

    Open fn bluetooth_switched_off_is_reported_as_such_until_it_is_switched_on() {
        let off = AdapterSetup { present: true, powered: false };
        let (scene, _org, door, phone) = BluezWorld::member_at_a_door(off, ANA).await;
        assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::BluetoothOff);
        scene.bluez.set_powered(true).await.unwrap();
        phone.keyway.unlock(&door.lock_id).await.unwrap();
        assert_eq!(actuations(&scene, &door), 1);
    }

    Open fn a_machine_without_a_bluetooth_adapter_reports_bluetooth_unavailable() {
        let none = AdapterSetup { present: false, powered: false };
        let (scene, _org, door, phone) = BluezWorld::member_at_a_door(none, ANA).await;
        assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::BluetoothUnavailable);
        assert_eq!(actuations(&scene, &door), 0);
    }

    DenyBluez fn a_user_bluez_refuses_to_serve_gets_permission_missing() {
        let (scene, _org, door, phone) = BluezWorld::member_at_a_door(AdapterSetup::default(), ANA).await;
        assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::BluetoothPermissionMissing);
        assert_eq!(actuations(&scene, &door), 0);
    }
}

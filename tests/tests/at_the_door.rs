//! What a member meets at the door besides a clean unlock: Bluetooth off, no permission,
//! a door out of range, a stale advertisement, a link that drops, a lock that lost its
//! tickets; and around it: door-sync progress, silent renewal, a revoked share.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::ble::UnlockPath;
use keyway_core::cache::AccessState;
use keyway_core::listeners::{DoorSyncStage, SessionState};
use keyway_core::platform::AdapterState;
use keyway_core::{Error, Readiness};
use keyway_lock::sim::LinkParams;
use keyway_protocol::Refusal;
use keyway_sandbox::wait;
use keyway_sandbox::world::{DAY, DoorHandle, Gym, HOUR, Phone, T0, World};
use std::sync::{Arc, Mutex};

async fn member_at_an_offline_door() -> (World, DoorHandle, Phone) {
    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    let phone = world.member(&org, "ana@example.com", key).await;
    (world, door, phone)
}

fn unlock_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    match result {
        Err(e) => e,
        Ok(other) => panic!("expected an unlock error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluetooth_off_missing_permission_and_location_off_are_told_apart() {
    let (_world, door, phone) = member_at_an_offline_door().await;
    phone.ble.set_adapter_state(AdapterState::PoweredOff);
    assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::BluetoothOff);
    phone.ble.set_adapter_state(AdapterState::Unauthorized);
    assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::BluetoothPermissionMissing);
    phone.ble.set_adapter_state(AdapterState::LocationServicesOff);
    assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::LocationServicesOff);
    phone.ble.set_adapter_state(AdapterState::PoweredOn);
    phone.keyway.unlock(&door.lock_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_out_of_range_is_reported_as_such() {
    let (world, door, phone) = member_at_an_offline_door().await;
    world.radio.set_in_range(door.peripheral, false).unwrap();
    assert_eq!(unlock_error(phone.keyway.unlock(&door.lock_id).await), Error::DoorNotInRange);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_lock_is_picked_among_several_in_range() {
    let world = World::start().await;
    let org = world.org("Harbour Gym").await;
    let doors = [
        world.door(&org, "Gate 1", false).await,
        world.door(&org, "Gate 2", false).await,
        world.door(&org, "Gate 3", false).await,
    ];
    let key = world.key(&org, "Members", &doors[1..2]).await;
    let phone = world.member(&org, "ana@example.com", key).await;
    phone.keyway.unlock(&doors[1].lock_id).await.unwrap();
    let actuations: Vec<u64> = doors.iter().map(|d| world.with_lock(d, |l| l.actuations())).collect();
    assert_eq!(actuations, vec![0, 1, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_advertisement_costs_one_more_exchange_not_a_failure() {
    let (world, door, phone) = member_at_an_offline_door().await;
    let radio = world.radio.clone();
    let peripheral = door.peripheral;
    // Between the scan and the connection, two other attempts use up the advertised nonce.
    phone.ble.before_next_connect(move || {
        radio.with_lock(peripheral, |lock| {
            lock.rotate_nonce().unwrap();
            lock.rotate_nonce().unwrap();
        });
    });
    phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);
    let stale_seen = world.with_lock(&door, |l| {
        l.recent_events()
            .any(|e| matches!(e, keyway_protocol::lock_role::LockEvent::Refused { reason: Refusal::StaleNonce, .. }))
    });
    assert!(stale_seen, "the first request named a stale nonce");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_dropped_mid_handshake_is_retried_once_and_the_door_opens_once() {
    let (world, door, phone) = member_at_an_offline_door().await;
    world.radio.drop_after_packets(door.peripheral, Some(1)).unwrap();
    let outcome = phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(outcome.path, UnlockPath::Standard);
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_that_keeps_dropping_ends_in_connection_lost() {
    let (world, door, phone) = member_at_an_offline_door().await;
    let (radio, peripheral, ble) = (world.radio.clone(), door.peripheral, phone.ble.clone());
    // The first connection drops after one packet, and so does the retry.
    phone.ble.before_next_connect(move || {
        radio.drop_after_packets(peripheral, Some(1)).unwrap();
        ble.before_next_connect(move || radio.drop_after_packets(peripheral, Some(1)).unwrap());
    });
    let error = unlock_error(phone.keyway.unlock(&door.lock_id).await);
    assert!(matches!(error, Error::ConnectionLost { .. }), "{error:?}");
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn door_sync_on_demand_reports_its_progress_and_the_door_shows_synced() {
    let (world, door, phone) = member_at_an_offline_door().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let outcome = phone
        .keyway
        .sync_door_with(&door.lock_id, &keyway_core::operation::CancelToken::new(), &move |p| {
            sink.lock().unwrap().push(p);
        })
        .await
        .unwrap();
    assert!(outcome.receipt_delivered);
    assert!(outcome.lock_version >= 1);
    assert_eq!(world.with_lock(&door, |l| l.bundle_version()), u32::try_from(outcome.lock_version).unwrap());
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 0, "a door sync does not open the door");
    let events = seen.lock().unwrap().clone();
    let mut stages: Vec<DoorSyncStage> = events.iter().map(|p| p.stage).collect();
    stages.dedup();
    assert_eq!(
        stages,
        vec![
            DoorSyncStage::FetchingUpdate,
            DoorSyncStage::Connecting,
            DoorSyncStage::SendingBundle,
            DoorSyncStage::Applied,
            DoorSyncStage::UploadingReceipt,
            DoorSyncStage::Done
        ]
    );
    // The bundle's bytes rise to its whole size, in a handful of steps, not one per frame.
    let sent: Vec<(i64, i64)> = events
        .iter()
        .filter(|p| p.stage == DoorSyncStage::SendingBundle)
        .map(|p| (p.bytes_sent.unwrap(), p.bytes_total.unwrap()))
        .collect();
    assert!(sent.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 == w[1].1), "{sent:?}");
    let (last_sent, total) = *sent.last().unwrap();
    assert_eq!(last_sent, total);
    assert!(sent.len() <= 21, "{} events", sent.len());
    assert!(events.iter().all(|p| p.sync_id == events[0].sync_id));
    let record = phone.keyway.doors().unwrap().into_iter().find(|d| d.id == door.lock_id).unwrap();
    assert!(!record.sync_pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_renewed_silently_before_they_lapse() {
    let (world, door, phone) = member_at_an_offline_door().await;
    let first = phone.keyway.access_state(&door.lock_id).unwrap();
    let AccessState::Ready { until } = first else { panic!("{first:?}") };
    let until = until.unix();
    assert!(until <= T0 + 72 * HOUR, "credentials are short-lived");
    world.set_time(until - 12 * HOUR);
    let summary = phone.keyway.refresh().await.unwrap();
    assert_eq!(summary.credentials_renewed, 1);
    let AccessState::Ready { until: renewed } = phone.keyway.access_state(&door.lock_id).unwrap() else { panic!() };
    assert!(renewed.unix() > until);
    // Past the old credential's end, offline, the renewed one opens the door.
    world.stop_backend().await;
    world.set_time(until + HOUR);
    phone.keyway.unlock(&door.lock_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_share_leaves_the_guest_with_a_revoked_key() {
    let (world, door, ana) = member_at_an_offline_door().await;
    let grant = ana.keyway.keys().unwrap()[0].grant_id;
    let share = ana.keyway.share_key(grant, &[door.lock_id], None, T0 + 4 * HOUR, "+447700900555").await.unwrap();
    let ben = world.phone();
    let link = ben.keyway.parse_link(&world.link("+447700900555", "share").await).unwrap();
    ben.sign_in(&world, "+447700900555").await;
    ben.keyway.redeem_share(&link).await.unwrap();
    assert!(matches!(ben.keyway.access_state(&door.lock_id).unwrap(), AccessState::Ready { .. }));

    ana.keyway.revoke_share(share.share_id).await.unwrap();
    ben.keyway.refresh().await.unwrap();
    assert_eq!(ben.keyway.access_state(&door.lock_id).unwrap(), AccessState::Revoked);
    assert_eq!(unlock_error(ben.keyway.unlock(&door.lock_id).await), Error::KeyRevoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_listener_hears_the_current_state_first_then_sign_out() {
    let (_world, _door, phone) = member_at_an_offline_door().await;
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let subscription = phone.keyway.subscribe_session(move |s| {
        let _ = tx.send(s);
    });
    assert_eq!(wait::next("the current session state", &mut heard).await, SessionState::SignedIn);
    phone.keyway.sign_out().await.unwrap();
    assert_eq!(wait::next("the sign-out", &mut heard).await, SessionState::SignedOut);
    subscription.cancel();
    assert!(heard.try_recv().is_err(), "nothing else was heard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_lost_while_carrying_a_bundle_after_the_door_opened_does_not_open_it_twice() {
    let (world, door, phone) = member_at_an_offline_door().await;
    // The phone holds a bundle newer than the lock's (version 0): it will carry it.
    assert!(phone.keyway.doors().unwrap()[0].sync_pending);
    // Standard request (2 writes without response: 2 packets) and its answer
    // (1 notification) get through; the link drops while the bundle goes over.
    world.radio.drop_after_packets(door.peripheral, Some(3)).unwrap();
    let outcome = phone.keyway.unlock(&door.lock_id).await.unwrap();
    assert!(outcome.sync.is_none(), "the bundle waits for the next visit");
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);
    assert_eq!(world.with_lock(&door, |l| l.bundle_version()), 0, "nothing half-applied");
}

/// Collects readiness events from a subscription, to wait for the next one.
fn readiness_events(
    phone: &Phone,
) -> (keyway_core::listeners::TaskHandle, tokio::sync::mpsc::UnboundedReceiver<Readiness>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = phone.keyway.subscribe_readiness(move |readiness| {
        let _ = tx.send(readiness);
    });
    (handle, rx)
}

async fn next(events: &mut tokio::sync::mpsc::UnboundedReceiver<Readiness>) -> Readiness {
    wait::next("the next readiness", events).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unlock_button_follows_bluetooth_being_switched_off_and_on() {
    let (_world, door, phone) = member_at_an_offline_door().await;
    let (_subscription, mut events) = readiness_events(&phone);
    let first = next(&mut events).await;
    assert_eq!(first.bluetooth, AdapterState::PoweredOn);
    assert!(first.doors.iter().any(|d| d.door == door.lock_id && d.can_unlock));

    phone.ble.set_adapter_state(AdapterState::PoweredOff);
    phone.keyway.platform_changed();
    let off = next(&mut events).await;
    assert_eq!(off.bluetooth, AdapterState::PoweredOff);
    assert!(off.doors.iter().all(|d| !d.can_unlock), "{off:?}");

    phone.ble.set_adapter_state(AdapterState::PoweredOn);
    phone.keyway.platform_changed();
    assert!(next(&mut events).await.doors.iter().any(|d| d.door == door.lock_id && d.can_unlock));
    // Nothing changed: nothing is sent. Wait until the subscription has looked at the
    // radio after the nudge; events come in order, so when the next real change is the
    // next event, the nudge sent nothing.
    let looked = phone.ble.adapter_queries();
    phone.keyway.platform_changed();
    wait::until("the subscription to look again", || phone.ble.adapter_queries() > looked).await;
    phone.ble.set_adapter_state(AdapterState::PoweredOff);
    phone.keyway.platform_changed();
    let after_nudge = next(&mut events).await;
    assert_eq!(after_nudge.bluetooth, AdapterState::PoweredOff, "the nudge with no change sent {after_nudge:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_starts_later_shows_when_it_starts_and_changes_by_itself_when_it_does() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let starts = world.now() + 2;
    world.invite(&org, "bo@example.com", key, Some(starts), starts + DAY).await;
    let phone = world.phone();
    phone.accept_invitation(&world, "bo@example.com").await;
    let (_subscription, mut events) = readiness_events(&phone);
    let gate_access = |r: &Readiness| r.doors.iter().find(|d| d.door == gate.lock_id).map(|d| d.access);
    let before = next(&mut events).await;
    assert_eq!(gate_access(&before), Some(AccessState::StartsAt { starts_at: keyway_core::Timestamp(starts) }));
    assert!(!before.doors.iter().any(|d| d.can_unlock));
    // The clock passes the start; no refresh, no nudge: the subscription notices by itself.
    world.advance(3);
    let after = next(&mut events).await;
    assert!(!matches!(gate_access(&after), Some(AccessState::StartsAt { .. })), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impostor_same_door_is_passed_over_for_the_genuine_lock() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let phone = world.member(&org, "cy@example.com", key).await;
    // A device with the gate's id and keys of its own goes on the air before the real
    // lock, so every scan hears it first.
    let genuine = world.radio.remove_lock(gate.peripheral).unwrap();
    let impostor = world.radio.add_lock(world.impostor(&org, gate.lock_id), LinkParams::default());
    let genuine = world.radio.add_lock(genuine, LinkParams::default());

    phone.keyway.unlock(&gate.lock_id).await.unwrap();
    assert_eq!(world.radio.with_lock(genuine, |l| l.actuations()), Some(1));
    assert_eq!(world.radio.with_lock(impostor, |l| l.actuations()), Some(0));

    // Only the impostor in range: the person is told the door could not prove itself,
    // not that it is out of range nor a stale nonce.
    world.radio.set_in_range(genuine, false).unwrap();
    assert_eq!(unlock_error(phone.keyway.unlock(&gate.lock_id).await), Error::UntrustedLock);
    assert_eq!(world.radio.with_lock(impostor, |l| l.actuations()), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_only_stale_a_device_refusing_without_proof_gets_one_request() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let phone = world.member(&org, "di@example.com", key).await;
    world.radio.set_in_range(gate.peripheral, false).unwrap();
    let impostor = world.radio.add_lock(world.impostor(&org, gate.lock_id), LinkParams::default());
    // The impostor cannot open the request and refuses in plaintext (DecryptFailed):
    // that earns it no second signed request (today's phone holds no ticket yet, so it
    // sends exactly one standard request per tap).
    let impostor = format!("sim:{}", impostor.0);
    assert_eq!(unlock_error(phone.keyway.unlock(&gate.lock_id).await), Error::UntrustedLock);
    assert_eq!(phone.ble.messages_sent(&impostor), 1);
    assert_eq!(unlock_error(phone.keyway.unlock(&gate.lock_id).await), Error::UntrustedLock);
    assert_eq!(phone.ble.messages_sent(&impostor), 2);
}

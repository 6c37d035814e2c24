//! `keyway unlock` and `keyway sync` through real btleplug: the binary runs with
//! `DBUS_SYSTEM_BUS_ADDRESS` naming a private `dbus-daemon` on which reference locks are
//! served as a virtual BlueZ (`keyway_lock::bluez`), and the backend runs on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod desk;

use desk::*;
use keyway_lock::bluez::{AdapterSetup, Misbehaviour, VirtualBluez, VirtualLock};
use keyway_sandbox::bluez::bus::SYSTEM_BUS_VARIABLE;
use keyway_sandbox::bluez::{BusPolicy, PrivateBus};
use keyway_sandbox::world::{DAY, Org, World};

/// Harbour Gym's offline back gate on a virtual BlueZ, and Ana's desk holding its key.
struct Gate {
    world: World,
    bluez: VirtualBluez,
    device: VirtualLock,
    org: Org,
    key: i64,
    ana: Desk,
    _bus: PrivateBus,
}

async fn gate(adapter: AdapterSetup) -> Gate {
    let bus = PrivateBus::start(BusPolicy::Open).expect("a private D-Bus (Debian's dbus-daemon)");
    let world = World::start().await;
    world.set_time(now());
    let bluez = VirtualBluez::serve(&bus.address, adapter).await.expect("the virtual BlueZ serves");
    let org = world.org("Harbour Gym").await;
    let (backend_id, lock) = world.fit_lock(&org, "Back gate", false).await;
    let device = bluez.add_lock(lock).await.expect("the lock joins the virtual BlueZ");
    let key = world.key_for(&org, "Members", &[backend_id]).await;
    world.invite(&org, "ana@example.com", key, None, now() + 30 * DAY).await;
    let link = world.link("ana@example.com", "invitation").await;
    let mut ana = Desk::new(&world);
    ana.env.push((SYSTEM_BUS_VARIABLE.into(), bus.address.clone()));
    let out = ana.run_with_code(&world, "ana@example.com", &["accept", &link], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    Gate { world, bluez, device, org, key, ana, _bus: bus }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyway_unlock_opens_the_door_over_bluetooth_standard_then_fast() {
    let gate = gate(AdapterSetup::default()).await;
    let out = gate.ana.run(&["unlock", "Back gate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Back gate is open (standard unlock"), "{}", stdout(&out));

    let out = gate.ana.run(&["--json", "unlock", "back gate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let opened = json(&out);
    assert_eq!(opened["opened"], true);
    assert_eq!(opened["path"], "fast", "the second visit uses the ticket: {opened}");
    assert!(opened["timings_ms"]["handshake"].as_f64().is_some(), "{opened}");
    assert_eq!(gate.bluez.with_lock(gate.device, |l| l.actuations()).unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyway_sync_carries_a_revocation_to_the_offline_door_with_progress() {
    let gate = gate(AdapterSetup::default()).await;
    // Ben's key is revoked: the gate must learn it, and only a door sync can tell it.
    let ben = gate.world.phone_only_member(&gate.org, "+447700900456", gate.key, now() + 30 * DAY).await;
    gate.world.revoke_all(&gate.org, ben).await;
    let before = gate.bluez.with_lock(gate.device, |l| l.bundle_version()).unwrap();
    let out = gate.ana.run(&["sync", "Back gate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("[1/6] fetching the newest door bundle"), "{text}");
    assert!(text.contains("[6/6] door synced"), "{text}");
    assert!(text.contains("receipt handed in"), "{text}");
    assert!(text.contains("[3/6] carrying the bundle to the lock: "), "{text}");
    let after = gate.bluez.with_lock(gate.device, |l| l.bundle_version()).unwrap();
    assert!(after > before, "the lock runs a newer bundle: {before} → {after}");

    let out = gate.ana.run(&["--json", "sync", "Back gate"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let synced = json(&out);
    assert_eq!(synced["lock_version"], after);
    let stages: Vec<_> =
        synced["progress"].as_array().unwrap().iter().map(|p| p["stage"].as_str().unwrap().to_owned()).collect();
    assert_eq!(stages, ["fetching_bundle", "connecting", "applied", "uploading_receipt", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluetooth_off_is_one_line_and_exit_code_six() {
    let gate = gate(AdapterSetup { present: true, powered: false }).await;
    let out = gate.ana.run(&["unlock", "Back gate"]).await;
    assert_one_line_error(&out, 6);
    assert!(stderr(&out).contains("Bluetooth is off"), "{}", stderr(&out));
    assert_eq!(gate.bluez.with_lock(gate.device, |l| l.actuations()).unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_that_is_not_in_range_is_one_line_and_exit_code_six() {
    let gate = gate(AdapterSetup::default()).await;
    let away = Misbehaviour { in_range: false, ..Misbehaviour::default() };
    gate.bluez.set_misbehaviour(gate.device, away).expect("the lock is on the virtual BlueZ");
    let out = gate.ana.run(&["--json", "unlock", "Back gate"]).await;
    assert_eq!(out.status.code(), Some(6), "{}", stdout(&out));
    assert_eq!(json(&out)["error"]["kind"], "door_not_in_range");
}

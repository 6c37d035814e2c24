//! How long `unlock()` takes to open a door, by phase, through btleplug on the virtual
//! BlueZ and on the simulated radio, as medians over several members' first (standard)
//! and second (fast) unlocks. Used by `scripts/bench-btleplug.sh` (BENCHMARKS.md).

use super::scene::BluezWorld;
use crate::world::{DAY, T0, World};
use keyway_core::Keyway;
use keyway_core::ble::{UnlockPath, UnlockTimings};
use keyway_lock::bluez::AdapterSetup;
use keyway_protocol::ids::DoorId;
use std::time::{Duration, Instant};

/// Median time of each phase, and of the whole call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseMedians {
    /// Hearing the door's advertisement.
    pub scan: Duration,
    /// Connecting and discovering the service.
    pub connect: Duration,
    /// The handshake, less the lock's actuation.
    pub handshake: Duration,
    /// The lock's actuation, as it reports it.
    pub door_open: Duration,
    /// From calling `unlock()` to its return (the door open).
    pub total: Duration,
}

/// Medians for both paths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BtleplugFigures {
    /// Members measured (one standard and one fast unlock each).
    pub runs: usize,
    /// First visit.
    pub standard: PhaseMedians,
    /// Repeat visit.
    pub fast: PhaseMedians,
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

#[derive(Default)]
struct Samples(Vec<(UnlockTimings, Duration)>);

impl Samples {
    fn medians(&self) -> PhaseMedians {
        let of = |f: fn(&(UnlockTimings, Duration)) -> Duration| median(self.0.iter().map(f).collect());
        PhaseMedians {
            scan: of(|s| s.0.scan),
            connect: of(|s| s.0.connect),
            handshake: of(|s| s.0.handshake),
            door_open: of(|s| s.0.door_open),
            total: of(|s| s.1),
        }
    }
}

async fn timed_unlock(
    keyway: &Keyway,
    door: &DoorId,
    expected: UnlockPath,
) -> Result<(UnlockTimings, Duration), String> {
    let started = Instant::now();
    let outcome = keyway.unlock(door).await.map_err(|e| format!("unlock failed: {e}"))?;
    let total = started.elapsed();
    if outcome.path != expected {
        return Err(format!("expected a {expected:?} unlock, got {:?}", outcome.path));
    }
    Ok((outcome.timings, total))
}

/// Runs `runs` members through a standard then a fast unlock via btleplug on the virtual
/// BlueZ. Must run in a process on a private bus ([`super::run_self_on_private_bus`]).
pub async fn measure_btleplug_unlocks(runs: usize) -> Result<BtleplugFigures, String> {
    let (scene, org, door, first) = BluezWorld::member_at_a_door(AdapterSetup::default(), "warm-up@example.com").await;
    // The first unlock at the door also carries its door-sync bundle: not counted.
    first.keyway.unlock(&door.lock_id).await.map_err(|e| format!("warm-up unlock failed: {e}"))?;
    let key = scene.world.key_for(&org, "Bench", &[door.backend_id]).await;
    let (mut standard, mut fast) = (Samples::default(), Samples::default());
    for run in 0..runs {
        let email = format!("member{run}@example.com");
        scene.world.invite(&org, &email, key, None, T0 + 30 * DAY).await;
        let phone = scene.phone();
        scene.accept(&phone, &email).await;
        standard.0.push(timed_unlock(&phone.keyway, &door.lock_id, UnlockPath::Standard).await?);
        fast.0.push(timed_unlock(&phone.keyway, &door.lock_id, UnlockPath::Fast).await?);
    }
    Ok(BtleplugFigures { runs, standard: standard.medians(), fast: fast.medians() })
}

/// The same runs on the simulated radio in real time: its modelled BLE link (30 ms
/// connection interval, 90 ms connection set-up, 100 ms advertising interval) is slept.
pub async fn measure_simulated_unlocks(runs: usize) -> Result<BtleplugFigures, String> {
    let world = World::start_with_db(":memory:", true).await;
    let gym = world.gym().await;
    let warm_up = world.phone();
    world.invite(&gym.org, "warm-up@example.com", gym.key, None, T0 + 30 * DAY).await;
    warm_up.accept_invitation(&world, "warm-up@example.com").await;
    warm_up.keyway.unlock(&gym.gate.lock_id).await.map_err(|e| format!("warm-up unlock failed: {e}"))?;
    let (mut standard, mut fast) = (Samples::default(), Samples::default());
    for run in 0..runs {
        let email = format!("member{run}@example.com");
        world.invite(&gym.org, &email, gym.key, None, T0 + 30 * DAY).await;
        let phone = world.phone();
        phone.accept_invitation(&world, &email).await;
        standard.0.push(timed_unlock(&phone.keyway, &gym.gate.lock_id, UnlockPath::Standard).await?);
        fast.0.push(timed_unlock(&phone.keyway, &gym.gate.lock_id, UnlockPath::Fast).await?);
    }
    Ok(BtleplugFigures { runs, standard: standard.medians(), fast: fast.medians() })
}

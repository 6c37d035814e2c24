//! The journeys' world (real backend, reference locks, the core) with the locks served as
//! devices of a virtual BlueZ and phones whose radio is btleplug. Runs only in a process
//! whose `DBUS_SYSTEM_BUS_ADDRESS` names a private bus (see [`super::bus`]).

use super::bus::SYSTEM_BUS_VARIABLE;
use crate::world::{DAY, Org, T0, World};
use keyway_core::Keyway;
use keyway_core::ble::{BtleplugTransport, UnlockTimeouts};
use keyway_core::platform::ManualClock;
use keyway_core::platform::MemoryStore;
use keyway_lock::Lock;
use keyway_lock::bluez::{AdapterSetup, Misbehaviour, VirtualBluez, VirtualLock};
use keyway_protocol::ids::DoorId;
use std::sync::Arc;
use std::time::Duration;

/// Bounds on each phase of an unlock through btleplug: D-Bus round trips on a loaded
/// 2-core machine are slower than the simulated radio, and the bounds are about hangs.
pub const BLUEZ_UNLOCK: UnlockTimeouts = UnlockTimeouts {
    scan: Duration::from_secs(3),
    connect: Duration::from_secs(3),
    handshake: Duration::from_secs(3),
    door_sync: Duration::from_secs(5),
};

/// The world, its virtual BlueZ, and nothing else.
pub struct BluezWorld {
    /// Backend, operator, clocks.
    pub world: World,
    /// The locks as BlueZ devices.
    pub bluez: VirtualBluez,
}

/// A door whose lock is a BlueZ device.
#[derive(Debug, Clone, Copy)]
pub struct BluezDoor {
    /// The backend's door id.
    pub backend_id: i64,
    /// The lock's id.
    pub lock_id: DoorId,
    /// Where it sits on the virtual BlueZ.
    pub device: VirtualLock,
}

/// A phone whose radio is btleplug.
pub struct BluezPhone {
    /// The core.
    pub keyway: Keyway,
    /// Its radio.
    pub radio: Arc<BtleplugTransport>,
    /// Its clock.
    pub clock: Arc<ManualClock>,
}

impl BluezWorld {
    /// Starts the backend and serves a virtual BlueZ with `adapter` on the private bus.
    pub async fn start(adapter: AdapterSetup) -> Self {
        let address = std::env::var(SYSTEM_BUS_VARIABLE).expect("running on a private bus");
        let world = World::start().await;
        let bluez = VirtualBluez::serve(&address, adapter).await.expect("the virtual BlueZ serves");
        Self { world, bluez }
    }

    /// Fits a door with a reference lock served as a BlueZ device.
    pub async fn door(&self, org: &Org, name: &str) -> BluezDoor {
        let (backend_id, lock) = self.world.fit_lock(org, name, false).await;
        let lock_id = lock.door();
        let device = self.bluez.add_lock(lock).await.expect("the lock joins the virtual BlueZ");
        BluezDoor { backend_id, lock_id, device }
    }

    /// A phone with btleplug as its radio.
    pub fn phone(&self) -> BluezPhone {
        let radio = Arc::new(BtleplugTransport::new(None));
        let (keyway, clock) = self.world.core_with(None, Arc::new(MemoryStore::new()), radio.clone(), BLUEZ_UNLOCK);
        BluezPhone { keyway, radio, clock }
    }

    /// Harbour Gym with one offline door on the virtual BlueZ, and a member (`email`) who
    /// accepted a key for it.
    pub async fn member_at_a_door(adapter: AdapterSetup, email: &str) -> (Self, Org, BluezDoor, BluezPhone) {
        let scene = Self::start(adapter).await;
        let org = scene.world.org("Harbour Gym").await;
        let door = scene.door(&org, "Back gate").await;
        let key = scene.world.key_for(&org, "Members", &[door.backend_id]).await;
        scene.world.invite(&org, email, key, None, T0 + 30 * DAY).await;
        let phone = scene.phone();
        scene.accept(&phone, email).await;
        (scene, org, door, phone)
    }

    /// Accepts the newest invitation to `email` on `phone`.
    pub async fn accept(&self, phone: &BluezPhone, email: &str) {
        let link = phone.keyway.parse_link(&self.world.link(email, "invitation").await).expect("a valid link");
        phone.keyway.send_invitation_code(&link).await.expect("code sent");
        let code = self.world.code(email).await;
        phone.keyway.accept_invitation(&link, &code).await.expect("accepted");
    }

    /// Reads or changes a lock.
    pub fn with_lock<R>(&self, door: &BluezDoor, f: impl FnOnce(&mut Lock) -> R) -> R {
        self.bluez.with_lock(door.device, f).expect("the lock is on the virtual BlueZ")
    }

    /// Makes a lock misbehave.
    pub fn misbehave(&self, door: &BluezDoor, misbehaviour: Misbehaviour) {
        self.bluez.set_misbehaviour(door.device, misbehaviour).expect("the lock is on the virtual BlueZ");
    }
}

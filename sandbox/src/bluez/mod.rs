//! Keyway over real btleplug against the virtual BlueZ (`keyway_lock::bluez`): a private
//! D-Bus ([`bus`]), the journeys' world with its locks served as BlueZ devices
//! ([`scene`]), and the unlock timings through that stack ([`bench`]).

pub mod bench;
pub mod bus;
pub mod scene;

pub use bench::{BtleplugFigures, PhaseMedians, measure_btleplug_unlocks, measure_simulated_unlocks};
pub use bus::{BusPolicy, PrivateBus, on_private_bus, run_self_on_private_bus, run_test_on_private_bus};
pub use scene::{BLUEZ_UNLOCK, BluezDoor, BluezPhone, BluezWorld};

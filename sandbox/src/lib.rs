//! keyway-sandbox: Keyway's test world on one machine — the real backend over HTTPS on
//! loopback (a CA made per run), reference locks on the simulated radio or served as a
//! virtual BlueZ, phones running the core, a fault proxy in front of the backend, a
//! file-backed secure store and a radio bridge for phones in other processes.
//!
//! The journeys (keyway-e2e), the demo and the bench (the `keyway-sandbox` binary) run
//! in it; the `keyway` desktop client never links it.

pub mod bluez;
pub mod fault_proxy;
pub mod online_door;
pub mod radio_bridge;
pub mod secret_scan;
pub mod sim_transport;
pub mod wait;
pub mod world;

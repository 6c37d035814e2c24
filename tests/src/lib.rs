//! keyway-e2e: journeys end to end. The library holds the world the journeys run in —
//! the real backend on loopback, reference locks on the simulated radio, phones running
//! the core — and the journeys live in `tests/`.

pub mod bluez;
pub mod fault_proxy;
pub mod radio_bridge;
pub mod secret_scan;
pub mod sim_transport;
pub mod wait;
pub mod world;

//! `keyway-lock serve`: reference locks on a simulated radio that other processes reach
//! over a local TCP socket, so a `BleTransport` written in Kotlin or Swift can open them
//! the way it would over BluetoothGatt or CoreBluetooth. The protocol ([`wire`]) and its
//! use are described in `docs/lock-serve.md`.

mod server;
pub mod wire;

pub use server::{LockServer, ServeError, ServeOptions, ServedLock};

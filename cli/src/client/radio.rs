//! The radio the client unlocks with: btleplug (BlueZ on Linux, CoreBluetooth on macOS),
//! opened only by the commands that go to a door. The other commands get [`none`], a
//! radio that reports Bluetooth as unavailable and is never used.

use async_trait::async_trait;
use keyway_core::ble::BtleplugTransport;
use keyway_core::platform::{AdapterState, Advertisement, BleError, BleTransport, PeripheralId};
use std::sync::Arc;
use std::time::Duration;

/// The radio for commands that need none.
pub fn none() -> Arc<dyn BleTransport> {
    Arc::new(NoRadio)
}

/// The system's Bluetooth: the adapter named by `KEYWAY_BT_ADAPTER` (e.g. `hci1`), or the
/// first one. Opened lazily: a machine without Bluetooth fails at the door with its own
/// error, not here.
pub fn open() -> Arc<dyn BleTransport> {
    let adapter = std::env::var("KEYWAY_BT_ADAPTER").ok().filter(|a| !a.is_empty());
    Arc::new(BtleplugTransport::new(adapter))
}

struct NoRadio;

#[async_trait]
impl BleTransport for NoRadio {
    async fn adapter_state(&self) -> AdapterState {
        AdapterState::Unsupported
    }
    async fn start_scan(&self, _service_uuid: &str) -> Result<(), BleError> {
        Err(BleError::Other { detail: "no radio".into() })
    }
    async fn next_advertisement(&self, _timeout: Duration) -> Result<Advertisement, BleError> {
        Err(BleError::Other { detail: "no radio".into() })
    }
    async fn stop_scan(&self) {}
    async fn connect(&self, _peripheral: &PeripheralId, _timeout: Duration) -> Result<u16, BleError> {
        Err(BleError::Other { detail: "no radio".into() })
    }
    async fn write(&self, _p: &PeripheralId, _frame: &[u8], _with_response: bool) -> Result<(), BleError> {
        Err(BleError::Other { detail: "no radio".into() })
    }
    async fn next_notification(&self, _p: &PeripheralId, _timeout: Duration) -> Result<Vec<u8>, BleError> {
        Err(BleError::Other { detail: "no radio".into() })
    }
    async fn disconnect(&self, _peripheral: &PeripheralId) {}
}

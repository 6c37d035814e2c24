//! `org.bluez.Adapter1` at `/org/bluez/hci0`: power and discovery sessions.

use super::{ADAPTER_PATH, Shared, emit_changed};
use std::collections::HashMap;
use std::sync::Arc;
use zbus::message::Header;
use zbus::zvariant::{OwnedValue, Value};

/// The errors BlueZ answers with (`org.bluez.Error.*`).
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.bluez.Error")]
pub(crate) enum BluezFailure {
    /// A bus-level failure.
    #[zbus(error)]
    ZBus(zbus::Error),
    /// The operation failed (BlueZ's catch-all, with its message).
    Failed(String),
    /// The adapter is not powered.
    NotReady(String),
    /// A value longer than the ATT payload.
    InvalidValueLength(String),
}

pub(crate) struct Adapter {
    pub shared: Arc<Shared>,
}

fn sender(header: &Header<'_>) -> String {
    header.sender().map(|s| s.to_string()).unwrap_or_default()
}

#[zbus::interface(name = "org.bluez.Adapter1")]
impl Adapter {
    /// Accepted and ignored: every lock advertises the Keyway service, and BlueZ merges
    /// filters across clients anyway (a client must filter what it hears itself).
    async fn set_discovery_filter(&self, _filter: HashMap<String, OwnedValue>) -> Result<(), BluezFailure> {
        if !self.shared.adapter().powered {
            return Err(BluezFailure::NotReady("Resource Not Ready".into()));
        }
        Ok(())
    }

    async fn start_discovery(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(), BluezFailure> {
        let started = {
            let mut adapter = self.shared.adapter();
            if !adapter.powered {
                return Err(BluezFailure::NotReady("Resource Not Ready".into()));
            }
            let was_idle = adapter.discovering.is_empty();
            adapter.discovering.insert(sender(&header));
            was_idle
        };
        if started {
            let changed = HashMap::from([("Discovering", Value::from(true))]);
            emit_changed(connection, ADAPTER_PATH, "org.bluez.Adapter1", changed).await?;
        }
        Ok(())
    }

    async fn stop_discovery(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(), BluezFailure> {
        let stopped = {
            let mut adapter = self.shared.adapter();
            if !adapter.discovering.remove(&sender(&header)) {
                return Err(BluezFailure::Failed("No discovery started".into()));
            }
            adapter.discovering.is_empty()
        };
        if stopped {
            let changed = HashMap::from([("Discovering", Value::from(false))]);
            emit_changed(connection, ADAPTER_PATH, "org.bluez.Adapter1", changed).await?;
        }
        Ok(())
    }

    #[zbus(property)]
    fn address(&self) -> String {
        "C0:FF:EE:00:00:00".into()
    }

    #[zbus(property)]
    fn address_type(&self) -> String {
        "public".into()
    }

    #[zbus(property)]
    fn name(&self) -> String {
        "keyway-virtual".into()
    }

    #[zbus(property)]
    fn alias(&self) -> String {
        "Keyway virtual adapter".into()
    }

    /// The Linux Foundation's USB id, as a BlueZ adapter on a USB dongle reports it.
    #[zbus(property)]
    fn modalias(&self) -> String {
        "usb:v1D6Bp0246d0540".into()
    }

    #[zbus(property)]
    fn powered(&self) -> bool {
        self.shared.adapter().powered
    }

    /// Switching on fails while Bluetooth is off: the model is an rfkill block, which a
    /// client cannot lift (btleplug tries before every scan).
    #[zbus(property)]
    fn set_powered(&mut self, powered: bool) -> zbus::fdo::Result<()> {
        if powered && !self.shared.adapter().powered {
            return Err(zbus::fdo::Error::Failed("Blocked through rfkill".into()));
        }
        if !powered {
            let mut adapter = self.shared.adapter();
            adapter.powered = false;
            adapter.discovering.clear();
        }
        Ok(())
    }

    #[zbus(property)]
    fn discovering(&self) -> bool {
        !self.shared.adapter().discovering.is_empty()
    }
}

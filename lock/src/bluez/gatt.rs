//! The Keyway GATT service as BlueZ presents it: `GattService1` and its two
//! `GattCharacteristic1`s, the request (write) and the response (notify).

use super::adapter::BluezFailure;
use super::device::{Peer, on_write};
use super::{emit_changed, lock_peer};
use keyway_protocol::advert::{REQUEST_CHARACTERISTIC_UUID, RESPONSE_CHARACTERISTIC_UUID, SERVICE_UUID};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// `org.bluez.GattService1`.
pub(crate) struct Service {
    pub device: OwnedObjectPath,
}

#[zbus::interface(name = "org.bluez.GattService1")]
impl Service {
    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        SERVICE_UUID.to_owned()
    }

    #[zbus(property)]
    fn primary(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn device(&self) -> OwnedObjectPath {
        self.device.clone()
    }
}

fn connected(peer: &Mutex<Peer>) -> Result<(), BluezFailure> {
    match lock_peer(peer).link {
        Some(_) => Ok(()),
        None => Err(BluezFailure::Failed("Not connected".into())),
    }
}

/// The request characteristic: phone → lock.
pub(crate) struct RequestCharacteristic {
    pub peer: Arc<Mutex<Peer>>,
    pub service: OwnedObjectPath,
}

#[zbus::interface(name = "org.bluez.GattCharacteristic1")]
impl RequestCharacteristic {
    /// A write request (`type` "request", the default) or command ("command"): both reach
    /// the lock the same way; only the ATT acknowledgement differs on a real link.
    async fn write_value(
        &self,
        value: Vec<u8>,
        _options: HashMap<String, OwnedValue>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(), BluezFailure> {
        on_write(connection, &self.peer, value).await
    }

    async fn read_value(&self, _options: HashMap<String, OwnedValue>) -> Result<Vec<u8>, BluezFailure> {
        Err(BluezFailure::Failed("Read not permitted".into()))
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        REQUEST_CHARACTERISTIC_UUID.to_owned()
    }

    #[zbus(property)]
    fn service(&self) -> OwnedObjectPath {
        self.service.clone()
    }

    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        vec!["write".into(), "write-without-response".into()]
    }

    #[zbus(property, name = "MTU")]
    fn mtu(&self) -> u16 {
        lock_peer(&self.peer).mtu()
    }

    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        Vec::new()
    }
}

/// The response characteristic: lock → phone, by notification.
pub(crate) struct ResponseCharacteristic {
    pub peer: Arc<Mutex<Peer>>,
    pub service: OwnedObjectPath,
}

impl ResponseCharacteristic {
    async fn set_notifying(&self, connection: &zbus::Connection, on: bool) -> Result<(), BluezFailure> {
        let path = {
            let mut peer = lock_peer(&self.peer);
            peer.notifying = on;
            peer.response_path.clone()
        };
        let changed = HashMap::from([("Notifying", Value::from(on))]);
        emit_changed(connection, path.as_str(), "org.bluez.GattCharacteristic1", changed).await?;
        Ok(())
    }
}

#[zbus::interface(name = "org.bluez.GattCharacteristic1")]
impl ResponseCharacteristic {
    async fn start_notify(&self, #[zbus(connection)] connection: &zbus::Connection) -> Result<(), BluezFailure> {
        connected(&self.peer)?;
        self.set_notifying(connection, true).await
    }

    async fn stop_notify(&self, #[zbus(connection)] connection: &zbus::Connection) -> Result<(), BluezFailure> {
        if !lock_peer(&self.peer).notifying {
            return Err(BluezFailure::Failed("No notify session started".into()));
        }
        self.set_notifying(connection, false).await
    }

    async fn read_value(&self, _options: HashMap<String, OwnedValue>) -> Result<Vec<u8>, BluezFailure> {
        Err(BluezFailure::Failed("Read not permitted".into()))
    }

    #[zbus(property, name = "UUID")]
    fn uuid(&self) -> String {
        RESPONSE_CHARACTERISTIC_UUID.to_owned()
    }

    #[zbus(property)]
    fn service(&self) -> OwnedObjectPath {
        self.service.clone()
    }

    #[zbus(property)]
    fn flags(&self) -> Vec<String> {
        vec!["notify".into()]
    }

    #[zbus(property, name = "MTU")]
    fn mtu(&self) -> u16 {
        lock_peer(&self.peer).mtu()
    }

    #[zbus(property)]
    fn value(&self) -> Vec<u8> {
        lock_peer(&self.peer).last_value.clone()
    }

    #[zbus(property)]
    fn notifying(&self) -> bool {
        lock_peer(&self.peer).notifying
    }
}

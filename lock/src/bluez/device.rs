//! One lock as a BlueZ device: `org.bluez.Device1` (connect, disconnect, advertising data)
//! and the link behind it, which carries the request characteristic's writes to the
//! reference lock and its answers back as notifications.

use super::adapter::BluezFailure;
use super::{Misbehaviour, Shared, emit_changed, lock_peer, manufacturer_data};
use crate::lock::{ConnectionId, Lock};
use keyway_protocol::advert::SERVICE_UUID;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// After a lock closes a connection, its last notifications are delivered before the link
/// goes down (one connection interval, as a link layer acknowledges them first).
const CLOSE_AFTER_NOTIFICATIONS: Duration = Duration::from_millis(30);

/// An open GATT connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenLink {
    pub id: ConnectionId,
    /// Writes received on this connection.
    pub writes: u32,
    /// Which connection of this peer it is (late notifications of an old one are dropped).
    pub epoch: u64,
    pub mtu: u16,
}

/// A lock and its radio state.
pub(crate) struct Peer {
    pub lock: Lock,
    pub address: String,
    pub device_path: OwnedObjectPath,
    pub response_path: OwnedObjectPath,
    pub rssi: i16,
    misbehaviour: Misbehaviour,
    frozen_advert: Option<Vec<u8>>,
    pub link: Option<OpenLink>,
    epoch: u64,
    pub notifying: bool,
    pub last_value: Vec<u8>,
    pub writes_total: u64,
}

impl Peer {
    pub fn new(lock: Lock, address: String, device_path: OwnedObjectPath, response_path: OwnedObjectPath) -> Self {
        Self {
            lock,
            address,
            device_path,
            response_path,
            rssi: -60,
            misbehaviour: Misbehaviour::default(),
            frozen_advert: None,
            link: None,
            epoch: 0,
            notifying: false,
            last_value: Vec::new(),
            writes_total: 0,
        }
    }

    pub fn set_misbehaviour(&mut self, misbehaviour: Misbehaviour) {
        self.frozen_advert = match (misbehaviour.stale_advertisement, self.frozen_advert.take()) {
            (false, _) => None,
            (true, Some(frozen)) => Some(frozen),
            (true, None) => Some(self.lock.advertisement().to_bytes()),
        };
        self.misbehaviour = misbehaviour;
    }

    /// One advertisement: the device path, the RSSI and the manufacturer data value.
    pub fn advertise(&mut self) -> Option<(OwnedObjectPath, i16, Vec<u8>)> {
        if !self.misbehaviour.in_range {
            return None;
        }
        // The lock's timers run while it advertises; a failed tick leaves the old nonce.
        let _ = self.lock.tick();
        let advert = match &self.frozen_advert {
            Some(frozen) => frozen.clone(),
            None => self.lock.advertisement().to_bytes(),
        };
        Some((self.device_path.clone(), self.rssi, advert))
    }

    /// The ATT MTU of the open link, or the one the next link will have.
    pub fn mtu(&self) -> u16 {
        self.link.map_or(self.misbehaviour.att_mtu, |link| link.mtu)
    }

    /// Closes the link on the lock's side; `true` if one was open.
    fn close_link(&mut self) -> bool {
        match self.link.take() {
            Some(link) => {
                self.lock.disconnect(link.id);
                self.notifying = false;
                true
            }
            None => false,
        }
    }

    /// The link if it is still the connection `epoch`.
    fn link_of(&self, epoch: u64) -> Option<OpenLink> {
        self.link.filter(|link| link.epoch == epoch)
    }
}

/// Drops `peer`'s link (if open) and tells the clients: `Connected` and `ServicesResolved` false.
pub(crate) async fn drop_link(connection: &zbus::Connection, peer: &Mutex<Peer>) {
    let (closed, path) = {
        let mut peer = lock_peer(peer);
        (peer.close_link(), peer.device_path.clone())
    };
    if closed {
        announce_link(connection, &path, false).await;
    }
}

async fn announce_link(connection: &zbus::Connection, path: &OwnedObjectPath, up: bool) {
    let changed = HashMap::from([("Connected", Value::from(up)), ("ServicesResolved", Value::from(up))]);
    // A client that missed the signal finds out at its next call.
    let _ = emit_changed(connection, path.as_str(), "org.bluez.Device1", changed).await;
}

/// A write to the request characteristic: hands the frame to the lock and sends its
/// answer as notifications (after the write completes, and after any configured delay).
pub(crate) async fn on_write(
    connection: &zbus::Connection,
    peer: &Arc<Mutex<Peer>>,
    frame: Vec<u8>,
) -> Result<(), BluezFailure> {
    enum Next {
        Notify { notifications: Vec<Vec<u8>>, closed: bool, epoch: u64, delay: Duration },
        Drop,
    }
    let next = {
        let mut guard = lock_peer(peer);
        let p = &mut *guard;
        let Some(link) = p.link.as_mut() else {
            return Err(BluezFailure::Failed("Not connected".into()));
        };
        link.writes += 1;
        p.writes_total += 1;
        let (link, misbehaviour) = (*link, &mut p.misbehaviour);
        let drop_now =
            misbehaviour.drops_left > 0 && misbehaviour.drop_after_writes.is_some_and(|after| link.writes > after);
        if drop_now {
            misbehaviour.drops_left -= 1;
            Next::Drop
        } else if frame.len() > usize::from(link.mtu) - 3 {
            return Err(BluezFailure::InvalidValueLength("Invalid Length".into()));
        } else {
            match p.lock.on_frame(link.id, &frame) {
                Ok(reply) => Next::Notify {
                    notifications: reply.notifications,
                    closed: reply.closed,
                    epoch: link.epoch,
                    delay: p.misbehaviour.response_delay,
                },
                // The lock gave up on the connection (frames it could not reassemble).
                Err(_) => Next::Drop,
            }
        }
    };
    match next {
        Next::Drop => {
            drop_link(connection, peer).await;
            Err(BluezFailure::Failed("Not connected".into()))
        }
        Next::Notify { notifications, closed, epoch, delay } => {
            if !notifications.is_empty() || closed {
                tokio::spawn(notify(connection.clone(), peer.clone(), notifications, closed, epoch, delay));
            }
            Ok(())
        }
    }
}

/// Sends the lock's answer on connection `epoch`, then closes it if the lock did.
async fn notify(
    connection: zbus::Connection,
    peer: Arc<Mutex<Peer>>,
    notifications: Vec<Vec<u8>>,
    closed: bool,
    epoch: u64,
    delay: Duration,
) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    for frame in notifications {
        let path = {
            let mut p = lock_peer(&peer);
            if p.link_of(epoch).is_none() {
                return;
            }
            if !p.notifying {
                continue;
            }
            p.last_value = frame.clone();
            p.response_path.clone()
        };
        let changed = HashMap::from([("Value", Value::from(frame))]);
        let _ = emit_changed(&connection, path.as_str(), "org.bluez.GattCharacteristic1", changed).await;
    }
    if closed {
        tokio::time::sleep(CLOSE_AFTER_NOTIFICATIONS).await;
        let still_open = lock_peer(&peer).link_of(epoch).is_some();
        if still_open {
            drop_link(&connection, &peer).await;
        }
    }
}

/// `org.bluez.Device1` for one lock.
pub(crate) struct Device {
    pub shared: Arc<Shared>,
    pub peer: Arc<Mutex<Peer>>,
}

impl Device {
    fn peer(&self) -> std::sync::MutexGuard<'_, Peer> {
        lock_peer(&self.peer)
    }
}

#[zbus::interface(name = "org.bluez.Device1")]
impl Device {
    /// Connects and resolves services (`Connected`, then `ServicesResolved`), or misbehaves.
    async fn connect(&self, #[zbus(connection)] connection: &zbus::Connection) -> Result<(), BluezFailure> {
        if !self.shared.adapter().powered {
            return Err(BluezFailure::NotReady("Resource Not Ready".into()));
        }
        let misbehaviour = self.peer().misbehaviour.clone();
        if misbehaviour.hang_on_connect {
            std::future::pending::<()>().await;
        }
        if misbehaviour.refuse_connect || !misbehaviour.in_range {
            return Err(BluezFailure::Failed("le-connection-abort-by-local".into()));
        }
        let path = {
            let mut guard = self.peer();
            let p = &mut *guard;
            if p.link.is_some() {
                return Ok(());
            }
            let mtu = misbehaviour.att_mtu;
            let id = p.lock.connect(mtu).map_err(|e| BluezFailure::Failed(e.to_string()))?;
            p.epoch += 1;
            p.link = Some(OpenLink { id, writes: 0, epoch: p.epoch, mtu });
            p.device_path.clone()
        };
        announce_link(connection, &path, true).await;
        Ok(())
    }

    async fn disconnect(&self, #[zbus(connection)] connection: &zbus::Connection) -> Result<(), BluezFailure> {
        drop_link(connection, &self.peer).await;
        Ok(())
    }

    #[zbus(property)]
    fn address(&self) -> String {
        self.peer().address.clone()
    }

    #[zbus(property)]
    fn address_type(&self) -> String {
        "random".into()
    }

    #[zbus(property)]
    fn name(&self) -> String {
        format!("Keyway {}", self.peer().lock.door().to_hex())
    }

    #[zbus(property)]
    fn alias(&self) -> String {
        self.name()
    }

    #[zbus(property)]
    fn adapter(&self) -> OwnedObjectPath {
        OwnedObjectPath::try_from(super::ADAPTER_PATH).unwrap_or_default()
    }

    #[zbus(property)]
    fn paired(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn trusted(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn blocked(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn legacy_pairing(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn connected(&self) -> bool {
        self.peer().link.is_some()
    }

    #[zbus(property)]
    fn services_resolved(&self) -> bool {
        self.peer().link.is_some()
    }

    #[zbus(property, name = "RSSI")]
    fn rssi(&self) -> i16 {
        self.peer().rssi
    }

    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        vec![SERVICE_UUID.to_owned()]
    }

    /// The advertisement last broadcast (BlueZ keeps the last one it heard).
    #[zbus(property)]
    fn manufacturer_data(&self) -> HashMap<u16, OwnedValue> {
        let mut peer = self.peer();
        let advert = match &peer.frozen_advert {
            Some(frozen) => frozen.clone(),
            None => peer.lock.advertisement().to_bytes(),
        };
        manufacturer_data(&advert)
    }

    #[zbus(property)]
    fn service_data(&self) -> HashMap<String, OwnedValue> {
        HashMap::new()
    }
}

//! A virtual BlueZ: reference locks served as Bluetooth LE devices on a D-Bus, so that a
//! phone-side BLE stack that speaks BlueZ's D-Bus API (btleplug on Linux) scans, connects,
//! writes and is notified exactly as it would with hardware, on a machine with no radio.
//!
//! It owns `org.bluez` on the bus it is given and presents:
//! - `/` with `org.freedesktop.DBus.ObjectManager`;
//! - an adapter `/org/bluez/hci0` (`org.bluez.Adapter1`), unless told there is none;
//! - one `org.bluez.Device1` per lock, with the Keyway GATT service (`GattService1`), its
//!   request characteristic (write, write without response) and its response
//!   characteristic (notify), whose notifications are `PropertiesChanged(Value)` signals;
//! - while a client is discovering, one advertisement per lock every advertising interval:
//!   `PropertiesChanged(RSSI, ManufacturerData)`, the lock's current advertisement under
//!   company id `0xFFFF` (so a rotated nonce is heard on the next advertisement).
//!
//! Each lock can be told to misbehave ([`Misbehaviour`]): drop the link after some writes,
//! answer late, refuse or never finish a connection, offer a small ATT MTU, or keep
//! advertising a stale nonce. `docs/ble.md` lists what of BlueZ is modelled and what is not.

mod adapter;
mod device;
mod gatt;

use crate::lock::Lock;
use adapter::Adapter;
use device::{Device, Peer};
use gatt::{RequestCharacteristic, ResponseCharacteristic, Service};
use keyway_protocol::advert::ADVERT_COMPANY_ID;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use zbus::zvariant::{OwnedObjectPath, Value};

/// The adapter's object path.
pub const ADAPTER_PATH: &str = "/org/bluez/hci0";
/// How often a lock advertises while a client is discovering.
pub const ADVERTISING_INTERVAL: Duration = Duration::from_millis(100);
/// The ATT MTU a lock offers unless told otherwise.
pub const DEFAULT_ATT_MTU: u16 = 247;

/// How one lock misbehaves. The default is a healthy lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misbehaviour {
    /// Drop the link when a connection receives its write number `after + 1` (that write
    /// fails as "Not connected")…
    pub drop_after_writes: Option<u32>,
    /// …on this many connections (each drop uses one up).
    pub drops_left: u32,
    /// Notifications go out this long after the write that caused them.
    pub response_delay: Duration,
    /// `Connect` fails at once (`org.bluez.Error.Failed`).
    pub refuse_connect: bool,
    /// `Connect` never returns (a peripheral that stopped answering mid-connection).
    pub hang_on_connect: bool,
    /// The ATT MTU the connection ends up with (BlueZ's characteristic `MTU` property).
    pub att_mtu: u16,
    /// Keep advertising the advertisement heard when this was set, whatever the lock's nonce.
    pub stale_advertisement: bool,
    /// In range: advertises and accepts connections.
    pub in_range: bool,
}

impl Default for Misbehaviour {
    fn default() -> Self {
        Self {
            drop_after_writes: None,
            drops_left: 0,
            response_delay: Duration::ZERO,
            refuse_connect: false,
            hang_on_connect: false,
            att_mtu: DEFAULT_ATT_MTU,
            stale_advertisement: false,
            in_range: true,
        }
    }
}

/// Where a lock sits on the virtual BlueZ: its index (in order of [`VirtualBluez::add_lock`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VirtualLock(pub usize);

/// What the adapter looks like when the service starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterSetup {
    /// There is an adapter at all (`false`: a machine without Bluetooth).
    pub present: bool,
    /// It is powered (`false`: Bluetooth switched off, rfkill-blocked).
    pub powered: bool,
}

impl Default for AdapterSetup {
    fn default() -> Self {
        Self { present: true, powered: true }
    }
}

/// The adapter's state, shared by the D-Bus objects.
#[derive(Debug)]
pub(crate) struct AdapterModel {
    pub powered: bool,
    /// Clients (unique bus names) with a discovery session.
    pub discovering: BTreeSet<String>,
}

/// State shared by every object of the service.
pub(crate) struct Shared {
    pub adapter: Mutex<AdapterModel>,
    pub peers: Mutex<Vec<Arc<Mutex<Peer>>>>,
}

impl Shared {
    pub fn adapter(&self) -> MutexGuard<'_, AdapterModel> {
        self.adapter.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn peers(&self) -> Vec<Arc<Mutex<Peer>>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

pub(crate) fn lock_peer(peer: &Mutex<Peer>) -> MutexGuard<'_, Peer> {
    // Every update of a peer is complete before any call that could panic: recover.
    peer.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why the service could not start or change.
#[derive(Debug, thiserror::Error)]
pub enum BluezError {
    /// The bus refused or failed.
    #[error("D-Bus: {0}")]
    Bus(#[from] zbus::Error),
    /// There is no lock with this index.
    #[error("no such virtual lock")]
    UnknownLock,
}

/// A running virtual BlueZ. Dropping it stops the advertising and closes its bus connection
/// (which gives up `org.bluez`).
pub struct VirtualBluez {
    connection: zbus::Connection,
    shared: Arc<Shared>,
    advertiser: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for VirtualBluez {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualBluez").field("locks", &self.shared.peers().len()).finish_non_exhaustive()
    }
}

impl VirtualBluez {
    /// Connects to the bus at `address` (a D-Bus address such as `unix:path=…`), takes the
    /// name `org.bluez`, and serves the adapter (if `setup.present`). Must run in a tokio runtime.
    pub async fn serve(address: &str, setup: AdapterSetup) -> Result<Self, BluezError> {
        let shared = Arc::new(Shared {
            adapter: Mutex::new(AdapterModel { powered: setup.powered, discovering: BTreeSet::new() }),
            peers: Mutex::new(Vec::new()),
        });
        let mut builder = zbus::connection::Builder::address(address)?
            .name("org.bluez")?
            .allow_name_replacements(true)
            .replace_existing_names(true)
            .serve_at("/", zbus::fdo::ObjectManager)?;
        if setup.present {
            builder = builder.serve_at(ADAPTER_PATH, Adapter { shared: shared.clone() })?;
        }
        let connection = builder.build().await?;
        let advertiser = tokio::spawn(advertise(connection.clone(), shared.clone()));
        Ok(Self { connection, shared, advertiser })
    }

    /// Puts a lock on the air as a BlueZ device (announced with `InterfacesAdded`).
    pub async fn add_lock(&self, lock: Lock) -> Result<VirtualLock, BluezError> {
        let index = self.shared.peers.lock().unwrap_or_else(PoisonError::into_inner).len();
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX).to_be_bytes();
        let address = format!("C0:FF:EE:{:02X}:{:02X}:{:02X}", number[1], number[2], number[3]);
        let device_path = format!("{ADAPTER_PATH}/dev_{}", address.replace(':', "_"));
        let service_path = format!("{device_path}/service0010");
        let request_path = format!("{service_path}/char0011");
        let response_path = format!("{service_path}/char0013");
        let peer =
            Arc::new(Mutex::new(Peer::new(lock, address, object_path(&device_path)?, object_path(&response_path)?)));
        self.shared.peers.lock().unwrap_or_else(PoisonError::into_inner).push(peer.clone());
        let server = self.connection.object_server();
        server.at(device_path.as_str(), Device { shared: self.shared.clone(), peer: peer.clone() }).await?;
        server.at(service_path.as_str(), Service { device: object_path(&device_path)? }).await?;
        let service = object_path(&service_path)?;
        server
            .at(request_path.as_str(), RequestCharacteristic { peer: peer.clone(), service: service.clone() })
            .await?;
        server.at(response_path.as_str(), ResponseCharacteristic { peer, service }).await?;
        Ok(VirtualLock(index))
    }

    fn peer(&self, lock: VirtualLock) -> Result<Arc<Mutex<Peer>>, BluezError> {
        self.shared.peers().get(lock.0).cloned().ok_or(BluezError::UnknownLock)
    }

    /// Runs `f` on a lock (to inspect or change it).
    pub fn with_lock<R>(&self, lock: VirtualLock, f: impl FnOnce(&mut Lock) -> R) -> Result<R, BluezError> {
        let peer = self.peer(lock)?;
        let mut peer = lock_peer(&peer);
        Ok(f(&mut peer.lock))
    }

    /// Changes how a lock misbehaves, from its next connection (or advertisement) on.
    pub fn set_misbehaviour(&self, lock: VirtualLock, misbehaviour: Misbehaviour) -> Result<(), BluezError> {
        lock_peer(&*self.peer(lock)?).set_misbehaviour(misbehaviour);
        Ok(())
    }

    /// The lock's Bluetooth address (`C0:FF:EE:…`).
    pub fn address(&self, lock: VirtualLock) -> Result<String, BluezError> {
        Ok(lock_peer(&*self.peer(lock)?).address.clone())
    }

    /// Writes the lock has received, on all connections.
    pub fn writes(&self, lock: VirtualLock) -> Result<u64, BluezError> {
        Ok(lock_peer(&*self.peer(lock)?).writes_total)
    }

    /// Switches the adapter on or off, as rfkill would: switching off drops every link.
    pub async fn set_powered(&self, powered: bool) -> Result<(), BluezError> {
        {
            let mut adapter = self.shared.adapter();
            adapter.powered = powered;
            if !powered {
                adapter.discovering.clear();
            }
        }
        let mut changed = HashMap::new();
        changed.insert("Powered", Value::from(powered));
        if !powered {
            changed.insert("Discovering", Value::from(false));
        }
        emit_changed(&self.connection, ADAPTER_PATH, "org.bluez.Adapter1", changed).await?;
        if !powered {
            for peer in self.shared.peers() {
                device::drop_link(&self.connection, &peer).await;
            }
        }
        Ok(())
    }

    /// The service's bus connection.
    pub fn connection(&self) -> &zbus::Connection {
        &self.connection
    }
}

impl Drop for VirtualBluez {
    fn drop(&mut self) {
        self.advertiser.abort();
    }
}

pub(crate) fn object_path(path: &str) -> Result<OwnedObjectPath, zbus::Error> {
    OwnedObjectPath::try_from(path).map_err(zbus::Error::from)
}

/// Emits `PropertiesChanged` for `interface` on `path`.
pub(crate) async fn emit_changed(
    connection: &zbus::Connection,
    path: &str,
    interface: &'static str,
    changed: HashMap<&str, Value<'_>>,
) -> Result<(), zbus::Error> {
    let emitter = zbus::object_server::SignalEmitter::new(connection, path)?;
    zbus::fdo::Properties::properties_changed(
        &emitter,
        zbus::names::InterfaceName::from_static_str_unchecked(interface),
        changed,
        std::borrow::Cow::Borrowed(&[]),
    )
    .await
}

/// The manufacturer data a lock broadcasts: its advertisement under Keyway's company id.
pub(crate) fn manufacturer_data(advert: &[u8]) -> HashMap<u16, zbus::zvariant::OwnedValue> {
    let mut data = HashMap::new();
    if let Ok(value) = zbus::zvariant::OwnedValue::try_from(Value::from(advert.to_vec())) {
        data.insert(ADVERT_COMPANY_ID, value);
    }
    data
}

/// While a client discovers, every lock in range advertises once per interval.
async fn advertise(connection: zbus::Connection, shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(ADVERTISING_INTERVAL);
    loop {
        ticker.tick().await;
        let on_air = {
            let adapter = shared.adapter();
            adapter.powered && !adapter.discovering.is_empty()
        };
        if !on_air {
            continue;
        }
        for peer in shared.peers() {
            let heard = lock_peer(&peer).advertise();
            if let Some((path, rssi, advert)) = heard {
                let mut changed = HashMap::new();
                changed.insert("RSSI", Value::from(rssi));
                changed.insert("ManufacturerData", Value::from(manufacturer_data(&advert)));
                // A lost advertisement is what radios do; the next one follows.
                let _ = emit_changed(&connection, path.as_str(), "org.bluez.Device1", changed).await;
            }
        }
    }
}

//! [`BleTransport`] over btleplug: the desktop radio (BlueZ on Linux, CoreBluetooth on
//! macOS, WinRT on Windows). Feature `btleplug`; the mobile shells bring their own radio.
//!
//! One adapter is chosen when Bluetooth is first used, and one task reads its event stream
//! for the transport's lifetime: it queues advertisements while a scan runs (only those
//! carrying Keyway's company id — BlueZ merges scan filters across clients, so the
//! service filter alone lets other devices through) and notices disconnects, which
//! btleplug reports only there. Each connection has its own inbox of notifications, fed
//! by the peripheral's notification stream, which a disconnect closes so that a pending
//! [`BleTransport::next_notification`] ends at once. Every failed step of a connection
//! tears down what was set up before it.

use crate::platform::{AdapterState, Advertisement, BleError, BleTransport, PeripheralId};
use async_trait::async_trait;
use btleplug::api::{Central, CentralEvent, CentralState, Characteristic, Manager as _, Peripheral as _};
use btleplug::api::{ScanFilter, WriteType};
use btleplug::platform::{Adapter, Manager, Peripheral, PeripheralId as PlatformId};
use futures::StreamExt;
use keyway_protocol::advert::{ADVERT_COMPANY_ID, REQUEST_CHARACTERISTIC_UUID, RESPONSE_CHARACTERISTIC_UUID};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Calls that only tidy up (stop a scan, disconnect) wait this long at most.
const TIDY_UP: Duration = Duration::from_secs(2);

/// The desktop radio.
pub struct BtleplugTransport {
    adapter_name: Option<String>,
    radio: tokio::sync::Mutex<Option<Radio>>,
    shared: Arc<Mutex<Shared>>,
    adverts: tokio::sync::Mutex<UnboundedReceiver<Advertisement>>,
    advert_sender: UnboundedSender<Advertisement>,
}

impl std::fmt::Debug for BtleplugTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BtleplugTransport").field("adapter_name", &self.adapter_name).finish_non_exhaustive()
    }
}

/// The chosen adapter and the task reading its events.
struct Radio {
    adapter: Adapter,
    events: JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    scanning: bool,
    /// Last RSSI per peripheral (btleplug reports it apart from the advertisement).
    rssi: HashMap<PeripheralId, i16>,
    /// Peripherals heard, by the id handed to the core.
    known: HashMap<PeripheralId, PlatformId>,
    links: HashMap<PeripheralId, Link>,
}

/// One connection.
struct Link {
    peripheral: Peripheral,
    /// Request characteristic, once discovered.
    request: Option<Characteristic>,
    events: UnboundedSender<LinkEvent>,
    inbox: Arc<tokio::sync::Mutex<UnboundedReceiver<LinkEvent>>>,
    down: Arc<AtomicBool>,
    forwarder: Option<JoinHandle<()>>,
}

impl Link {
    fn mark_down(&self) {
        self.down.store(true, Ordering::SeqCst);
        // The receiver may be gone already; then nobody waits.
        let _ = self.events.send(LinkEvent::Down);
    }
}

enum LinkEvent {
    Notification(Vec<u8>),
    Down,
}

/// What the platform said, sorted by what the core can tell the person.
#[derive(Debug)]
enum Problem {
    NoAdapter,
    Denied,
    Off,
    NotConnected,
    Other(String),
}

impl Problem {
    fn of(error: &btleplug::Error) -> Self {
        match error {
            btleplug::Error::PermissionDenied => Self::Denied,
            btleplug::Error::NoAdapterAvailable => Self::NoAdapter,
            btleplug::Error::NotConnected => Self::NotConnected,
            other => {
                // BlueZ's answers arrive as D-Bus errors inside `Other`; their names (in the
                // debug form) say what happened.
                let detail = format!("{other:?}");
                if ["AccessDenied", "NotPermitted", "NotAuthorized"].iter().any(|n| detail.contains(n)) {
                    Self::Denied
                } else if detail.contains("NotReady") || detail.contains("rfkill") {
                    Self::Off
                } else if detail.contains("Not connected") || detail.contains("NotConnected") {
                    Self::NotConnected
                } else {
                    Self::Other(other.to_string())
                }
            }
        }
    }

    fn into_transport(self) -> BleError {
        match self {
            Self::Denied => BleError::Unauthorized,
            Self::Off => BleError::PoweredOff,
            Self::NotConnected => BleError::Disconnected,
            Self::NoAdapter => BleError::Other { detail: "no Bluetooth adapter".into() },
            Self::Other(detail) => BleError::Other { detail },
        }
    }
}

fn transport_error(error: btleplug::Error) -> BleError {
    Problem::of(&error).into_transport()
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap_or_default()
}

impl Default for BtleplugTransport {
    fn default() -> Self {
        Self::new(None)
    }
}

impl BtleplugTransport {
    /// A transport on the adapter whose name starts with `adapter_name` (`hci1`), or the
    /// first adapter. Nothing is opened until Bluetooth is first used.
    pub fn new(adapter_name: Option<String>) -> Self {
        let (advert_sender, adverts) = unbounded_channel();
        Self {
            adapter_name,
            radio: tokio::sync::Mutex::new(None),
            shared: Arc::new(Mutex::new(Shared::default())),
            adverts: tokio::sync::Mutex::new(adverts),
            advert_sender,
        }
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The chosen adapter, choosing it (and starting its event task) on first use.
    async fn adapter(&self) -> Result<Adapter, Problem> {
        let mut radio = self.radio.lock().await;
        if let Some(radio) = radio.as_ref() {
            return Ok(radio.adapter.clone());
        }
        let manager = Manager::new().await.map_err(|e| match Problem::of(&e) {
            // No bus, or no BlueZ on it: this machine has no usable Bluetooth.
            Problem::Other(_) => Problem::NoAdapter,
            problem => problem,
        })?;
        let mut chosen = None;
        for adapter in manager.adapters().await.map_err(|e| Problem::of(&e))? {
            let info = adapter.adapter_info().await.unwrap_or_default();
            if self.adapter_name.as_deref().is_none_or(|name| info.starts_with(name)) {
                chosen = Some(adapter);
                break;
            }
        }
        let adapter = chosen.ok_or(Problem::NoAdapter)?;
        let events = adapter.events().await.map_err(|e| Problem::of(&e))?;
        let task = tokio::spawn(read_events(events, self.shared.clone(), self.advert_sender.clone()));
        *radio = Some(Radio { adapter: adapter.clone(), events: task });
        Ok(adapter)
    }

    /// Forgets a connection and closes it, whatever state it is in.
    async fn tear_down(&self, peripheral: &PeripheralId) {
        let link = self.shared().links.remove(peripheral);
        if let Some(link) = link {
            if let Some(forwarder) = link.forwarder {
                forwarder.abort();
            }
            // Also cancels a connection still being set up.
            let _ = tokio::time::timeout(TIDY_UP, link.peripheral.disconnect()).await;
        }
    }

    /// Connects, discovers and subscribes; returns the MTU. The link entry exists from the
    /// start so that a disconnect during set-up is seen.
    async fn open(&self, peripheral: &PeripheralId, id: &PlatformId) -> Result<u16, BleError> {
        let adapter = self.adapter().await.map_err(Problem::into_transport)?;
        let device = adapter.peripheral(id).await.map_err(transport_error)?;
        let (events, inbox) = unbounded_channel();
        let down = Arc::new(AtomicBool::new(false));
        let link = Link {
            peripheral: device.clone(),
            request: None,
            events: events.clone(),
            inbox: Arc::new(tokio::sync::Mutex::new(inbox)),
            down: down.clone(),
            forwarder: None,
        };
        self.shared().links.insert(peripheral.clone(), link);

        device.connect().await.map_err(transport_error)?;
        device.discover_services().await.map_err(transport_error)?;
        let characteristics = device.characteristics();
        let find = |uuid| characteristics.iter().find(|c| c.uuid == uuid).cloned();
        let (Some(request), Some(response)) =
            (find(uuid(REQUEST_CHARACTERISTIC_UUID)), find(uuid(RESPONSE_CHARACTERISTIC_UUID)))
        else {
            return Err(BleError::ServiceMissing);
        };
        // Listen before subscribing: nothing the lock sends is missed.
        let notifications = device.notifications().await.map_err(transport_error)?;
        let forwarder = tokio::spawn(forward_notifications(notifications, response.uuid, events));
        match self.shared().links.get_mut(peripheral) {
            Some(link) => {
                link.forwarder = Some(forwarder);
                link.request = Some(request);
            }
            None => {
                forwarder.abort();
                return Err(BleError::Disconnected);
            }
        }
        device.subscribe(&response).await.map_err(transport_error)?;
        if down.load(Ordering::SeqCst) {
            return Err(BleError::Disconnected);
        }
        Ok(device.mtu())
    }
}

impl Drop for BtleplugTransport {
    fn drop(&mut self) {
        if let Some(radio) = self.radio.get_mut().take() {
            radio.events.abort();
        }
        for (_, link) in self.shared().links.drain() {
            if let Some(forwarder) = link.forwarder {
                forwarder.abort();
            }
        }
    }
}

/// Reads the adapter's events for the transport's lifetime.
async fn read_events(
    mut events: std::pin::Pin<Box<dyn futures::Stream<Item = CentralEvent> + Send>>,
    shared: Arc<Mutex<Shared>>,
    adverts: UnboundedSender<Advertisement>,
) {
    while let Some(event) = events.next().await {
        let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            CentralEvent::RssiUpdate { id, rssi } => {
                shared.rssi.insert(id.to_string(), rssi);
            }
            CentralEvent::ManufacturerDataAdvertisement { id, manufacturer_data } => {
                let Some(data) = manufacturer_data.get(&ADVERT_COMPANY_ID) else { continue };
                if !shared.scanning {
                    continue;
                }
                let peripheral = id.to_string();
                let rssi = shared.rssi.get(&peripheral).copied();
                shared.known.insert(peripheral.clone(), id);
                // The receiver lives as long as the transport, which owns this task.
                let _ = adverts.send(Advertisement { peripheral, manufacturer_data: data.clone(), rssi });
            }
            CentralEvent::DeviceDisconnected(id) => {
                if let Some(link) = shared.links.get(&id.to_string()) {
                    link.mark_down();
                }
            }
            CentralEvent::StateUpdate(CentralState::PoweredOff) => {
                for link in shared.links.values() {
                    link.mark_down();
                }
            }
            _ => {}
        }
    }
}

/// Moves the response characteristic's notifications into the connection's inbox.
async fn forward_notifications(
    mut notifications: std::pin::Pin<Box<dyn futures::Stream<Item = btleplug::api::ValueNotification> + Send>>,
    response: Uuid,
    inbox: UnboundedSender<LinkEvent>,
) {
    while let Some(notification) = notifications.next().await {
        if notification.uuid == response && inbox.send(LinkEvent::Notification(notification.value)).is_err() {
            return;
        }
    }
}

#[async_trait]
impl BleTransport for BtleplugTransport {
    async fn adapter_state(&self) -> AdapterState {
        let adapter = match self.adapter().await {
            Ok(adapter) => adapter,
            Err(Problem::Denied) => return AdapterState::Unauthorized,
            Err(Problem::Off) => return AdapterState::PoweredOff,
            Err(problem) => {
                tracing::info!(?problem, "no usable Bluetooth adapter");
                return AdapterState::Unsupported;
            }
        };
        match adapter.adapter_state().await {
            Ok(CentralState::PoweredOn) => AdapterState::PoweredOn,
            Ok(_) => AdapterState::PoweredOff,
            Err(e) => match Problem::of(&e) {
                Problem::Denied => AdapterState::Unauthorized,
                _ => AdapterState::PoweredOff,
            },
        }
    }

    async fn start_scan(&self, service_uuid: &str) -> Result<(), BleError> {
        let adapter = self.adapter().await.map_err(Problem::into_transport)?;
        {
            let mut adverts = self.adverts.lock().await;
            while adverts.try_recv().is_ok() {}
            self.shared().scanning = true;
        }
        let filter = ScanFilter { services: vec![uuid(service_uuid)] };
        if let Err(e) = adapter.start_scan(filter).await {
            self.shared().scanning = false;
            return Err(transport_error(e));
        }
        Ok(())
    }

    async fn next_advertisement(&self, timeout: Duration) -> Result<Advertisement, BleError> {
        if !self.shared().scanning {
            return Err(BleError::Other { detail: "not scanning".into() });
        }
        let mut adverts = self.adverts.lock().await;
        match tokio::time::timeout(timeout, adverts.recv()).await {
            Ok(Some(heard)) => Ok(heard),
            Ok(None) => Err(BleError::Other { detail: "the adapter's event stream ended".into() }),
            Err(_) => Err(BleError::Timeout),
        }
    }

    async fn stop_scan(&self) {
        self.shared().scanning = false;
        let adapter = self.radio.lock().await.as_ref().map(|radio| radio.adapter.clone());
        if let Some(adapter) = adapter {
            let _ = tokio::time::timeout(TIDY_UP, adapter.stop_scan()).await;
        }
    }

    async fn connect(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<u16, BleError> {
        let id = self
            .shared()
            .known
            .get(peripheral)
            .cloned()
            .ok_or_else(|| BleError::ConnectFailed { detail: "unknown peripheral".into() })?;
        self.tear_down(peripheral).await;
        let result = match tokio::time::timeout(timeout, self.open(peripheral, &id)).await {
            Ok(result) => result,
            Err(_) => Err(BleError::Timeout),
        };
        if result.is_err() {
            self.tear_down(peripheral).await;
        }
        result.map_err(|e| match e {
            BleError::Other { detail } => BleError::ConnectFailed { detail },
            other => other,
        })
    }

    async fn write(&self, peripheral: &PeripheralId, frame: &[u8], with_response: bool) -> Result<(), BleError> {
        let (device, request, down) = {
            let shared = self.shared();
            let link = shared.links.get(peripheral).ok_or(BleError::Disconnected)?;
            let request = link.request.clone().ok_or(BleError::Disconnected)?;
            (link.peripheral.clone(), request, link.down.clone())
        };
        if down.load(Ordering::SeqCst) {
            return Err(BleError::Disconnected);
        }
        let kind = if with_response { WriteType::WithResponse } else { WriteType::WithoutResponse };
        device
            .write(&request, frame, kind)
            .await
            .map_err(|e| if down.load(Ordering::SeqCst) { BleError::Disconnected } else { transport_error(e) })
    }

    async fn next_notification(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<Vec<u8>, BleError> {
        let inbox = self.shared().links.get(peripheral).map(|link| link.inbox.clone());
        let inbox = inbox.ok_or(BleError::Disconnected)?;
        let mut inbox = inbox.lock().await;
        match tokio::time::timeout(timeout, inbox.recv()).await {
            Ok(Some(LinkEvent::Notification(frame))) => Ok(frame),
            Ok(Some(LinkEvent::Down) | None) => Err(BleError::Disconnected),
            Err(_) => Err(BleError::Timeout),
        }
    }

    async fn disconnect(&self, peripheral: &PeripheralId) {
        self.tear_down(peripheral).await;
    }
}

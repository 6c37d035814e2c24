//! The core's [`BleTransport`] over the reference lock's simulated radio: what a phone's
//! Bluetooth stack does, against locks "in range" on the same simulated air.
//!
//! This is the only mock in the journeys, and only because this machine has no radio:
//! the locks behind it are the real reference lock, speaking the real protocol.

use async_trait::async_trait;
use keyway_core::platform::{AdapterState, Advertisement, BleError, BleTransport, PeripheralId};
use keyway_lock::sim::{PeripheralId as SimId, RadioError, SimConnection, SimRadio};
use keyway_protocol::advert::ADVERT_COMPANY_ID;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How often an idle scan or notification wait looks again.
const POLL: Duration = Duration::from_millis(5);

/// A phone's radio on the simulated air.
pub struct SimTransport {
    radio: Arc<SimRadio>,
    requested_mtu: u16,
    state: Mutex<State>,
    before_connect: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

#[derive(Default)]
struct State {
    adapter: Option<AdapterState>,
    scanning: bool,
    heard: VecDeque<Advertisement>,
    connections: HashMap<PeripheralId, SimConnection>,
    /// Whole messages written to each peripheral (counted by their first frames).
    messages: HashMap<PeripheralId, usize>,
    /// Times the core asked for the adapter's state.
    adapter_queries: usize,
}

impl SimTransport {
    /// A phone that asks for `requested_mtu` when it connects (Android asks 517).
    pub fn new(radio: Arc<SimRadio>, requested_mtu: u16) -> Self {
        Self { radio, requested_mtu, state: Mutex::new(State::default()), before_connect: Mutex::new(None) }
    }

    /// Runs `f` once, just before the next connection: lets a test change the world
    /// between the scan and the connection (another phone using the advertised nonce…).
    pub fn before_next_connect(&self, f: impl FnOnce() + Send + 'static) {
        *self.before_connect.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Box::new(f));
    }

    /// Switches the phone's Bluetooth state (off, no permission…).
    pub fn set_adapter_state(&self, state: AdapterState) {
        self.lock().adapter = Some(state);
    }

    /// How many whole messages (requests) this phone has written to `peripheral`.
    pub fn messages_sent(&self, peripheral: &PeripheralId) -> usize {
        self.lock().messages.get(peripheral).copied().unwrap_or(0)
    }

    /// How many times the core has asked for the adapter's state (a readiness check
    /// asks once per look), so a test can wait until a nudge has been looked at.
    pub fn adapter_queries(&self) -> usize {
        self.lock().adapter_queries
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn sim_id(peripheral: &PeripheralId) -> Result<SimId, BleError> {
    peripheral
        .strip_prefix("sim:")
        .and_then(|n| n.parse().ok())
        .map(SimId)
        .ok_or_else(|| BleError::ConnectFailed { detail: "unknown peripheral".into() })
}

fn transport_error(e: RadioError) -> BleError {
    match e {
        RadioError::ConnectionLost | RadioError::Disconnected => BleError::Disconnected,
        RadioError::NotInRange | RadioError::UnknownPeripheral => BleError::ConnectFailed { detail: e.to_string() },
        other => BleError::Other { detail: other.to_string() },
    }
}

#[async_trait]
impl BleTransport for SimTransport {
    async fn adapter_state(&self) -> AdapterState {
        let mut state = self.lock();
        state.adapter_queries += 1;
        state.adapter.unwrap_or(AdapterState::PoweredOn)
    }

    async fn start_scan(&self, _service_uuid: &str) -> Result<(), BleError> {
        let mut state = self.lock();
        state.scanning = true;
        state.heard.clear();
        Ok(())
    }

    async fn next_advertisement(&self, timeout: Duration) -> Result<Advertisement, BleError> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut state = self.lock();
                if !state.scanning {
                    return Err(BleError::Other { detail: "not scanning".into() });
                }
                if state.heard.is_empty() {
                    for result in self.radio.scan() {
                        if result.company_id == ADVERT_COMPANY_ID {
                            state.heard.push_back(Advertisement {
                                peripheral: format!("sim:{}", result.peripheral.0),
                                manufacturer_data: result.data,
                                rssi: Some(result.rssi),
                            });
                        }
                    }
                }
                if let Some(ad) = state.heard.pop_front() {
                    return Ok(ad);
                }
            }
            if Instant::now() >= deadline {
                return Err(BleError::Timeout);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn stop_scan(&self) {
        let mut state = self.lock();
        state.scanning = false;
        state.heard.clear();
    }

    async fn connect(&self, peripheral: &PeripheralId, _timeout: Duration) -> Result<u16, BleError> {
        let id = sim_id(peripheral)?;
        let hook = self.before_connect.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(hook) = hook {
            hook();
        }
        let connection = self.radio.connect(id, self.requested_mtu).map_err(transport_error)?;
        let mtu = connection.mtu();
        self.lock().connections.insert(peripheral.clone(), connection);
        Ok(mtu)
    }

    async fn write(&self, peripheral: &PeripheralId, frame: &[u8], with_response: bool) -> Result<(), BleError> {
        let mut state = self.lock();
        let connection = state.connections.get_mut(peripheral).ok_or(BleError::Disconnected)?;
        let result = if with_response { connection.write(frame) } else { connection.write_without_response(frame) };
        if keyway_protocol::framing::starts_message(frame) {
            *state.messages.entry(peripheral.clone()).or_default() += 1;
        }
        result.map_err(transport_error)
    }

    async fn next_notification(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<Vec<u8>, BleError> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut state = self.lock();
                let connection = state.connections.get_mut(peripheral).ok_or(BleError::Disconnected)?;
                if let Some(frame) = connection.recv().map_err(transport_error)? {
                    return Ok(frame);
                }
            }
            if Instant::now() >= deadline {
                return Err(BleError::Timeout);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn disconnect(&self, peripheral: &PeripheralId) {
        if let Some(connection) = self.lock().connections.remove(peripheral) {
            connection.disconnect();
        }
    }
}

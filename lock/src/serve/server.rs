//! The served radio: reference locks on a [`SimRadio`] inside this process, reachable
//! by other processes (the Kotlin and Swift tests' `BleTransport`) over TCP. Each client
//! gets its own thread, its own GATT connections, and an advertisement pusher while it
//! scans. A client that sends garbage gets `err …` answers; a client that goes away has
//! its connections closed.

use super::wire::{MAX_LINE, Request, WireError, encode_hex, parse_request, peripheral_address};
use crate::keypad::KeypadOutcome;
use crate::sim::{LinkParams, PeripheralId, RadioError, SimConnection, SimRadio};
use crate::{FileStorage, Lock, LockError, LockOptions, Provisioning};
use keyway_protocol::doorcode::DoorcodeSecret;
use keyway_protocol::ids::DoorId;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thiserror::Error;

/// How often a scanning client hears each lock in range.
const ADVERTISING_INTERVAL: Duration = Duration::from_millis(100);

/// What `keyway-lock serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Where each lock keeps its state file (`<door hex>.lock`), provisioned on first run.
    pub state_dir: PathBuf,
    /// The doors to fit locks to.
    pub doors: Vec<DoorId>,
    /// The issuer public keys new locks trust (uncompressed SEC1).
    pub trust_anchors: Vec<Vec<u8>>,
    /// Take the radio's modelled time for each packet (connection interval 30 ms) instead
    /// of answering at once.
    pub real_time: bool,
}

/// One lock being served.
#[derive(Debug, Clone)]
pub struct ServedLock {
    /// The door it guards.
    pub door: DoorId,
    /// The address clients connect to.
    pub peripheral: String,
    /// Its HPKE public key, for the door record.
    pub public_key: Vec<u8>,
    /// Its receipt-signing public key, for the door record.
    pub signing_public_key: Vec<u8>,
    /// Its doorcode secret, for the door record (secret: printed only when asked for).
    pub doorcode_secret: Option<DoorcodeSecret>,
    /// Where it sits on the served radio.
    pub radio_id: PeripheralId,
}

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The state directory or the socket failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A lock could not be opened or provisioned.
    #[error("lock for door {door}: {source}")]
    Lock {
        /// The door.
        door: DoorId,
        /// The failure.
        source: LockError,
    },
    /// A state file belongs to another door.
    #[error("the state file for door {0} holds another door's lock")]
    WrongDoor(DoorId),
}

/// Locks on a radio, listening for clients.
pub struct LockServer {
    radio: SimRadio,
    listener: TcpListener,
    locks: Vec<ServedLock>,
}

impl LockServer {
    /// Opens (or provisions) every lock and binds the socket.
    pub fn start(options: &ServeOptions) -> Result<Self, ServeError> {
        let io = |what: String| move |source| ServeError::Io { what, source };
        std::fs::create_dir_all(&options.state_dir).map_err(io(format!("creating {}", options.state_dir.display())))?;
        let radio = if options.real_time { SimRadio::real_time(1) } else { SimRadio::new(1) };
        let mut locks = Vec::with_capacity(options.doors.len());
        for door in &options.doors {
            let storage = FileStorage::new(options.state_dir.join(format!("{door}.lock")));
            let provisioning = Provisioning { door: *door, trust_anchors: options.trust_anchors.clone() };
            let lock = Lock::open_or_provision(Box::new(storage), &provisioning, LockOptions::default())
                .map_err(|source| ServeError::Lock { door: *door, source })?;
            if lock.door() != *door {
                return Err(ServeError::WrongDoor(*door));
            }
            let served = ServedLock {
                door: *door,
                peripheral: String::new(),
                public_key: lock.public_key().to_vec(),
                signing_public_key: lock.signing_public_key().to_vec(),
                doorcode_secret: lock.doorcode_secret().cloned(),
                radio_id: PeripheralId(0),
            };
            let id = radio.add_lock(lock, LinkParams { att_mtu: 517, ..LinkParams::default() });
            locks.push(ServedLock { peripheral: peripheral_address(id), radio_id: id, ..served });
        }
        let listener = TcpListener::bind(&options.listen).map_err(io(format!("listening on {}", options.listen)))?;
        Ok(Self { radio, listener, locks })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The locks served.
    pub fn locks(&self) -> &[ServedLock] {
        &self.locks
    }

    /// The radio the locks are on (for their online links).
    pub fn radio(&self) -> &SimRadio {
        &self.radio
    }

    /// Serves clients until the process ends.
    pub fn run(self) {
        for stream in self.listener.incoming() {
            match stream {
                Ok(stream) => {
                    let radio = self.radio.clone();
                    std::thread::spawn(move || Client::serve(radio, stream));
                }
                Err(e) => eprintln!("keyway-lock serve: accept failed: {e}"),
            }
        }
    }
}

/// One client's side of the air.
struct Client {
    radio: SimRadio,
    out: Arc<Mutex<TcpStream>>,
    scanning: Arc<AtomicBool>,
    connections: HashMap<PeripheralId, SimConnection>,
}

fn radio_error(e: &RadioError) -> String {
    let code = match e {
        RadioError::UnknownPeripheral => "unknown_peripheral",
        RadioError::NotInRange => "out_of_range",
        RadioError::ConnectionLost => "connection_lost",
        RadioError::Disconnected => "disconnected",
        RadioError::BadMtu(_) => "bad_mtu",
        RadioError::FrameTooLong { .. } => "frame_too_long",
        RadioError::Frame(_) => "bad_frame",
    };
    format!("err {code} {e}")
}

/// The answer line for a keypad entry (see `docs/lock-serve.md`).
fn keypad_answer(outcome: KeypadOutcome) -> String {
    match outcome {
        KeypadOutcome::Opened { slot } => format!("ok opened {}", slot.0),
        KeypadOutcome::WrongCode { attempts_left } => format!("ok wrong {attempts_left}"),
        KeypadOutcome::LockedOut { until } => format!("ok locked_out {until}"),
        KeypadOutcome::Malformed(e) => format!("ok malformed {e}"),
        KeypadOutcome::NotEnabled => "ok not_enabled".to_owned(),
    }
}

impl Client {
    fn serve(radio: SimRadio, stream: TcpStream) {
        let Ok(out) = stream.try_clone() else { return };
        let _ = stream.set_nodelay(true);
        let mut client = Client {
            radio,
            out: Arc::new(Mutex::new(out)),
            scanning: Arc::new(AtomicBool::new(false)),
            connections: HashMap::new(),
        };
        let alive = Arc::new(AtomicBool::new(true));
        let advertiser = client.start_advertiser(alive.clone());
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            // One byte more than a line may hold, so an over-long line is seen as such.
            match (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let complete = line.last() == Some(&b'\n');
            if !complete && line.len() > MAX_LINE {
                // The rest of the line cannot be resynchronised safely: answer and hang up.
                client.send(&format!("err {}", WireError::LineTooLong));
                break;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            match parse_request(text) {
                Ok(request) => client.handle(request),
                Err(e) => client.send(&format!("err {e}")),
            }
        }
        alive.store(false, Ordering::SeqCst);
        let _ = advertiser.join();
        // Dropping the connections disconnects them at the locks.
    }

    fn send(&self, line: &str) {
        let mut out = self.out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.write_all(format!("{line}\n").as_bytes());
    }

    /// Pushes `adv` events for every lock in range while the client scans.
    fn start_advertiser(&self, alive: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let (radio, out, scanning) = (self.radio.clone(), self.out.clone(), self.scanning.clone());
        std::thread::spawn(move || {
            while alive.load(Ordering::SeqCst) {
                if scanning.load(Ordering::SeqCst) {
                    for heard in radio.scan() {
                        let line = format!(
                            "adv {} {} {:04x} {}\n",
                            peripheral_address(heard.peripheral),
                            heard.rssi,
                            heard.company_id,
                            encode_hex(&heard.data)
                        );
                        let mut out = out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        if out.write_all(line.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
                std::thread::sleep(ADVERTISING_INTERVAL);
            }
        })
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Scan(on) => {
                self.scanning.store(on, Ordering::SeqCst);
                self.send("ok");
            }
            Request::Connect(peripheral, mtu) => {
                self.connections.remove(&peripheral);
                match self.radio.connect(peripheral, mtu) {
                    Ok(connection) => {
                        self.send(&format!("ok {}", connection.mtu()));
                        self.connections.insert(peripheral, connection);
                    }
                    Err(e) => self.send(&radio_error(&e)),
                }
            }
            Request::Write { peripheral, frame, with_response } => self.write(peripheral, &frame, with_response),
            Request::Disconnect(peripheral) => {
                self.connections.remove(&peripheral);
                self.send("ok");
            }
            Request::Range(peripheral, in_range) => match self.radio.set_in_range(peripheral, in_range) {
                Ok(()) => self.send("ok"),
                Err(e) => self.send(&radio_error(&e)),
            },
            Request::Keypad(peripheral, keys) => {
                let answer = match self.radio.with_lock(peripheral, |lock| lock.keypad(&keys)) {
                    None => "err unknown_peripheral no lock at this address".to_owned(),
                    Some(Err(e)) => format!("err storage {e}"),
                    Some(Ok(outcome)) => keypad_answer(outcome),
                };
                self.send(&answer);
            }
        }
    }

    /// Writes a frame, answers, then pushes the lock's notifications (and `disconnected`
    /// if the lock closed the link after them).
    fn write(&mut self, peripheral: PeripheralId, frame: &[u8], with_response: bool) {
        let Some(connection) = self.connections.get_mut(&peripheral) else {
            self.send("err not_connected connect first");
            return;
        };
        let written = if with_response { connection.write(frame) } else { connection.write_without_response(frame) };
        if let Err(e) = written {
            self.connections.remove(&peripheral);
            self.send(&radio_error(&e));
            return;
        }
        let address = peripheral_address(peripheral);
        let mut events = Vec::new();
        let closed = loop {
            match connection.recv() {
                Ok(Some(notification)) => events.push(format!("notify {address} {}", encode_hex(&notification))),
                Ok(None) => break false,
                Err(_) => break true,
            }
        };
        if closed {
            events.push(format!("disconnected {address}"));
            self.connections.remove(&peripheral);
        }
        self.send("ok");
        for event in events {
            self.send(&event);
        }
    }
}

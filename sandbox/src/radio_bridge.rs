//! The simulated radio across a process boundary, for the crash-safety suite: the locks
//! stay in the test process while the phone's core runs in a child process that the
//! test kills. [`serve`] answers [`BleTransport`] calls over TCP on loopback with a
//! [`SimTransport`] on the test's radio; [`BridgeTransport`] is the child's radio.
//!
//! One JSON line per call and one per answer. When the child dies its socket closes and
//! every link it held is dropped, as a lock sees a phone vanish mid-exchange.

use crate::sim_transport::SimTransport;
use async_trait::async_trait;
use base64::Engine as _;
use keyway_core::platform::{AdapterState, Advertisement, BleError, BleTransport, PeripheralId};
use keyway_lock::sim::SimRadio;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(value.as_str().unwrap_or_default()).unwrap_or_default()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn error_to_json(e: &BleError) -> Value {
    let (kind, text) = match e {
        BleError::PoweredOff => ("powered_off", String::new()),
        BleError::Unauthorized => ("unauthorized", String::new()),
        BleError::Timeout => ("timeout", String::new()),
        BleError::Disconnected => ("disconnected", String::new()),
        BleError::ConnectFailed { detail: t } => ("connect_failed", t.clone()),
        BleError::ServiceMissing => ("service_missing", String::new()),
        BleError::Other { detail: t } => ("other", t.clone()),
    };
    json!({ "err": kind, "text": text })
}

fn error_from_json(value: &Value) -> BleError {
    let text = value["text"].as_str().unwrap_or_default().to_owned();
    match value["err"].as_str().unwrap_or_default() {
        "powered_off" => BleError::PoweredOff,
        "unauthorized" => BleError::Unauthorized,
        "timeout" => BleError::Timeout,
        "disconnected" => BleError::Disconnected,
        "connect_failed" => BleError::ConnectFailed { detail: text },
        "service_missing" => BleError::ServiceMissing,
        _ => BleError::Other { detail: text },
    }
}

/// The test's side: serves phones in other processes on `radio`.
pub struct RadioBridge {
    /// Where children connect (`127.0.0.1:port`).
    pub addr: String,
    sessions: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RadioBridge {
    /// Listens on loopback and serves every connection with its own phone radio.
    pub async fn serve(radio: Arc<SimRadio>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let sessions = Arc::new(AtomicUsize::new(0));
        let counter = sessions.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let radio = radio.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    serve_phone(stream, radio).await;
                    counter.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self { addr, sessions, task })
    }

    /// Waits (up to `limit`) until no child is connected: every link of a killed child
    /// has been dropped at the lock. Returns whether that happened in time.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.sessions.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        true
    }
}

impl Drop for RadioBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_phone(stream: TcpStream, radio: Arc<SimRadio>) {
    let transport = SimTransport::new(radio, 517);
    let mut connected: HashSet<PeripheralId> = HashSet::new();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let request: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let peripheral: PeripheralId = request["p"].as_str().unwrap_or_default().to_owned();
        let timeout = Duration::from_millis(request["ms"].as_u64().unwrap_or(0));
        let answer = match request["op"].as_str().unwrap_or_default() {
            "adapter" => json!({ "ok": format!("{:?}", transport.adapter_state().await) }),
            "start_scan" => {
                result(transport.start_scan(request["uuid"].as_str().unwrap_or_default()).await, |()| json!(null))
            }
            "next_ad" => result(
                transport.next_advertisement(timeout).await,
                |ad| json!({ "p": ad.peripheral, "data": b64(&ad.manufacturer_data), "rssi": ad.rssi }),
            ),
            "stop_scan" => {
                transport.stop_scan().await;
                json!({ "ok": null })
            }
            "connect" => {
                let answer = result(transport.connect(&peripheral, timeout).await, |mtu| json!(mtu));
                connected.insert(peripheral);
                answer
            }
            "write" => result(
                transport
                    .write(&peripheral, &unb64(&request["frame"]), request["resp"].as_bool().unwrap_or(true))
                    .await,
                |()| json!(null),
            ),
            "next_note" => result(transport.next_notification(&peripheral, timeout).await, |f| json!(b64(&f))),
            "disconnect" => {
                transport.disconnect(&peripheral).await;
                connected.remove(&peripheral);
                json!({ "ok": null })
            }
            _ => error_to_json(&BleError::Other { detail: "unknown bridge call".into() }),
        };
        let mut bytes = answer.to_string().into_bytes();
        bytes.push(b'\n');
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    // The phone is gone: so are its links, whatever they were doing.
    for peripheral in connected {
        transport.disconnect(&peripheral).await;
    }
}

fn result<T>(r: Result<T, BleError>, ok: impl FnOnce(T) -> Value) -> Value {
    match r {
        Ok(v) => json!({ "ok": ok(v) }),
        Err(e) => error_to_json(&e),
    }
}

/// The child's radio: every call goes to the [`RadioBridge`] of the test process.
pub struct BridgeTransport {
    link: tokio::sync::Mutex<(tokio::io::Lines<BufReader<OwnedReadHalf>>, OwnedWriteHalf)>,
}

impl BridgeTransport {
    /// Connects to the bridge at `addr`.
    pub async fn connect(addr: &str) -> std::io::Result<Self> {
        let (read, write) = TcpStream::connect(addr).await?.into_split();
        Ok(Self { link: tokio::sync::Mutex::new((BufReader::new(read).lines(), write)) })
    }

    async fn call(&self, request: Value) -> Result<Value, BleError> {
        let mut link = self.link.lock().await;
        let mut bytes = request.to_string().into_bytes();
        bytes.push(b'\n');
        let lost = |_| BleError::Other { detail: "radio bridge lost".into() };
        link.1.write_all(&bytes).await.map_err(lost)?;
        let line =
            link.0.next_line().await.map_err(lost)?.ok_or(BleError::Other { detail: "radio bridge closed".into() })?;
        let answer: Value =
            serde_json::from_str(&line).map_err(|_| BleError::Other { detail: "radio bridge garbled".into() })?;
        if answer.get("err").is_some() { Err(error_from_json(&answer)) } else { Ok(answer["ok"].clone()) }
    }
}

#[async_trait]
impl BleTransport for BridgeTransport {
    async fn adapter_state(&self) -> AdapterState {
        match self.call(json!({ "op": "adapter" })).await.ok().and_then(|v| v.as_str().map(str::to_owned)).as_deref() {
            Some("PoweredOn") => AdapterState::PoweredOn,
            Some("PoweredOff") => AdapterState::PoweredOff,
            Some("Unauthorized") => AdapterState::Unauthorized,
            _ => AdapterState::Unsupported,
        }
    }

    async fn start_scan(&self, service_uuid: &str) -> Result<(), BleError> {
        self.call(json!({ "op": "start_scan", "uuid": service_uuid })).await.map(|_| ())
    }

    async fn next_advertisement(&self, timeout: Duration) -> Result<Advertisement, BleError> {
        let ad = self.call(json!({ "op": "next_ad", "ms": millis(timeout) })).await?;
        Ok(Advertisement {
            peripheral: ad["p"].as_str().unwrap_or_default().to_owned(),
            manufacturer_data: unb64(&ad["data"]),
            rssi: ad["rssi"].as_i64().and_then(|r| i16::try_from(r).ok()),
        })
    }

    async fn stop_scan(&self) {
        let _ = self.call(json!({ "op": "stop_scan" })).await;
    }

    async fn connect(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<u16, BleError> {
        let mtu = self.call(json!({ "op": "connect", "p": peripheral, "ms": millis(timeout) })).await?;
        mtu.as_u64().and_then(|m| u16::try_from(m).ok()).ok_or(BleError::Other { detail: "radio bridge: MTU".into() })
    }

    async fn write(&self, peripheral: &PeripheralId, frame: &[u8], with_response: bool) -> Result<(), BleError> {
        self.call(json!({ "op": "write", "p": peripheral, "frame": b64(frame), "resp": with_response }))
            .await
            .map(|_| ())
    }

    async fn next_notification(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<Vec<u8>, BleError> {
        let frame = self.call(json!({ "op": "next_note", "p": peripheral, "ms": millis(timeout) })).await?;
        Ok(unb64(&frame))
    }

    async fn disconnect(&self, peripheral: &PeripheralId) {
        let _ = self.call(json!({ "op": "disconnect", "p": peripheral })).await;
    }
}

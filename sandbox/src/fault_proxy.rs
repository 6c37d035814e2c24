//! A faulty network between a phone and the real backend, on loopback: a small HTTPS
//! (HTTP/1.1) proxy that passes requests through, or breaks chosen ones the ways networks
//! and servers break — refusing connections, cutting an answer off, answering too slowly,
//! failing with 5xx, sending malformed JSON, the wrong content type or an endless body.
//!
//! It plays the part of a load balancer that terminates TLS: it presents the world's
//! loopback certificate (so phones verify it as they would the backend), and forwards to
//! the backend over TLS, trusting the world's CA.
//!
//! Every request is forwarded on its own connection with `connection: close`, so a fault
//! can be aimed at one request (by path) even though the phone pools its connections.

use crate::world::World;
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The phone's side of the proxy: TLS over loopback TCP.
type ClientStream = tokio_rustls::server::TlsStream<TcpStream>;

/// How the proxy reaches the backend: its address and a TLS client trusting the world's CA.
#[derive(Clone)]
struct Upstream {
    addr: String,
    connector: TlsConnector,
}

/// A way the network or the server fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// Nothing listens: the connection is refused.
    Refused,
    /// The request reaches the backend, which acts on it; the answer is cut off halfway
    /// and the connection reset.
    ResetMidAnswer,
    /// The answer comes after `delay` (beyond the phone's timeout).
    Slow,
    /// `503 Service Unavailable` with an HTML page, from a load balancer.
    Unavailable,
    /// `500` with the backend's JSON error envelope.
    ServerError,
    /// `200` with JSON cut short.
    MalformedJson,
    /// `200` with an HTML page.
    WrongContentType,
    /// `200` with an endless JSON body.
    HugeBody,
}

impl FaultKind {
    /// Every kind, for campaigns.
    pub const ALL: [FaultKind; 8] = [
        Self::Refused,
        Self::ResetMidAnswer,
        Self::Slow,
        Self::Unavailable,
        Self::ServerError,
        Self::MalformedJson,
        Self::WrongContentType,
        Self::HugeBody,
    ];
}

/// A fault waiting to be injected.
#[derive(Debug, Clone)]
struct Armed {
    kind: FaultKind,
    /// Only requests whose path starts with this.
    path_prefix: String,
    /// How many more requests it breaks.
    remaining: u32,
}

#[derive(Default)]
struct Shared {
    refusing: tokio::sync::watch::Sender<bool>,
    listening: std::sync::atomic::AtomicBool,
    armed: Mutex<Option<Armed>>,
    injected: Mutex<Vec<FaultKind>>,
    /// Bytes of the endless bodies sent so far.
    huge_bytes_sent: AtomicU64,
}

/// The proxy. Dropping it stops it.
pub struct FaultProxy {
    /// The URL a phone uses instead of the backend's.
    pub base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
    /// How long a slow answer takes.
    pub slow_delay: Duration,
}

impl FaultProxy {
    /// A proxy in front of the world's backend (`https://127.0.0.1:port/`).
    pub async fn start(world: &World, slow_delay: Duration) -> std::io::Result<Self> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned());
        let addr = world.base_url.trim_start_matches("https://").trim_end_matches('/').to_owned();
        let identity = world.loopback_identity();
        let acceptor = TlsAcceptor::from(
            keyway_backend::tls::TlsIdentity::from_pem(identity.chain_pem.as_bytes(), identity.key_pem.as_bytes())
                .map_err(|_| invalid("the loopback certificate"))?
                .server_config(),
        );
        let mut roots = rustls::RootCertStore::empty();
        for ca in rustls::pki_types::CertificateDer::pem_slice_iter(world.ca_pem().as_bytes()) {
            roots.add(ca.map_err(|_| invalid("the CA"))?).map_err(|_| invalid("the CA"))?;
        }
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|_| invalid("TLS versions"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let backend = Upstream { addr, connector: TlsConnector::from(Arc::new(client)) };
        let listener = listen(None)?;
        let addr = listener.local_addr()?;
        let (refusing, mut refusing_changes) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared { refusing, listening: true.into(), ..Shared::default() });
        let state = shared.clone();
        let task = tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                match &listener {
                    Some(open) => tokio::select! {
                        accepted = open.accept() => if let Ok((client, _)) = accepted {
                            // Accepted just as refusing began: as good as refused.
                            if *state.refusing.borrow() {
                                continue;
                            }
                            let (state, backend, acceptor) = (state.clone(), backend.clone(), acceptor.clone());
                            tokio::spawn(async move {
                                if let Ok(client) = acceptor.accept(client).await {
                                    let _ = serve(client, &backend, &state, slow_delay).await;
                                }
                            });
                        },
                        changed = refusing_changes.changed() => if changed.is_err() { return },
                    },
                    None => {
                        if refusing_changes.changed().await.is_err() {
                            return;
                        }
                    }
                }
                // Nobody listens while refusing: connections are refused by the system.
                let refuse = *refusing_changes.borrow();
                if refuse {
                    listener = None;
                } else if listener.is_none() {
                    listener = listen(Some(addr)).ok();
                }
                state.listening.store(listener.is_some(), Ordering::SeqCst);
            }
        });
        Ok(Self { base_url: format!("https://{addr}/"), shared, task, slow_delay })
    }

    /// Breaks the next `count` requests whose path starts with `path_prefix` (e.g.
    /// `/v1/doors/`; `/` for any) the way `kind` says. [`FaultKind::Refused`] closes the
    /// port for every request until [`FaultProxy::clear`].
    pub async fn arm(&self, kind: FaultKind, path_prefix: &str, count: u32) {
        if kind == FaultKind::Refused {
            lock(&self.shared.injected).push(kind);
            self.shared.refusing.send_replace(true);
            self.wait_listening(false).await;
            return;
        }
        *lock(&self.shared.armed) = Some(Armed { kind, path_prefix: path_prefix.to_owned(), remaining: count });
    }

    /// Stops breaking requests (and listens again, if it was refusing).
    pub async fn clear(&self) {
        *lock(&self.shared.armed) = None;
        self.shared.refusing.send_replace(false);
        self.wait_listening(true).await;
    }

    async fn wait_listening(&self, listening: bool) {
        while self.shared.listening.load(Ordering::SeqCst) != listening {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The faults injected so far, in order.
    pub fn injected(&self) -> Vec<FaultKind> {
        lock(&self.shared.injected).clone()
    }

    /// Bytes of endless bodies sent before the phone hung up.
    pub fn huge_bytes_sent(&self) -> u64 {
        self.shared.huge_bytes_sent.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fault for a request to `path`, if one is armed for it (and counts it).
fn take_fault(shared: &Shared, path: &str) -> Option<FaultKind> {
    let mut armed = lock(&shared.armed);
    let fault = armed.as_mut().filter(|a| a.remaining > 0 && path.starts_with(&a.path_prefix))?;
    fault.remaining -= 1;
    let kind = fault.kind;
    lock(&shared.injected).push(kind);
    Some(kind)
}

/// One request: its head (with `connection: close` in place of any connection header)
/// and body, and its path.
struct Request {
    bytes: Vec<u8>,
    path: String,
}

async fn read_request(client: &mut ClientStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
    let mut content_length = 0usize;
    let mut rewritten = format!("{request_line}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if name == "content-length" {
            content_length = line.split(':').nth(1).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        }
        if name != "connection" {
            rewritten.push_str(line);
            rewritten.push_str("\r\n");
        }
    }
    rewritten.push_str("connection: close\r\n\r\n");
    let mut body = buffer[head_end..].to_vec();
    while body.len() < content_length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut bytes = rewritten.into_bytes();
    bytes.extend_from_slice(&body);
    Ok(Some(Request { bytes, path }))
}

async fn forward(request: &Request, backend: &Upstream) -> std::io::Result<Vec<u8>> {
    let tcp = TcpStream::connect(&backend.addr).await?;
    let ip = tcp.peer_addr()?.ip();
    let mut upstream = backend.connector.connect(ServerName::IpAddress(ip.into()), tcp).await?;
    upstream.write_all(&request.bytes).await?;
    let mut answer = Vec::new();
    match upstream.read_to_end(&mut answer).await {
        Ok(_) => Ok(answer),
        // The backend closed after its answer (`connection: close`) without a TLS
        // close_notify: the answer is whole all the same.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => Ok(answer),
        Err(e) => Err(e),
    }
}

fn canned(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(
    mut client: ClientStream,
    backend: &Upstream,
    shared: &Shared,
    slow_delay: Duration,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut client).await? else { return Ok(()) };
    let fault = take_fault(shared, &request.path);
    let answer = match fault {
        // Armed as a closed port instead (see `arm`).
        Some(FaultKind::Refused) => return Ok(()),
        Some(FaultKind::ResetMidAnswer) => {
            let answer = forward(&request, backend).await?;
            client.write_all(&answer[..answer.len() / 2]).await?;
            client.flush().await?;
            client.get_ref().0.set_zero_linger()?;
            return Ok(());
        }
        Some(FaultKind::Slow) => {
            tokio::time::sleep(slow_delay).await;
            forward(&request, backend).await?
        }
        Some(FaultKind::Unavailable) => {
            canned("503 Service Unavailable", "text/html", "<html><body>Service Unavailable</body></html>")
        }
        Some(FaultKind::ServerError) => canned(
            "500 Internal Server Error",
            "application/json",
            r#"{"error":{"code":"internal","message":"Something went wrong"}}"#,
        ),
        Some(FaultKind::MalformedJson) => canned("200 OK", "application/json", r#"{"memberships": [{"org_id": 1, "#),
        Some(FaultKind::WrongContentType) => {
            canned("200 OK", "text/html", "<html><body>Welcome to the hotel Wi-Fi</body></html>")
        }
        Some(FaultKind::HugeBody) => {
            client
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[")
                .await?;
            let filler = b"\"keyway\",".repeat(4096);
            // Until the phone hangs up.
            while client.write_all(&filler).await.is_ok() {
                shared.huge_bytes_sent.fetch_add(filler.len() as u64, Ordering::SeqCst);
            }
            return Ok(());
        }
        None => forward(&request, backend).await?,
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// A listening socket on loopback (at `addr` again after a pause in refusing).
fn listen(addr: Option<std::net::SocketAddr>) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr.unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0))))?;
    socket.listen(128)
}

//! keyway-backend: the reference Keyway cloud service.
//!
//! One-time-code sign-in, sessions bound to device keys, people and invitations, doors
//! and keys, credential issuance, guest shares, door sync for offline doors, and an
//! admin API — over a versioned JSON HTTP API (`/v1/…`) backed by SQLite.
//! See `docs/backend.md` for the API and the design decisions.
#![forbid(unsafe_code)]

pub mod access;
pub mod account_deletion;
pub mod admin_cli;
pub mod cards;
pub mod client_address;
pub mod clock;
pub mod clock_resets;
pub mod credential_ids;
pub mod credentials;
pub mod db;
mod db_readers;
pub mod delivery;
pub mod dev_certs;
pub mod door_changes;
pub mod door_sync;
pub mod doorcodes;
pub mod doors;
pub mod error;
pub mod identifiers;
pub mod invitations;
pub mod issuer_keys;
pub mod keys;
pub mod landing;
pub mod lock_link;
pub mod openapi;
pub mod orgs;
pub mod otp;
pub mod outbox;
pub mod people;
pub mod profile;
pub mod push;
pub mod routes;
pub mod schema;
pub mod secrets;
pub mod sessions;
pub mod share_views;
pub mod shares;
pub mod signing;
pub mod signing_time;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::db::Db;
use crate::error::Result;
use crate::outbox::Outbox;
use crate::secrets::{Purpose, Secrets, same};

/// How the service is set up.
#[derive(Clone)]
pub struct Config {
    /// Host name used in https links (invitations, shares), e.g. `keyway.example`.
    pub public_host: String,
    /// Bearer token for `/v1/admin/…`.
    pub admin_token: String,
    /// 32+ random bytes; hashes of codes and tokens and sealed keys depend on it.
    pub server_secret: Vec<u8>,
    /// App stores and app identities for the link pages and `/.well-known/…` (none by default).
    pub app_links: landing::AppLinks,
    /// The reverse proxies whose forwarded client address is believed (none by default).
    pub trusted_proxies: client_address::TrustedProxies,
}

impl Config {
    /// A configuration with a random admin token and server secret, for demos and tests
    /// that run the service in-process (read the token back from the returned value).
    pub fn random(public_host: &str) -> Result<Self> {
        let secrets = Secrets::new(b"bootstrap")?;
        Ok(Self {
            public_host: public_host.to_owned(),
            admin_token: secrets.new_token()?,
            server_secret: secrets.random_bytes(32)?,
            app_links: landing::AppLinks::default(),
            trusted_proxies: client_address::TrustedProxies::default(),
        })
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config").field("public_host", &self.public_host).finish_non_exhaustive()
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: SharedClock,
    secrets: Arc<Secrets>,
    outbox: Outbox,
    delivery: delivery::Delivery,
    public_host: String,
    admin_token_hash: Vec<u8>,
    requests: std::sync::atomic::AtomicU64,
    app_links: landing::AppLinks,
    links: Arc<lock_link::LinkPresence>,
    trusted_proxies: client_address::TrustedProxies,
    signing_clock: signing_time::SigningClock,
}

impl AppState {
    /// Builds the state from a database, a clock and a configuration; every message goes
    /// to the development outbox.
    pub fn new(db: Db, clock: SharedClock, config: &Config) -> Result<Self> {
        Self::with_delivery(db, clock, config, delivery::Delivery::development())
    }

    /// Like [`AppState::new`], with real senders for the channels `delivery` has (the
    /// others go to the development outbox).
    pub fn with_delivery(db: Db, clock: SharedClock, config: &Config, delivery: delivery::Delivery) -> Result<Self> {
        let secrets = Arc::new(Secrets::new(&config.server_secret)?);
        let admin_token_hash = secrets.hash(Purpose::AccessToken, "admin", &config.admin_token);
        let outbox = Outbox::new(
            secrets.clone(),
            delivery.is_real(keyway_api::Channel::Email),
            delivery.is_real(keyway_api::Channel::Sms),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                secrets,
                outbox,
                delivery,
                public_host: config.public_host.clone(),
                admin_token_hash,
                requests: std::sync::atomic::AtomicU64::new(0),
                app_links: config.app_links.clone(),
                links: Arc::default(),
                trusted_proxies: config.trusted_proxies.clone(),
                signing_clock: signing_time::SigningClock::default(),
            }),
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Current time in unix seconds.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// A clone of the clock handle.
    pub fn clock(&self) -> SharedClock {
        self.inner.clock.clone()
    }

    /// Hashing, sealing and randomness.
    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    /// The outbox (the queue's front door and the development channel).
    pub fn outbox(&self) -> &Outbox {
        &self.inner.outbox
    }

    /// The real senders and the retry policy.
    pub fn delivery(&self) -> &delivery::Delivery {
        &self.inner.delivery
    }

    /// How many HTTP requests reached the router since start (whatever their answer). A
    /// connection whose TLS handshake failed never gets here: tests use it to prove that
    /// nothing was sent over a refused connection.
    pub fn requests_served(&self) -> u64 {
        self.inner.requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn count_request(&self) {
        self.inner.requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Which doors' locks have an online-link poll in progress.
    pub fn link_presence(&self) -> &Arc<lock_link::LinkPresence> {
        &self.inner.links
    }

    /// The reverse proxies whose forwarded client address is believed.
    pub fn trusted_proxies(&self) -> &client_address::TrustedProxies {
        &self.inner.trusted_proxies
    }

    /// The time to sign into door `door_id`'s next bundle (or clock reset), recorded in
    /// `tx`; refused while the service's clock cannot be believed (`signing_time.rs`).
    pub fn signing_time(&self, tx: &rusqlite::Transaction<'_>, door_id: i64, now: i64) -> Result<i64> {
        self.inner.signing_clock.time_for(tx, door_id, now, self.inner.clock.steady())
    }

    /// The time a clock reset sets a lock to: the service's clock, refused while it cannot
    /// be believed (`signing_time.rs`).
    pub fn reset_time(&self, now: i64) -> Result<i64> {
        self.inner.signing_clock.believed_now(now, self.inner.clock.steady())
    }

    /// Host used in links.
    pub fn public_host(&self) -> &str {
        &self.inner.public_host
    }

    /// App stores and app identities for the link pages and `/.well-known/…`.
    pub fn app_links(&self) -> &landing::AppLinks {
        &self.inner.app_links
    }

    /// Checks an admin token in constant time.
    pub fn is_admin_token(&self, token: &str) -> bool {
        let h = self.inner.secrets.hash(Purpose::AccessToken, "admin", token);
        same(&h, &self.inner.admin_token_hash)
    }

    /// Runs `f` with this state shared into a blocking DB transaction.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>, &AppState, i64) -> Result<T> + Send + 'static,
    {
        let me = self.clone();
        let now = self.now();
        self.inner.db.write(move |tx| f(tx, &me, now)).await
    }

    /// Runs `f` with this state in a read transaction on a read-only connection
    /// ([`Db::read`]): for requests that only read, so they never wait for the writer.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>, &AppState, i64) -> Result<T> + Send + 'static,
    {
        let me = self.clone();
        let now = self.now();
        self.inner.db.read(move |tx| f(tx, &me, now)).await
    }

    /// Like [`AppState::write`] but commits even when `f` fails (for counted guesses).
    pub async fn write_always<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>, &AppState, i64) -> Result<T> + Send + 'static,
    {
        let me = self.clone();
        let now = self.now();
        self.inner.db.write_always(move |tx| f(tx, &me, now)).await
    }
}

/// A running server.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The state (for tests: outbox, database, clock).
    pub state: AppState,
    /// The serving task.
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `listen` and serves the API over plain HTTP until the task is dropped or aborted.
///
/// For development only, or behind a proxy that terminates TLS on the same machine: a
/// member's phone refuses `http://` (see docs/backend.md). Use [`start_tls`] otherwise.
pub async fn start(state: AppState, listen: &str) -> std::io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    Ok(serve_on(listener, addr, state))
}

/// Binds `listen` and serves the API over HTTPS with `tls` until the task is dropped or
/// aborted.
pub async fn start_tls(state: AppState, listen: &str, tls: &tls::TlsIdentity) -> std::io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    Ok(serve_on(tls::TlsListener::new(listener, tls)?, addr, state))
}

fn serve_on<L>(listener: L, addr: SocketAddr, state: AppState) -> RunningServer
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    routes::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    // The peer address reaches handlers as `ConnectInfo`: sign-in limits count per client.
    let app =
        routes::router(state.clone(), openapi::document_json()).into_make_service_with_connect_info::<routes::Peer>();
    // The outbox's sender runs beside the server and stops with it.
    let sender = delivery::queue::run(state.clone(), state.delivery().clone());
    let task = tokio::spawn(async move {
        tokio::select! {
            served = axum::serve(listener, app) => if let Err(e) = served {
                tracing::error!(error = %e, "server stopped");
            },
            () = sender => {}
        }
    });
    RunningServer { addr, state, task }
}

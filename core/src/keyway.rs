//! [`Keyway`]: the one object an app holds. It owns the key cache, the session, the
//! platform's radio, secure store and device key, and exposes every journey as an async
//! method. The bindings wrap it one-to-one.

use crate::api::{ApiClient, TrustSettings};
use crate::auth::Auth;
use crate::ble::UnlockTimeouts;
use crate::cache::{AccessState, Account, Cache, Door, Key};
use crate::error::{Error, Result};
use crate::listeners::{Broadcast, DoorSyncProgress, EventStream, SessionState};
use crate::platform::BleTransport;
use crate::platform::Clock;
use crate::platform::DeviceSigner;
use crate::platform::SecureStore;
use crate::platform::secret_names::ticket_secret_name;
use keyway_protocol::ids::DoorId;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How an app configures the core.
#[derive(Debug, Clone)]
pub struct Config {
    /// The backend's base URL, `https://…` (`http://` is refused, except to a loopback
    /// address with [`TrustSettings::allow_plain_http_to_loopback`]).
    pub backend_url: String,
    /// Extra trusted roots and the development option for plain HTTP on loopback.
    pub trust: TrustSettings,
    /// Hosts whose `https` invitation and share links are accepted.
    pub link_hosts: Vec<String>,
    /// The key cache file (`None`: in memory, nothing kept across restarts).
    pub cache_path: Option<PathBuf>,
    /// Renew a credential when less than this remains of it.
    pub renew_before: Duration,
    /// Bounds of each unlock phase.
    pub unlock: UnlockTimeouts,
    /// Bound of each HTTP call.
    pub http_timeout: Duration,
}

impl Config {
    /// A configuration with the usual bounds for `backend_url` and `link_hosts`.
    pub fn new(backend_url: impl Into<String>, link_hosts: Vec<String>) -> Self {
        Self {
            backend_url: backend_url.into(),
            trust: TrustSettings::default(),
            link_hosts,
            cache_path: None,
            renew_before: Duration::from_secs(24 * 3600),
            unlock: UnlockTimeouts::default(),
            http_timeout: Duration::from_secs(15),
        }
    }
}

/// The platform's parts.
#[derive(Clone)]
pub struct Platform {
    /// Where secrets live.
    pub secure_store: Arc<dyn SecureStore>,
    /// The device key.
    pub signer: Arc<dyn DeviceSigner>,
    /// The radio.
    pub ble: Arc<dyn BleTransport>,
    /// The wall clock.
    pub clock: Arc<dyn Clock>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) api: ApiClient,
    pub(crate) auth: Auth,
    pub(crate) cache: Cache,
    pub(crate) platform: Platform,
    pub(crate) session: Broadcast<SessionState>,
    pub(crate) keys_changed: Broadcast<u64>,
    /// Bumped by `platform_changed`: readiness subscriptions look at the radio again.
    pub(crate) platform_changes: Broadcast<u64>,
    pub(crate) door_sync: EventStream<DoorSyncProgress>,
    /// One unlock or door sync at a time: the radio is one resource.
    pub(crate) radio: tokio::sync::Mutex<()>,
    /// The unlock or door sync that holds (or waits for) the radio, to cancel when a
    /// newer one starts.
    pub(crate) running: std::sync::Mutex<Option<crate::operation::CancelToken>>,
    /// The id of the next door sync (progress events carry it).
    pub(crate) next_sync_id: std::sync::atomic::AtomicU64,
    /// Refreshes hold it shared, sign-out exclusively: no refresh answer lands in the
    /// cache after a sign-out wiped it.
    pub(crate) signing_out: tokio::sync::RwLock<()>,
    /// The runtime listeners and background uploads run on (the one `open` was called in),
    /// so subscribing works from any thread.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// The member's engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Keyway {
    pub(crate) inner: Arc<Inner>,
}

impl Keyway {
    /// Opens the core: the key cache (created or upgraded) and the stored session. Call it
    /// inside the tokio runtime the app (or the bindings) runs the core on.
    pub fn open(config: Config, platform: Platform) -> Result<Self> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| Error::internal("Keyway::open needs a tokio runtime"))?;
        let api = ApiClient::new(&config.backend_url, config.http_timeout, &config.trust)?;
        let cache = match &config.cache_path {
            Some(path) => Cache::open(path)?,
            None => Cache::in_memory()?,
        };
        let auth = Auth::load(api.clone(), platform.secure_store.clone(), platform.clock.clone())?;
        let signed_in = auth.has_session();
        let session = Broadcast::new(if signed_in { SessionState::SignedIn } else { SessionState::SignedOut });
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                api,
                auth,
                cache,
                platform,
                session,
                keys_changed: Broadcast::new(0),
                platform_changes: Broadcast::new(0),
                door_sync: EventStream::new(),
                radio: tokio::sync::Mutex::new(()),
                running: std::sync::Mutex::new(None),
                next_sync_id: std::sync::atomic::AtomicU64::new(1),
                signing_out: tokio::sync::RwLock::new(()),
                runtime,
            }),
        })
    }

    /// Whether someone is signed in.
    pub fn session_state(&self) -> SessionState {
        self.inner.session.get()
    }

    /// The accounts (organisations) the person belongs to.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.inner.cache.accounts()?)
    }

    /// Every key across every account, revoked ones included (they show as revoked).
    pub fn keys(&self) -> Result<Vec<Key>> {
        Ok(self.inner.cache.keys()?)
    }

    /// Every door the person holds or held a key for.
    pub fn doors(&self) -> Result<Vec<Door>> {
        Ok(self.inner.cache.doors()?.iter().map(Door::from).collect())
    }

    /// What a screen shows for a door now.
    pub fn access_state(&self, door: &DoorId) -> Result<AccessState> {
        Ok(self.inner.cache.access_state(door, self.inner.platform.clock.now())?)
    }

    /// How many access-token refreshes this process has made (diagnostics).
    pub fn refresh_count(&self) -> u64 {
        self.inner.auth.refresh_count()
    }

    /// Signs out: ends the session at the backend (best effort), then removes every
    /// secret and every cached key from this device, whatever fails along the way.
    pub async fn sign_out(&self) -> Result<()> {
        // No unlock or door sync may write a ticket or a receipt after this, and no
        // refresh may write keys.
        let _radio = self.inner.radio.lock().await;
        let _no_refresh = self.inner.signing_out.write().await;
        // Receipts are the lock's evidence: hand them in while the session still works.
        // (Nothing is lost if this fails: a lock resends every event until a bundle acknowledges it.)
        if let Err(e) = self.upload_receipts().await {
            tracing::info!(error = %e, "receipts not delivered before sign-out");
        }
        let logout: Result<()> = self.inner.auth.call(&keyway_api::endpoints::Logout {}).await;
        if let Err(e) = logout {
            tracing::info!(error = %e, "logout not confirmed by the backend; signing out locally");
        }
        let mut first_error = self.inner.auth.forget().await.err();
        let mut keep = |result: Result<()>| {
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        };
        keep(self.forget_device_data());
        keep(self.inner.platform.signer.delete_key().await.map_err(Error::from));
        self.inner.session.set(SessionState::SignedOut);
        self.inner.keys_changed.update(|n| n + 1);
        first_error.map_or(Ok(()), Err)
    }

    /// Wipes the cache and every door's ticket (sign-out, or another person signing in).
    pub(crate) fn forget_device_data(&self) -> Result<()> {
        for door in self.inner.cache.doors()? {
            self.inner.platform.secure_store.delete(&ticket_secret_name(&door.lock_id))?;
        }
        self.inner.platform.secure_store.delete(crate::platform::secret_names::DOORCODES_SECRET)?;
        self.inner.cache.wipe()?;
        Ok(())
    }

    /// Marks the session ended after the backend refused it.
    pub(crate) fn note_result<T>(&self, result: Result<T>) -> Result<T> {
        if matches!(result, Err(Error::SessionEnded)) {
            self.inner.session.set(SessionState::SessionEnded);
        }
        result
    }
}

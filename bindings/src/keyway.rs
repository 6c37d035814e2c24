//! [`Keyway`]: the one object an app holds, built from a [`KeywayConfig`] and the
//! platform's parts. Its journeys live in the other files (one per concept); this file
//! opens it, reports the session and signs out.

use crate::Result;
use crate::platform::{BleTransport, DeviceSigner, ForeignSigner, ForeignStore, ForeignTransport, SecureStore};
use crate::runtime::{run, runtime};
use keyway_core::platform::SoftwareSigner;
use keyway_core::platform::SystemClock;
use std::sync::Arc;
use std::time::Duration;

/// How the app configures Keyway.
#[derive(Debug, Clone, uniffi::Record)]
pub struct KeywayConfig {
    /// The service's base URL (`https://…`; `http://` is refused with
    /// `InvalidConfiguration`, except to loopback with `allow_plain_http_to_loopback`).
    pub backend_url: String,
    /// Hosts whose `https` invitation and shared-key links the app accepts.
    pub link_hosts: Vec<String>,
    /// Where the offline key cache lives (a file in the app's private storage); `null`/`nil`
    /// keeps it in memory only.
    #[uniffi(default = None)]
    pub cache_path: Option<String>,
    /// Bounds of each unlock phase; `null`/`nil` for the usual ones.
    #[uniffi(default = None)]
    pub unlock_timeouts: Option<UnlockTimeouts>,
    /// Bound of each call to the service; `null`/`nil` for 15 seconds.
    #[uniffi(default = None)]
    pub http_timeout: Option<Duration>,
    /// Root certificates to trust in addition to the platform's (each PEM or DER), e.g. a
    /// company CA. The platform's verifier still checks everything else.
    #[uniffi(default = [])]
    pub extra_trusted_roots: Vec<Vec<u8>>,
    /// Development only: accept an `http://` service URL on a loopback address. Never set
    /// it in a released app.
    #[uniffi(default = false)]
    pub allow_plain_http_to_loopback: bool,
}

pub use keyway_core::ble::UnlockTimeouts;
pub use keyway_core::listeners::SessionState;

/// The member's engine: sign-in, invitations, keys, doors, guests. Create one per app
/// and keep it; every method may be called from any thread.
#[derive(uniffi::Object)]
pub struct Keyway {
    pub(crate) core: keyway_core::Keyway,
}

#[uniffi::export]
impl Keyway {
    /// Opens Keyway on the calling thread: the key cache (created or upgraded, a few
    /// milliseconds of disk) and the stored session (one secure-store read). Call it off
    /// the main thread, or use the async `open`. `signer` is the platform's device key
    /// (Secure Enclave, StrongBox); without one, a software key is kept in `secure_store`.
    #[uniffi::constructor(default(signer = None))]
    pub fn new(
        config: KeywayConfig,
        radio: Arc<dyn BleTransport>,
        secure_store: Arc<dyn SecureStore>,
        signer: Option<Arc<dyn DeviceSigner>>,
    ) -> Result<Arc<Self>> {
        let _inside = runtime()?.enter();
        let (config, platform) = core_parts(config, radio, secure_store, signer);
        Ok(Arc::new(Self { core: keyway_core::Keyway::open(config, platform)? }))
    }

    /// As the constructor, but the disk and secure-store work runs on Keyway's own threads:
    /// safe to await from the main thread (`Keyway.open(…)` in a coroutine or a `Task`).
    #[uniffi::constructor(default(signer = None))]
    pub async fn open(
        config: KeywayConfig,
        radio: Arc<dyn BleTransport>,
        secure_store: Arc<dyn SecureStore>,
        signer: Option<Arc<dyn DeviceSigner>>,
    ) -> Result<Arc<Self>> {
        let (config, platform) = core_parts(config, radio, secure_store, signer);
        let core = run(async move {
            tokio::task::spawn_blocking(move || keyway_core::Keyway::open(config, platform))
                .await
                .map_err(|_| keyway_core::KeywayError::internal("opening Keyway stopped"))?
        })
        .await?;
        Ok(Arc::new(Self { core }))
    }

    /// Whether someone is signed in.
    pub fn session_state(&self) -> SessionState {
        self.core.session_state()
    }

    /// Signs out: ends the session at the service (best effort) and removes every secret
    /// and cached key from this device, whatever fails along the way.
    pub async fn sign_out(&self) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.sign_out().await }).await
    }
}

/// The core's configuration and platform from what the app passed.
fn core_parts(
    config: KeywayConfig,
    radio: Arc<dyn BleTransport>,
    secure_store: Arc<dyn SecureStore>,
    signer: Option<Arc<dyn DeviceSigner>>,
) -> (keyway_core::Config, keyway_core::Platform) {
    let store: Arc<dyn keyway_core::platform::SecureStore> = Arc::new(ForeignStore(secure_store));
    let signer: Arc<dyn keyway_core::platform::DeviceSigner> = match signer {
        Some(signer) => Arc::new(ForeignSigner(signer)),
        None => Arc::new(SoftwareSigner::new(store.clone())),
    };
    let mut core_config = keyway_core::Config::new(config.backend_url, config.link_hosts);
    core_config.cache_path = config.cache_path.map(Into::into);
    core_config.trust = keyway_core::api::TrustSettings {
        extra_roots: config.extra_trusted_roots,
        allow_plain_http_to_loopback: config.allow_plain_http_to_loopback,
    };
    if let Some(timeouts) = config.unlock_timeouts {
        core_config.unlock = timeouts;
    }
    if let Some(timeout) = config.http_timeout {
        core_config.http_timeout = timeout;
    }
    let platform = keyway_core::Platform {
        secure_store: store,
        signer,
        ble: Arc::new(ForeignTransport(radio)),
        clock: Arc::new(SystemClock),
    };
    (core_config, platform)
}

//! The background task that delivers queued pushes: every second it takes what is due,
//! sends each through its platform's service, and records the outcome in the queue (sent
//! and dropped, token forgotten, or retried with back-off). A push whose platform has no
//! sender configured waits and is given up like any failing one.

use super::apns::{Apns, ApnsConfig};
use super::fcm::{Fcm, FcmConfig};
use super::jwt::JwtError;
use super::{Delivery, DuePush, due, record};
use crate::AppState;
use keyway_api::PushPlatform;
use std::sync::Arc;
use std::time::Duration;

/// How often the queue is looked at.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// Most pushes sent per look.
const BATCH: usize = 100;

/// The push services the backend talks to; either may be absent.
#[derive(Debug, Clone, Default)]
pub struct PushConfig {
    /// APNs (iOS apps).
    pub apns: Option<ApnsConfig>,
    /// FCM (Android apps).
    pub fcm: Option<FcmConfig>,
    /// Extra trusted roots, PEM (for a test sink with its own CA); the platform's roots
    /// are always trusted.
    pub extra_roots_pem: Option<String>,
}

/// Why the push senders could not start. Never holds key material.
#[derive(Debug, thiserror::Error)]
pub enum PushSetupError {
    /// A key did not load.
    #[error("push key: {0}")]
    Key(#[from] JwtError),
    /// The extra roots are not PEM certificates.
    #[error("push roots: no PEM certificate")]
    Roots,
    /// The HTTPS client did not start.
    #[error("push HTTPS client: {0}")]
    Client(String),
}

/// The senders, built from a [`PushConfig`].
pub struct Senders {
    apns: Option<Apns>,
    fcm: Option<Fcm>,
}

impl Senders {
    /// Loads the keys and builds one HTTPS client (HTTP/2 where the server offers it, as
    /// APNs requires).
    pub fn new(config: &PushConfig) -> Result<Self, PushSetupError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(15));
        if let Some(pem) = &config.extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|_| PushSetupError::Roots)?;
            builder = builder.tls_certs_merge(roots);
        }
        let http = builder.build().map_err(|e| PushSetupError::Client(e.to_string()))?;
        Ok(Self {
            apns: config.apns.clone().map(|c| Apns::new(c, http.clone())).transpose()?,
            fcm: config.fcm.clone().map(|c| Fcm::new(c, http.clone())).transpose()?,
        })
    }

    async fn send(&self, push: &DuePush) -> Delivery {
        match (push.platform, &self.apns, &self.fcm) {
            (PushPlatform::Apns, Some(apns), _) => apns.send(push).await,
            (PushPlatform::Fcm, _, Some(fcm)) => fcm.send(push).await,
            (platform, _, _) => Delivery::Failed(format!("no {} sender configured", platform.as_str())),
        }
    }
}

/// Sends what is due now, once; returns how many attempts were made.
pub async fn deliver_due(state: &AppState, senders: &Senders) -> crate::error::Result<usize> {
    let pushes = state.write(|tx, _, now| due(tx, now, BATCH)).await?;
    for push in &pushes {
        let outcome = senders.send(push).await;
        if let Delivery::Failed(reason) = &outcome {
            tracing::info!(session = push.session_id, platform = push.platform.as_str(), %reason, "push not delivered");
        }
        let push = push.clone();
        state.write(move |tx, _, now| record(tx, &push, &outcome, now)).await?;
    }
    Ok(pushes.len())
}

/// Starts the delivery task; it runs until the handle is aborted.
pub fn spawn(state: AppState, senders: Senders) -> tokio::task::JoinHandle<()> {
    let senders = Arc::new(senders);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = deliver_due(&state, &senders).await {
                tracing::warn!(error = %e, "push delivery round failed");
            }
        }
    })
}

//! The online link (feature `online`): a lock with internet keeps a long-poll open to the
//! backend, signed with its own receipt-signing key, and applies each bundle it gets
//! through the same checks as a bundle a phone carries
//! ([`Lock::deliver_online`](crate::Lock::deliver_online)). Its receipts — and with them
//! its audit events — go back on the same link. When the backend cannot be reached it
//! tries again with back-off; meanwhile phones carry its bundles as for any offline door.
//!
//! docs/protocol.md ("The online link") has the wire; docs/lock-serve.md the `--online`
//! flag of `keyway-lock serve`.

mod backoff;
mod client;

pub use backoff::Backoff;

use crate::Lock;
use crate::sim::{PeripheralId, SimRadio};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use client::LinkClient;
use keyway_api::LinkPoll;
use keyway_protocol::Refusal;
use keyway_protocol::lock_link::LinkRequest;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thiserror::Error;
use tokio::sync::watch;

/// Why the link could not start, or why one try failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OnlineError {
    /// The backend URL does not parse, has no host, or is not `https://`.
    #[error("the backend URL must be an https:// address")]
    BackendUrl,
    /// The CA file holds no PEM certificate.
    #[error("the CA file holds no PEM certificate")]
    CaInvalid,
    /// The HTTPS client could not be built.
    #[error("the HTTPS client could not start: {0}")]
    Client(String),
    /// No answer: no network, the backend is down, TLS failed, or it answered 5xx.
    #[error("the backend cannot be reached: {0}")]
    Unreachable(String),
    /// The backend answered with a typed refusal (`link_signature_invalid`, …).
    #[error("the backend refused the link ({status} {code})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The backend's error code.
        code: String,
    },
    /// An answer that is not the API's.
    #[error("the backend's answer is not understood")]
    BadAnswer,
}

/// Where the link stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Starting, not yet answered.
    Connecting,
    /// The last poll was answered: changes arrive within seconds.
    Connected,
    /// The backend could not be reached; trying again with back-off (phones carry bundles
    /// meanwhile).
    Offline {
        /// What failed, in words.
        reason: String,
    },
    /// The backend refused the lock (e.g. `link_signature_invalid`: the door record has
    /// another lock's key); trying again slowly.
    Refused {
        /// The backend's error code.
        code: String,
    },
}

/// What the link has done so far, as [`OnlineLink::status`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// Where it stands.
    pub state: LinkState,
    /// Polls answered since start.
    pub answered: u64,
    /// Bundles applied from the link since start.
    pub bundles_applied: u64,
    /// The last bundle from the link the lock refused, and why.
    pub last_refusal: Option<Refusal>,
}

/// A lock the link can reach (it may be on a radio, in a mutex, …).
pub trait LinkedLock: Send + Sync + 'static {
    /// Runs `f` on the lock; false if the lock is gone.
    fn with_lock(&self, f: &mut dyn FnMut(&mut Lock)) -> bool;
}

impl LinkedLock for Mutex<Lock> {
    fn with_lock(&self, f: &mut dyn FnMut(&mut Lock)) -> bool {
        f(&mut self.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        true
    }
}

/// A lock on a simulated radio (the sandbox's, or `keyway-lock serve`'s).
#[derive(Debug, Clone)]
pub struct RadioLock {
    /// The radio.
    pub radio: SimRadio,
    /// Where the lock sits on it.
    pub peripheral: PeripheralId,
}

impl LinkedLock for RadioLock {
    fn with_lock(&self, f: &mut dyn FnMut(&mut Lock)) -> bool {
        self.radio.with_lock(self.peripheral, |lock| f(lock)).is_some()
    }
}

fn on_lock<R>(lock: &dyn LinkedLock, f: impl FnOnce(&mut Lock) -> R) -> Option<R> {
    let mut f = Some(f);
    let mut out = None;
    lock.with_lock(&mut |l| {
        if let Some(f) = f.take() {
            out = Some(f(l));
        }
    });
    out
}

/// How the link behaves.
#[derive(Debug, Clone)]
pub struct OnlineOptions {
    /// The backend's base URL, `https://…`.
    pub backend: String,
    /// Extra CA certificates (PEM) to trust beside the platform's, e.g. a test CA.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// How long the backend may hold a poll (at most 25 s).
    pub hold: Duration,
    /// The first wait after a failure; it doubles up to `max_backoff`.
    pub first_backoff: Duration,
    /// The longest wait between tries.
    pub max_backoff: Duration,
    /// How often, while a poll is held, the lock looks for new audit events to send at once.
    pub events_check: Duration,
}

impl OnlineOptions {
    /// The defaults for `backend`: 25 s holds, back-off from 0.5 s to 30 s, new audit
    /// events sent within half a second.
    pub fn new(backend: &str) -> Self {
        Self {
            backend: backend.to_owned(),
            extra_roots_pem: None,
            hold: Duration::from_secs(25),
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            events_check: Duration::from_millis(500),
        }
    }
}

/// A running link; it stops when dropped (or [`OnlineLink::stop`]).
pub struct OnlineLink {
    task: tokio::task::JoinHandle<()>,
    status: watch::Receiver<LinkStatus>,
}

impl std::fmt::Debug for OnlineLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineLink").field("status", &*self.status.borrow()).finish_non_exhaustive()
    }
}

impl OnlineLink {
    /// Starts the link for `lock` on the current tokio runtime.
    pub fn start(lock: Arc<dyn LinkedLock>, options: OnlineOptions) -> Result<Self, OnlineError> {
        let client = LinkClient::new(&options.backend, options.extra_roots_pem.as_deref())?;
        let initial = LinkStatus { state: LinkState::Connecting, answered: 0, bundles_applied: 0, last_refusal: None };
        let (tx, status) = watch::channel(initial);
        let task = tokio::spawn(run(lock, client, options, tx));
        Ok(Self { task, status })
    }

    /// Where the link stands now.
    pub fn status(&self) -> LinkStatus {
        self.status.borrow().clone()
    }

    /// Waits until `done(status)` holds, at most `timeout`; returns the status then, or
    /// `None` on timeout.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&LinkStatus) -> bool) -> Option<LinkStatus> {
        let mut status = self.status.clone();
        let waited = tokio::time::timeout(timeout, status.wait_for(|s| done(s))).await;
        match waited {
            Ok(Ok(s)) => Some(LinkStatus::clone(&s)),
            _ => None,
        }
    }

    /// Stops the link (an open poll is dropped).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for OnlineLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until the lock's audit log has an event numbered `from` or later.
async fn new_events(lock: &dyn LinkedLock, from: u64, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if on_lock(lock, |l| l.next_audit_seq()).is_none_or(|next| next > from) {
            return;
        }
    }
}

async fn run(lock: Arc<dyn LinkedLock>, client: LinkClient, options: OnlineOptions, status: watch::Sender<LinkStatus>) {
    let Some(door) = on_lock(lock.as_ref(), |l| l.door()) else { return };
    let lock_id = door.to_hex();
    let hold = i64::try_from(options.hold.as_secs()).unwrap_or(25).clamp(0, 25);
    let mut backoff = Backoff::new(options.first_backoff, options.max_backoff, u64::from_be_bytes(door.0));
    let mut challenge: Option<Vec<u8>> = None;
    // The first poll hands in a receipt: the backend learns the lock's version and clock.
    let mut receipt_due = true;
    let mut pending_receipt: Option<Vec<u8>> = None;
    let mut sent_through: u64 = 0;
    loop {
        let set_state = |state: LinkState| status.send_modify(|s| s.state = state);
        let current = match challenge.take() {
            Some(c) => c,
            None => match client.challenge(&lock_id).await {
                Ok(c) => match URL_SAFE_NO_PAD.decode(&c.challenge) {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        set_state(LinkState::Offline { reason: OnlineError::BadAnswer.to_string() });
                        tokio::time::sleep(backoff.next_wait()).await;
                        continue;
                    }
                },
                Err(e) => {
                    set_state(offline_or_refused(&e));
                    tokio::time::sleep(backoff.next_wait()).await;
                    continue;
                }
            },
        };
        let Some((after_version, receipt, next_seq, signature)) = on_lock(lock.as_ref(), |l| {
            let receipt = pending_receipt.take().or_else(|| {
                (receipt_due || l.next_audit_seq() > sent_through).then(|| l.deliver_online(None).receipt.to_bytes())
            });
            let next_seq = l.next_audit_seq();
            let request = LinkRequest {
                door,
                challenge: &current,
                after_version: l.bundle_version(),
                receipt: receipt.as_deref(),
            };
            (l.bundle_version(), receipt.clone(), next_seq, l.sign_link_request(&request))
        }) else {
            return;
        };
        let poll = LinkPoll {
            challenge: URL_SAFE_NO_PAD.encode(&current),
            after_version: i64::from(after_version),
            receipt: receipt.as_ref().map(|r| URL_SAFE_NO_PAD.encode(r)),
            wait_seconds: Some(hold),
            signature: URL_SAFE_NO_PAD.encode(signature),
        };
        let answered = tokio::select! {
            answer = client.poll(&lock_id, poll) => Some(answer),
            () = new_events(lock.as_ref(), next_seq, options.events_check) => None,
        };
        let Some(answered) = answered else {
            // New audit events while the poll was held: send them now (the challenge went
            // with the abandoned poll).
            continue;
        };
        match answered {
            Ok(answer) => {
                backoff.reset();
                if receipt.is_some() {
                    sent_through = next_seq;
                    receipt_due = false;
                }
                challenge = URL_SAFE_NO_PAD.decode(&answer.next_challenge.challenge).ok();
                status.send_modify(|s| {
                    s.state = LinkState::Connected;
                    s.answered += 1;
                });
                let Some(bundle) = answer.bundle else { continue };
                let Ok(bytes) = URL_SAFE_NO_PAD.decode(&bundle.bundle) else { continue };
                let Some(delivery) = on_lock(lock.as_ref(), |l| l.deliver_online(Some(&bytes))) else { return };
                pending_receipt = Some(delivery.receipt.to_bytes());
                match delivery.status {
                    Ok(()) => status.send_modify(|s| s.bundles_applied += 1),
                    Err(refusal) => {
                        status.send_modify(|s| s.last_refusal = Some(refusal));
                        // The same bundle would come straight back: wait before asking again.
                        tokio::time::sleep(backoff.next_wait()).await;
                    }
                }
            }
            Err(OnlineError::Refused { code, .. })
                if code == "link_challenge_invalid" || code == "link_challenge_used" =>
            {
                // A challenge past its time (the backend's clock moved) or already used: ask
                // for a new one; a second failure in a row waits.
                if receipt.is_some() {
                    receipt_due = true;
                }
                tokio::time::sleep(backoff.next_wait().min(Duration::from_millis(200))).await;
            }
            Err(e) => {
                receipt_due = true;
                set_state(offline_or_refused(&e));
                tokio::time::sleep(backoff.next_wait()).await;
            }
        }
    }
}

fn offline_or_refused(e: &OnlineError) -> LinkState {
    match e {
        OnlineError::Refused { code, .. } => LinkState::Refused { code: code.clone() },
        other => LinkState::Offline { reason: other.to_string() },
    }
}

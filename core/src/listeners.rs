//! Listeners: the app subscribes to the session, the keys and door-sync progress. Each
//! subscription gets the current state first, then every change, until its
//! [`TaskHandle`] is cancelled or dropped.

use keyway_protocol::ids::DoorId;
use std::sync::Arc;
use tokio::sync::watch;

/// Whether someone is signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SessionState {
    /// No session.
    SignedOut,
    /// A session is held (it may need a refresh, which happens by itself).
    SignedIn,
    /// The backend ended the session (refresh refused): the app should show sign-in.
    SessionEnded,
}

/// Where a door sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum DoorSyncStage {
    /// Getting the newest bundle from the backend.
    FetchingUpdate,
    /// Finding the lock and connecting.
    Connecting,
    /// Handing the lock the bundle: `bytes_sent` of `bytes_total` (reported in steps of
    /// about 5 %; a sync with nothing new to carry skips this stage).
    SendingBundle,
    /// The lock applied the bundle (or was already current) and signed a receipt.
    Applied,
    /// Sending the lock's receipt to the backend.
    UploadingReceipt,
    /// Finished; the door shows as synced.
    Done,
    /// Stopped with an error.
    Failed,
}

/// One door-sync progress event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DoorSyncProgress {
    /// Which door sync it belongs to (one id per call; events of two syncs never mix).
    pub sync_id: u64,
    /// The door.
    pub door: DoorId,
    /// Where it is.
    pub stage: DoorSyncStage,
    /// The update version involved, when known.
    pub version: Option<i64>,
    /// While sending the bundle: bytes handed to the radio so far.
    pub bytes_sent: Option<i64>,
    /// While sending the bundle: its size over the air.
    pub bytes_total: Option<i64>,
}

/// A value that changes, watched by any number of subscribers.
pub(crate) struct Broadcast<T> {
    tx: watch::Sender<T>,
}

impl<T: Clone + Send + Sync + 'static> Broadcast<T> {
    pub(crate) fn new(value: T) -> Self {
        Self { tx: watch::Sender::new(value) }
    }

    pub(crate) fn get(&self) -> T {
        self.tx.borrow().clone()
    }

    pub(crate) fn set(&self, value: T) {
        self.tx.send_replace(value);
    }

    pub(crate) fn update(&self, f: impl FnOnce(&T) -> T) {
        self.tx.send_modify(|v| *v = f(v));
    }

    /// A receiver that wakes at the next change after this call.
    pub(crate) fn watch(&self) -> watch::Receiver<T> {
        self.tx.subscribe()
    }

    /// Calls `on_change` with the current value, then with each new one, on a task of `runtime`.
    pub(crate) fn subscribe(
        &self,
        runtime: &tokio::runtime::Handle,
        on_change: impl Fn(T) + Send + Sync + 'static,
    ) -> TaskHandle {
        let mut rx = self.tx.subscribe();
        let on_change = Arc::new(on_change);
        let task = runtime.spawn(async move {
            let first = rx.borrow_and_update().clone();
            on_change(first);
            while rx.changed().await.is_ok() {
                let value = rx.borrow_and_update().clone();
                on_change(value);
            }
        });
        TaskHandle::new(task.abort_handle())
    }
}

/// Events where every one matters (door-sync progress): subscribers get each new one in
/// order, none coalesced, and nothing from before they subscribed.
pub(crate) struct EventStream<T> {
    tx: tokio::sync::broadcast::Sender<T>,
}

impl<T: Clone + Send + Sync + 'static> EventStream<T> {
    pub(crate) fn new() -> Self {
        Self { tx: tokio::sync::broadcast::Sender::new(64) }
    }

    pub(crate) fn emit(&self, event: T) {
        // No subscriber is not an error.
        let _ = self.tx.send(event);
    }

    pub(crate) fn subscribe(
        &self,
        runtime: &tokio::runtime::Handle,
        on_event: impl Fn(T) + Send + Sync + 'static,
    ) -> TaskHandle {
        // Subscribed here, before the task starts: no event emitted after this call is missed.
        let mut rx = self.tx.subscribe();
        let task = runtime.spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => on_event(event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a slow listener missed events");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        TaskHandle::new(task.abort_handle())
    }
}

/// A subscription. Cancelling it, or dropping it, stops the calls.
#[derive(Debug)]
pub struct TaskHandle {
    abort: tokio::task::AbortHandle,
}

impl TaskHandle {
    pub(crate) fn new(abort: tokio::task::AbortHandle) -> Self {
        Self { abort }
    }

    /// Stops the subscription.
    pub fn cancel(&self) {
        self.abort.abort();
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

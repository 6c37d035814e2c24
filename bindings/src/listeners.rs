//! Listeners: the app subscribes to the session, the keys and door-sync progress. Each
//! listener is called with the current state first (if any), then with every change, on
//! Keyway's callbacks thread (never a runtime worker, never under a lock), until the
//! returned [`Subscription`] is cancelled or dropped.

use crate::callbacks::deliver;
use crate::door_sync::DoorSyncProgress;
use crate::keys::Key;
use crate::keyway::{Keyway, SessionState};
use std::sync::Arc;

/// Told when the session changes (signed in, signed out, ended by the service).
#[uniffi::export(foreign)]
pub trait SessionListener: Send + Sync {
    /// The session is now `state`.
    fn on_session_changed(&self, state: SessionState);
}

/// Told when the keys change (after a refresh, an invitation, a share, a sign-out).
#[uniffi::export(foreign)]
pub trait KeysListener: Send + Sync {
    /// The keys now.
    fn on_keys_changed(&self, keys: Vec<Key>);
}

/// Told how a door sync is going.
#[uniffi::export(foreign)]
pub trait DoorSyncListener: Send + Sync {
    /// One step of a door sync.
    fn on_door_sync_progress(&self, progress: DoorSyncProgress);
}

/// A live subscription. `cancel()` (or dropping it) stops the calls.
#[derive(uniffi::Object)]
pub struct Subscription {
    handle: keyway_core::listeners::TaskHandle,
}

#[uniffi::export]
impl Subscription {
    /// Stops the calls to the listener.
    pub fn cancel(&self) {
        self.handle.cancel();
    }
}

/// Wraps a core subscription for the app.
pub(crate) fn subscription(handle: keyway_core::listeners::TaskHandle) -> Arc<Subscription> {
    Arc::new(Subscription { handle })
}

#[uniffi::export]
impl Keyway {
    /// Subscribes to the session: the current state first, then changes.
    pub fn subscribe_session(&self, listener: Arc<dyn SessionListener>) -> Arc<Subscription> {
        subscription(self.core.subscribe_session(move |state| {
            let listener = listener.clone();
            deliver(move || listener.on_session_changed(state));
        }))
    }

    /// Subscribes to the keys: the current keys first, then after each change.
    pub fn subscribe_keys(&self, listener: Arc<dyn KeysListener>) -> Arc<Subscription> {
        subscription(self.core.subscribe_keys(move |keys: Vec<Key>| {
            let listener = listener.clone();
            deliver(move || listener.on_keys_changed(keys));
        }))
    }

    /// Subscribes to the progress of every door sync from now on (nothing is replayed);
    /// each event carries its sync's id. To follow one sync, pass a listener to
    /// `startDoorSync` instead.
    pub fn subscribe_door_sync(&self, listener: Arc<dyn DoorSyncListener>) -> Arc<Subscription> {
        subscription(self.core.subscribe_door_sync(move |progress| {
            let listener = listener.clone();
            deliver(move || listener.on_door_sync_progress(progress));
        }))
    }
}
